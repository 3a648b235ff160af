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
    from vae_keras.atomic import atomic_path

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
    ax.set_xticks(ticks * w + w / 2, [f"{grid_x[t] + 0.0:.2f}" for t in ticks])  # no "-0.00"
    ax.set_yticks(ticks * h + h / 2, [f"{grid_y[::-1][t] + 0.0:.2f}" for t in ticks])
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


def image_rows(
    rows: Mapping[str, np.ndarray], image_shape: Sequence[int], title: str, cols: int = 10
) -> Figure:
    """One labelled row of ``cols`` images per entry (originals, then each model's output)."""
    fig, axes = plt.subplots(len(rows), 1, figsize=(cols * 0.8 + 0.5, len(rows) * 1.05 + 0.8))
    for ax, (label, images) in zip(np.atleast_1d(axes), rows.items(), strict=True):
        _show(ax, tile(images[:cols], 1, cols, image_shape))
        ax.set_axis_off()
        ax.set_title(label, fontsize=10)
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
    panels = (
        (axes[0, 0], real_mean, "real: mean", vmax_mean, "viridis"),
        (axes[0, 1], generated_mean, "generated: mean", vmax_mean, "viridis"),
        (axes[1, 0], real_var, "real: variance", vmax_var, "magma"),
        (axes[1, 1], generated_var, "generated: variance", vmax_var, "magma"),
    )
    for ax, image, name, vmax, cmap in panels:
        _heatmap(fig, ax, image.reshape(shape), name, vmin=0, vmax=vmax, cmap=cmap)
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


