"""A run survives a crash at any instant, Ctrl-C and a second trainer: real processes, real faults.

The training script runs in a process of its own under ``tests/helpers/crash_at_commit.py``,
which kills it with SIGKILL at its Nth file commit (an ``os.replace``), for every
N in turn; the same command is then run again and must end with the history of
an uninterrupted run, exactly. Those processes are forked from a zygote
(tests/helpers/zygote.py) that imported TensorFlow once, instead of importing it 40 times
(about 4.5 s of CPU each); the two trainers at once and the Ctrl-C are started as a user
starts them, ``python crash_at_commit.py ...`` in a fresh interpreter.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jax_cache
import pytest
from worker_threads import worker_cores

from vae_keras import runs

ROOT = Path(__file__).resolve().parents[1]
HELPER = ROOT / "tests" / "helpers" / "crash_at_commit.py"
sys.path.insert(0, str(HELPER.parent))
from zygote import Zygote  # noqa: E402

SCRIPT = ROOT / "scripts" / "train_mnist.py"
# 300 examples, batches of 64, 2 epochs: 5 steps per epoch; no XLA to start fast
TRAIN_ARGS = ["--epochs", "2", "--batch-size", "64", "--intermediate-dim", "32", "--no-jit"]
DEFAULT_PATH = TRAIN_ARGS[:-1]  # the default: XLA-compiled fused steps
TIMEOUT = 300


def script_args(data_dir, out, args=TRAIN_ARGS):
    return [str(SCRIPT), "--data-dir", str(data_dir), "--out", str(out), *args, "--verbose", "0"]


def command(data_dir, out, crash_at, args=TRAIN_ARGS):
    """A fresh interpreter's command line: ``python crash_at_commit.py crash_at SCRIPT ...``."""
    return [sys.executable, str(HELPER), str(crash_at), *script_args(data_dir, out, args)]


def environment(**extra):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


class Trainers:
    """Zygotes by backend, each serving one run at a time: a thread that finds none free
    starts one (the kill test runs two at once)."""

    def __init__(self, folder: Path):
        self.folder, self.free, self.all = folder, {}, []
        # JAX's compiled programs kept on disk: a rerun loads what the killed run compiled
        # (the same executable) instead of compiling it again
        self.caches = jax_cache.variables(str(folder / "jax-cache"))

    def run(self, data_dir, out, crash_at=0, args=TRAIN_ARGS, **extra_env):
        env = environment(**extra_env)
        backend = env.get("KERAS_BACKEND", "tensorflow")
        pool = self.free.setdefault(backend, queue.SimpleQueue())
        try:
            zygote = pool.get_nowait()
        except queue.Empty:
            zygote = Zygote(environment(KERAS_BACKEND=backend, **self.caches),
                            self.folder / f"{backend}-{len(self.all)}")  # fmt: skip
            self.all.append(zygote)
        env.update(self.caches)
        try:
            return zygote.run(script_args(data_dir, out, args), env, ROOT, crash_at, TIMEOUT)
        finally:
            pool.put(zygote)


@pytest.fixture(scope="module")
def trainers(tmp_path_factory):
    pool = Trainers(tmp_path_factory.mktemp("zygotes"))
    yield pool
    for zygote in pool.all:
        zygote.close()


def without_seconds(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from conftest import write_npz

    folder = tmp_path_factory.mktemp("crash-data")
    write_npz(folder, n_train=300, n_test=100)
    return folder


@pytest.fixture(scope="module")
def reference(data_dir, trainers, tmp_path_factory):
    """The uninterrupted run: its history and the number of file commits it makes."""
    out = tmp_path_factory.mktemp("crash-reference") / "run"
    result = trainers.run(data_dir, out)
    assert result.returncode == 0, result.stderr[-3000:]
    commits = int(result.stderr.split("COMMITS ")[-1].split()[0])
    return without_seconds(json.loads((out / runs.HISTORY_JSON).read_text())), commits


def check_consistent(run_dir: Path) -> int:
    """The run directory describes one committed epoch; return it (0 if none)."""
    state = runs.read_state(run_dir)
    if state is None:
        return 0
    assert (run_dir / state.weights).is_file()
    assert len(state.history) == state.epochs_done
    return state.epochs_done


def check_clean(run_dir: Path, epochs: int) -> None:
    """The files of a complete run and nothing else; timing.json is absent only when the
    kill came after the Keras files and before it (the rerun finds nothing to train)."""
    names = sorted(p.name for p in run_dir.iterdir() if p.name != runs.TIMING_FILE)
    assert names == sorted(
        [
            *runs.RUN_FILES_AFTER_EPOCH,
            runs.weights_file_name(epochs),
            runs.LOCK_FILE,
            *runs.KERAS_FILES.values(),
        ]
    ), names


def crash_then_rerun(trainers, data_dir, run_dir, crash_at, when, args=TRAIN_ARGS, **env):
    crashed = trainers.run(data_dir, run_dir, crash_at, args, CRASH_WHEN=when, **env)
    assert crashed.returncode == -signal.SIGKILL, (crash_at, when, crashed.stderr[-2000:])
    epochs_after_crash = check_consistent(run_dir)
    rerun = trainers.run(data_dir, run_dir, 0, args, **env)
    assert rerun.returncode == 0, (crash_at, when, rerun.stderr[-2000:])
    return epochs_after_crash, json.loads((run_dir / runs.HISTORY_JSON).read_text())


@pytest.mark.slow  # 28 processes (make test-slow, which CI runs after make test)
def test_a_kill_at_every_file_commit_resumes_to_the_uninterrupted_history(
    data_dir, reference, trainers, tmp_path
):
    expected, commits = reference
    # config.json, then per epoch: weights, state.json (the commit point), history.json, .csv;
    # at the end the three .keras files and timing.json
    assert commits == 1 + 4 * 2 + 3 + 1
    cases = [(n, "before") for n in range(1, commits + 1)] + [(commits, "after")]
    # as many trainers at once as this worker's share of the cores (two alone on 2 cores, one
    # under make test-slow's two workers, where two made the other worker's test wait)
    with ThreadPoolExecutor(max_workers=min(2, worker_cores())) as pool:
        results = list(
            pool.map(
                lambda case: crash_then_rerun(
                    trainers, data_dir, tmp_path / f"{case[1]}{case[0]}", *case
                ),
                cases,
            )
        )
    for (n, when), (_epochs_after_crash, history) in zip(cases, results, strict=True):
        assert without_seconds(history) == expected, (n, when)
        check_clean(tmp_path / f"{when}{n}", 2)
    # the crashes hit before the first epoch, inside the first and inside the second
    assert [e for e, _ in results] == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2]


