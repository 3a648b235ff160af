"""Frechet distance between two sets of images (slide "FID Score").

Three parts, as in ``mseitzer/pytorch-fid``:

* :class:`StreamingStatistics` accumulates the mean and covariance of features
  batch by batch in float64 (a 60,000 x 3,072 set never needs a second copy);
* :func:`frechet_distance` is the slides' formula, computed from symmetric
  eigenvalue problems instead of ``scipy.linalg.sqrtm``;
* :func:`statistics_of_images` streams images through a feature extractor of
  :mod:`vae_keras.features` (``pixels``, the slides' setting, by default).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.linalg
from scipy.linalg.blas import dtrmm
from scipy.linalg.lapack import dpstrf

from vae_keras.errors import FIDInputError
from vae_keras.features import FeatureExtractor, pixel_features


class SingularCovarianceWarning(UserWarning):
    """A covariance estimated from no more samples than dimensions."""


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Statistics:
    """Mean ``mu`` (d,), covariance ``sigma`` (d, d) and sample count ``n`` of a feature set."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int

    def save(self, path: str | os.PathLike) -> None:
        """Write ``mu``, ``sigma``, ``n`` to an ``.npz`` file (atomically)."""
        from vae_keras.atomic import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, mu=self.mu, sigma=self.sigma, n=np.int64(self.n))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Statistics:
        """Read statistics written by :meth:`save` (or pytorch-fid's ``mu``/``sigma`` files)."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                missing = {"mu", "sigma"} - set(npz.files)
                if missing:
                    raise FIDInputError(
                        f"{path} lacks {sorted(missing)}; a statistics file holds mu, sigma and n."
                    )
                n = int(npz["n"]) if "n" in npz.files else -1
                return cls(
                    np.asarray(npz["mu"], np.float64), np.asarray(npz["sigma"], np.float64), n
                )
        except (OSError, ValueError) as exc:
            if isinstance(exc, FIDInputError):
                raise
            raise FIDInputError(f"{path} could not be read as a statistics .npz: {exc}") from exc


class StreamingStatistics:
    """Mean and covariance of features, accumulated batch by batch in float64.

    Batches are merged with the pairwise update of Chan, Golub and LeVeque
    (1979): with ``delta = mean_b - mean``,
    ``M2 <- M2 + M2_b + delta delta^T * n n_b / (n + n_b)``, which avoids the
    cancellation of the naive ``sum(x x^T) - n mu mu^T``. The covariance is
    ``M2 / (n - 1)``, as ``np.cov``.
    """

    def __init__(self, dim: int | None = None):
        self.n = 0
        self.dim = dim
        self._mean: np.ndarray | None = None
        self._m2: np.ndarray | None = None

    def update(self, batch: np.ndarray) -> StreamingStatistics:
        """Add a (batch, d) array of features; returns ``self``."""
        batch = np.asarray(batch)
        if batch.ndim != 2:
            raise FIDInputError(f"Features must be a 2-D (samples, dims) array, got {batch.shape}.")
        if self.dim is None:
            self.dim = batch.shape[1]
        if batch.shape[1] != self.dim:
            raise FIDInputError(
                f"Feature dimension changed from {self.dim} to {batch.shape[1]} between batches."
            )
        if batch.shape[0] == 0:
            return self
        batch = batch.astype(np.float64)
        if not np.all(np.isfinite(batch)):
            raise FIDInputError("Features contain NaN or infinite values.")
        nb = batch.shape[0]
        mean_b = batch.mean(axis=0)
        centred = batch - mean_b
        m2_b = centred.T @ centred
        if self.n == 0:
            self._mean, self._m2 = mean_b, m2_b
        else:
            total = self.n + nb
            delta = mean_b - self._mean
            self._mean = self._mean + delta * (nb / total)
            self._m2 = self._m2 + m2_b + np.outer(delta, delta) * (self.n * nb / total)
        self.n += nb
        return self

    def result(self) -> Statistics:
        """The mean and the unbiased covariance of everything added so far."""
        if self.n < 2:
            raise FIDInputError(
                f"A covariance needs at least 2 samples; got {self.n}. Use more images."
            )
        if self.n <= self.dim:
            warnings.warn(
                f"Covariance of {self.n} samples in {self.dim} dimensions is singular "
                f"(rank <= {self.n - 1}); the Frechet distance is still defined, but it is "
                "biased upwards and noisy. Use more samples than dimensions for a reliable number.",
                SingularCovarianceWarning,
                stacklevel=2,
            )
        return Statistics(self._mean.copy(), self._m2 / (self.n - 1), self.n)


def compute_statistics(
    features: np.ndarray | Iterable[np.ndarray], batch_size: int = 1000
) -> Statistics:
    """Statistics of a (N, d) array, or of an iterable of (batch, d) arrays."""
    stats = StreamingStatistics()
    if isinstance(features, np.ndarray):
        array = features
        features = (array[i : i + batch_size] for i in range(0, len(array), batch_size))
    for batch in features:
        stats.update(batch)
    return stats.result()


# ---------------------------------------------------------------------------
# The distance
# ---------------------------------------------------------------------------


def _validate(mu1, sigma1, mu2, sigma2) -> tuple[np.ndarray, ...]:
    arrays = []
    for name, value, ndim in (
        ("mu1", mu1, 1),
        ("sigma1", sigma1, 2),
        ("mu2", mu2, 1),
        ("sigma2", sigma2, 2),
    ):
        value = np.asarray(value, dtype=np.float64)
        if value.ndim != ndim:
            raise FIDInputError(f"{name} must be {ndim}-D, got shape {value.shape}.")
        if not np.all(np.isfinite(value)):
            raise FIDInputError(f"{name} contains NaN or infinite values.")
        arrays.append(value)
    mu1, sigma1, mu2, sigma2 = arrays
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        if sigma.shape[0] != sigma.shape[1]:
            raise FIDInputError(f"{name} must be square, got shape {sigma.shape}.")
        if np.any(np.diag(sigma) < 0):
            raise FIDInputError(
                f"{name} has negative variances on its diagonal: it is not positive "
                "semi-definite. Pass a covariance matrix."
            )
        scale = max(float(np.abs(sigma).max()), np.finfo(np.float64).tiny)
        if np.abs(sigma - sigma.T).max() > 1e-6 * scale:
            raise FIDInputError(
                f"{name} is not symmetric (max |S - S^T| = {np.abs(sigma - sigma.T).max():.3g}); "
                "pass a covariance matrix."
            )
    if not (mu1.shape[0] == mu2.shape[0] == sigma1.shape[0] == sigma2.shape[0]):
        raise FIDInputError(
            f"Dimensions differ: mu1 {mu1.shape}, sigma1 {sigma1.shape}, mu2 {mu2.shape}, "
            f"sigma2 {sigma2.shape}; both feature sets must have the same dimension."
        )
    return mu1, (sigma1 + sigma1.T) / 2, mu2, (sigma2 + sigma2.T) / 2


def _rounding(sigma: np.ndarray) -> float:
    """``d * eps * max variance``: below it, a variance of ``sigma`` is zero up to rounding
    (LAPACK's default tolerance for :func:`low_rank_factor`'s ``dpstrf``)."""
    return sigma.shape[0] * np.finfo(np.float64).eps * max(float(np.diag(sigma).max()), 0.0)


def low_rank_factor(sigma: np.ndarray) -> np.ndarray:
    """A ``d x r`` factor ``L`` of a singular covariance, ``S = L L^T``, ``r`` its rank.

    LAPACK's Cholesky with complete pivoting (``dpstrf``) stops once every variance left
    is below rounding, ``d * eps`` times the largest: the covariance of ``n < d`` samples has
    rank ``r <= n - 1``, and the factor costs ``O(d^2 r)`` where an eigendecomposition costs
    ``O(d^3)`` (3072-d CIFAR-10 pixels from a few hundred samples). What is left over, ``S -
    L L^T``, is at most that rounding for a positive semi-definite ``S``; a larger one means
    that ``S`` is no covariance (:class:`FIDInputError`).
    """
    d = sigma.shape[0]
    factor, pivots, rank, _ = dpstrf(sigma, tol=-1.0, lower=1)  # tol < 0: d * eps * max S_ii
    lower = np.zeros((d, rank))
    lower[pivots[:rank] - 1] = np.tril(factor[:rank, :rank])  # rows in the pivots' order
    lower[pivots[rank:] - 1] = factor[rank:, :rank]
    scale = max(float(np.diag(sigma).max(initial=0.0)), np.finfo(np.float64).tiny)
    residual = float(np.abs(sigma - lower @ lower.T).max(initial=0.0))
    if residual > 1e-6 * scale:
        raise FIDInputError(
            f"A covariance is not positive semi-definite (|S - L L^T| = {residual:.3g} after "
            "its pivoted Cholesky factor). Pass covariance matrices."
        )
    return lower


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``tr[(S1^{1/2} S2 S1^{1/2})^{1/2}]``, the cross term of the slides' FID.

    The eigenvalues of ``S1^{1/2} S2 S1^{1/2}`` are those of ``L^T S2 L`` for
    any factor ``S1 = L L^T``, square or not (the nonzero ones). If a Cholesky
    factor of ``S1`` (or, the trace being symmetric in S1 and S2, of ``S2``)
    exists, one ``eigvalsh`` of ``L^T S2 L`` gives them (eigenvalues below zero
    are rounding and are clipped). Otherwise both are singular (fewer samples
    than dimensions, or features that never vary): with the ``d x r`` factors
    ``S1 = L1 L1^T``, ``S2 = L2 L2^T`` of :func:`low_rank_factor`, the nonzero
    eigenvalues are those of ``M M^T``, ``M = L1^T L2`` (``r1 x r2``), and the
    trace is the sum of ``M``'s singular values: no ``d x d`` product, and no
    square root of a rounding-size eigenvalue.
    """
    m = None
    for factored, other in ((sigma1, sigma2), (sigma2, sigma1)):
        try:  # the upper triangle of cho_factor's result is garbage; trmm never reads it
            lower, _ = scipy.linalg.cho_factor(factored, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            continue
        # a singular S succeeds by rounding now and then, with a pivot of rounding size
        # (S's conditional variance of a feature given the ones before it, zero exactly)
        if np.diag(lower).min() ** 2 <= _rounding(factored):
            continue
        # L^T (S L) with triangular products (BLAS trmm): half the work of two matmuls
        m = dtrmm(1.0, lower, dtrmm(1.0, lower, other, side=1, lower=1), side=0, lower=1, trans_a=1)
        break
    if m is None:
        m = low_rank_factor(sigma1).T @ low_rank_factor(sigma2)
        return float(scipy.linalg.svdvals(m, check_finite=False).sum())
    # eigenvalues only, by LAPACK's divide and conquer (syevd): the fastest driver here
    eigenvalues = scipy.linalg.eigh(
        (m + m.T) / 2, eigvals_only=True, driver="evd", check_finite=False
    )
    if eigenvalues.size and eigenvalues.min() < -1e-6 * max(abs(eigenvalues).max(), 1e-300):
        raise FIDInputError(
            f"S1^(1/2) S2 S1^(1/2) has a negative eigenvalue ({eigenvalues.min():.3g}): a "
            "covariance is not positive semi-definite. Pass covariance matrices."
        )
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Frechet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    Slide "FID Score"::

        FID = |mu_X - mu_Y|^2 + tr[S_X + S_Y - 2 (S_X^{1/2} S_Y S_X^{1/2})^{1/2}]

    with the slides' "stable covmean": the square root of the symmetric
    positive semi-definite matrix ``S_X^{1/2} S_Y S_X^{1/2}``, taken through
    its eigenvalues (:func:`trace_sqrt_product`), never ``sqrtm(S_X S_Y)``.
    The result is real and, up to rounding, non-negative: values in
    ``[-1e-8 * scale, 0)`` are returned as 0, lower ones raise
    :class:`FIDInputError` (they mean the inputs are not covariances).

    Parameters
    ----------
    mu1, mu2 : arrays of shape (d,)
    sigma1, sigma2 : symmetric positive semi-definite arrays of shape (d, d)
    """
    mu1, sigma1, mu2, sigma2 = _validate(mu1, sigma1, mu2, sigma2)
    diff = mu1 - mu2
    tr1, tr2 = float(np.trace(sigma1)), float(np.trace(sigma2))
    fid = float(diff @ diff) + tr1 + tr2 - 2.0 * trace_sqrt_product(sigma1, sigma2)
    if fid < 0:
        scale = float(diff @ diff) + tr1 + tr2
        if fid < -1e-8 * max(scale, 1.0):
            raise FIDInputError(
                f"Frechet distance came out negative ({fid:.3g}); a covariance is not positive "
                "semi-definite. Check that sigma1 and sigma2 are covariance matrices."
            )
        fid = 0.0
    return fid


def frechet_distance_reference(mu1, sigma1, mu2, sigma2) -> float:
    """The common implementation (pytorch-fid): ``sqrtm(S1 @ S2)``, real part.

    Kept for tests and ``benchmarks/bench_fid.py`` only: it is slow, may return
    complex noise, and fails on singular products, where pytorch-fid adds
    ``1e-6 * I`` to both covariances.
    """
    mu1, sigma1, mu2, sigma2 = _validate(mu1, sigma1, mu2, sigma2)
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.all(np.isfinite(covmean)):
        offset = np.eye(sigma1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid_from_statistics(a: Statistics, b: Statistics) -> float:
    """:func:`frechet_distance` of two :class:`Statistics`."""
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)


# ---------------------------------------------------------------------------
# Feature extractors
# ---------------------------------------------------------------------------


def statistics_of_images(
    images: Iterable[np.ndarray], extractor: FeatureExtractor = pixel_features
) -> Statistics:
    """Stream batches of images (batch, H, W, C) through ``extractor`` into :class:`Statistics`."""
    stats = StreamingStatistics()
    for batch in images:
        stats.update(extractor(batch))
    return stats.result()
