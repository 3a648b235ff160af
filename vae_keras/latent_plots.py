"""The latent studies' figures (the prior hole, the KL weight, the conditional VAE): arrays in,
a Figure out.

Kept apart from :mod:`vae_keras.plots` (the slides' figures) and drawn with its helpers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from vae_keras.plots import _ellipse, _show, tile


def prior_hole(
    extent: float,
    log_densities: Mapping[str, np.ndarray],
    grid_points: np.ndarray,
    title: str,
    floor: float = -12.0,
    log_ratio: tuple[str, np.ndarray] | None = None,
) -> Figure:
    """Log-densities over the latent plane ``[-extent, extent]^2`` in a grid of panels (each an
    (n, n) array with row ``i`` at ``z[1] = ys[i]``, the first at the bottom), on one colour
    scale cut at ``floor``; the manifold figure's grid points marked on each. ``log_ratio`` (a
    title and an (n, n) array, e.g. ``log q(z) - log p(z)``) adds a last panel on a diverging
    scale of its own, blue where the ratio is below 1."""
    panels = len(log_densities) + (log_ratio is not None)
    cols = 2 if panels > 2 else panels
    rows = -(-panels // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(5.6 * cols, 4.9 * rows + 0.5), squeeze=False, layout="constrained"
    )
    flat = axes.ravel()
    top = max(float(np.max(v)) for v in log_densities.values())
    box = (-extent, extent, -extent, extent)
    for ax, (label, values) in zip(flat, log_densities.items(), strict=False):
        shown = ax.imshow(
            np.maximum(values, floor), origin="lower", extent=box, vmin=floor, vmax=top,
            cmap="magma",
        )  # fmt: skip
        ax.scatter(*grid_points.T, s=5, c="cyan", label="the manifold figure's grid")
        fig.colorbar(shown, ax=ax, label=f"log density (nats; cut at {floor:g})")
        ax.set_title(label, fontsize=10)
    flat[0].legend(loc="lower left", fontsize=8)
    if log_ratio is not None:
        label, values = log_ratio
        ax, span = flat[len(log_densities)], 6.0
        shown = ax.imshow(
            np.clip(values, -span, span), origin="lower", extent=box, vmin=-span, vmax=span,
            cmap="RdBu_r",
        )  # fmt: skip
        ax.scatter(*grid_points.T, s=5, c="black")
        fig.colorbar(shown, ax=ax, label=f"log ratio (nats; cut at ±{span:g})")
        ax.set_title(label, fontsize=10)
    for ax in flat[:panels]:
        ax.set_xlabel("z[0]")
        ax.set_ylabel("z[1]")
    for ax in flat[panels:]:
        ax.set_axis_off()
    fig.suptitle(title)
    return fig


def mixture_samples(
    prior: np.ndarray,
    mixture: np.ndarray,
    image_shape: Sequence[int],
    sample_titles: tuple[str, str],
    codes: np.ndarray,
    labels: np.ndarray,
    means: np.ndarray,
    covs: np.ndarray,
    scatter_title: str,
    title: str,
) -> Figure:
    """64 decoded prior samples beside 64 mixture samples (8 x 8 each), and a latent-2 run's
    codes with its mixture's components (1 and 2 sd ellipses)."""
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.8), gridspec_kw={"width_ratios": [1, 1, 1.25]})
    for ax, images, label in zip(axes[:2], (prior, mixture), sample_titles, strict=True):
        _show(ax, tile(images[:64], 8, 8, image_shape))
        ax.set_axis_off()
        ax.set_title(label, fontsize=10)
    ax = axes[2]
    points = ax.scatter(
        codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=1, alpha=0.3, vmin=-0.5, vmax=9.5
    )
    bar = fig.colorbar(points, ax=ax, ticks=range(10), fraction=0.046, pad=0.04)
    bar.set_label("digit label")
    for k in range(len(means)):
        label = "components (1 and 2 sd)" if k == 0 else None
        _ellipse(ax, means[k], covs[k], "black", label=label)
    ax.set_xlabel("z[0] (z_mean)")
    ax.set_ylabel("z[1] (z_mean)")
    ax.set_title(scatter_title, fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def rate_distortion(
    points: Sequence[Mapping[str, float]],
    anchor: Mapping[str, float],
    title: str,
    reference_fid: float | None = None,
) -> Figure:
    """Alemi et al. 2018's plane: each run's distortion D against its rate R (labelled by its
    KL weight beta), the line D + R = const through ``anchor`` (the slides' run: beta 1), then
    FID and precision / recall against beta. ``points``: dicts with ``beta``, ``rate``,
    ``distortion``, ``fid``, ``precision``, ``recall``; ``reference_fid`` (the slides' 8.04)
    is drawn as a dotted line."""
    fig, (ax, ax_fid, ax_pr) = plt.subplots(1, 3, figsize=(17, 5.2), layout="constrained")
    rates = np.array([p["rate"] for p in points])
    for p in points:
        ax.scatter(p["rate"], p["distortion"], c="C0" if p["beta"] != 1 else "C3", s=30)
        ax.annotate(f"β = {p['beta']:g}", (p["rate"], p["distortion"]), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")  # fmt: skip
    line = np.linspace(0.0, max(rates.max(), anchor["rate"]) * 1.1, 50)
    total = anchor["rate"] + anchor["distortion"]
    ax.plot(line, total - line, "k:", label=f"D + R = {total:.1f} (the slides' β = 1: -ELBO)")
    ax.set_xlabel("rate R = E KL(q(z|x) || p(z)) (nats)")
    ax.set_ylabel("distortion D = E[-log p(x|z)] (nats)")
    ax.set_title("Rate against distortion, MNIST test set")
    ax.legend(fontsize=8)
    order = sorted(points, key=lambda p: p["beta"])
    betas = [p["beta"] for p in order]
    ax_fid.plot(betas, [p["fid"] for p in order], "o", c="C0", label="ours (one run per β)")
    if reference_fid is not None:
        ax_fid.axhline(reference_fid, ls=":", c="k", label=f"the slides' FID ({reference_fid})")
    ax_fid.legend(fontsize=8)
    ax_fid.set_xscale("log")
    ax_fid.set_yscale("log")
    ax_fid.yaxis.set_major_formatter(ScalarFormatter())
    ax_fid.yaxis.set_minor_formatter(ScalarFormatter())
    ax_fid.set_xlabel("KL weight β (log scale)")
    ax_fid.set_ylabel("pixel FID of 10,000 prior samples (log scale)")
    ax_fid.set_title("FID against β")
    ax_pr.plot(betas, [p["precision"] for p in order], "o", c="C2", label="precision")
    ax_pr.plot(betas, [p["recall"] for p in order], "s", c="C1", label="recall")
    ax_pr.set_xscale("log")
    ax_pr.set_xlabel("KL weight β (log scale)")
    ax_pr.set_ylabel("pixel precision / recall (k = 3)")
    ax_pr.set_title("Precision and recall against β")
    ax_pr.legend(fontsize=8)
    for a in (ax, ax_fid, ax_pr):
        a.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def conditional_grid(
    images: np.ndarray,
    image_shape: Sequence[int],
    accuracy_per_digit: np.ndarray,
    title: str,
    samples: int = 10_000,
) -> Figure:
    """A conditional VAE's digits: row ``c`` asks for class ``c``, column ``j`` decodes one ``z``.

    ``images`` (classes * columns, D) in the order of :func:`vae_keras.conditioning.digit_grid`;
    ``accuracy_per_digit`` (seeds, classes): the classifier's accuracy on the samples asked for
    each class (NaN where a class was never asked for), drawn beside its row as the mean over
    the seeds with their standard deviation.
    """
    classes = accuracy_per_digit.shape[1]
    columns = len(images) // classes
    fig, (grid_ax, bar_ax) = plt.subplots(
        1, 2, figsize=(10, 8), width_ratios=(columns, 3.5), layout="constrained"
    )
    h, w = image_shape[0], image_shape[1]
    _show(grid_ax, tile(images, classes, columns, image_shape))
    grid_ax.set_yticks(np.arange(classes) * h + h / 2, [str(c) for c in range(classes)])
    grid_ax.set_xticks(np.arange(columns) * w + w / 2, [f"z{j + 1}" for j in range(columns)])
    grid_ax.set_ylabel("digit asked for (the label)")
    grid_ax.set_xlabel("one z ~ N(0, I) per column, shared by every digit")
    mean, std = np.nanmean(accuracy_per_digit, axis=0), np.nanstd(accuracy_per_digit, axis=0)
    rows = np.arange(classes)
    seeds = len(accuracy_per_digit)
    bar_ax.barh(rows, 100 * mean, xerr=100 * std, color="tab:blue",
                label=f"mean ± std over {seeds} seed{'s' if seeds > 1 else ''}")  # fmt: skip
    bar_ax.set_yticks(rows, [str(c) for c in rows])
    bar_ax.set_ylim(classes - 0.5, -0.5)
    bar_ax.set_xlim(max(0.0, 100 * float(np.nanmin(mean - std)) - 5), 100)
    bar_ax.set_xlabel(f"classifier accuracy on {samples:,} samples (%)")
    bar_ax.set_ylabel("digit asked for")
    bar_ax.set_title("does it draw the digit asked for?", fontsize=10, pad=24)
    bar_ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8, frameon=False)
    fig.suptitle(title)
    return fig
