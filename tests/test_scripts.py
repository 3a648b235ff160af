"""The command-line scripts, run as a user runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_script(*args, env=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_help_answers_without_training():
    result = run_script("scripts/train_mnist.py", "--help")
    assert result.returncode == 0
    for option in (
        "--latent-dim",
        "--epochs",
        "--batch-size",
        "--seed",
        "--data-dir",
        "--out",
        "--resume",
        "--pipeline",
        "--no-jit",
        "--steps-per-execution",
        "--no-fuse-steps",
        "--distribute",
    ):
        assert option in result.stdout


def test_bad_data_dir_is_a_clear_error(tmp_path):
    result = run_script(
        "scripts/train_mnist.py", "--data-dir", str(tmp_path), "--out", str(tmp_path / "run")
    )
    assert result.returncode == 2
    assert "mnist.npz not found" in result.stderr
    assert not (tmp_path / "run").exists()


def test_resume_without_a_run_is_refused(tmp_path):
    from conftest import write_npz

    write_npz(tmp_path)
    result = run_script(
        "scripts/train_mnist.py",
        "--data-dir",
        str(tmp_path),
        "--out",
        str(tmp_path / "run"),
        "--resume",
    )
    assert result.returncode == 2 and "holds no interrupted run" in result.stderr


@pytest.mark.slow
def test_train_mnist_one_epoch_on_real_data(mnist_dir, tmp_path):
    out = tmp_path / "run"
    args = [
        "scripts/train_mnist.py",
        "--epochs",
        "1",
        "--limit",
        "3000",
        "--out",
        str(out),
        "--verbose",
        "2",
    ]
    result = run_script(*args, env={"VAE_KERAS_DATA_DIR": mnist_dir})
    assert result.returncode == 0, result.stderr
    assert "Training on" in result.stdout and "mnist.npz (3000 train / 3000 test)" in result.stdout
    for name in (
        "config.json",
        "vae-epoch0001.weights.h5",
        "history.json",
        "history.csv",
        "state.json",
    ):
        assert (out / name).is_file(), name
    history = json.loads((out / "history.json").read_text())
    assert len(history) == 1 and 100 < history[0]["val_loss"] < 600
    config = json.loads((out / "config.json").read_text())
    assert config["latent_dim"] == 2 and config["batch_size"] == 256 and config["limit"] == 3000
    # a second call with more epochs resumes instead of starting again
    result = run_script(*args[:2], "2", *args[3:], env={"VAE_KERAS_DATA_DIR": mnist_dir})
    assert result.returncode == 0, result.stderr
    assert "Resuming" in result.stdout and "after epoch 1 of 2" in result.stdout
    assert [r["epoch"] for r in json.loads((out / "history.json").read_text())] == [1, 2]
