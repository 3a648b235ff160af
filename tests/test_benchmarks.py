"""The benchmarks' own logic: parsing a perf report and summing it by kind of work."""

import sys
from pathlib import Path

import pytest
from conftest import load_benchmark as load

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # as `python benchmarks/<script>.py` has it


profile = load("profile_train")

REPORT = """\
# Samples: 7K of event 'cpu-clock:ppp'
# Event count (approx.): 7645645638
#
# Overhead  Shared Object                  Symbol
# ........  .............................  ......
#
    19.34%  libtensorflow_cc.so.2          [.] ynn::dot_fp32_5x64x1_1x16x1_avx512f
    10.00%  [JIT] tid 20697                [.] 0x00007f8e44f4213c
     3.65%  libtensorflow_cc.so.2          [.] Eigen::internal::gemm_pack_colmajor_block<float>
     2.32%  libtensorflow_framework.so.2   [.] Eigen::ThreadPoolTempl<tsl::thread::Env>::GlobalSteal
     2.17%  [kernel.kallsyms]              [k] finish_task_switch.isra.0
     1.64%  libc.so.6                      [.] __memmove_avx512_unaligned_erms
     1.41%  libc.so.6                      [.] _int_malloc
     0.62%  libtensorflow_cc.so.2          [.] tensorflow::data::IteratorGetNextOp::Compute
     0.37%  libpython3.11.so.1.0           [.] _PyEval_EvalFrameDefault
     0.20%  [vdso]                         [.] __vdso_clock_gettime
"""


def test_parse_report_reads_every_row():
    rows = profile.parse_report(REPORT)
    assert len(rows) == 10
    assert rows[0] == (19.34, "libtensorflow_cc.so.2", "ynn::dot_fp32_5x64x1_1x16x1_avx512f")
    assert rows[1][:2] == (10.0, "[JIT] tid 20697")
    assert rows[4][1:] == ("[kernel.kallsyms]", "finish_task_switch.isra.0")


def test_classify_sums_each_row_into_one_kind():
    rows = profile.parse_report(REPORT)
    shares = profile.classify(rows)
    assert shares["matrix products (YNNPACK/Eigen/oneDNN kernels)"] == pytest.approx(22.99)
    assert shares["XLA fused element-wise kernels (JIT code)"] == pytest.approx(10.0)
    assert shares["threads waiting and scheduling"] == pytest.approx(4.49)
    assert shares["memory allocation and copies"] == pytest.approx(3.05)
    assert shares["Python interpreter"] == pytest.approx(0.37)
    assert shares["TensorFlow runtime (tf.data, executor, Keras loop ops)"] == pytest.approx(0.62)
    assert shares[profile.OTHER] == pytest.approx(0.20)
    # nothing counted twice, nothing lost
    assert sum(shares.values()) == pytest.approx(sum(r[0] for r in rows))


def test_cpu_seconds_come_from_the_cpu_clock_count():
    assert profile.cpu_clock_seconds(REPORT) == pytest.approx(7.645645638)
    with pytest.raises(ValueError, match="cpu-clock"):
        profile.cpu_clock_seconds(REPORT.replace("cpu-clock", "cycles"))


xla_ops = load("profile_xla_ops")

HLO = """\
ENTRY %main.17 (Arg_0.1: f32[256,3072]) -> f32[256,512] {
  %MatMul.100 = f32[256,512]{1,0} dot(%a, %b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  %bitcast_concatenate_fusion = u32[8192,4]{1,0} fusion(%c, %d), kind=kLoop, calls=%fc.42
  %log-plus-one_add_fusion = f32[256,3072]{1,0} fusion(%e), kind=kLoop, calls=%fc.11
  %wrapped_add.6 = s64[] fusion(%f, %g), kind=kLoop, calls=%wrapped_add_computation.6
  ROOT %tuple.9 = (f32[256,512]{1,0}) tuple(%MatMul.100)
}
"""


def test_hlo_ops_name_each_instruction_by_kind_and_shape():
    ops = xla_ops.hlo_ops(HLO)
    assert ops == {
        "MatMul.100": "dot f32[256,512]",
        "bitcast_concatenate_fusion": "fusion u32[8192,4]",
        "log-plus-one_add_fusion": "fusion f32[256,3072]",
        "wrapped_add.6": "fusion s64[]",
        "tuple.9": "tuple (f32[256,512]{1,0})",
    }
    kinds = {name: xla_ops.kind_of(hlo) for name, hlo in ops.items()}
    assert kinds["MatMul.100"] == "matrix products (dot)"
    assert kinds["bitcast_concatenate_fusion"] == "random bits"
    assert kinds["log-plus-one_add_fusion"] == "element-wise fusions"
    assert kinds["tuple.9"] == "other (tuple)"


