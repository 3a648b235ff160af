"""Sample-quality metrics beside the Frechet distance, one function per paper.

All take feature arrays (one row per image, e.g. :func:`vae_keras.features.pixel_features`)
and compute in float64, in batches where memory would otherwise grow with N^2.

* :func:`kid`: Kernel Inception Distance (Binkowski et al. 2018), unbiased, with an
  error bar;
* :func:`precision_recall`: the k-nearest-neighbour manifold estimate of fidelity and
  diversity (Kynkaanniemi et al. 2019);
* :func:`fid_infinity`: the Frechet distance extrapolated to infinitely many
  generated samples (Chong & Forsyth 2020), removing FID's sample-size bias;
* :func:`sample_quality`: any of them for one pair of feature sets, as one record
  (the format of ``scripts/compute_fid.py --json`` and of ``results.json``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vae_keras.errors import FIDInputError
from vae_keras.fid import Statistics, compute_statistics, fid_from_statistics


def _as_features(name: str, x: np.ndarray, min_rows: int = 2) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < min_rows:
        raise FIDInputError(
            f"{name} must be a (n, d) array of features with n >= {min_rows}, got {x.shape}."
        )
    if not np.isfinite(x).all():
        raise FIDInputError(f"{name} holds NaN or infinite values.")
    return x


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """KID's kernel ``k(x, y) = (x . y / d + 1)^3`` for all pairs of rows (d: feature size)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased ``MMD^2`` of the samples ``x`` and ``y`` with :func:`polynomial_kernel`.

    ``MMD^2_u = 1/(m(m-1)) sum_{i!=j} k(x_i, x_j) + 1/(n(n-1)) sum_{i!=j} k(y_i, y_j)
    - 2/(mn) sum_{i,j} k(x_i, y_j)`` (Gretton et al. 2012, eq. 3): zero in
    expectation when both samples come from one distribution (it can be negative).
    """
    m, n = len(x), len(y)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


@dataclass(frozen=True)
class KIDResult:
    mean: float
    std: float
    subsets: int
    subset_size: int


def kid(
    features_a: np.ndarray,
    features_b: np.ndarray,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> KIDResult:
    """Kernel Inception Distance: :func:`mmd2_unbiased` averaged over random subsets.

    Binkowski et al. 2018, "Demystifying MMD GANs", section 4: KID is the
    squared MMD between the two feature distributions with the cubic
    polynomial kernel ``k(x, y) = (x . y / d + 1)^3``, estimated without bias;
    as in their code (and torch-fidelity, clean-fid), it is averaged over
    ``subsets`` random subsets of ``subset_size`` rows of each set (drawn
    without replacement), which keeps memory at ``subset_size^2`` and gives an
    error bar: the standard deviation over the subsets.
    """
    a = _as_features("features_a", features_a)
    b = _as_features("features_b", features_b)
    if a.shape[1] != b.shape[1]:
        raise FIDInputError(f"Feature sizes differ: {a.shape[1]} and {b.shape[1]}.")
    size = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    values = [
        mmd2_unbiased(
            a[rng.choice(len(a), size, replace=False)], b[rng.choice(len(b), size, replace=False)]
        )
        for _ in range(subsets)
    ]
    return KIDResult(float(np.mean(values)), float(np.std(values)), subsets, size)


def pairwise_sq_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``||x_i - y_j||^2`` for all pairs, as ``|x|^2 + |y|^2 - 2 x.y`` (clipped at 0)."""
    d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    return np.maximum(d, 0.0)


def knn_radii(x: np.ndarray, k: int = 3, batch: int = 1000) -> np.ndarray:
    """Squared distance from each row of ``x`` to its ``k``-th nearest other row, in batches."""
    radii = np.empty(len(x))
    for start in range(0, len(x), batch):
        d = pairwise_sq_distances(x[start : start + batch], x)
        # the k-th smallest other distance is the (k+1)-th smallest with the row itself (0)
        radii[start : start + batch] = np.partition(d, k, axis=1)[:, k]
    return radii


