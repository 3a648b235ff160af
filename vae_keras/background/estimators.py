"""Two Monte Carlo estimators of ``grad E_q[f(z)]`` for ``q = N(mu, sigma^2)``.

Slide "Neural Networks": the score-function estimator

    grad_phi E_q[f(z)] = E_q[f(z) grad_phi log q(z)]  ~  1/L sum_l f(z_l) grad_phi log q(z_l)

"always exhibits a high variance"; slide "Reparameterization": with
``z = g(eps) = mu + sigma * eps``, ``eps ~ N(0, 1)``,

    grad_phi E_q[f(z)] = E_eps[grad_phi f(mu + sigma * eps)]  ~  1/L sum_l f'(z_l) (1, eps_l).

Both are unbiased; :func:`estimator_variance` measures their variance for a
given number of samples L.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TestFunction:
    """``f``, its derivative, and the exact ``(d/dmu, d/dsigma) E_{N(mu, sigma^2)}[f(z)]``."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]
    exact_gradient: Callable[[float, float], tuple[float, float]]


#: f(z) = z^2: E = mu^2 + sigma^2.
SQUARE = TestFunction("z^2", np.square, lambda z: 2 * z, lambda mu, s: (2 * mu, 2 * s))
#: f(z) = sin z: E = sin(mu) exp(-sigma^2 / 2).
SINE = TestFunction(
    "sin z",
    np.sin,
    np.cos,
    lambda mu, s: (np.cos(mu) * np.exp(-(s**2) / 2), -s * np.sin(mu) * np.exp(-(s**2) / 2)),
)
#: f(z) = exp(z): E = exp(mu + sigma^2 / 2).
EXP = TestFunction(
    "exp z", np.exp, np.exp, lambda mu, s: (np.exp(mu + s**2 / 2), s * np.exp(mu + s**2 / 2))
)
FUNCTIONS = (SQUARE, SINE, EXP)


def score_function_gradient(f, mu: float, sigma: float, eps: np.ndarray) -> np.ndarray:
    """Score-function estimates, one per row of ``eps`` (shape (R, L)): returns (R, 2).

    ``grad_mu log q = (z - mu) / sigma^2``, ``grad_sigma log q = ((z - mu)^2 - sigma^2) / sigma^3``.
    """
    z = mu + sigma * eps
    fz = f(z)
    d_mu = (z - mu) / sigma**2
    d_sigma = ((z - mu) ** 2 - sigma**2) / sigma**3
    return np.stack([(fz * d_mu).mean(axis=-1), (fz * d_sigma).mean(axis=-1)], axis=-1)


def reparameterization_gradient(df, mu: float, sigma: float, eps: np.ndarray) -> np.ndarray:
    """Reparameterization estimates ``mean_l f'(mu + sigma eps_l) * (1, eps_l)``: returns (R, 2)."""
    dfz = df(mu + sigma * eps)
    return np.stack([dfz.mean(axis=-1), (dfz * eps).mean(axis=-1)], axis=-1)


def estimator_variance(
    fn: TestFunction, mu: float, sigma: float, samples: int, repeats: int = 10_000, seed: int = 0
) -> dict[str, np.ndarray]:
    """Mean and variance over ``repeats`` estimates with L = ``samples`` draws each.

    Both estimators use the same draws of ``eps``.
    """
    eps = np.random.default_rng(seed).standard_normal((repeats, samples))
    out = {}
    for name, estimates in (
        ("score", score_function_gradient(fn.f, mu, sigma, eps)),
        ("reparameterization", reparameterization_gradient(fn.df, mu, sigma, eps)),
    ):
        out[f"{name}_mean"] = estimates.mean(axis=0)
        out[f"{name}_var"] = estimates.var(axis=0, ddof=1)
    return out
