"""The checkpoint lifecycle of a run directory: start, commit an epoch, restore.

:func:`commit_epoch` writes an epoch's weights to a file of their own, then
replaces ``state.json`` (the single commit point), then the history copies; see
:mod:`vae_keras.runs` for why a crash at any instant leaves one consistent epoch.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vae_keras.atomic import TEMPORARY_PREFIX, atomic_path, write_json_atomic, write_text_atomic
from vae_keras.errors import RunError
from vae_keras.runs.loading import load_weights
from vae_keras.runs.schema import (
    CONFIG_FILE,
    HISTORY_CSV,
    HISTORY_JSON,
    LEGACY_WEIGHTS_FILE,
    STATE_FILE,
    TENSORBOARD_DIR,
    TIMING_FILE,
    WEIGHTS_PATTERN,
    RunConfig,
    RunState,
    committed_weights,
    is_run_file,
    read_config,
    read_state,
    weights_file_name,
)

if TYPE_CHECKING:
    from vae_keras.model import VAEModels


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


def write_timing(run_dir: Path, timing: dict[str, Any]) -> None:
    """Replace ``timing.json``: where the training process that finished the run spent its time.

    Written after the Keras files, so a run killed before has none (or an older
    process's); nothing reads it back to train: it is for people and for
    ``benchmarks/bench_reproduce.py``, which flags a slow ``finish_seconds``.
    """
    write_json_atomic(run_dir / TIMING_FILE, timing)


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