def fid_sample_size(
    curves: Mapping[str, tuple[Sequence[tuple[int, float]], float, float]], title: str
) -> Figure:
    """FID against 1/N with the fitted line to 1/N = 0 (FID-infinity), one panel per feature space.

    ``curves[name] = (points [(N, FID_N)], intercept, slope)``.
    """
    fig, axes = plt.subplots(1, len(curves), figsize=(5.2 * len(curves), 4.2), squeeze=False)
    for ax, (name, (points, intercept, slope)) in zip(axes[0], curves.items(), strict=True):
        inverse = np.array([1.0 / n for n, _ in points])
        ax.plot(
            inverse, [f for _, f in points], "o", label="FID of N samples (mean of random subsets)"
        )
        line = np.linspace(0.0, inverse.max() * 1.05, 50)
        ax.plot(line, intercept + slope * line, "--", label=f"fit; FID-inf = {intercept:.2f}")
        ax.plot([0.0], [intercept], "s", color="C3")
        ax.set_xlabel("1 / N (generated samples)")
        ax.set_ylabel("Frechet distance")
        ax.set_title(f"{name} features")
        ax.set_xlim(left=0.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def class_coverage(
    generated: np.ndarray, real: np.ndarray, title: str, classes: int = 10
) -> Figure:
    """Share of each digit among generated images (classified) and real ones (labels)."""
    gen = np.bincount(generated, minlength=classes) / len(generated)
    ref = np.bincount(real, minlength=classes) / len(real)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    x = np.arange(classes)
    ax.bar(x - 0.2, ref, 0.4, label=f"MNIST test labels ({len(real)})")
    ax.bar(x + 0.2, gen, 0.4, label=f"generated, classified ({len(generated)})")
    ax.set_xticks(x)
    ax.set_xlabel("digit")
    ax.set_ylabel("share of images")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


# --- the slides' background --------------------------------------------------------------------


def denoising(
    rows: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    image_shape: Sequence[int],
    title: str = "Denoising autoencoder: clean, corrupted, reconstructed test digits",
    cols: int = 10,
) -> Figure:
    """For each corruption: clean digits, their corrupted versions, the reconstructions."""
    fig, axes = plt.subplots(
        len(rows), 3, figsize=(3 * cols * 0.45 + 0.8, len(rows) * 0.75 + 1.1), squeeze=False
    )
    for r, (name, (clean, corrupted, reconstructed)) in enumerate(rows.items()):
        for c, (images, label) in enumerate(
            ((clean, "clean"), (corrupted, f"corrupted ({name})"), (reconstructed, "reconstructed"))
        ):
            _show(axes[r, c], tile(images[:cols], 1, cols, image_shape), vmin=0, vmax=1)
            axes[r, c].set_axis_off()
            axes[r, c].set_title(label, fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _ellipse(ax, mean, cov, color, label=None):
    from matplotlib.patches import Ellipse

    w, v = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(v[1, 1], v[0, 1]))
    for n_sd, alpha in ((1, 0.9), (2, 0.5)):
        ax.add_patch(
            Ellipse(
                mean,
                2 * n_sd * np.sqrt(w[1]),
                2 * n_sd * np.sqrt(w[0]),
                angle=angle,
                fill=False,
                color=color,
                lw=2,
                alpha=alpha,
                label=label if n_sd == 1 else None,
            )
        )


def em_gmm(
    x: np.ndarray,
    resp: np.ndarray,
    means: np.ndarray,
    covs: np.ndarray,
    log_likelihoods: Sequence[float],
    true_means: np.ndarray | None = None,
) -> Figure:
    """Data coloured by responsibility, fitted components (1 and 2 sd); log p(X) per iteration."""
    fig, (ax, ax_ll) = plt.subplots(1, 2, figsize=(11, 4.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax.scatter(x[:, 0], x[:, 1], c=[colors[k] for k in resp.argmax(1)], s=5, alpha=0.4)
    for k in range(len(means)):
        _ellipse(ax, means[k], covs[k], colors[k], label=f"component {k + 1} (1 and 2 sd)")
    if true_means is not None:
        ax.scatter(true_means[:, 0], true_means[:, 1], marker="x", c="k", s=80, label="true means")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title("EM fit of a two-component Gaussian mixture")
    ax.legend(fontsize=8)
    ax_ll.plot(range(len(log_likelihoods)), log_likelihoods, "o-", ms=3)
    ax_ll.set_xlabel("EM iteration")
    ax_ll.set_ylabel("log p(X | theta)")
    ax_ll.set_title("Log-likelihood never decreases")
    ax_ll.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def kl_forward_reverse(
    grid: np.ndarray, p: np.ndarray, q_forward: np.ndarray, q_reverse: np.ndarray
) -> Figure:
    """A bimodal P, the Gaussian minimising KL(P||Q) and the one minimising KL(Q||P)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.fill_between(grid, p, color="0.8", label="P (bimodal target)")
    ax.plot(grid, q_forward, lw=2, label="argmin_Q KL(P || Q): covers both modes")
    ax.plot(grid, q_reverse, lw=2, ls="--", label="argmin_Q KL(Q || P): picks one mode")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_title("Forward and reverse KL fit a Gaussian Q to a bimodal P differently")
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def cavi_elbo(
    x: np.ndarray,
    elbos: Sequence[float],
    means: np.ndarray,
    sds: np.ndarray,
    true_means: np.ndarray,
) -> Figure:
    """The ELBO per CAVI sweep, and the data with the variational factors q(mu_k)."""
    fig, (ax_e, ax_d) = plt.subplots(1, 2, figsize=(11, 4.4))
    ax_e.plot(range(len(elbos)), elbos, "o-", ms=3)
    ax_e.set_xlabel("CAVI sweep")
    ax_e.set_ylabel("ELBO")
    ax_e.set_title("Coordinate ascent never lowers the ELBO")
    ax_e.grid(alpha=0.3)
    ax_d.hist(x, bins=60, density=True, color="0.8", label="data")
    grid = np.linspace(x.min() - 1, x.max() + 1, 800)
    for k, (m, s) in enumerate(zip(means, sds, strict=True)):
        density = np.exp(-0.5 * ((grid - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))
        ax_d.plot(grid, density / density.max() * 0.3, lw=2, label=f"q(mu_{k + 1}) (scaled)")
    for t in true_means:
        ax_d.axvline(t, color="k", ls=":", lw=1)
    ax_d.set_xlabel("x")
    ax_d.set_ylabel("density")
    ax_d.set_title("q(mu_k) of the component means (dotted: truth)")
    ax_d.legend(fontsize=8)
    fig.tight_layout()
    return fig


def gradient_variance(
    samples: Sequence[int], variances: Mapping[str, Mapping[str, Sequence[float]]]
) -> Figure:
    """Variance of the score-function and reparameterization estimators against L (log-log).

    ``variances[function][estimator]`` is a sequence over ``samples``.
    """
    fig, axes = plt.subplots(1, len(variances), figsize=(4.2 * len(variances), 4), squeeze=False)
    for ax, (name, by_estimator) in zip(axes[0], variances.items(), strict=True):
        for estimator, values in by_estimator.items():
            ax.loglog(samples, values, "o-", ms=3, label=estimator)
        ax.set_xlabel("samples per estimate L")
        ax.set_ylabel("variance of d/dmu estimate")
        ax.set_title(f"f(z) = {name}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle("Gradient estimators of E_q[f(z)], q = N(0.7, 0.8^2): variance against L")
    fig.tight_layout()
    return fig
