"""The aggregate posterior q(z) and the ELBO surgery: how far the codes are from the prior.

The slide "Grid sampling from the normal distribution" decodes ``z ~ N(0, I)`` on the
ground that ``q_phi(z|x) ~ p_theta(z) ~ N(0, I)``. Over a training set ``x_1 .. x_N`` the
codes that the decoder has learnt to read come from the *aggregate posterior*

    q(z) = (1/N) sum_n q(z | x_n),      q(z | x_n) = N(z; mu_n, diag(sigma_n^2)),

and the average KL term of the loss splits into two (Hoffman & Johnson 2016, "ELBO surgery:
yet another way to carve up the variational evidence lower bound", eq. 2):

    E_n KL(q(z|x_n) || p(z)) = I_q(n; z) + KL(q(z) || p(z)),

the mutual information between the index of a training image and its code (what z says
about which image it came from; at most ``log N``), plus the distance of the aggregate
posterior from the prior (the "hole": where p(z) puts mass that no training image is
encoded to, and the other way round). One function per term; each takes the encoder's
``z_mean`` and ``z_log_var`` of the N training images.

Estimators. ``log q(z)`` is exact: the log-sum-exp over all N encodings, computed in chunks
of ``chunk`` encodings so that N = 60,000 fits in memory. The two surgery terms are Monte
Carlo averages over ``n_samples`` draws ``n ~ U{1..N}``, ``z ~ q(z|x_n)``: unbiased (q(z)
is the finite mixture itself, not an estimate of it), with the standard error returned
beside each. Each sample's mutual-information term ``log q(z|x_n) - log q(z)`` lies in
``(-inf, log N]`` since ``q(z) >= q(z|x_n) / N``, so the estimate never exceeds ``log N``.
The formulas use :func:`vae_keras.losses.kl_divergence` and
:func:`vae_keras.likelihood.log_normal_diag` (``keras.ops``; float64 where the backend
computes it, float32 on JAX).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from keras import ops
from scipy.special import logsumexp

from vae_keras.likelihood import log_normal_diag
from vae_keras.losses import kl_divergence

#: Encodings per chunk of the log-sum-exp: (samples x chunk x latent) values at once.
CHUNK = 4096


def _log_normal_diag(z, mean, log_var) -> np.ndarray:
    """:func:`vae_keras.likelihood.log_normal_diag` as a float64 NumPy array."""
    return np.asarray(ops.convert_to_numpy(log_normal_diag(z, mean, log_var)), dtype=np.float64)


def average_kl(z_mean: np.ndarray, z_log_var: np.ndarray) -> float:
    """``E_n KL(q(z|x_n) || p(z))``: the mean over the images of the loss's analytic KL term
    (:func:`vae_keras.losses.kl_divergence`, slide "Example"), in nats."""
    return float(np.mean(ops.convert_to_numpy(kl_divergence(z_mean, z_log_var))))


def log_aggregate_posterior(
    z: np.ndarray, z_mean: np.ndarray, z_log_var: np.ndarray, chunk: int = CHUNK
) -> np.ndarray:
    """``log q(z) = log (1/N) sum_n N(z; mu_n, diag(exp(z_log_var_n)))`` for each row of ``z``.

    Hoffman & Johnson 2016, the aggregate posterior. ``z`` has shape (M, d), the encodings
    (N, d); the M x N log-densities are formed ``chunk`` encodings at a time and combined by
    log-sum-exp, so memory is M x chunk x d whatever N is. Returns shape (M,).
    """
    z = np.asarray(z, dtype=np.float64)
    n = len(z_mean)
    parts = []
    for start in range(0, n, chunk):
        mean = np.asarray(z_mean[start : start + chunk], dtype=np.float64)[None]
        log_var = np.asarray(z_log_var[start : start + chunk], dtype=np.float64)[None]
        parts.append(logsumexp(_log_normal_diag(z[:, None, :], mean, log_var), axis=1))
    return logsumexp(np.stack(parts, axis=1), axis=1) - math.log(n)


def log_prior(z: np.ndarray) -> np.ndarray:
    """``log p(z) = log N(z; 0, I)`` for each row of ``z`` (the slides' prior)."""
    z = np.asarray(z, dtype=np.float64)
    return _log_normal_diag(z, np.zeros_like(z), np.zeros_like(z))


def aggregate_posterior_samples(
    z_mean: np.ndarray, z_log_var: np.ndarray, n_samples: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` draws of ``q(z)``: an image ``n ~ U{1..N}``, then ``z ~ q(z|x_n)`` by the
    reparameterization ``z = mu_n + exp(log_var_n / 2) * eps``; returns ``(z, n)``."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(z_mean), size=n_samples)
    mean = np.asarray(z_mean, dtype=np.float64)[index]
    std = np.exp(0.5 * np.asarray(z_log_var, dtype=np.float64)[index])
    return mean + std * rng.standard_normal(mean.shape), index


@dataclass(frozen=True)
class Surgery:
    """The ELBO surgery's terms (nats) with their Monte Carlo standard errors: ``average_kl``
    (analytic), ``mutual_information`` and ``marginal_kl`` (estimated; their sum estimates
    ``average_kl``), the ceiling ``log_n`` of the mutual information, and the sample count."""

    average_kl: float
    mutual_information: float
    mutual_information_se: float
    marginal_kl: float
    marginal_kl_se: float
    log_n: float
    n_samples: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def mutual_information_terms(
    z: np.ndarray, index: np.ndarray, z_mean: np.ndarray, z_log_var: np.ndarray, log_qz=None
) -> np.ndarray:
    """Per sample, ``log q(z|x_n) - log q(z)``: the Monte Carlo terms of
    ``I_q(n; z) = E_{q(n, z)}[log q(z|x_n) - log q(z)]`` (Hoffman & Johnson 2016, eq. 2),
    each at most ``log N``. ``log_qz`` (:func:`log_aggregate_posterior` of ``z``) is
    computed unless given."""
    log_qz = log_aggregate_posterior(z, z_mean, z_log_var) if log_qz is None else log_qz
    own = _log_normal_diag(z, np.asarray(z_mean)[index], np.asarray(z_log_var)[index])
    return own - log_qz


def marginal_kl_terms(
    z: np.ndarray, z_mean: np.ndarray, z_log_var: np.ndarray, log_qz=None
) -> np.ndarray:
    """Per sample, ``log q(z) - log p(z)``: the Monte Carlo terms of
    ``KL(q(z) || p(z)) = E_{q(z)}[log q(z) - log p(z)]`` (Hoffman & Johnson 2016, eq. 2)."""
    log_qz = log_aggregate_posterior(z, z_mean, z_log_var) if log_qz is None else log_qz
    return log_qz - log_prior(z)


def elbo_surgery(
    z_mean: np.ndarray, z_log_var: np.ndarray, n_samples: int = 10_000, seed: int = 0
) -> Surgery:
    """``E_n KL(q(z|x_n) || p(z)) = I_q(n; z) + KL(q(z) || p(z))`` for the encodings of N
    images (Hoffman & Johnson 2016): the analytic average KL beside the two estimated terms,
    each from the same ``n_samples`` draws of q(z) (:func:`aggregate_posterior_samples`)."""
    z, index = aggregate_posterior_samples(z_mean, z_log_var, n_samples, seed)
    log_qz = log_aggregate_posterior(z, z_mean, z_log_var)
    info = mutual_information_terms(z, index, z_mean, z_log_var, log_qz)
    marginal = marginal_kl_terms(z, z_mean, z_log_var, log_qz)

    def se(terms: np.ndarray) -> float:
        return float(terms.std(ddof=1) / math.sqrt(len(terms))) if len(terms) > 1 else math.nan

    return Surgery(
        average_kl=average_kl(z_mean, z_log_var),
        mutual_information=float(info.mean()),
        mutual_information_se=se(info),
        marginal_kl=float(marginal.mean()),
        marginal_kl_se=se(marginal),
        log_n=math.log(len(z_mean)),
        n_samples=n_samples,
    )
