"""Forward and reverse KL divergence (slide "Kullback-Leibler Divergence").

``D_KL(P || Q) = sum_x P(x) log(P(x) / Q(x))`` measures the information lost when
Q represents P. The slide's figure contrasts the two directions when a single
Gaussian ``Q = N(m, s^2)`` is fitted to a bimodal P:

* forward ``KL(P || Q)`` punishes Q for missing mass of P, so Q spreads over both
  modes; its minimiser is moment matching, ``m = E_P[x]``, ``s^2 = Var_P[x]``;
* reverse ``KL(Q || P)`` (the direction of variational inference) punishes Q
  for putting mass where P has none, so Q sits on one mode.

Both are computed by quadrature on a fine grid and minimised numerically with
``scipy.optimize``; the tests compare the forward fit with the closed-form
moments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.integrate import trapezoid  # np.trapezoid needs numpy >= 2
from scipy.special import logsumexp
from scipy.stats import norm


def kl_discrete(p: np.ndarray, q: np.ndarray) -> float:
    """``D_KL(P || Q) = sum_x P(x) log(P(x) / Q(x))`` for probability vectors (0 log 0 = 0)."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    support = p > 0
    if np.any(q[support] == 0):
        return float("inf")
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


@dataclass(frozen=True)
class Mixture1D:
    """A one-dimensional Gaussian mixture ``P = sum_k w_k N(mu_k, sd_k^2)``."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    sds: tuple[float, ...]

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)[..., None]
        parts = np.log(self.weights) + norm.logpdf(x, self.means, self.sds)
        return logsumexp(parts, axis=-1)

    def mean(self) -> float:
        return float(np.dot(self.weights, self.means))

    def variance(self) -> float:
        w, m, s = map(np.asarray, (self.weights, self.means, self.sds))
        return float(np.dot(w, s**2 + m**2) - self.mean() ** 2)


#: The bimodal target used in the figure and tests.
BIMODAL = Mixture1D(weights=(0.5, 0.5), means=(-3.0, 3.0), sds=(1.0, 1.0))


def grid_for(p: Mixture1D, points: int = 20_001, width: float = 12.0) -> np.ndarray:
    lo = min(p.means) - width * max(p.sds)
    hi = max(p.means) + width * max(p.sds)
    return np.linspace(lo, hi, points)


def kl_continuous(log_p: np.ndarray, log_q: np.ndarray, grid: np.ndarray) -> float:
    """``integral p(x) log(p(x) / q(x)) dx`` by the trapezoidal rule on ``grid``."""
    integrand = np.exp(log_p) * (log_p - log_q)
    return float(trapezoid(integrand, grid))


def forward_kl(p: Mixture1D, m: float, log_s: float, grid: np.ndarray) -> float:
    """``KL(P || N(m, s^2))`` with ``s = exp(log_s)``."""
    return kl_continuous(p.log_pdf(grid), norm.logpdf(grid, m, np.exp(log_s)), grid)


def reverse_kl(p: Mixture1D, m: float, log_s: float, grid: np.ndarray) -> float:
    """``KL(N(m, s^2) || P)`` with ``s = exp(log_s)``."""
    return kl_continuous(norm.logpdf(grid, m, np.exp(log_s)), p.log_pdf(grid), grid)


@dataclass(frozen=True)
class GaussianFit:
    mean: float
    sd: float
    kl: float


def fit_gaussian(
    p: Mixture1D, direction: str, init: tuple[float, float] = (0.5, 0.0)
) -> GaussianFit:
    """Minimise ``KL(P || Q)`` (``direction='forward'``) or ``KL(Q || P)`` (``'reverse'``) over Q.

    ``init`` is the starting ``(m, log s)``; the reverse KL has one local minimum
    per mode, and the start decides which one is found.
    """
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction must be 'forward' or 'reverse', got {direction!r}.")
    grid = grid_for(p)
    log_p = p.log_pdf(grid)  # P is fixed: its log-density once, not at each of ~800 evaluations

    def objective(v: np.ndarray) -> float:
        log_q = norm.logpdf(grid, v[0], np.exp(v[1]))
        if direction == "forward":  # forward_kl(p, *v, grid), with P's log-density kept
            return kl_continuous(log_p, log_q, grid)
        return kl_continuous(log_q, log_p, grid)  # reverse_kl(p, *v, grid)

    result = optimize.minimize(
        objective,
        np.asarray(init, np.float64),
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 4000},
    )
    return GaussianFit(float(result.x[0]), float(np.exp(result.x[1])), float(result.fun))
