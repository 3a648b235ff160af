"""What a run directory holds: its file names, ``config.json`` and ``state.json``.

:class:`RunConfig` is everything needed to rebuild and retrain a run (the model's
architecture and likelihood included); :class:`RunState` is what one committed
epoch records. Both are read back with every key checked, and a damaged file is
a :class:`RunError` naming it. Standard library only: importable without Keras.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vae_keras.atomic import TEMPORARY_PREFIX
from vae_keras.errors import RunError
from vae_keras.variants import ARCHITECTURES, IMAGE_SHAPES, LIKELIHOODS, PRECISIONS

CONFIG_FILE = "config.json"
STATE_FILE = "state.json"
HISTORY_JSON = "history.json"
HISTORY_CSV = "history.csv"
LOCK_FILE = "train.lock"
#: Where the last training process spent its time (:func:`vae_keras.training.timing`).
TIMING_FILE = "timing.json"
#: The Gaussian mixture fitted to the run's codes after training (vae_keras.samplers), a cache.
MIXTURE_FILE = "latent_mixture.npz"
#: The variable through which the reproduce chain (:mod:`vae_keras.chain`) tells a training
#: process how the README shows its step; ``timing.json``'s ``command`` records it, so that
#: the chain finds the step's record.
STEP_ENV = "VAE_KERAS_CHAIN_STEP"
#: Keras model files of a finished run: load with keras.saving.load_model, in safe mode.
KERAS_FILES = {"vae": "vae.keras", "encoder": "encoder.keras", "generator": "generator.keras"}
TENSORBOARD_DIR = "tensorboard"
#: The single weights file of runs written before per-epoch names (still readable).
LEGACY_WEIGHTS_FILE = "vae.weights.h5"
WEIGHTS_PATTERN = re.compile(r"vae-epoch\d{4,}\.weights\.h5")
#: The files beside the weights once an epoch is committed.
RUN_FILES_AFTER_EPOCH = (CONFIG_FILE, STATE_FILE, HISTORY_JSON, HISTORY_CSV)
FRESH_HINT = "Retrain with --fresh (it removes the run's files only)."


def weights_file_name(epoch: int) -> str:
    """The weights file of the checkpoint after ``epoch`` epochs: ``vae-epoch0050.weights.h5``."""
    return f"vae-epoch{epoch:04d}.weights.h5"


def is_run_file(name: str) -> bool:
    """True for the files a run writes (what ``--fresh`` removes); not the lock."""
    return (
        name in (CONFIG_FILE, STATE_FILE, HISTORY_JSON, HISTORY_CSV, LEGACY_WEIGHTS_FILE)
        or name in (TIMING_FILE, MIXTURE_FILE)
        or name in KERAS_FILES.values()
        or WEIGHTS_PATTERN.fullmatch(name) is not None
        or name.startswith(TEMPORARY_PREFIX)
    )


@dataclass(frozen=True)
class RunConfig:
    """Everything needed to rebuild and retrain a run (the slides' settings by default).

    ``architecture`` and ``likelihood`` name the model's variant and
    ``precision`` its Keras dtype policy (:mod:`vae_keras.variants`); a
    ``config.json`` written before they existed lacks them and is the dense
    Bernoulli float32 model it always was.
    """

    #: Keys a config.json may lack, and the value they had before they were recorded.
    OPTIONAL = {
        "architecture": "dense",
        "likelihood": "bernoulli",
        "precision": "float32",
        "beta": 1.0,
        "conditional": False,
    }

    dataset: str = "mnist"
    original_dim: int = 784
    intermediate_dim: int = 256
    latent_dim: int = 2
    epochs: int = 50
    batch_size: int = 256
    seed: int = 0
    optimizer: str = "rmsprop"
    limit: int | None = None
    architecture: str = "dense"
    likelihood: str = "bernoulli"
    precision: str = "float32"
    #: The KL term's weight (``reconstruction + beta * KL``); 1 is the slides' loss.
    beta: float = 1.0
    #: A conditional VAE (Sohn et al. 2015): the one-hot label joins the encoder's input and z.
    conditional: bool = False

    def __post_init__(self):
        for name in (f.name for f in dataclasses.fields(self)):
            value = getattr(self, name)
            if name == "architecture":
                ok = value in ARCHITECTURES
            elif name == "likelihood":
                ok = value in LIKELIHOODS
            elif name == "precision":
                ok = value in PRECISIONS
            elif name == "beta":
                ok = (
                    isinstance(value, (int, float))
                    and not isinstance(value, bool)
                    and math.isfinite(value)
                    and value > 0
                )
            elif name == "conditional":
                ok = isinstance(value, bool)
            elif name in ("dataset", "optimizer"):
                ok = isinstance(value, str) and bool(value)
            elif name == "seed":
                ok = _is_int(value) and value >= 0
            elif name == "limit":
                ok = value is None or (_is_int(value) and value > 0)
            else:
                ok = _is_int(value) and value > 0
            if not ok:
                raise ValueError(f"{name} = {value!r} is not valid")
        shape = IMAGE_SHAPES.get(self.dataset)
        if shape is not None and math.prod(shape) != self.original_dim:
            raise ValueError(
                f"original_dim = {self.original_dim} does not match {self.dataset}'s images {shape}"
            )

    @property
    def image_shape(self) -> tuple[int, ...]:
        """The images' shape: the dataset's, or ``(original_dim,)`` for an unknown dataset."""
        return IMAGE_SHAPES.get(self.dataset, (self.original_dim,))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str | os.PathLike = CONFIG_FILE) -> RunConfig:
        """The config in ``data`` (read from ``source``), every key present and of its type."""
        if isinstance(data, dict):
            data = {**cls.OPTIONAL, **data}
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


def read_json(path: str | os.PathLike) -> Any:
    """The JSON in ``path``; a :class:`RunError` naming the file if it cannot be read."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path} is not valid JSON ({exc}). {FRESH_HINT}") from exc
    except OSError as exc:
        raise RunError(f"{path} cannot be read ({exc.strerror}).") from exc


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


def committed_weights(run_dir: Path, state: RunState) -> Path:
    """The weights file ``state`` names; a :class:`RunError` if it is missing."""
    path = run_dir / state.weights
    if not path.is_file():
        raise RunError(
            f"{run_dir / STATE_FILE} names {state.weights}, which is missing. {FRESH_HINT}"
        )
    return path