def test_the_precision_verdict_and_table_say_what_the_numbers_say():
    precision = load("bench_precision")
    assert precision.summary([1.0, 2.0, 3.0]) == {"mean": 2.0, "std": 1.0}
    assert precision.summary([5.0]) == {"mean": 5.0, "std": 0.0}
    reference = {"mean": 153.0, "std": 0.2}
    assert precision.within_spread(reference, {"mean": 153.39, "std": 9.0})
    assert not precision.within_spread(reference, {"mean": 153.41, "std": 0.0})
    stats = {"val_loss": {"mean": 112.5, "std": 0.2}, "fid": {"mean": 8.9, "std": 0.37},
             "seconds_per_epoch": {"mean": 0.9, "std": 0.01}, "seeds": [0, 1, 2]}  # fmt: skip
    record = {
        "summary": {"float32": stats, "mixed_bfloat16": {**stats, "seeds": [0]}},
        "verdict": {"val_loss_within": True, "fid_within": False},
        "latent_dim": 8, "epochs": 50, "date": "2026-12-02T00:00:00+00:00", "machine": "M",
    }  # fmt: skip
    table = precision.precision_table(record)
    assert "| float32 | 3 (0, 1, 2) | 112.50 ± 0.20 | 8.90 ± 0.37 | 0.90 ± 0.01 |" in table
    assert "| mixed_bfloat16 | 1 (0) |" in table
    assert "val_loss is within and its mean FID outside" in table


def test_the_train_table_names_the_precision_and_its_float32_ratio(tmp_path):
    import json

    bench = load("bench_train")
    record = {
        "config": {"dataset": "mnist", "original_dim": 784, "intermediate_dim": 256,
                   "latent_dim": 2, "precision": "mixed_bfloat16"},
        "seconds_per_epoch": {"plain_fit": 2.0, "default": 0.99, "matmul_bound": 0.7,
                              "default_float32": 0.9},
        "ratio_default_over_float32_default": 1.1, "ratio_default_over_plain": 0.5,
        "ratio_default_over_bound": 1.41, "fid_generation_seconds_10000": 0.1,
        "fid_statistics_seconds_10000": 0.2, "date": "2026-12-02T00:00:00+00:00",
        "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"}, "machine": "M",
    }  # fmt: skip
    older = {**record, "config": {**record["config"]}}
    del older["config"]["precision"], older["ratio_default_over_float32_default"]
    for name, r in (("a", record), ("b", older)):
        (tmp_path / f"{name}.json").write_text(json.dumps(r))
    rows = bench.bench_table([tmp_path / "a.json", tmp_path / "b.json"]).splitlines()[2:]
    assert rows[0].startswith(
        "| mnist 784-256-2 mixed_bfloat16 ((2) = 1.10x the float32 default, 0.90 s/epoch"
    )
    assert rows[1].startswith("| mnist 784-256-2 | tensorflow 2.21.0")  # float32: as before
    assert "| 2026-12-02 |" in rows[1]  # a record from before commits were recorded
    (tmp_path / "c.json").write_text(json.dumps({**older, "commit": "2a3f78a"}))
    assert "| 2026-12-02 (2a3f78a) |" in bench.bench_table([tmp_path / "c.json"])