@pytest.mark.slow  # 3 trainings each (make test-slow)
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_the_default_compiled_path_survives_a_kill_inside_each_epoch(
    data_dir, trainers, tmp_path, backend
):
    """The default path (XLA, fused steps: tf_speed on TensorFlow, jax_speed on JAX) killed
    before epoch 2's commit point: the rerun ends with the uninterrupted history, exactly, and
    a clean directory."""
    out = tmp_path / "reference"
    result = trainers.run(data_dir, out, 0, DEFAULT_PATH, KERAS_BACKEND=backend)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = without_seconds(json.loads((out / runs.HISTORY_JSON).read_text()))
    epochs_after_crash, history = crash_then_rerun(
        trainers,
        data_dir,
        tmp_path / "killed",
        7,
        "before",
        DEFAULT_PATH,  # epoch 2's state.json
        KERAS_BACKEND=backend,
    )
    assert epochs_after_crash == 1
    assert without_seconds(history) == expected
    check_clean(tmp_path / "killed", 2)


def wait_for(predicate, seconds=TIMEOUT):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.1)


@pytest.mark.slow  # two new interpreters and the reference run (make test-slow, which CI runs)
def test_two_trainers_at_once_then_ctrl_c_then_resume(data_dir, reference, trainers, tmp_path):
    """Two trainers started as a user starts them, on one run directory: one refuses in one
    line, the other is interrupted with Ctrl-C and resumed to the uninterrupted history. In
    ``make test-slow`` beside the kill tests, which share its reference run; ``make test``
    keeps the lock's own test (tests/test_runs.py), runs interrupted by a KeyboardInterrupt
    and resumed (tests/test_training.py) and the full disk here."""
    expected, _ = reference
    run_dir = tmp_path / "run"
    marker = tmp_path / "paused"
    # both pause (holding the lock, if they have it) once epoch 1 is committed
    env = environment(CRASH_WHEN="pause", CRASH_MARKER=str(marker))
    procs = [
        subprocess.Popen(
            command(data_dir, run_dir, crash_at=3),
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        wait_for(lambda: any(p.poll() is not None for p in procs) and marker.exists())
        loser = next(p for p in procs if p.poll() is not None)
        winner = next(p for p in procs if p is not loser)
        _, err = loser.communicate(timeout=TIMEOUT)
        assert loser.returncode == 2, err
        assert err.strip().splitlines() == [
            f"error: {run_dir} is in use by another trainer (process {winner.pid}); wait for it "
            "to finish or stop it, or train into another --out directory."
        ]
        assert check_consistent(run_dir) == 1
        winner.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = winner.communicate(timeout=TIMEOUT)
        assert winner.returncode == 130, err
        assert "Interrupted after epoch 1 of 2; run the same command to resume." in err
        assert "Traceback" not in err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    rerun = trainers.run(data_dir, run_dir)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert without_seconds(json.loads((run_dir / runs.HISTORY_JSON).read_text())) == expected
    check_clean(run_dir, 2)


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MiB file system (tmpfs), too small for a checkpoint; skipped where mount is denied."""
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def test_a_full_disk_is_a_one_line_error_and_leaves_no_partial_file(data_dir, trainers, full_disk):
    run_dir = full_disk / "run"
    result = trainers.run(data_dir, run_dir)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert line.startswith(f"error: {run_dir}: No space left on device")
    assert "run the same command" in line
    assert sorted(p.name for p in run_dir.iterdir()) == [runs.CONFIG_FILE, runs.LOCK_FILE]
