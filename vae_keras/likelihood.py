"""A tighter bound on ``log p(x)``: the importance-weighted estimate (Burda et al., 2016).

The ELBO of slide "Neural Networks" is ``E_q[log p(x | z) + log p(z) - log q(z | x)]``.
With k samples ``z_j ~ q(z | x)``,

    log p_k(x) = log (1/k) sum_j p(x | z_j) p(z_j) / q(z_j | x)

is still a lower bound on ``log p(x)``, equals the ELBO in expectation at
``k = 1``, does not decrease with k in expectation, and tends to ``log p(x)``.
Computed in batches, with log-sum-exp. ``log p(x | z)`` is the Bernoulli
log-likelihood of :func:`vae_keras.losses.reconstruction_loss`, applied to grey
levels as in the slides' code (so the numbers are not those of binarised MNIST).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from scipy.special import logsumexp

from vae_keras import losses
from vae_keras.model import VAEModels, reparameterize

LOG_2PI = math.log(2 * math.pi)
to_numpy = keras.ops.convert_to_numpy


def log_normal_diag(z: np.ndarray, mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """``log N(z; mean, diag(exp(log_var)))`` summed over the last axis."""
    return -0.5 * np.sum(LOG_2PI + log_var + (z - mean) ** 2 / np.exp(log_var), axis=-1)


def posterior_model(models: VAEModels) -> keras.Model:
    """``x -> (z_mean, z_log_var)``: the encoder's Gaussian ``q(z | x)``, on the VAE's layers."""
    vae = models.vae
    return keras.Model(
        vae.input, [vae.get_layer("z_mean").output, vae.get_layer("z_log_var").output]
    )


def log_weights(
    models: VAEModels,
    x: np.ndarray,
    epsilon: np.ndarray,
    posterior: keras.Model | None = None,
) -> np.ndarray:
    """(k, batch) log importance weights ``log p(x|z) + log p(z) - log q(z|x)``, ``z ~ q(z|x)``.

    ``z = reparameterize(mu(x), log_var(x), epsilon)`` with ``epsilon`` of shape
    (k, batch, latent_dim) drawn from N(0, I). ``posterior`` is
    :func:`posterior_model` of ``models``, built once by the caller.
    """
    posterior = posterior or posterior_model(models)
    mean, log_var = (to_numpy(t).astype(np.float64) for t in posterior(x, training=False))
    k = epsilon.shape[0]
    z = to_numpy(reparameterize(mean, log_var, epsilon))
    decoded = models.generator(z.reshape(-1, z.shape[-1]).astype(np.float32), training=False)
    x_rep = np.broadcast_to(x, (k, *x.shape)).reshape(-1, x.shape[-1])
    log_px_z = -to_numpy(losses.reconstruction_loss(x_rep, decoded)).astype(np.float64)
    log_px_z = log_px_z.reshape(k, -1)
    log_pz = log_normal_diag(z, 0.0, np.zeros_like(z))
    log_qz = log_normal_diag(z, mean, log_var)
    return log_px_z + log_pz - log_qz


def example_noise(seed: int, indices: range, k: int, latent_dim: int) -> np.ndarray:
    """(k, len(indices), latent_dim) standard normal draws; example ``i``'s come from ``(seed, i)``.

    Each example's k draws depend on the seed and its index only, so the
    estimate does not depend on how the examples are batched.
    """
    return np.stack(
        [np.random.default_rng((seed, i)).standard_normal((k, latent_dim)) for i in indices],
        axis=1,
    )


def importance_weighted_log_likelihood(
    models: VAEModels, x: np.ndarray, k: int = 1000, seed: int = 0, max_rows: int = 100_000
) -> np.ndarray:
    """Per-example ``log p_k(x)`` (nats), in batches of at most ``max_rows`` decoded samples.

    The result does not depend on ``max_rows`` (see :func:`example_noise`).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    posterior = posterior_model(models)
    latent_dim = posterior.outputs[0].shape[-1]
    batch = max(1, max_rows // k)
    out = []
    for start in range(0, len(x), batch):
        indices = range(start, min(start + batch, len(x)))
        epsilon = example_noise(seed, indices, k, latent_dim)
        w = log_weights(models, x[indices.start : indices.stop], epsilon, posterior)
        out.append(logsumexp(w, axis=0) - math.log(k))
    return np.concatenate(out)


def elbo(models: VAEModels, x: np.ndarray, samples: int = 1, seed: int = 0) -> np.ndarray:
    """Per-example ELBO ``E_q[log p(x|z)] - KL(q(z|x) || p(z))``, analytic KL, sampled z."""
    rng = np.random.default_rng(seed)
    mean, log_var = (to_numpy(t) for t in posterior_model(models)(x, training=False))
    kl = to_numpy(losses.kl_divergence(mean, log_var)).astype(np.float64)
    recon = np.zeros(len(x))
    for _ in range(samples):
        z = reparameterize(mean, log_var, rng.standard_normal(mean.shape).astype(np.float32))
        recon += to_numpy(losses.reconstruction_loss(x, models.generator(z, training=False)))
    return -recon / samples - kl