def manifold_coverages(
    real: np.ndarray,
    generated: np.ndarray,
    real_radii: np.ndarray,
    generated_radii: np.ndarray,
    batch: int = 1000,
) -> tuple[float, float]:
    """Fractions of ``generated`` inside the real manifold and of ``real`` inside the generated.

    A manifold is the union of the balls ``B(point_j, radius_j)`` of a set. Both
    fractions need the same distances ``||g_i - r_j||``, so they come from one pass
    over blocks of ``batch`` generated rows: a generated row is inside the real
    manifold if some ``d(g_i, r_j) <= real_radii[j]``; a real row is inside the
    generated manifold if some ``d(g_i, r_j) <= generated_radii[i]``.
    """
    generated_inside = 0
    real_inside = np.zeros(len(real), dtype=bool)
    for start in range(0, len(generated), batch):
        d = pairwise_sq_distances(generated[start : start + batch], real)
        generated_inside += int((d <= real_radii[None, :]).any(axis=1).sum())
        real_inside |= (d <= generated_radii[start : start + batch, None]).any(axis=0)
    return generated_inside / len(generated), float(real_inside.mean())


@dataclass(frozen=True)
class PrecisionRecall:
    precision: float
    recall: float
    k: int


def precision_recall(
    real: np.ndarray, generated: np.ndarray, k: int = 3, real_radii: np.ndarray | None = None
) -> PrecisionRecall:
    """Improved precision and recall (Kynkaanniemi et al. 2019, section 3).

    Each set's manifold is the union of balls around its points, each ball's
    radius the distance to the point's ``k``-th nearest neighbour in its own
    set. Precision: the fraction of generated points inside the real manifold
    (fidelity). Recall: the fraction of real points inside the generated
    manifold (diversity). Both 1 for identical sets. ``real_radii``:
    ``knn_radii(real, k)``, if the caller keeps them for several generated sets.
    """
    a = _as_features("real", real, min_rows=k + 1)
    b = _as_features("generated", generated, min_rows=k + 1)
    if a.shape[1] != b.shape[1]:
        raise FIDInputError(f"Feature sizes differ: {a.shape[1]} and {b.shape[1]}.")
    if real_radii is None:
        real_radii = knn_radii(a, k)
    precision, recall = manifold_coverages(a, b, real_radii, knn_radii(b, k))
    return PrecisionRecall(precision, recall, k)


def fraction_sizes(n: int, fractions: Sequence[float] = (0.2, 0.4, 0.6, 0.8, 1.0)) -> list[int]:
    """Sample sizes for :func:`fid_infinity`: these fractions of the ``n`` generated samples."""
    return [round(n * f) for f in fractions]


@dataclass(frozen=True)
class FIDInfinity:
    value: float
    slope: float
    points: list[tuple[int, float]]
    seed: int
    repeats: int


def fid_infinity(
    generated: np.ndarray,
    reference: Statistics,
    sizes: Sequence[int] = (2000, 4000, 6000, 8000, 10000),
    seed: int = 0,
    repeats: int = 3,
) -> FIDInfinity:
    """FID extrapolated to infinitely many generated samples (Chong & Forsyth 2020, FID_inf).

    FID computed from N generated samples is biased upwards, and the bias is
    linear in 1/N to first order: ``FID_N ~ FID_inf + slope / N``. The function
    computes FID for random subsets of ``sizes`` generated rows (against the
    ``reference`` statistics), averaged over ``repeats`` subsets at each size
    smaller than the whole set (one subset of a pool this small is too noisy for
    the fit: the paper draws its subsets from 50,000 images), fits that line by
    least squares and returns its intercept at ``1/N = 0`` with the fitted points.
    """
    x = _as_features("generated", generated)
    sizes = sorted({min(int(s), len(x)) for s in sizes})
    if len(sizes) < 2:
        raise FIDInputError(f"fid_infinity needs two sample sizes or more, got {sizes}.")
    if repeats < 1:
        raise FIDInputError(f"fid_infinity needs repeats >= 1, got {repeats}.")
    rng = np.random.default_rng(seed)
    points = []
    for size in sizes:
        draws = 1 if size == len(x) else repeats  # the whole set is the same set every time
        values = [
            fid_from_statistics(
                compute_statistics(x[rng.choice(len(x), size, replace=False)]), reference
            )
            for _ in range(draws)
        ]
        points.append((size, float(np.mean(values))))
    inverse = np.array([1.0 / n for n, _ in points])
    values = np.array([f for _, f in points])
    slope, intercept = np.polyfit(inverse, values, 1)
    return FIDInfinity(float(intercept), float(slope), points, seed, repeats)


