"""Figure functions: arrays in, a matplotlib Figure out (no training, no file lookup).

Each function draws one figure of the slides' "Experiments" part; the names of
the PNGs they become are fixed in :mod:`vae_keras.report`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 100) -> None:
    """Write ``fig`` as PNG atomically (temporary file, then rename) and close it."""
    from vae_keras.runs import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)


def tile(images: np.ndarray, rows: int, cols: int, image_shape: Sequence[int]) -> np.ndarray:
    """Arrange ``rows * cols`` flat images into one (rows*H, cols*W[, C]) mosaic, row-major."""
    images = np.asarray(images)
    shape = tuple(image_shape)
    if images.shape[0] != rows * cols:
        raise ValueError(f"tile needs rows * cols = {rows * cols} images, got {images.shape[0]}.")
    h, w = shape[0], shape[1]
    grid = images.reshape(rows, cols, *shape)
    grid = np.swapaxes(grid, 1, 2)  # rows, H, cols, W[, C]
    return grid.reshape(rows * h, cols * w, *shape[2:])


def _show(ax, mosaic: np.ndarray, **kwargs):
    if mosaic.ndim == 2:
        kwargs.setdefault("cmap", "gray")
    return ax.imshow(np.clip(mosaic, 0, 1) if mosaic.ndim == 3 else mosaic, **kwargs)


def latent_scatter(z: np.ndarray, labels: np.ndarray, title: str) -> Figure:
    """Slide "VAE implicitly maps one class of number to one neighbor in latent space (d=2)"."""
    fig, ax = plt.subplots(figsize=(7, 6))
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=3, vmin=-0.5, vmax=9.5)
    bar = fig.colorbar(points, ax=ax, ticks=range(10))
    bar.set_label("digit label")
    ax.set_xlabel("z[0] (z_mean)")
    ax.set_ylabel("z[1] (z_mean)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def manifold(
    images: np.ndarray,
    grid_x: np.ndarray,
    grid_y: np.ndarray,
    image_shape: Sequence[int],
    title: str,
) -> Figure:
    """Slide "Grid sampling from the normal distribution": decoded grid, latent values on the axes.

    ``images[i * n + j]`` is the decoding of ``(grid_x[j], grid_y[i])``; the
    first row is drawn at the top with the largest ``z[1]``.
    """
    n = len(grid_x)
    h, w = image_shape[0], image_shape[1]
    rows = np.asarray(images).reshape(n, n, -1)[::-1].reshape(n * n, -1)  # top row = largest y
    mosaic = tile(rows, n, n, image_shape)
    fig, ax = plt.subplots(figsize=(8, 8))
    _show(ax, mosaic)
    step = max(1, n // 8)
    ticks = np.arange(0, n, step)
    ax.set_xticks(ticks * w + w / 2, [f"{grid_x[t]:.2f}" for t in ticks])
    ax.set_yticks(ticks * h + h / 2, [f"{grid_y[::-1][t]:.2f}" for t in ticks])
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def image_grid(
    images: np.ndarray, rows: int, cols: int, image_shape: Sequence[int], title: str
) -> Figure:
    """A rows x cols mosaic of images (samples from the prior, dataset images)."""
    fig, ax = plt.subplots(figsize=(cols * 0.8 + 0.5, rows * 0.8 + 0.8))
    _show(ax, tile(images, rows, cols, image_shape))
    ax.set_axis_off()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def reconstructions(
    originals: np.ndarray,
    reconstructed: np.ndarray,
    image_shape: Sequence[int],
    title: str,
    cols: int = 10,
    labels: tuple[str, str] = ("(a) sample", "(b) reconstruction"),
) -> Figure:
    """Slide "Reconstruction results": (a) images above (b) their reconstructions."""
    n = len(originals)
    rows = n // cols
    fig, axes = plt.subplots(2, 1, figsize=(cols * 0.8 + 0.5, 2 * rows * 0.8 + 1.4))
    for ax, images, label in zip(axes, (originals, reconstructed), labels, strict=True):
        _show(ax, tile(images[: rows * cols], rows, cols, image_shape))
        ax.set_axis_off()
        ax.set_title(label)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _heatmap(fig, ax, image, title, **kwargs):
    shown = ax.imshow(image, **kwargs)
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title)
    ax.set_axis_off()


def mean_variance(
    real_mean: np.ndarray,
    real_var: np.ndarray,
    generated_mean: np.ndarray,
    generated_var: np.ndarray,
    image_shape: Sequence[int],
    title: str = "Computed means and variances",
) -> Figure:
    """Slide "Computed means and Variances": per-pixel mean and variance, real vs generated."""
    shape = tuple(image_shape)[:2]
    fig, axes = plt.subplots(2, 2, figsize=(8, 7.5))
    vmax_mean = max(real_mean.max(), generated_mean.max())
    vmax_var = max(real_var.max(), generated_var.max())
    _heatmap(
        fig,
        axes[0, 0],
        real_mean.reshape(shape),
        "real: mean",
        vmin=0,
        vmax=vmax_mean,
        cmap="viridis",
    )
    _heatmap(
        fig,
        axes[0, 1],
        generated_mean.reshape(shape),
        "generated: mean",
        vmin=0,
        vmax=vmax_mean,
        cmap="viridis",
    )
    _heatmap(
        fig,
        axes[1, 0],
        real_var.reshape(shape),
        "real: variance",
        vmin=0,
        vmax=vmax_var,
        cmap="magma",
    )
    _heatmap(
        fig,
        axes[1, 1],
        generated_var.reshape(shape),
        "generated: variance",
        vmin=0,
        vmax=vmax_var,
        cmap="magma",
    )
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def differences(
    real_mean: np.ndarray,
    real_var: np.ndarray,
    generated_mean: np.ndarray,
    generated_var: np.ndarray,
    image_shape: Sequence[int],
    title: str = "Differences in means and variances (generated - real)",
) -> Figure:
    """Slide "Differences in means and Variances": generated minus real, per pixel."""
    shape = tuple(image_shape)[:2]
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
    for ax, diff, name in (
        (axes[0], generated_mean - real_mean, "mean difference"),
        (axes[1], generated_var - real_var, "variance difference"),
    ):
        limit = float(np.abs(diff).max()) or 1.0
        _heatmap(fig, ax, diff.reshape(shape), name, cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def training_curves(histories: Mapping[str, Sequence[Mapping[str, float]]], title: str) -> Figure:
    """Loss and val_loss per epoch for each run; reconstruction and KL parts if present."""
    parts = [("loss", "negative ELBO (loss)")]
    first = next(iter(histories.values()))
    if first and "reconstruction_loss" in first[0]:
        parts += [("reconstruction_loss", "reconstruction term"), ("kl_loss", "KL term")]
    fig, axes = plt.subplots(1, len(parts), figsize=(5 * len(parts), 4.2), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (key, label) in zip(axes[0], parts, strict=True):
        for i, (name, history) in enumerate(histories.items()):
            epochs = [row["epoch"] for row in history]
            color = colors[i % len(colors)]
            ax.plot(epochs, [row[key] for row in history], color=color, label=f"{name} train")
            ax.plot(
                epochs,
                [row[f"val_{key}"] for row in history],
                "--",
                color=color,
                label=f"{name} val",
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{label} (nats per image)")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
