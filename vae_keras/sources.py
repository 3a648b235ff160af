"""Turn a command-line "source" into feature statistics (used by ``scripts/compute_fid.py``).

A source is a trained run directory, a dataset split such as ``mnist:test``, a
folder of PNG images, or a saved statistics ``.npz`` file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vae_keras.data import IMAGE_SHAPES, SPLITS, DataError, load_dataset
from vae_keras.errors import FIDInputError
from vae_keras.features import FeatureExtractor
from vae_keras.fid import Statistics, statistics_of_images


def is_statistics_file(source: str) -> bool:
    path = Path(source)
    return path.is_file() and path.suffix == ".npz"


def image_batches(
    source: str,
    n: int,
    seed: int,
    batch_size: int = 2000,
    data_dir: str | None = None,
    sampler: str = "prior",
) -> Iterator[np.ndarray]:
    """Batches of (batch, H, W, C) images in [0, 1] of a run (decoded from ``sampler``'s z,
    :mod:`vae_keras.samplers`), a dataset split or a PNG folder."""
    from vae_keras import evaluation
    from vae_keras.runs import CONFIG_FILE, load_run

    path = Path(source)
    if ":" in source and not path.exists():
        name, _, split = source.partition(":")
        if name not in IMAGE_SHAPES or split not in SPLITS:
            raise DataError(
                f"Source {source!r}: expected <dataset>:<split> with dataset in "
                f"{sorted(IMAGE_SHAPES)} and split in {list(SPLITS)}."
            )
        dataset = load_dataset(name, data_dir)
        flat = getattr(dataset, f"x_{split}")[:n]
        return evaluation.dataset_images(flat, dataset.image_shape, batch_size)
    if path.is_dir() and (path / CONFIG_FILE).is_file():
        run = load_run(path)
        shape = run.config.image_shape
        return evaluation.prior_images(run, shape, n, seed, batch_size, sampler, data_dir)
    if path.is_dir():
        return iter_png_batches(path, n, batch_size)
    raise FIDInputError(
        f"Source {source!r} is neither a run directory, a <dataset>:<split>, a folder of PNGs "
        "nor a statistics .npz file."
    )


def source_statistics(
    source: str,
    extractor: FeatureExtractor,
    n: int,
    seed: int,
    batch_size: int = 2000,
    data_dir: str | None = None,
    sampler: str = "prior",
) -> Statistics:
    """Statistics of ``source``; see the module docstring for the kinds of source."""
    if is_statistics_file(source):
        return Statistics.load(source)
    batches = image_batches(source, n, seed, batch_size, data_dir, sampler)
    return statistics_of_images(batches, extractor)


def source_features(
    source: str,
    extractor: FeatureExtractor,
    n: int,
    seed: int,
    batch_size: int = 2000,
    data_dir: str | None = None,
    sampler: str = "prior",
) -> np.ndarray:
    """The (n, d) features of ``source`` (KID, precision and recall need them, not statistics)."""
    if is_statistics_file(source):
        raise FIDInputError(
            f"{source} holds statistics (mu, sigma), which serve FID only; KID, precision, "
            "recall and FID-infinity need the images: give a run, a dataset split or a folder."
        )
    batches = [extractor(b) for b in image_batches(source, n, seed, batch_size, data_dir, sampler)]
    return np.concatenate(batches).astype(np.float64)


def iter_png_batches(folder: Path, n: int, batch_size: int):
    """Batches of (batch, H, W, C) float images in [0, 1] read from ``folder/*.png``.

    Alpha channels are dropped, and grey images stored as RGB get one channel,
    so that they compare with MNIST.
    """
    from matplotlib.image import imread

    files = sorted(folder.glob("*.png"))[:n]
    if not files:
        raise FIDInputError(f"{folder} holds no .png images.")
    for start in range(0, len(files), batch_size):
        images = []
        for f in files[start : start + batch_size]:
            image = np.asarray(imread(f), dtype=np.float32)  # PNGs load as floats in [0, 1]
            if image.ndim == 2:
                image = image[..., None]
            images.append(image[..., :3] if image.shape[-1] == 4 else image)
        shapes = {im.shape for im in images}
        if len(shapes) != 1:
            raise FIDInputError(f"{folder}: images differ in size {sorted(shapes)}.")
        batch = np.stack(images)
        if (
            batch.shape[-1] == 3
            and np.array_equal(batch[..., :1], batch[..., 1:2])
            and (np.array_equal(batch[..., :1], batch[..., 2:3]))
        ):
            batch = batch[..., :1]  # grey images saved as RGB(A), e.g. by plt.imsave
        yield batch
