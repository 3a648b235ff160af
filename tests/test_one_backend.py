"""On JAX or PyTorch alone: every step of the README, in processes where TensorFlow is missing.

Each process runs with ``tests/helpers/no_tensorflow`` on ``PYTHONPATH``: ``import
tensorflow`` fails there as on a machine where it was never installed. The steps are the
README's (train MNIST and CIFAR-10, the classifier, make_figures, compute_fid, the
explorer, ``--tensorboard``), the chain's listing, and the benchmarks that are not
TensorFlow's by nature; those that are say so in one line and exit with 2 (JAX in make
test, PyTorch in make test-slow, which CI runs after it). Small synthetic
data sets, one or two epochs: what is checked is that each path runs and records the
backend that ran it, not what it measures.
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import ROOT, run_script, write_npz

BLOCKER = ROOT / "tests" / "helpers" / "no_tensorflow"


def without_tensorflow(backend: str, data_dir) -> dict[str, str]:
    path = os.pathsep.join([str(BLOCKER), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {"PYTHONPATH": path, "KERAS_BACKEND": backend, "VAE_KERAS_DATA_DIR": str(data_dir)}


def run_ok(*args, env, cwd):
    result = run_script(*args, env=env, cwd=cwd)
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    write_npz(folder, "mnist", n_train=600, n_test=300)
    write_npz(folder, "cifar10", n_train=300, n_test=100, shape=(32, 32, 3))
    return folder


def test_the_blocker_stops_tensorflow(data_dir, tmp_path):
    code = (
        "import importlib.util\n"
        "assert importlib.util.find_spec('tensorflow') is None\n"
        "try:\n    import tensorflow\nexcept ModuleNotFoundError:\n    print('blocked')\n"
    )
    result = run_script("-c", code, env=without_tensorflow("jax", data_dir), cwd=tmp_path)
    assert result.stdout.strip() == "blocked", result.stderr


def every_step(backend: str, data_dir, work) -> None:
    """The README's steps on ``backend`` with TensorFlow missing, in the folder ``work``."""
    env = without_tensorflow(backend, data_dir)
    s = ROOT / "scripts"
    short = ("--epochs", "2", "--verbose", "2")
    first = run_ok(s / "train_mnist.py", *short, "--tensorboard", env=env, cwd=work)
    assert f"Training with {backend} on the CPU" in first.stdout
    run_ok(s / "train_mnist.py", "--latent-dim", "8", *short, env=env, cwd=work)
    run_ok(s / "train_cifar10.py", *short, env=env, cwd=work)
    run_ok(s / "train_classifier.py", "--epochs", "1", env=env, cwd=work)
    timing = json.loads((work / "runs" / "mnist-latent2" / "timing.json").read_text())
    assert timing["backend"] == backend
    events = {p.parent.name for p in (work / "runs" / "mnist-latent2" / "tensorboard").rglob(
        "events.out.tfevents.*")}  # fmt: skip
    assert events == {"train", "validation", "samples"}

    figures = run_ok(s / "make_figures.py", "--quick", env=env, cwd=work)
    assert "fid" in figures.stdout
    results = json.loads((work / "runs" / "figures-quick" / "results.json").read_text())
    assert (
        results["backend_devices"]["backend"] == backend and results["backend_devices"]["devices"]
    )
    assert (
        results["versions"]["keras_backend"] == backend and "tensorflow" not in results["versions"]
    )
    assert results["machine"]["gpus"] == []
    assert (work / "runs" / "figures-quick" / "mnist_latent_space.png").is_file()

    fid = run_ok(s / "compute_fid.py", "runs/mnist-latent8", "mnist:test", "--n", "300",
                 env=env, cwd=work)  # fmt: skip
    assert "fid " in fid.stdout and (work / "runs" / "fid").is_dir()
    run_ok(s / "export_explorer.py", "runs/mnist-latent2", "--out", "explorer", env=env, cwd=work)
    assert (work / "explorer" / "model.js").is_file()
    listing = run_ok(s / "reproduce.py", "--list", env=env, cwd=work)
    assert "vae-keras figures" in listing.stdout  # outside the clone: the verbs

    b = ROOT / "benchmarks"
    out = work / "bench"
    run_ok(b / "bench_train.py", "--backend", backend, "--epochs", "1", "--rounds", "1",
           "--no-readme", "--out", out / "train.json", "--data-dir", data_dir,
           env=env, cwd=work)  # fmt: skip
    record = json.loads((out / "train.json").read_text())
    assert record["backend_devices"]["backend"] == backend and "no GPU" in record["machine"]
    run_ok(b / "bench_likelihood.py", "--run", "runs/mnist-latent2", "--k", "5",
           "--reference-n", "50", "--out", out / "likelihood.json", env=env, cwd=work)  # fmt: skip
    assert (
        json.loads((out / "likelihood.json").read_text())["backend_devices"]["backend"] == backend
    )
    for tensorflow_only in ("bench_noise.py", "profile_xla_ops.py", "profile_train.py"):
        refused = run_script(b / tensorflow_only, env=env, cwd=work)
        assert refused.returncode == 2, (tensorflow_only, refused.stderr[-2000:])
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "needs TensorFlow" in lines[0], refused.stderr


def test_every_step_runs_on_jax_without_tensorflow(data_dir, tmp_path):
    every_step("jax", data_dir, tmp_path)


@pytest.mark.slow
def test_every_step_runs_on_torch_without_tensorflow(data_dir, tmp_path):
    every_step("torch", data_dir, tmp_path)
