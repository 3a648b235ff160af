"""A run directory: the one hand-off between training and everything after it.

Layout of ``runs/<name>/``::

    config.json               RunConfig the run was trained with
    state.json                the commit point: epochs done, complete or not, the name of
                              that epoch's weights file, the noise-generator state, the history
    vae-epoch0050.weights.h5  weights and RMSprop state after that epoch (named by state.json)
    history.json              copies of state.json's history, for people and spreadsheets
    history.csv
    vae.keras                 once the run is complete: the three models as Keras files,
    encoder.keras             which keras.saving.load_model loads in safe mode, on any
    generator.keras           backend (:func:`export_keras_models`)
    tensorboard/              with --tensorboard: event files (losses, sample images)
    train.lock                locked by the one trainer working in the directory

How a run survives a crash at any instant
-----------------------------------------
:func:`commit_epoch` saves an epoch in this order:

1. the weights go to a file of their own, ``vae-epochNNNN.weights.h5`` (written
   under a temporary name, flushed to disk, renamed);
2. ``state.json`` is replaced the same way, and the folder is flushed: this
   rename is the **single commit point**. Before it the directory describes the
   previous epoch, after it the new one;
3. ``history.json``/``history.csv`` are rewritten from the state, and the older
   weights file and any temporary file are removed.

Everything that is read back (weights, optimizer and noise state, history) is
named by ``state.json``, so a process killed between any two of these steps
leaves one consistent epoch; files that ``state.json`` does not name are
leftovers, removed by :func:`start_run` at the next start. ``tests/
test_crash_safety.py`` kills a real training process at each of these renames
in turn and checks that the rerun ends with the uninterrupted history.

:func:`lock_run_dir` makes sure one trainer at a time works in a directory (an
``fcntl`` lock, released by the kernel when its process dies, even by
``kill -9``). :func:`load_run` rebuilds the models from ``config.json`` with
:func:`vae_keras.model.build_vae` and loads the weights: no ``safe_mode=False``
is needed for the ``Lambda`` layer.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import errno
import fcntl
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from vae_keras.errors import UserError

if TYPE_CHECKING:  # the model module imports Keras; keep RunConfig importable without it
    from vae_keras.model import VAEModels

CONFIG_FILE = "config.json"
STATE_FILE = "state.json"
HISTORY_JSON = "history.json"
HISTORY_CSV = "history.csv"
LOCK_FILE = "train.lock"
#: Keras model files of a finished run: load with keras.saving.load_model, in safe mode.
KERAS_FILES = {"vae": "vae.keras", "encoder": "encoder.keras", "generator": "generator.keras"}
TENSORBOARD_DIR = "tensorboard"
#: The single weights file of runs written before per-epoch names (still readable).
LEGACY_WEIGHTS_FILE = "vae.weights.h5"
WEIGHTS_PATTERN = re.compile(r"vae-epoch\d{4,}\.weights\.h5")
TEMPORARY_PREFIX = ".tmp-"
#: The files beside the weights once an epoch is committed.
RUN_FILES_AFTER_EPOCH = (CONFIG_FILE, STATE_FILE, HISTORY_JSON, HISTORY_CSV)
FRESH_HINT = "Retrain with --fresh (it removes the run's files only)."


class RunError(UserError, RuntimeError):
    """A run directory is missing, damaged, busy or does not match the request."""


class RunLockedError(RunError):
    """Another process is training in the run directory."""


def weights_file_name(epoch: int) -> str:
    """The weights file of the checkpoint after ``epoch`` epochs: ``vae-epoch0050.weights.h5``."""
    return f"vae-epoch{epoch:04d}.weights.h5"


def is_run_file(name: str) -> bool:
    """True for the files a run writes (what ``--fresh`` removes); not the lock."""
    return (
        name in (CONFIG_FILE, STATE_FILE, HISTORY_JSON, HISTORY_CSV, LEGACY_WEIGHTS_FILE)
        or name in KERAS_FILES.values()
        or WEIGHTS_PATTERN.fullmatch(name) is not None
        or name.startswith(TEMPORARY_PREFIX)
    )


@dataclass(frozen=True)
class RunConfig:
    """Everything needed to rebuild and retrain a run (the slides' settings by default)."""

    dataset: str = "mnist"
    original_dim: int = 784
    intermediate_dim: int = 256
    latent_dim: int = 2
    epochs: int = 50
    batch_size: int = 256
    seed: int = 0
    optimizer: str = "rmsprop"
    limit: int | None = None

    def __post_init__(self):
        for name in (f.name for f in dataclasses.fields(self)):
            value = getattr(self, name)
            if name in ("dataset", "optimizer"):
                ok = isinstance(value, str) and bool(value)
            elif name == "seed":
                ok = _is_int(value) and value >= 0
            elif name == "limit":
                ok = value is None or (_is_int(value) and value > 0)
            else:
                ok = _is_int(value) and value > 0
            if not ok:
                raise ValueError(f"{name} = {value!r} is not valid")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str | os.PathLike = CONFIG_FILE) -> RunConfig:
        """The config in ``data`` (read from ``source``), every key present and of its type."""
        problem = _object_problem(data, [f.name for f in dataclasses.fields(cls)])
        if problem is None:
            try:
                return cls(**data)
            except ValueError as exc:
                problem = str(exc)
        raise RunError(f"{source}: {problem}. {FRESH_HINT}")

    def same_model_and_data(self, other: RunConfig) -> bool:
        """True if ``other`` trains the same model on the same data (epochs may differ)."""
        mine = self.to_dict()
        theirs = other.to_dict()
        mine.pop("epochs")
        theirs.pop("epochs")
        return mine == theirs


