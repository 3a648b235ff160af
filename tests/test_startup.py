"""Before a script's own first line: no TensorFlow start-up noise, real errors kept."""

import os
import subprocess
import sys

import pytest
from conftest import run_script, write_npz

from vae_keras.startup import is_startup_noise, without_startup_noise

NOISE = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796160829.660835    2333 port.cc:153] oneDNN custom operations are on. You may see \
slightly different numerical results due to floating-point round-off errors.
I0000 00:00:1796160829.661158    2333 cudart_stub.cc:31] Could not find cuda drivers on your \
machine, GPU will not be used.
I0000 00:00:1796160829.705480    2333 cpu_feature_guard.cc:227] This TensorFlow binary is \
optimized to use available CPU instructions in performance-critical operations.
To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow \
with the appropriate compiler flags.
E0000 00:00:1796160833.600237    2333 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA \
error: Failed call to cuInit: UNKNOWN ERROR (303)
"""


def test_the_start_up_lines_are_noise_and_nothing_else_is():
    assert all(is_startup_noise(line) for line in NOISE.splitlines())
    real = [
        "E0000 00:00:1796160833.6 2333 gpu_device.cc:2020] Could not load dynamic library libcudnn",
        "Traceback (most recent call last):",
        "error: Data directory '/x' does not exist",
        "To enable more logging, set this variable",
    ]
    assert not any(is_startup_noise(line) for line in real)
    mixed = NOISE + real[0] + "\n" + NOISE + real[1] + "\n"
    assert without_startup_noise(mixed) == real[0] + "\n" + real[1] + "\n"


def test_what_the_c_side_writes_to_descriptor_2_is_filtered_and_the_rest_kept():
    """A child writes noise and a real line straight to fd 2 inside stderr_filtered."""
    code = (
        "import os, sys\n"
        "from vae_keras.startup import stderr_filtered\n"
        "with stderr_filtered():\n"
        f"    os.write(2, {NOISE.encode()!r})\n"
        "    os.write(2, b'E0000 real C++ error\\n')\n"
        "    print('a Python warning', file=sys.stderr)\n"
        "print('after', file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stderr == "E0000 real C++ error\na Python warning\nafter\n"


@pytest.mark.slow  # two new interpreters importing TensorFlow (make test-slow, which CI runs)
def test_a_script_starts_with_its_own_lines_and_the_variable_brings_tensorflow_back(tmp_path):
    """A real process of the training script: nothing on stderr before its own lines, and
    ``VAE_KERAS_TF_LOGS=1`` brings TensorFlow's start-up lines back. ``make test`` keeps the
    filter's own tests (the lines it drops and keeps, a child writing to descriptor 2)."""
    write_npz(tmp_path)
    args = ("scripts/train_mnist.py", "--data-dir", tmp_path, "--epochs", "1", "--verbose", "0")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run(
        [sys.executable, *map(str, args), "--out", str(tmp_path / "a")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert quiet.stdout.splitlines()[0].startswith("Data: ")
    assert "Training " in quiet.stdout.splitlines()[1] and " on " in quiet.stdout.splitlines()[1]
    # the variable brings them back (--resume without a run ends it once TensorFlow has started)
    loud = run_script(*args, "--out", tmp_path / "b", "--resume", env={"VAE_KERAS_TF_LOGS": "1"})
    assert loud.returncode == 2
    assert "absl::InitializeLog" in loud.stderr or "oneDNN" in loud.stderr
    assert loud.stderr.strip().splitlines()[-1].startswith("error: --resume: ")


def test_the_reasons_a_gpu_goes_unused_are_hidden_only_without_a_gpu():
    reasons = (
        "W0000 gpu_device.cc:2365] Cannot dlopen some GPU libraries. Please make sure ...\n"
        "Skipping registering GPU devices...\n"
    )
    assert without_startup_noise(reasons) == ""  # no GPU: nothing to explain
    assert without_startup_noise(reasons, gpu_present=True) == reasons
    assert without_startup_noise(NOISE, gpu_present=True) == ""  # the rest stays hidden


def test_a_tensorflow_only_benchmark_refuses_in_one_line_elsewhere(monkeypatch, capsys):
    import pytest

    from vae_keras.startup import require_tensorflow

    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with pytest.raises(SystemExit) as stopped:
        require_tensorflow("x.py times TensorFlow's kernels")
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: x.py times TensorFlow's kernels, so it needs TensorFlow;")
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    require_tensorflow("x.py")  # TensorFlow is installed here: no exit


def test_every_command_start_gives_keras_array_pipeline_its_tensorflow_option(monkeypatch):
    """quiet_start, which every command calls first, also takes tf.data's autotuning thread
    out of Keras's pipeline for arrays on TensorFlow (its effect on the pipeline and the
    weights: tests/test_training.py), even where TensorFlow was imported before it."""
    from vae_keras import startup, tf_speed

    calls = []
    monkeypatch.setattr(tf_speed, "keras_arrays_without_autotune_thread", lambda: calls.append(1))
    startup.quiet_start()  # TensorFlow is imported in this process already
    assert calls == [1]
