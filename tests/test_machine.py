"""Benchmark records name their CPU: model, vector extensions, cores and numpy's BLAS."""

import numpy as np
import pytest

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


H200 = {"backend": "jax", "devices": ["gpu:0"], "gpus": ["NVIDIA H200"]}
CPU_ONLY = {"backend": "tensorflow", "devices": ["cpu:0"], "gpus": []}


def test_nvidia_smi_is_asked_for_the_gpus_and_its_absence_means_none(tmp_path, monkeypatch):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'NVIDIA H200'\necho 'NVIDIA H200'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert machine.nvidia_smi_gpus() == ["NVIDIA H200", "NVIDIA H200"]
    fake.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    assert machine.nvidia_smi_gpus() == []  # a driver that fails: no GPU claimed
    fake.unlink()
    assert machine.nvidia_smi_gpus() == []


def test_the_start_line_names_the_backends_gpu():
    from vae_keras.distribution import describe_devices

    line = describe_devices(H200, smi_gpus=["NVIDIA H200"])
    assert line == "Training with jax on 1 GPU (NVIDIA H200): gpu:0"
    two = {"backend": "torch", "devices": ["cpu:0", "cuda:0", "cuda:1"], "gpus": ["A", "A"]}
    assert (
        describe_devices(two, smi_gpus=["A", "A"])
        == "Training with torch on 2 GPUs (A x 2): cuda:0, cuda:1"
    )


def test_a_gpu_the_backend_will_not_use_gets_one_line_with_the_fix():
    from vae_keras.distribution import describe_devices

    assert describe_devices(CPU_ONLY, smi_gpus=[]).endswith("; no GPU found")  # no GPU: no warning
    line, warning = describe_devices(CPU_ONLY, smi_gpus=["NVIDIA H200"]).split("\n")
    assert line.startswith("Training with tensorflow on the CPU")
    assert warning.startswith("warning: nvidia-smi sees 1 GPU (NVIDIA H200) but tensorflow will")
    assert 'pip install "vae-keras[tensorflow-cuda]"' in warning
    jax_cpu = {**CPU_ONLY, "backend": "jax"}
    assert 'pip install "vae-keras[jax-cuda]"' in describe_devices(jax_cpu, smi_gpus=["X"])


def test_the_records_name_the_backends_gpu_not_tensorflows(monkeypatch):
    from vae_keras.report import records
    from vae_keras.report.markdown import report_backend, report_machine

    monkeypatch.setattr(records, "backend_devices", lambda: H200)
    env = records.environment()
    assert env["machine"]["gpus"] == ["NVIDIA H200"] and env["backend_devices"] == H200
    assert "1 GPU (NVIDIA H200)" in report_machine(env["machine"])
    versions = {**env["versions"], "keras_backend": "jax", "jax": "0.11.2"}
    assert report_backend({**env, "versions": versions}) == "backend jax 0.11.2 on gpu:0"
    header = records.benchmark_header()
    assert "1 GPU (NVIDIA H200)" in header["machine"] and header["backend_devices"] == H200
    # a report from before backends were recorded ran TensorFlow on its CPU
    old = {"versions": {"keras_backend": "tensorflow", "tensorflow": "2.21.0"}}
    assert report_backend(old) == "backend tensorflow 2.21.0 on cpu:0"


def test_this_process_backend_devices_come_from_the_backend_in_use():
    import keras

    devices = machine.backend_devices()
    assert devices["backend"] == keras.backend.backend()
    assert devices["devices"][0].startswith("cpu") and devices["gpus"] == []
    assert machine.backend_devices("numpy") == {
        "backend": "numpy",
        "devices": ["cpu:0"],
        "gpus": [],
    }


def test_a_records_file_names_its_device_as_the_records_of_results_do():
    from vae_keras.machine import device_slug, file_slug

    assert file_slug("NVIDIA H200") == "nvidia-h200"
    assert file_slug("Intel(R) Xeon(R) Processor") == "intel-r--xeon-r--processor"
    gpu = {"backend_devices": {"gpus": ["NVIDIA H200"]}, "cpu": {"model": "AMD EPYC"}}
    assert device_slug(gpu) == "nvidia-h200"  # the GPU, where there is one
    cpu = {"backend_devices": {"gpus": []}, "cpu": {"model": "AMD EPYC"}}
    assert device_slug(cpu) == "amd-epyc"  # bench_*_mnist-amd-epyc.json


def test_records_name_the_commit_of_the_code_measured(tmp_path):
    """``code_version``: git's short hash of this checkout (``-dirty`` exactly where git
    reports changed tracked files), in every benchmark header; ``None`` outside a clone."""
    import subprocess

    from vae_keras.report import records

    root = records.SOURCE_ROOT
    if not (root / ".git").exists():
        pytest.skip("not run from a git clone")

    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip

    expected = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", "--untracked-files=no"):
        expected += "-dirty"
    assert records.code_version() == expected
    assert records.benchmark_header()["commit"] == expected
    assert records.environment()["commit"] == expected
    assert records.code_version(tmp_path) is None  # an installed package, no checkout