#: The metrics :func:`sample_quality` knows, in the order they are reported.
METRICS = ("fid", "kid", "precision", "recall", "fid_infinity")


class Reference:
    """Reference features and what every comparison with them reuses: statistics, k-NN radii.

    The report compares seven sets with one test set; the reference's mean and
    covariance and its nearest-neighbour radii are computed once, on first use.
    """

    def __init__(self, features: np.ndarray):
        self.features = _as_features("reference", features)
        self._stats: Statistics | None = None
        self._radii: dict[int, np.ndarray] = {}

    @property
    def stats(self) -> Statistics:
        if self._stats is None:
            self._stats = compute_statistics(self.features)
        return self._stats

    def radii(self, k: int) -> np.ndarray:
        if k not in self._radii:
            self._radii[k] = knn_radii(self.features, k)
        return self._radii[k]


def sample_quality(
    generated: np.ndarray,
    reference: np.ndarray | Reference,
    metrics: Sequence[str] = METRICS,
    seed: int = 0,
    kid_subsets: int = 100,
    k: int = 3,
    infinity_repeats: int = 3,
) -> dict[str, Any]:
    """The ``metrics`` of ``generated`` features against ``reference`` features, as one record.

    ``{"fid": float, "kid": {"mean", "std", "subsets", "subset_size"}, "precision":
    float, "recall": float, "k": int, "fid_infinity": {"value", "slope", "points",
    "repeats"}}``, with only the keys asked for; ``seed`` fixes KID's and
    FID-infinity's random subsets, ``k`` is precision and recall's neighbour,
    ``infinity_repeats`` FID-infinity's subsets per size. A :class:`Reference` keeps what
    several calls with one reference share.
    """
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown or not metrics:
        raise FIDInputError(f"Unknown metrics {unknown}; choose from {', '.join(METRICS)}.")
    generated = _as_features("generated", generated)
    if not isinstance(reference, Reference):
        reference = Reference(reference)
    if generated.shape[1] != reference.features.shape[1]:
        raise FIDInputError(
            f"Feature sizes differ: {generated.shape[1]} and {reference.features.shape[1]}."
        )
    record: dict[str, Any] = {"n_generated": len(generated), "n_reference": len(reference.features)}
    if "fid" in metrics:
        record["fid"] = fid_from_statistics(compute_statistics(generated), reference.stats)
    if "kid" in metrics:
        result = kid(generated, reference.features, subsets=kid_subsets, seed=seed)
        record["kid"] = {
            "mean": result.mean,
            "std": result.std,
            "subsets": result.subsets,
            "subset_size": result.subset_size,
        }
    if "precision" in metrics or "recall" in metrics:
        pr = precision_recall(reference.features, generated, k, reference.radii(k))
        record.update(precision=pr.precision, recall=pr.recall, k=pr.k)
    if "fid_infinity" in metrics:
        sizes = fraction_sizes(len(generated))
        inf = fid_infinity(generated, reference.stats, sizes, seed, infinity_repeats)
        record["fid_infinity"] = {
            "value": inf.value,
            "slope": inf.slope,
            "points": inf.points,
            "repeats": inf.repeats,
        }
    return record
