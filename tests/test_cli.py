"""Only a user's mistake is one line: the project's own errors; a bug keeps its traceback."""

import pytest
from conftest import ROOT, run_script, write_npz

from vae_keras import cli
from vae_keras.data import DataError
from vae_keras.errors import ConfigError, FIDInputError, UserError
from vae_keras.runs import RunError


@pytest.mark.parametrize("error", [DataError, RunError, FIDInputError, ConfigError])
def test_the_project_errors_are_user_errors_in_one_line(error, capsys):
    def main():
        raise error("the file x.npz is missing; pass --data-dir")

    assert issubclass(error, UserError)
    assert cli.guarded(main) == cli.USER_ERROR
    assert capsys.readouterr().err == "error: the file x.npz is missing; pass --data-dir\n"


@pytest.mark.parametrize("bug", [ValueError, KeyError, TypeError, RuntimeError])
def test_any_other_exception_is_a_bug_and_propagates(bug):
    def main():
        raise bug("an internal shape mismatch")

    with pytest.raises(bug, match="internal shape"):
        cli.guarded(main)


@pytest.mark.slow  # a new interpreter importing TensorFlow (make test-slow, which CI runs)
def test_a_bug_inside_training_keeps_its_traceback(tmp_path):
    """A ValueError from deep inside training (Keras, a shape) is printed as a traceback, by
    the interpreter of a process of its own. ``make test`` keeps ``guarded``'s own tests here
    (a bug is re-raised, a user's mistake is one line)."""
    write_npz(tmp_path)
    inject = (
        "import runpy, sys\n"
        "import vae_keras.training as t\n"
        "def train(*a, **k): raise ValueError('Input 0 of layer dense is incompatible')\n"
        "t.train = train\n"
        f"sys.argv = ['train_mnist.py', '--data-dir', {str(tmp_path)!r}, "
        f"'--out', {str(tmp_path / 'run')!r}, '--epochs', '1']\n"
        f"runpy.run_path({str(ROOT / 'scripts' / 'train_mnist.py')!r}, run_name='__main__')\n"
    )
    result = run_script("-c", inject)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ValueError: Input 0 of layer dense is incompatible" in result.stderr


@pytest.mark.slow  # a JAX process (make test-slow, which CI runs)
def test_options_that_do_not_fit_the_backend_are_one_line(tmp_path):
    """--distribute multiworker on JAX, in a process of its own: exit code 2, one line (no
    traceback), nothing created. (tests/test_distribution.py ran the same command for its
    exit code, message and missing traceback; this test proves all three.)"""
    write_npz(tmp_path)
    result = run_script(
        "scripts/train_mnist.py",
        "--data-dir",
        tmp_path,
        "--out",
        tmp_path / "run",
        "--epochs",
        "1",
        "--distribute",
        "multiworker",
        env={"KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: --distribute multiworker is not available on the jax backend: mirrored runs on "
        "TensorFlow and JAX, multiworker on TensorFlow (set KERAS_BACKEND=tensorflow or jax)."
    ]
    assert not (tmp_path / "run").exists()  # refused before anything was created