def test_the_backends_benchmark_takes_medians_over_rounds_and_ratios_to_the_fastest():
    backends = load("bench_backends")

    def path(seconds, first, val_loss=150.0):
        return {"seconds_per_epoch": seconds, "first_epoch": first, "final_val_loss": val_loss,
                "devices": ["cpu:0"], "version": "1.0"}  # fmt: skip

    rounds = [
        {"jax": path(1.0, 3.0), "torch": path(3.0, 0.5), "torch-compiled": path(2.0, 60.0)},
        {"jax": path(1.2, 2.0), "torch": path(2.6, 0.7), "torch-compiled": path(2.4, 50.0)},
        {"jax": path(0.8, 4.0), "torch": path(2.8, 0.6), "torch-compiled": path(9.0, 55.0)},
    ]
    paths = backends.summarise(rounds)
    assert paths["jax"]["seconds_per_epoch"] == 1.0 and paths["jax"]["ratio_to_fastest"] == 1.0
    assert paths["torch"]["seconds_per_epoch"] == 2.8 and paths["torch"]["first_epoch"] == 0.6
    assert paths["torch-compiled"]["ratio_to_fastest"] == 2.4  # the median, not the outlier
    record = {"date": "2026-12-05T00:00:00+00:00", "machine": "M", "paths": paths}
    rows = backends.table([record]).splitlines()[2:]
    assert len(rows) == 3
    assert rows[2] == (
        "| 2026-12-05 | M (CPU model not recorded) | torch-compiled 1.0 | cpu:0 | 55.0 "
        "| 2.400 | 2.40 | 150.00 |"
    )


def test_the_epoch_ends_benchmark_measures_from_each_last_batch_and_takes_medians():
    epoch_ends = load("bench_epoch_ends")
    # two epochs: batches end at 1, 2 and 3; the second starts at 7 (a 4 s wait); fit returns
    # 0.5 s after its last batch at 9
    waits = epoch_ends.epoch_end_waits([[1.0, 2.0, 3.0], [8.0, 9.0]], [0.0, 7.0], 9.5)
    assert waits == [4.0, 0.5]
    runs = {
        "keras": [{"waits": [4.0, 0.5], "wall": 20.0, "cpu": 15.0},
                  {"waits": [0.1, 9.0], "wall": 25.0, "cpu": 16.0},
                  {"waits": [1.0, 1.0], "wall": 18.0, "cpu": 14.0}],
        "without-thread": [{"waits": [0.0, 0.1], "wall": 15.0, "cpu": 15.0}] * 3,
    }  # fmt: skip
    rows = epoch_ends.summary(runs)
    assert rows["keras"] == {"waited_s": 4.5, "longest_wait_s": 4.0, "wall_s": 20.0,
                             "cpu_s": 15.0}  # fmt: skip
    assert rows["without-thread"]["waited_s"] == pytest.approx(0.1)
    record = {"date": "2026-12-07T00:00:00+00:00", "machine": "M", "summary": rows, "n": 100,
              "epochs": 2, "rounds": 3, "load": "busy",
              "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"}}  # fmt: skip
    table = epoch_ends.epoch_ends_table(record).splitlines()
    assert table[4] == "| as Keras builds it | 4.50 | 4.00 | 20.0 | 15.0 |"
    assert table[-1] == "Wall time without the thread / as Keras builds it: 0.75."


@pytest.mark.slow
def test_the_backends_benchmark_runs_each_path_in_its_own_process(tmp_path, mnist_dir):
    """The script end to end on a small subset: JAX and PyTorch eager (make test-slow)."""
    import json
    import subprocess

    out = tmp_path / "record.json"
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_backends.py", "--paths", "jax", "torch",
         "--limit", "512", "--epochs", "1", "--rounds", "1", "--no-readme", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(out.read_text())
    assert set(record["paths"]) == {"jax", "torch"}
    for name, p in record["paths"].items():
        assert p["seconds_per_epoch"] > 0 and p["devices"], name
        assert 100 < p["final_val_loss"] < 543, name  # trained: 784 ln 2 = 543 at logits 0
    assert min(p["ratio_to_fastest"] for p in record["paths"].values()) == 1.0


JAX_HLO = """\
  %ynn_fusion.7 = f32[256,256]{1,0} fusion(%multiply_add_fusion.13, %copy.67), kind=kCustom, calls=%fused_computation.7, metadata={op_name="jit(step)/while/body/closed_call/transpose(jvp(decoder_logits))/dot_general" stack_frame_id=213}, backend_config={"outer_dimension_partitions":[],"fusion_config":{"kind":"__ynn_fusion"}}
  %ynn_fusion.1 = f32[784]{0} fusion(%multiply_add_fusion.13), kind=kCustom, calls=%fused_computation.1, metadata={op_name="jit(step)/while/body/closed_call/transpose(jvp(decoder_logits))/reduce_sum"}, backend_config={"fusion_config":{"kind":"__ynn_fusion"}}
  %add_select_fusion.1 = f32[256,784]{1,0} fusion(%ynn_fusion.8, %copy.68), kind=kLoop, calls=%fused_computation.46, metadata={op_name="jit(step)/while/body/closed_call/jvp(vae_loss)/jit(softplus)/select_n"}
"""  # noqa: E501  (XLA's HLO text, as JAX 0.10's CPU compiler writes it)


