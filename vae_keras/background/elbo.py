"""The ELBO and its two derivations (slides "Kullback-Leibler Divergence" and
"Here is another way to get ELBO by using Jensen's Inequality"), on a model where
``log p(x)``, the ELBO and ``KL(q || p(z|x))`` are all computable in closed form.

The model: ``z ~ N(0, 1)`` and ``x | z ~ N(z, s2)``. Then ``p(x) = N(x; 0, 1 + s2)``
and the posterior is ``p(z | x) = N(x / (1 + s2), s2 / (1 + s2))``. For any Gaussian
``q(z) = N(m, v)`` the slides' identity

    log p(x) = KL(q(z) || p(z | x)) + L(q),   L(q) = E_q[log p(x, z) - log q(z)]

holds exactly, so ``L(q) <= log p(x)`` (Jensen's inequality, the second derivation),
with equality exactly when ``q`` is the posterior.
"""

from __future__ import annotations

import numpy as np

LOG_2PI = float(np.log(2 * np.pi))


def log_evidence(x: float, s2: float) -> float:
    """``log p(x) = log N(x; 0, 1 + s2)``: the marginal likelihood of the model above."""
    var = 1.0 + s2
    return float(-0.5 * (LOG_2PI + np.log(var) + x * x / var))


def posterior(x: float, s2: float) -> tuple[float, float]:
    """``p(z | x) = N(x / (1 + s2), s2 / (1 + s2))``: its mean and variance."""
    return x / (1.0 + s2), s2 / (1.0 + s2)


def gaussian_kl(m1: float, v1: float, m2: float, v2: float) -> float:
    """``KL(N(m1, v1) || N(m2, v2)) = 0.5 [log(v2 / v1) + (v1 + (m1 - m2)^2) / v2 - 1]``."""
    return float(0.5 * (np.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / v2 - 1.0))


def elbo(x: float, s2: float, m: float, v: float) -> float:
    """``L(q) = E_q[log p(x | z)] + E_q[log p(z)] - E_q[log q(z)]`` for ``q = N(m, v)``, exactly:

    ``E_q[log p(x|z)] = -0.5 [log(2 pi s2) + ((x - m)^2 + v) / s2]``,
    ``E_q[log p(z)] = -0.5 [log(2 pi) + m^2 + v]``,
    ``-E_q[log q(z)] = 0.5 [log(2 pi v) + 1]`` (the entropy of q).
    """
    expected_log_lik = -0.5 * (LOG_2PI + np.log(s2) + ((x - m) ** 2 + v) / s2)
    expected_log_prior = -0.5 * (LOG_2PI + m * m + v)
    entropy = 0.5 * (LOG_2PI + np.log(v) + 1.0)
    return float(expected_log_lik + expected_log_prior + entropy)


def elbo_monte_carlo(x: float, s2: float, m: float, v: float, eps: np.ndarray) -> float:
    """``L(q)`` estimated with ``z = m + sqrt(v) eps`` (the reparameterization):
    the mean of ``log p(x | z) + log p(z) - log q(z)`` over the draws ``eps ~ N(0, 1)``."""
    z = m + np.sqrt(v) * np.asarray(eps, np.float64)
    log_lik = -0.5 * (LOG_2PI + np.log(s2) + (x - z) ** 2 / s2)
    log_prior = -0.5 * (LOG_2PI + z * z)
    log_q = -0.5 * (LOG_2PI + np.log(v) + (z - m) ** 2 / v)
    return float(np.mean(log_lik + log_prior - log_q))
