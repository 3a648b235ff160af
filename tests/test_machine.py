"""Benchmark records name their CPU: model, vector extensions, cores and numpy's BLAS."""

import numpy as np

from vae_keras import machine

INTEL = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8488C
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_bf16 amx_bf16 amx_tile
processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8488C
"""
AMD = """processor\t: 0
model name\t: AMD EPYC 7R13 Processor
flags\t\t: fpu sse2 avx avx2 fma
"""


def test_the_cpu_model_and_its_vector_extensions_are_read_from_cpuinfo():
    intel = machine.cpu_description(INTEL)
    assert intel["model"] == "Intel(R) Xeon(R) Platinum 8488C"
    assert intel["extensions"] == ["AVX2", "AVX-512", "AVX512-BF16", "AMX-BF16"]
    amd = machine.cpu_description(AMD)
    assert amd["model"] == "AMD EPYC 7R13 Processor" and amd["extensions"] == ["AVX2"]
    assert machine.cpu_description("")["extensions"] == []  # no /proc/cpuinfo: none claimed


def test_the_machine_line_names_cpu_extensions_cores_gpu_and_blas():
    cpu = {"model": "AMD EPYC", "extensions": ["AVX2"], "cores": 2, "blas": "openblas 0.3"}
    line = machine.machine_line(cpu, "no GPU")
    assert line == "AMD EPYC (AVX2), 2 cores, no GPU, BLAS openblas 0.3"
    assert machine.machine_line({**cpu, "extensions": []}) == "AMD EPYC, 2 cores, BLAS openblas 0.3"


def test_this_machines_description_has_numpys_blas_and_core_count():
    cpu = machine.cpu_description()
    assert cpu["cores"] >= 1 and cpu["model"]
    config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    assert cpu["blas"].startswith(config["name"])


def test_a_record_from_before_cpus_were_named_says_so():
    old = {"machine": "x86_64, 2 cores, no GPU"}
    assert machine.recorded_machine(old) == "x86_64, 2 cores, no GPU (CPU model not recorded)"
    new = {"machine": "AMD EPYC (AVX2), 2 cores", "cpu": {"model": "AMD EPYC"}}
    assert machine.recorded_machine(new) == "AMD EPYC (AVX2), 2 cores"


def test_the_benchmark_header_and_the_reports_environment_carry_the_cpu():
    from vae_keras.report.markdown import report_machine
    from vae_keras.report.records import benchmark_header, environment

    header = benchmark_header()
    assert header["cpu"] == machine.cpu_description()
    assert header["machine"].startswith(header["cpu"]["model"]) and "BLAS" in header["machine"]
    env = environment()["machine"]
    assert env["cpu"] == header["cpu"]
    assert report_machine(env).startswith(header["cpu"]["model"])
    legacy = {k: v for k, v in env.items() if k != "cpu"}
    assert report_machine(legacy).startswith(env["processor"])