def test_a_ynnpack_fusion_is_named_by_what_it_computes_and_its_products_are_products():
    ops = xla_ops.hlo_ops(JAX_HLO)
    assert ops == {
        "ynn_fusion.7": "ynn_fusion(dot_general) f32[256,256]",
        "ynn_fusion.1": "ynn_fusion(reduce_sum) f32[784]",
        "add_select_fusion.1": "fusion f32[256,784]",
    }
    kinds = {name: xla_ops.kind_of(hlo) for name, hlo in ops.items()}
    assert kinds["ynn_fusion.7"] == "matrix products (dot)"
    assert kinds["ynn_fusion.1"] == "other (ynn_fusion(reduce_sum))"
    assert kinds["add_select_fusion.1"] == "element-wise fusions"


def test_perfetto_seconds_sum_each_named_operation():
    import gzip
    import json

    events = [
        {"ph": "X", "name": "ynn_fusion.7", "dur": 800},
        {"ph": "X", "name": "ynn_fusion.7", "dur": 900},
        {"ph": "X", "name": "$python frame", "dur": 5000},
        {"ph": "i", "name": "ynn_fusion.7"},
    ]
    trace = gzip.compress(json.dumps({"traceEvents": events}).encode())
    seconds, counts = xla_ops.perfetto_seconds(trace, {"ynn_fusion.7", "dot.3"})
    assert counts == {"ynn_fusion.7": 2}
    assert abs(seconds["ynn_fusion.7"] - 0.0017) < 1e-12


def test_the_jax_epoch_benchmark_takes_medians_over_rounds_and_of_each_rounds_ratio():
    jax_epoch = load("bench_jax_epoch")

    def path(seconds, val_loss=165.0, **extra):
        return {"seconds_per_epoch": seconds, "process_seconds": {"1": 9.0, "6": 9 + 5 * seconds},
                "final_val_loss": val_loss, **extra}  # fmt: skip

    def reference(seconds, in_process):
        return path(seconds, 165.5, in_process_seconds_per_epoch=in_process)

    rounds = [
        {"fast": path(0.90), "keras_loop": path(1.00), "reference": reference(1.00, 1.2)},
        {"fast": path(0.70), "keras_loop": path(1.40), "reference": reference(0.70, 1.4)},
        {"fast": path(0.80), "keras_loop": path(0.80), "reference": reference(1.60, 1.3)},
    ]
    paths, ratios = jax_epoch.summarise(rounds)
    assert paths["fast"]["seconds_per_epoch"] == 0.8  # the median, not the mean or the last
    assert paths["keras_loop"]["seconds_per_epoch"] == 1.0
    assert paths["reference"]["in_process_seconds_per_epoch"] == 1.3
    assert paths["reference"]["final_val_loss"] == 165.5
    # each round's ratio (0.9, 0.5, 1.0), then their median: one noisy round does not decide
    assert ratios == {"ratio_fast_to_keras_loop": 0.9, "ratio_fast_to_reference": 0.9}
    without_reference = [{k: v for k, v in r.items() if k != "reference"} for r in rounds]
    assert jax_epoch.summarise(without_reference)[1] == {"ratio_fast_to_keras_loop": 0.9}
    record = {"date": "2026-12-05T00:00:00+00:00", "machine": "M", "model": "MNIST 784-256-2",
              "backend_devices": {"gpus": []}, "paths": paths, **ratios}  # fmt: skip
    row = jax_epoch.table([record]).splitlines()[2]
    assert "| 0.800 | 1.000 | 1.000 | 0.90 | 0.90 |" in row


