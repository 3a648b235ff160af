"""Mean-field variational inference by coordinate ascent (CAVI).

Slides "Variational Inference" to "Mean Field Variational Inference": with a
factorised ``q(z_1, ..., z_m) = prod_j q(z_j)``, the optimal factor given the
others is ``q*(z_j) proportional to exp(E_{-j}[log p(z_j, z_{-j}, x)])``;
updating each factor in turn never lowers the ELBO.

The model is the Bayesian mixture of unit-variance Gaussians of Blei,
Kucukelbir and McAuliffe (2017), section 3, the review the slides cite, here in
d dimensions:

    mu_k ~ N(0, prior_var * I),   c_i ~ Categorical(1/K, ..., 1/K),   x_i | c_i, mu ~ N(mu_{c_i}, I)

with ``q(mu_k) = N(m_k, s2_k I)`` and ``q(c_i) = Categorical(phi_i)``. The
updates (their equations 21-22, derived from ``q*`` above):

    phi_ik  proportional to  exp(m_k . x_i - (d s2_k + |m_k|^2) / 2)
    m_k = sum_i phi_ik x_i / (1 / prior_var + sum_i phi_ik)
    s2_k = 1 / (1 / prior_var + sum_i phi_ik)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp


@dataclass
class CAVIFit:
    m: np.ndarray  # (K, d) variational means of mu_k
    s2: np.ndarray  # (K,) variational variances of mu_k (per coordinate)
    phi: np.ndarray  # (n, K) assignment probabilities
    elbos: list[float]  # ELBO after each full sweep (index 0: at initialisation)


def elbo(x: np.ndarray, m: np.ndarray, s2: np.ndarray, phi: np.ndarray, prior_var: float) -> float:
    """``E_q[log p(x, c, mu)] - E_q[log q(c, mu)]`` of the mixture model above."""
    n, d = x.shape
    k = len(s2)
    e_mu_sq = d * s2 + (m**2).sum(axis=1)  # E|mu_k|^2
    log_p_mu = -0.5 * d * np.log(2 * np.pi * prior_var) - e_mu_sq / (2 * prior_var)
    log_p_c = -np.log(k) * n
    sq = (x**2).sum(axis=1)[:, None] - 2 * x @ m.T + e_mu_sq[None, :]  # E|x_i - mu_k|^2
    log_p_x = (phi * (-0.5 * d * np.log(2 * np.pi) - 0.5 * sq)).sum()
    entropy_c = -(phi * np.log(np.clip(phi, 1e-300, None))).sum()
    entropy_mu = (0.5 * d * (np.log(2 * np.pi * s2) + 1)).sum()
    return float(log_p_mu.sum() + log_p_c + log_p_x + entropy_c + entropy_mu)


def update_assignments(x: np.ndarray, m: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """``q*(c_i)``: ``phi_ik`` proportional to ``exp(m_k . x_i - (d s2_k + |m_k|^2) / 2)``."""
    d = x.shape[1]
    logits = x @ m.T - 0.5 * (d * s2 + (m**2).sum(axis=1))[None, :]
    return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))


def update_means(x: np.ndarray, phi: np.ndarray, prior_var: float) -> tuple[np.ndarray, np.ndarray]:
    """``q*(mu_k)``: ``m_k = sum_i phi_ik x_i / (1/prior_var + N_k)``, ``s2_k = 1/(...)``.

    ``s2_k = 1 / (1/prior_var + N_k)``, where ``N_k = sum_i phi_ik`` is the
    expected number of points in component k.
    """
    precision = 1.0 / prior_var + phi.sum(axis=0)
    return (phi.T @ x) / precision[:, None], 1.0 / precision


def cavi(
    x: np.ndarray,
    k: int,
    prior_var: float = 25.0,
    n_iter: int = 100,
    tol: float = 1e-10,
    seed: int = 0,
) -> CAVIFit:
    """Coordinate ascent: every ``q(c_i)``, then every ``q(mu_k)``, until the ELBO settles."""
    x = np.asarray(x, np.float64)
    if x.ndim == 1:
        x = x[:, None]
    rng = np.random.default_rng(seed)
    m = x[rng.choice(len(x), size=k, replace=False)].copy()
    s2 = np.ones(k)
    phi = update_assignments(x, m, s2)
    history = [elbo(x, m, s2, phi, prior_var)]
    for _ in range(n_iter):
        phi = update_assignments(x, m, s2)
        m, s2 = update_means(x, phi, prior_var)
        history.append(elbo(x, m, s2, phi, prior_var))
        if abs(history[-1] - history[-2]) < tol * abs(history[-1]):
            break
    return CAVIFit(m, s2, phi, history)