@dataclass(frozen=True)
class RunState:
    """What ``state.json`` commits: one finished epoch and everything needed to resume after it."""

    epochs_done: int
    complete: bool
    weights: str
    seed_generator_state: list[int]
    history: list[dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str | os.PathLike = STATE_FILE) -> RunState:
        known = [f.name for f in dataclasses.fields(cls)]
        problem = _object_problem(data, known)
        if problem is None:
            done, history = data["epochs_done"], data["history"]
            if not (_is_int(done) and done >= 1):
                problem = f"epochs_done = {done!r} is not a positive integer"
            elif not isinstance(data["complete"], bool):
                problem = f"complete = {data['complete']!r} is not true or false"
            elif not (
                isinstance(data["weights"], str)
                and WEIGHTS_PATTERN.fullmatch(data["weights"])
                or data["weights"] == LEGACY_WEIGHTS_FILE
            ):
                problem = f"weights = {data['weights']!r} is not a weights file name"
            elif not (
                isinstance(data["seed_generator_state"], list)
                and all(_is_int(v) for v in data["seed_generator_state"])
            ):
                problem = "seed_generator_state is not a list of integers"
            elif not (
                isinstance(history, list)
                and [r.get("epoch") if isinstance(r, dict) else None for r in history]
                == list(range(1, done + 1))
            ):
                problem = f"history does not hold epochs 1 to {done} in order"
        if problem:
            raise RunError(f"{source}: {problem}. {FRESH_HINT}")
        return cls(**data)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _object_problem(data: Any, keys: list[str]) -> str | None:
    """What is wrong with ``data`` as a JSON object with exactly ``keys``, or None."""
    if not isinstance(data, dict):
        return f"expected a JSON object, found {type(data).__name__}"
    missing = [k for k in keys if k not in data]
    unknown = sorted(set(data) - set(keys))
    if missing:
        return f"missing keys {missing}"
    if unknown:
        return f"unknown keys {unknown} (expected {keys})"
    return None


class LoadedRun(NamedTuple):
    models: VAEModels
    config: RunConfig
    history: list[dict[str, float]]
    run_dir: Path