def test_the_suite_benchmark_sums_durations_per_file_and_per_worker():
    """bench_tests.py: pytest's ``-v --durations=0`` lines summed by file and by the worker
    that ran each test; the counts from the closing line; the table row of a record, with its
    CPU seconds against what its cores give."""
    bench = load("bench_tests")
    output = """\
[gw0] [ 50%] PASSED tests/test_a.py::test_one
[gw1] [ 75%] PASSED tests/test_b.py::test_two[jax]
[gw1] [100%] FAILED tests/test_b.py::test_three
============================= slowest durations ==============================
12.50s call     tests/test_a.py::test_one
2.00s setup    tests/test_a.py::test_one
7.25s call     tests/test_b.py::test_two[jax]
1.00s call     tests/test_b.py::test_three
0.50s teardown tests/test_b.py::test_three
========== 1 failed, 2 passed, 3 deselected in 30.12s ==========
"""
    parsed = bench.parse(output)
    assert parsed["files"] == {"tests/test_a.py": 14.5, "tests/test_b.py": 8.75}
    assert list(parsed["files"]) == ["tests/test_a.py", "tests/test_b.py"]  # costliest first
    assert parsed["workers"] == {"gw0": 14.5, "gw1": 8.75}
    assert parsed["counts"] == {"failed": 1, "passed": 2}
    assert parsed["slowest_tests"] == {  # each test's phases summed, costliest first, 0.1 s
        "tests/test_a.py::test_one": 14.5, "tests/test_b.py::test_two[jax]": 7.2,
        "tests/test_b.py::test_three": 1.5,
    }  # fmt: skip
    record = {
        **parsed, "suite": "fast", "date": "2026-12-06T01:00:00Z", "commit": "abc1234",
        "machine": "Intel(R) Xeon(R) Processor, 2 cores", "cpu": {"model": "x"},
        "wall_seconds": 150.0, "budget_seconds": 300, "returncode": 1,
    }  # fmt: skip
    row = bench.table([record]).splitlines()[-1]
    assert row.startswith("| `make test` (failed) | 2026-12-06, abc1234 | Intel(R) Xeon(R)")
    busy = bench.table([{**record, "returncode": 0, "load": "busy"}]).splitlines()[-1]
    assert busy.startswith("| `make test` beside a busy loop | 2026-12-06")  # --load's row
    assert "| 150 s | 0.50 | ? | 14, 9 | a 14, b 9 |" in row  # no CPU seconds recorded then
    assert bench.shares(record)[1].startswith("workers: ")  # nor its line
    measured = {**record, "cpu_seconds": 270.0, "cpu": {"model": "x", "cores": 2}}
    assert "| 150 s | 0.50 | 270 | 14, 9 |" in bench.table([measured]).splitlines()[-1]
    split = {"tests/test_a.py": {"in_worker": 4.0, "started": 10.0},
             "tests/test_b.py": {"in_worker": 8.0, "started": 0.5}}  # fmt: skip
    row = bench.table([{**measured, "cpu_by_file": split}]).splitlines()[-1]
    assert "| 0.50 | 270 (10 started) | 14, 9 |" in row
    assert bench.shares({**measured, "cpu_by_file": split})[3] == (
        "     14.5 s  62.4%  tests/test_a.py  "
        "(CPU: 4 s in the worker, 10 s in processes it started)"
    )
    assert bench.shares(measured)[1] == (
        "CPU: 270 s, 90% of 2 cores over the wall time; the budget gives 600 s"
    )
    amx = {"model": "Intel(R) Xeon(R) Processor", "extensions": ["AVX-512", "AMX-BF16"]}
    assert bench.cpu_slug(amx) == "intel-r--xeon-r--processor-avx-512-amx-bf16"
    assert bench.cpu_slug({**amx, "extensions": ["AVX-512"]}) != bench.cpu_slug(amx)
    lines = bench.shares(record)
    assert lines[0].startswith("fast: 150 s wall, 0.50 of its 5-minute budget")
    assert lines[-3:] == ["     14.5 s  tests/test_a.py::test_one",
                          "      7.2 s  tests/test_b.py::test_two[jax]",
                          "      1.5 s  tests/test_b.py::test_three"]  # fmt: skip


def test_the_suite_benchmark_lists_what_each_test_file_proves(tmp_path):
    """bench_tests.file_table: one row per test file, the first paragraph of its docstring
    (pipes escaped for Markdown) and its seconds in the newest record of each suite."""
    bench = load("bench_tests")
    (tmp_path / "test_a.py").write_text('"""Pins the KL |x| to\nits closed form.\n\nMore."""\n')
    (tmp_path / "test_b.py").write_text('"""Runs slowly."""\n')
    old = {"suite": "fast", "date": "2026-12-01", "cpu": {"model": "old"}, "files": {}}
    fast = {
        "suite": "fast",
        "date": "2026-12-06",
        "cpu": {"model": "Xeon"},
        "files": {"tests/test_a.py": 14.4},
    }
    slow = {"suite": "slow", "date": "2026-12-05", "cpu": {"model": "EPYC", "extensions": ["AVX2"]},
            "files": {"tests/test_b.py": 99.6}}  # fmt: skip
    loaded = {**slow, "date": "2026-12-07", "load": "busy", "files": {"tests/test_b.py": 150.0}}
    lines = bench.file_table([fast, old, slow, loaded], tmp_path).splitlines()
    assert "`make test` (s; 2026-12-06, Xeon)" in lines[0] and "2026-12-05, EPYC (AVX2)" in lines[0]
    assert lines[2] == "| `test_a.py` | Pins the KL \\|x\\| to its closed form. | 14 |  |"
    assert lines[3] == "| `test_b.py` | Runs slowly. |  | 100 |"


