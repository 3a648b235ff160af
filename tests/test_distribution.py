"""Training across processes and devices, for real: a two-worker TensorFlow cluster on
loopback ports, and JAX's DataParallel over the CPU split into two devices."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_script

from vae_keras import runs
from vae_keras.runs import load_run

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["--epochs", "3", "--batch-size", "64", "--intermediate-dim", "32", "--verbose", "2"]
TIMEOUT = 300


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from conftest import write_npz

    folder = tmp_path_factory.mktemp("distribution-data")
    write_npz(folder, n_train=640, n_test=128)  # 10 batches of 64 per epoch
    return folder


def free_ports(n):
    """``n`` free TCP ports on 127.0.0.1 (bound, read, released)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def train_command(data_dir, out, *extra):
    script = str(ROOT / "scripts" / "train_mnist.py")
    return [sys.executable, script, "--data-dir", str(data_dir), "--out", str(out), *TRAIN, *extra]


def environment(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CONFIG", "KERAS_BACKEND")}
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def history_of(run_dir):
    return json.loads((Path(run_dir) / runs.HISTORY_JSON).read_text())


def run_cluster(data_dir, out, epochs):
    """Two workers on loopback ports, training into ``out``; their (stdout, stderr)."""
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    try:
        for index in (0, 1):
            tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
            command = train_command(data_dir, out, "--distribute", "multiworker")
            workers.append(
                subprocess.Popen(
                    [*command, "--epochs", str(epochs)],
                    cwd=ROOT,
                    env=environment(TF_CONFIG=tf_config),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                )
            )
        outputs = [w.communicate(timeout=TIMEOUT) for w in workers]
    finally:
        for w in workers:  # always stop what was started, whatever happened
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait()
    for w, (stdout, stderr) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, stderr[-3000:]
        assert "CollectiveAllReduceStrategy over 2 device(s)" in stdout
    return outputs


@pytest.mark.slow  # a two-process cluster: make test-slow (CI); make test keeps the mirrored test
def test_two_workers_train_the_slides_model_together(data_dir, tmp_path):
    out = tmp_path / "cluster"
    run_cluster(data_dir, out, epochs=2)
    assert len(history_of(out)) == 2
    # a rerun of the cluster resumes from the chief's checkpoint (here: to a third epoch)
    outputs = run_cluster(data_dir, out, epochs=3)
    assert "Resuming" in outputs[0][0] and "after epoch 2 of 3" in outputs[0][0]
    assert "the cluster's chief writes" in outputs[1][0]  # worker 1 wrote nothing
    single = tmp_path / "single"  # one device: in this worker (conftest.run_script), no cluster
    script, *args = train_command(data_dir, single, "--no-jit", "--steps-per-execution", "1")[1:]
    assert "TF_CONFIG" not in os.environ
    result = run_script(Path(script).relative_to(ROOT), *args)
    assert result.returncode == 0, result.stderr[-3000:]
    chief, alone = history_of(out), history_of(single)
    assert [r["epoch"] for r in chief] == [r["epoch"] for r in alone] == [1, 2, 3]
    steps = [int(load_run(d).models.vae.optimizer.iterations.numpy()) for d in (out, single)]
    assert steps == [30, 30]  # 3 epochs of 10 global batches of 64, split over the workers
    assert chief[-1]["val_loss"] == pytest.approx(alone[-1]["val_loss"], rel=0.02)
    assert chief[-1]["loss"] < chief[0]["loss"]
    for row in chief:  # the parts, reduced over the workers, add up to the loss
        for p in ("", "val_"):
            total = row[f"{p}reconstruction_loss"] + row[f"{p}kl_loss"]
            assert total == pytest.approx(row[f"{p}loss"], rel=1e-5)
    # only the chief's run directory exists, with a run's files only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cluster", "single"]
    assert (out / runs.STATE_FILE).is_file() and not list(out.glob(".tmp-*"))


@pytest.mark.slow  # two JAX processes: make test-slow (CI)
def test_jax_data_parallel_over_two_cpu_devices_trains_as_one_device(data_dir, tmp_path):
    pytest.importorskip("jax")
    histories = {}
    for name, extra, env in (
        ("one", [], {}),
        (
            "two",
            ["--distribute", "mirrored"],
            {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
        ),
    ):
        result = subprocess.run(
            train_command(data_dir, tmp_path / name, *extra),
            cwd=ROOT,
            env=environment(KERAS_BACKEND="jax", **env),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        histories[name] = history_of(tmp_path / name)
    assert "DataParallel over 2 device(s): cpu:0, cpu:1" in result.stdout
    for key in ("loss", "val_loss", "kl_loss"):
        assert [r[key] for r in histories["two"]] == pytest.approx(
            [r[key] for r in histories["one"]], rel=1e-4
        )
