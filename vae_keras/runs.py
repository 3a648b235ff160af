"""A run directory: the one hand-off between training and everything after it.

Layout of ``runs/<name>/``::

    config.json        RunConfig the run was trained with
    vae.weights.h5     weights and RMSprop state after the last finished epoch
    history.json       per-epoch loss, reconstruction_loss, kl_loss, val_*, seconds
    history.csv        the same table as CSV
    state.json         epochs done, complete or not, noise-generator state; written last

Every file is written to a temporary name in the same folder and renamed over
the old one (``os.replace``), so a run killed at any moment leaves each file
either in its old or in its new complete state, never half-written.
:func:`load_run` rebuilds the models from ``config.json`` with
:func:`vae_keras.model.build_vae` and loads the weights: no ``safe_mode=False``
is needed for the ``Lambda`` layer.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # the model module imports Keras; keep RunConfig importable without it
    from vae_keras.model import VAEModels

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "vae.weights.h5"
HISTORY_JSON = "history.json"
HISTORY_CSV = "history.csv"
STATE_FILE = "state.json"
RUN_FILES = (CONFIG_FILE, WEIGHTS_FILE, HISTORY_JSON, HISTORY_CSV, STATE_FILE)


class RunError(RuntimeError):
    """A run directory is missing, incomplete or does not match the request."""


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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RunError(
                f"config.json has unknown keys {unknown}; expected a subset of {sorted(known)}."
            )
        return cls(**data)

    def same_model_and_data(self, other: RunConfig) -> bool:
        """True if ``other`` trains the same model on the same data (epochs may differ)."""
        mine = self.to_dict()
        theirs = other.to_dict()
        mine.pop("epochs")
        theirs.pop("epochs")
        return mine == theirs


class LoadedRun(NamedTuple):
    models: VAEModels
    config: RunConfig
    history: list[dict[str, float]]
    run_dir: Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary name keeps the file's suffixes (Keras checks for
    ``.weights.h5``). On an exception the temporary file is removed and
    ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem.split('.')[0]}-", suffix=suffix, dir=path.parent
    )
    os.close(fd)
    os.unlink(tmp)  # writers such as h5py want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise RunError(
            f"{path} is not valid JSON ({exc}); delete the run directory and retrain."
        ) from exc


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
    write_json_atomic(run_dir / HISTORY_JSON, history)
    write_text_atomic(run_dir / HISTORY_CSV, history_to_csv(history))


def read_state(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The run's ``state.json``, or None if training never finished an epoch there."""
    path = Path(run_dir) / STATE_FILE
    return read_json(path) if path.is_file() else None


def read_config(run_dir: str | os.PathLike) -> RunConfig:
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise RunError(f"{path} not found: {run_dir} is not a run directory.")
    return RunConfig.from_dict(read_json(path))


def read_history(run_dir: str | os.PathLike) -> list[dict[str, float]]:
    path = Path(run_dir) / HISTORY_JSON
    return read_json(path) if path.is_file() else []


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
    skipping them with a warning.
    """
    vae = models.vae
    if vae.optimizer is not None:
        vae.optimizer.build(vae.trainable_variables)
    vae.load_weights(path)


def load_run(run_dir: str | os.PathLike, hint: str | None = None) -> LoadedRun:
    """Rebuild a trained run's models from its config and load its weights.

    Parameters
    ----------
    run_dir
        A directory written by :func:`vae_keras.training.train`.
    hint
        The command that creates the run, quoted in the error when it is missing.
    """
    run_dir = Path(run_dir)
    how = f" Train it first: {hint}" if hint else ""
    if not (run_dir / WEIGHTS_FILE).is_file() or not (run_dir / CONFIG_FILE).is_file():
        raise RunError(
            f"No trained run in {run_dir} ({WEIGHTS_FILE} or {CONFIG_FILE} missing).{how}"
        )
    config = read_config(run_dir)
    models = build_from_config(config)
    load_weights(models, run_dir / WEIGHTS_FILE)
    return LoadedRun(models, config, read_history(run_dir), run_dir)