#: Python code that spends 0.3 s of CPU.
SPIN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"


def test_the_cpu_of_the_processes_waited_for_is_counted():
    """tests/cpu_log.cpu_seconds of ``RUSAGE_CHILDREN`` (bench_tests' reading around a suite):
    a child that spins 0.3 s of CPU, and its own child that spins as long, both count once
    they have been waited for."""
    import resource
    import subprocess

    import cpu_log

    nested = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {SPIN!r}])\n{SPIN}"
    before = cpu_log.cpu_seconds(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", nested], check=True)
    assert cpu_log.cpu_seconds(resource.RUSAGE_CHILDREN) - before >= 0.6


def test_each_files_cpu_is_split_between_its_worker_and_its_processes(tmp_path):
    """tests/cpu_log.py around two tests of two files, as pytest drives its hook (one spins
    0.3 s of CPU in the worker, the other in a process it starts), then its worker's file
    summed by cpu_log.merged (what bench_tests records): each file's seconds on its side."""
    import subprocess
    from types import SimpleNamespace

    import cpu_log

    log = cpu_log.CpuLog(tmp_path)
    for nodeid, work in (
        ("tests/test_here.py::test_spins", lambda: exec(SPIN)),
        ("tests/test_started.py::test_starts",
         lambda: subprocess.run([sys.executable, "-c", SPIN], check=True)),
    ):  # fmt: skip
        around = log.pytest_runtest_protocol(SimpleNamespace(nodeid=nodeid), None)
        next(around)  # pytest runs the test's set-up, call and tear-down here
        work()
        with pytest.raises(StopIteration):
            next(around)
    log.pytest_sessionfinish(None)
    split = cpu_log.merged(tmp_path)
    here, started = split["tests/test_here.py"], split["tests/test_started.py"]
    assert here["in_worker"] >= 0.25 and here["started"] < 0.1
    assert started["started"] >= 0.25 and started["in_worker"] < 0.25


def test_only_an_xdist_worker_logs_its_cpu_and_its_children_do_not_inherit_the_folder(
    monkeypatch, tmp_path
):
    """conftest.pytest_configure: with bench_tests' variable set, an xdist worker registers
    tests/cpu_log.py's plugin on that folder and takes the variable out of its environment
    (a pytest that a test starts writes no file); xdist's controller registers none."""
    import os
    from types import SimpleNamespace

    import conftest
    import cpu_log

    class Plugins:
        def __init__(self):
            self.registered = {}

        def register(self, plugin, name):
            self.registered[name] = plugin

    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path))  # no cache made here
    monkeypatch.setenv(cpu_log.VARIABLE, str(tmp_path))
    controller = SimpleNamespace(stash={}, pluginmanager=Plugins())
    conftest.pytest_configure(controller)
    assert controller.pluginmanager.registered == {}
    worker = SimpleNamespace(stash={}, pluginmanager=Plugins(), workerinput={})
    conftest.pytest_configure(worker)
    assert worker.pluginmanager.registered["cpu_log"].folder == tmp_path
    assert cpu_log.VARIABLE not in os.environ


def test_the_slow_suite_order_names_every_file_that_has_a_slow_test():
    """conftest.SLOW_ORDER orders ``make test-slow``'s files for xdist's queue: a file with a
    slow test that it does not name would run after them all, perhaps alone on one worker at
    the end."""
    import conftest

    tests = Path(conftest.__file__).parent
    marked = {p.name for p in tests.glob("test_*.py") if "mark.slow" in p.read_text()}
    assert set(conftest.SLOW_ORDER) == marked
    assert len(conftest.SLOW_ORDER) == len(marked)  # each named once
