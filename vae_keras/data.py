"""Load MNIST and CIFAR-10 as the dense VAE wants them: float32 in [0, 1], flattened.

Where the arrays come from, in order:

1. ``data_dir`` (the scripts' ``--data-dir``), a folder holding ``<name>.npz``;
2. the environment variable ``VAE_KERAS_DATA_DIR``, the same kind of folder;
3. ``keras.datasets.<name>.load_data()``, which downloads on first use.

A local ``<name>.npz`` has Keras's own layout: ``x_train``, ``y_train``,
``x_test``, ``y_test``; images uint8 ``(N, 28, 28)`` (MNIST) or
``(N, 32, 32, 3)`` (CIFAR-10); labels ``(N,)`` or ``(N, 1)``. Every array is
checked, and a bad one raises :class:`DataError` naming the file, the array and
what was expected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_keras.errors import UserError
from vae_keras.variants import IMAGE_SHAPES

#: Environment variable naming a folder of ``<name>.npz`` files.
DATA_DIR_ENV = "VAE_KERAS_DATA_DIR"

NUM_CLASSES = 10
SPLITS = ("train", "test")


class DataError(UserError, ValueError):
    """A dataset file or array is not what the loader expects."""


@dataclass(frozen=True)
class Dataset:
    """A dataset ready for the dense VAE.

    ``x_*`` are float32 of shape (N, prod(image_shape)) in [0, 1]; ``y_*`` are
    int64 labels of shape (N,).
    """

    name: str
    image_shape: tuple[int, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def original_dim(self) -> int:
        return int(np.prod(self.image_shape))


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The folder holding ``<name>.npz``: ``data_dir``, else ``$VAE_KERAS_DATA_DIR``, else None."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or None
    if data_dir is None:
        return None
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        raise DataError(
            f"Data directory {str(path)!r} does not exist or is not a folder. Pass a folder "
            f"holding <name>.npz with --data-dir or {DATA_DIR_ENV}, or unset both to "
            "download with keras.datasets."
        )
    return path


def load_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    limit: int | None = None,
) -> Dataset:
    """Load ``name`` ('mnist' or 'cifar10') as float32 in [0, 1], flattened.

    Parameters
    ----------
    name
        Dataset name, a key of :data:`IMAGE_SHAPES`.
    data_dir
        Folder holding ``<name>.npz``; defaults to ``$VAE_KERAS_DATA_DIR``, then
        to ``keras.datasets``.
    limit
        Keep only the first ``limit`` examples of each split (quick runs, tests).
    """
    if name not in IMAGE_SHAPES:
        raise DataError(f"Unknown dataset {name!r}; choose one of {sorted(IMAGE_SHAPES)}.")
    if limit is not None and limit < 1:
        raise DataError(f"limit must be a positive number of examples, got {limit}.")
    folder = resolve_data_dir(data_dir)
    if folder is not None:
        path = folder / f"{name}.npz"
        arrays = _read_npz(path)
        source = str(path)
    else:
        arrays = _download(name)
        source = f"keras.datasets.{name}"
        path = Path(source)
    split_arrays = {}
    for split in SPLITS:
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if limit is not None:
            x, y = x[:limit], y[:limit]
        split_arrays[split] = validate_split(x, y, IMAGE_SHAPES[name], source, split)
    return Dataset(
        name=name,
        image_shape=IMAGE_SHAPES[name],
        x_train=split_arrays["train"][0],
        y_train=split_arrays["train"][1],
        x_test=split_arrays["test"][0],
        y_test=split_arrays["test"][1],
        source=source,
    )


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise DataError(
            f"{path} not found. The data directory must hold {path.name} with the arrays "
            "x_train, y_train, x_test, y_test in Keras's layout "
            "(see docs/training.md, section Data)."
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in keys]
            if missing:
                raise DataError(
                    f"{path} lacks the array(s) {missing}; it has {sorted(keys)}. Expected "
                    "x_train, y_train, x_test, y_test as in keras.datasets."
                )
            return {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except DataError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, pickled objects, truncated files...
        raise DataError(f"{path} could not be read as a .npz file: {exc}") from exc


def _download(name: str) -> dict[str, np.ndarray]:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as exc:
        raise DataError(
            f"keras.datasets.{name}.load_data() failed ({type(exc).__name__}: {exc}). "
            f"Without internet, point the loader at a local copy: pass --data-dir DIR or set "
            f"{DATA_DIR_ENV}=DIR, where DIR holds {name}.npz in Keras's layout."
        ) from exc
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def validate_split(
    x: np.ndarray,
    y: np.ndarray,
    image_shape: tuple[int, ...],
    source: str = "<arrays>",
    split: str = "train",
) -> tuple[np.ndarray, np.ndarray]:
    """Check one split's images and labels; return them scaled and flattened.

    Images may be integers in [0, 255] (Keras's uint8) or floats already in
    [0, 1]; anything else raises :class:`DataError`. Returns
    ``(x float32 (N, prod(image_shape)), y int64 (N,))``.
    """
    where = f"{source}: x_{split}"
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != len(image_shape) + 1 or tuple(x.shape[1:]) != tuple(image_shape):
        raise DataError(
            f"{where} has shape {x.shape}; expected (N, {', '.join(map(str, image_shape))})."
        )
    if x.shape[0] == 0:
        raise DataError(f"{where} is empty; expected at least one image.")
    if np.issubdtype(x.dtype, np.integer):
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise DataError(
                f"{where} has integer values in [{lo}, {hi}]; expected pixel values in [0, 255]."
            )
        x = x.astype(np.float32) / np.float32(255.0)
    elif np.issubdtype(x.dtype, np.floating):
        if not np.all(np.isfinite(x)):
            raise DataError(f"{where} contains NaN or infinite values.")
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            raise DataError(
                f"{where} has float values in [{lo:g}, {hi:g}]; expected floats in [0, 1] "
                "(or uint8 in [0, 255])."
            )
        x = x.astype(np.float32)
    else:
        raise DataError(
            f"{where} has dtype {x.dtype}; expected uint8 pixels in [0, 255] (or floats in [0, 1])."
        )
    x = x.reshape(x.shape[0], -1)

    where = f"{source}: y_{split}"
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise DataError(
            f"{where} has shape {y.shape}; expected ({x.shape[0]},) or ({x.shape[0]}, 1), "
            f"one label per image of x_{split}."
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{where} has dtype {y.dtype}; expected integer class labels.")
    if y.min() < 0 or y.max() >= NUM_CLASSES:
        raise DataError(
            f"{where} has labels in [{y.min()}, {y.max()}]; expected 0..{NUM_CLASSES - 1}."
        )
    return x, y.astype(np.int64)
