"""One trainer per run directory, and which process of a cluster writes it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from vae_keras.errors import RunError
from vae_keras.runs.schema import LOCK_FILE


class RunLockedError(RunError):
    """Another process is training in the run directory."""


def writes_run_dir(distribute: str | None) -> bool:
    """Whether this process writes the run directory: all but the non-chief cluster workers.

    In a multi-worker cluster (``distribute="multiworker"``, the cluster named
    by the ``TF_CONFIG`` environment variable) only the chief writes, as
    TensorFlow's multi-worker guide recommends: the task of type ``"chief"``,
    or worker 0 when the cluster has no chief. The others read the chief's
    checkpoint to resume and write nothing.
    """
    if distribute != "multiworker":
        return True
    try:
        tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
        task = tf_config.get("task") or {}
        cluster = tf_config.get("cluster") or {}
    except (ValueError, AttributeError) as exc:
        raise RunError(f"TF_CONFIG is not a JSON object of a cluster and a task: {exc}") from exc
    if not task:  # no cluster: a single worker, which is its own chief
        return True
    if task.get("type") == "chief":
        return True
    return task.get("type") == "worker" and task.get("index") == 0 and "chief" not in cluster


_HELD_LOCKS: set[Path] = set()

#: How long a trainer refused the lock waits for the holder to write its process id: the
#: holder writes it just after taking the lock, and a busy machine can delay that write.
HOLDER_WAIT_SECONDS = 5.0


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 tests it without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def lock_holder(fd: int, wait: float = HOLDER_WAIT_SECONDS) -> str:
    """The process id that the lock's holder wrote into the lock file, or ``"unknown"``.

    Between the holder's ``flock`` and its write, the file is empty, or still holds the id of
    an earlier holder that has ended (a crash leaves it): the reader waits, up to ``wait``
    seconds, for the id of a living process instead of reporting the wrong one.
    """
    deadline = time.monotonic() + wait
    while True:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit() and process_alive(int(text)):
            return text
        if time.monotonic() > deadline:
            return "unknown"
        time.sleep(0.02)


@contextlib.contextmanager
def lock_run_dir(run_dir: str | os.PathLike) -> Iterator[None]:
    """Hold the exclusive lock of ``run_dir`` (created if needed) while the block runs.

    The lock is ``fcntl.flock`` on ``train.lock``, which holds the owner's
    process id. The kernel releases it when the process ends, however it ends,
    so no stale lock survives a crash. Raises :class:`RunLockedError`, naming the
    directory and the process, if another process holds it. Nested calls for
    the same directory in one process hold it once (the command line takes it
    before TensorFlow starts, :func:`vae_keras.training.train` again).
    """
    run_dir = Path(run_dir)
    key = run_dir.resolve()
    if key in _HELD_LOCKS:
        yield
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = lock_holder(fd)
            raise RunLockedError(
                f"{run_dir} is in use by another trainer (process {holder}); wait for it to "
                "finish or stop it, or train into another --out directory."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD_LOCKS.add(key)
        try:
            yield
        finally:
            _HELD_LOCKS.discard(key)
    finally:
        os.close(fd)
