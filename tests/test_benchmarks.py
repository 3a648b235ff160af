"""The benchmarks' own logic: parsing a perf report and summing it by kind of work."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # as `python benchmarks/<script>.py` has it


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


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