def _fsync(path: str | os.PathLike, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; flush it to disk and rename it onto ``path``.

    The temporary name starts with ``.tmp-`` and keeps the file's suffixes
    (Keras checks for ``.weights.h5``). After the rename the folder is flushed
    too, so the new name survives a power loss. On an exception the temporary
    file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TEMPORARY_PREFIX}{path.name.split('.')[0]}-", suffix=suffix, dir=path.parent
    )
    os.close(fd)
    os.unlink(tmp)  # writers such as h5py want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _fsync(tmp_path)
        os.replace(tmp_path, path)
        _fsync(path.parent, directory=True)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """The JSON in ``path``; a :class:`RunError` naming the file if it cannot be read."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path} is not valid JSON ({exc}). {FRESH_HINT}") from exc
    except OSError as exc:
        raise RunError(f"{path} cannot be read ({exc.strerror}).") from exc


def history_to_csv(history: list[dict[str, float]]) -> str:
    """The per-epoch history as CSV text, one row per epoch, columns in first-seen order."""
    columns: list[str] = []
    for row in history:
        columns.extend(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


def write_history(run_dir: Path, history: list[dict[str, float]]) -> None:
    """Rewrite ``history.json`` and ``history.csv`` (copies of the committed history)."""
    write_json_atomic(run_dir / HISTORY_JSON, history)
    write_text_atomic(run_dir / HISTORY_CSV, history_to_csv(history))


def read_state(run_dir: str | os.PathLike) -> RunState | None:
    """The run's committed :class:`RunState`, or None if no epoch was ever committed there.

    A ``state.json`` of the earlier layout (one ``vae.weights.h5``, history in
    ``history.json``) is read as such.
    """
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        return None
    data = read_json(path)
    if isinstance(data, dict) and "weights" not in data and "history" not in data:
        history = read_json(Path(run_dir) / HISTORY_JSON)
        done = data.get("epochs_done")
        if isinstance(history, list) and _is_int(done):
            history = history[:done]
        data = {**data, "weights": LEGACY_WEIGHTS_FILE, "history": history}
    return RunState.from_dict(data, path)


def read_config(run_dir: str | os.PathLike) -> RunConfig:
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise RunError(f"{path} not found: {run_dir} is not a run directory.")
    return RunConfig.from_dict(read_json(path), path)


def read_history(run_dir: str | os.PathLike) -> list[dict[str, float]]:
    """The committed per-epoch history (empty if no epoch was committed)."""
    state = read_state(run_dir)
    return state.history if state else []


def remove_leftovers(run_dir: Path, keep: str | None) -> None:
    """Remove temporary files and every weights file but ``keep`` (the committed one)."""
    for path in run_dir.iterdir():
        name = path.name
        if name.startswith(TEMPORARY_PREFIX) or (
            name != keep and (WEIGHTS_PATTERN.fullmatch(name) or name == LEGACY_WEIGHTS_FILE)
        ):
            path.unlink(missing_ok=True)


def remove_run_files(run_dir: Path) -> None:
    """Remove the files a run writes (``--fresh``); anything else in the folder stays."""
    for path in run_dir.iterdir():
        if path.is_file() and is_run_file(path.name):
            path.unlink()
    shutil.rmtree(run_dir / TENSORBOARD_DIR, ignore_errors=True)


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
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            raise RunLockedError(
                f"{run_dir} is in use by another trainer (process {holder}); wait for it to "
                "finish or stop it, or train into another --out directory."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _HELD_LOCKS.add(key)
        try:
            yield
        finally:
            _HELD_LOCKS.discard(key)
    finally:
        os.close(fd)


def start_run(run_dir: Path, config: RunConfig, fresh: bool) -> RunState | None:
    """Prepare ``run_dir`` (its lock held) for training ``config``; return its committed state.

    ``fresh`` first removes the run's files, whatever state they are in. A
    directory with no committed epoch gets ``config.json``; one with a
    committed epoch must hold the same model and data (its number of epochs
    may differ: :func:`restore_checkpoint` records the new one). Leftovers of
    a crash are removed, and the history copies are brought in line with
    ``state.json``.
    """
    if fresh:
        remove_run_files(run_dir)
    state = read_state(run_dir)  # a damaged state is reported before anything is removed
    remove_leftovers(run_dir, keep=state.weights if state else None)
    if state is None:
        write_json_atomic(run_dir / CONFIG_FILE, config.to_dict())
        return None
    saved = read_config(run_dir)
    if not saved.same_model_and_data(config):
        raise RunError(
            f"{run_dir} holds a run with a different configuration:\n  saved:     {saved}\n"
            f"  requested: {config}\nUse another --out directory, or --fresh to discard it."
        )
    committed_weights(run_dir, state)
    if _read_if_file(run_dir / HISTORY_JSON) != state.history:
        write_history(run_dir, state.history)
    return state


def committed_weights(run_dir: Path, state: RunState) -> Path:
    """The weights file ``state`` names; a :class:`RunError` if it is missing."""
    path = run_dir / state.weights
    if not path.is_file():
        raise RunError(
            f"{run_dir / STATE_FILE} names {state.weights}, which is missing. {FRESH_HINT}"
        )
    return path


def _read_if_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def commit_epoch(
    run_dir: Path, models: VAEModels, history: list[dict[str, float]], config: RunConfig
) -> RunState:
    """Save the checkpoint after ``len(history)`` epochs; ``state.json``'s rename commits it.

    The weights file holds RMSprop's variables too (Keras 3 saves the
    optimizer with the model); ``state.json`` keeps the sampling layer's
    noise-generator state, so a resumed run draws the epsilons an uninterrupted
    run would. See the module docstring for the order of the steps.
    """
    from keras import ops

    epochs_done = len(history)
    state = RunState(
        epochs_done=epochs_done,
        complete=epochs_done >= config.epochs,
        weights=weights_file_name(epochs_done),
        seed_generator_state=[
            int(v) for v in ops.convert_to_numpy(models.seed_generator.state.value).ravel()
        ],
        history=[dict(row) for row in history],
    )
    check_free_space(run_dir, models)
    with atomic_path(run_dir / state.weights) as tmp:
        models.vae.save_weights(tmp)
    write_json_atomic(run_dir / STATE_FILE, state.to_dict())  # the commit point
    write_history(run_dir, state.history)
    remove_leftovers(run_dir, keep=state.weights)
    return state


def check_free_space(run_dir: Path, models: VAEModels) -> None:
    """Raise ``OSError(ENOSPC)`` if ``run_dir``'s disk cannot hold another weights file.

    h5py, out of space in the middle of a file, leaves objects that crash the
    process when it ends; checking first turns a full disk into a plain error.
    The estimate is the bytes of the model's and the optimizer's variables plus
    a margin for the file's structure.
    """
    import numpy as np

    vae = models.vae
    variables = [*vae.weights, *(vae.optimizer.variables if vae.optimizer else [])]
    data = sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in variables)
    needed = int(1.25 * data) + (1 << 20)
    free = shutil.disk_usage(run_dir).free
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f"No space left on device (a checkpoint needs about {needed >> 20} MiB, "
            f"{free >> 20} MiB free)",
            str(run_dir),
        )


def restore_checkpoint(
    run_dir: Path,
    models: VAEModels,
    state: RunState,
    config: RunConfig,
    record_config: bool = True,
) -> None:
    """Load what :func:`commit_epoch` committed: weights, optimizer and noise state.

    Once they loaded, ``config.json`` records ``config`` (its number of epochs
    may be larger than the saved one's), unless ``record_config`` is false.
    """
    import numpy as np

    load_weights(models, committed_weights(run_dir, state))
    variable = models.seed_generator.state
    variable.assign(np.asarray(state.seed_generator_state, dtype=variable.dtype))
    if record_config and read_config(run_dir) != config:  # a finished run extended to more epochs
        write_json_atomic(run_dir / CONFIG_FILE, config.to_dict())


def export_keras_models(run_dir: Path, models: VAEModels) -> list[Path]:
    """Write ``vae.keras``, ``encoder.keras`` and ``generator.keras`` (atomically) into ``run_dir``.

    Every layer and function in them is a Keras one or registered by name
    (:func:`vae_keras.model.sampling`, :class:`vae_keras.model.VAELossLayer`,
    :class:`vae_keras.model.VAE`), so ``keras.saving.load_model(path)`` loads them
    in its default safe mode, on any backend. ``vae.keras`` needs
    ``import vae_keras.model`` first (it registers those names; Keras imports
    only its own modules by itself); the encoder and the generator hold Dense
    layers only and need nothing.

    The files carry Keras's default compile settings (one step per execution,
    ``jit_compile="auto"``), not the training's speed settings, which are not
    valid on every backend (PyTorch refuses ``steps_per_execution > 1``): a
    ``vae`` compiled otherwise is compiled again with its own optimizer (its
    state kept) before it is written.
    """
    vae = models.vae
    if vae.compiled and (vae.steps_per_execution != 1 or vae.jit_compile not in (False, "auto")):
        vae.compile(optimizer=vae.optimizer)
    written = []
    for name, filename in KERAS_FILES.items():
        with atomic_path(run_dir / filename) as tmp:
            getattr(models, name).save(tmp)
        written.append(run_dir / filename)
    return written


def keras_models_missing(run_dir: Path) -> bool:
    return not all((run_dir / name).is_file() for name in KERAS_FILES.values())


def build_from_config(config: RunConfig, compile: bool = True, **compile_options) -> VAEModels:
    """Build the models a run was trained with (untrained weights).

    ``compile_options`` go to ``vae.compile`` (``jit_compile``, ``steps_per_execution``).
    """
    from vae_keras.model import build_vae

    return build_vae(
        original_dim=config.original_dim,
        intermediate_dim=config.intermediate_dim,
        latent_dim=config.latent_dim,
        seed=config.seed,
        optimizer=config.optimizer,
        compile=compile,
        **compile_options,
    )


def load_weights(models: VAEModels, path: str | os.PathLike) -> None:
    """Load a ``.weights.h5`` file into ``models.vae``, optimizer state included.

    The optimizer is built first, so Keras restores its variables instead of
    skipping them with a warning. A truncated or foreign file is a
    :class:`RunError` naming it.
    """
    vae = models.vae
    if vae.optimizer is not None:
        vae.optimizer.build(vae.trainable_variables)
    try:
        vae.load_weights(path)
    except (OSError, ValueError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunError(
            f"{path} is damaged or does not belong to this model ({reason}). {FRESH_HINT}"
        ) from exc


def load_run(run_dir: str | os.PathLike, hint: str | None = None) -> LoadedRun:
    """Rebuild a trained run's models from its config and load its committed weights.

    Parameters
    ----------
    run_dir
        A directory written by :func:`vae_keras.training.train`.
    hint
        The command that creates the run, quoted in the error when it is missing.
    """
    run_dir = Path(run_dir)
    how = f" Train it first: {hint}" if hint else ""
    state = read_state(run_dir) if run_dir.is_dir() else None
    if state is None or not (run_dir / CONFIG_FILE).is_file():
        raise RunError(f"No trained run in {run_dir} ({STATE_FILE} or {CONFIG_FILE} missing).{how}")
    config = read_config(run_dir)
    weights = committed_weights(run_dir, state)
    models = build_from_config(config)
    load_weights(models, weights)
    return LoadedRun(models, config, state.history, run_dir)
