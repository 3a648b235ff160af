"""A tighter bound on ``log p(x)``: the importance-weighted estimate (Burda et al., 2016).

The ELBO of slide "Neural Networks" is ``E_q[log p(x | z) + log p(z) - log q(z | x)]``.
With k samples ``z_j ~ q(z | x)``,

    log p_k(x) = log (1/k) sum_j p(x | z_j) p(z_j) / q(z_j | x)

is still a lower bound on ``log p(x)``, equals the ELBO in expectation at
``k = 1``, does not decrease with k in expectation, and tends to ``log p(x)``.
Computed in batches, with log-sum-exp. ``log p(x | z)`` is one of
:data:`DENSITIES`:

``bernoulli``
    The slides' training term, :func:`vae_keras.losses.reconstruction_loss_from_logits`,
    applied to grey levels in [0, 1] as in the slides' code. For non-binary
    ``x`` it is not a normalised density (it integrates to less than 1 over
    [0, 1]), so its "log-likelihood" bounds an unnormalised score: not a
    log-likelihood, and not that of binarised MNIST either.
``continuous_bernoulli``
    The continuous Bernoulli density (Loaiza-Ganem & Cunningham, 2019) with the
    same decoder output as its parameter,
    :func:`vae_keras.losses.continuous_bernoulli_log_likelihood`: a density on
    [0, 1]^D, so the bounds are bounds on a real log-likelihood of grey-level
    images.
``gaussian``
    The Gaussian decoder's density,
    :func:`vae_keras.losses.gaussian_reconstruction_loss` with the learned variance.

A Bernoulli run is scored under the first two (from one decoded batch); a
Gaussian run under its own.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

import keras
import numpy as np
from keras import ops
from scipy.special import logsumexp

from vae_keras import architectures, distribution, losses
from vae_keras.conditioning import LabelError
from vae_keras.model import VAELossLayer, VAEModels, loss_layer, reparameterize

LOG_2PI = math.log(2 * math.pi)
to_numpy = keras.ops.convert_to_numpy


def log_normal_diag(z, mean, log_var):
    """``log N(z; mean, diag(exp(log_var)))`` summed over the last axis (``keras.ops``).

    ``-1/2 sum_j [log(2 pi) + log_var_j + (z_j - mean_j)^2 / exp(log_var_j)]``.
    """
    return -0.5 * ops.sum(LOG_2PI + log_var + ops.square(z - mean) / ops.exp(log_var), axis=-1)


def check_unconditional(models: VAEModels) -> None:
    """A :class:`vae_keras.conditioning.LabelError` for a conditional run (its inputs a dict):
    the bounds here are of ``log p(x)``; a conditional run's ``log p(x | y)`` is not computed."""
    if isinstance(models.vae.input, dict):
        raise LabelError(
            "the likelihood bounds are computed for unconditional runs; this run is "
            "conditional (--conditional), whose log p(x | y) they do not compute."
        )


def posterior_model(models: VAEModels) -> keras.Model:
    """``x -> (z_mean, z_log_var)``: the encoder's Gaussian ``q(z | x)``, on the VAE's layers."""
    vae = models.vae
    return keras.Model(
        vae.input, [vae.get_layer("z_mean").output, vae.get_layer("z_log_var").output]
    )


#: The densities ``log p(x | z)`` a run can be scored under (see the module's docstring).
DENSITIES = ("bernoulli", "continuous_bernoulli", "gaussian")


def densities_of(loss: VAELossLayer) -> tuple[str, ...]:
    """The densities a run with this loss layer is scored under: its own first."""
    if loss.likelihood == "bernoulli":
        return ("bernoulli", "continuous_bernoulli")
    return (loss.likelihood,)


class LogWeights(keras.layers.Layer):
    """``log p(x|z) + log p(z) - log q(z|x)`` for ``z = mu + sigma * epsilon``, k per example.

    Called on ``[x, z_mean, z_log_var, epsilon]`` with ``epsilon`` of shape
    (batch, k, latent_dim); returns (batch, k, len(densities)), one log weight per
    density of ``densities``. ``log p(x | z)`` is :func:`log_px_given_z`; the two
    Gaussian terms are :func:`log_normal_diag`.
    """

    def __init__(
        self, generator: keras.Model, loss: VAELossLayer, densities: tuple[str, ...], **kwargs
    ):
        super().__init__(**kwargs)
        self.generator = generator
        self.loss = loss
        self.densities = tuple(densities)

    def call(self, inputs):
        x, mean, log_var, epsilon = inputs
        z = reparameterize(mean[:, None, :], log_var[:, None, :], epsilon)  # (batch, k, latent)
        log_px_z = log_px_given_z(self.generator, self.loss, x[:, None, :], z, self.densities)
        log_pz = log_normal_diag(z, ops.zeros_like(z), ops.zeros_like(z))
        log_qz = log_normal_diag(z, mean[:, None, :], log_var[:, None, :])
        return ops.stack([term + log_pz - log_qz for term in log_px_z], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[3][0], input_shape[3][1], len(self.densities))


def log_px_given_z(
    generator: keras.Model,
    loss: VAELossLayer,
    x,
    z,
    densities: tuple[str, ...] | None = None,
) -> list:
    """``log p(x | z)`` under each of ``densities`` (default: the run's own), for ``z`` of
    shape (..., latent_dim); one tensor of shape ``z.shape[:-1]`` per density.

    ``bernoulli``: minus :func:`vae_keras.losses.reconstruction_loss_from_logits`
    of the decoder's exact logits (:func:`vae_keras.architectures.decoder_logits`).
    ``continuous_bernoulli``: :func:`vae_keras.losses.continuous_bernoulli_log_likelihood`
    of the same logits (the two share one decoding). ``gaussian``: minus the loss
    layer's ``reconstruction_loss`` of the decoder's mean
    (:func:`vae_keras.losses.gaussian_reconstruction_loss`, the learned variance).
    """
    densities = tuple(densities or (loss.likelihood,))
    unknown = set(densities) - set(densities_of(loss))
    if unknown:
        raise ValueError(
            f"a {loss.likelihood} run is scored under {', '.join(densities_of(loss))}, "
            f"not {', '.join(sorted(unknown))}."
        )
    if loss.likelihood == "gaussian":
        return [-loss.reconstruction_loss(x, architectures.decode(generator, z))]
    logits = architectures.decoder_logits(generator, z)
    bernoulli = -losses.reconstruction_loss_from_logits(x, logits)
    terms = {"bernoulli": bernoulli}
    if "continuous_bernoulli" in densities:
        log_c = ops.sum(losses.continuous_bernoulli_log_normalizer(logits), axis=-1)
        terms["continuous_bernoulli"] = bernoulli + log_c
    return [terms[d] for d in densities]


def log_weights_model(models: VAEModels, k: int, densities: tuple[str, ...]) -> keras.Model:
    """``(x, epsilon) -> (batch, k, len(densities))`` log importance weights, on the VAE's
    own layers.

    A Keras model, so ``predict_on_batch`` runs it compiled (XLA on TensorFlow
    and JAX, as :func:`vae_keras.distribution.xla_pays` allows: not a conv run on a CPU with
    TensorFlow): the decoder, the per-pixel log terms and the Gaussian densities of
    a whole batch of ``batch x k`` samples in one call, with no array converted
    back and forth between steps.
    """
    vae = models.vae
    x = keras.Input(shape=vae.input_shape[1:], name="x")
    latent_dim = vae.get_layer("z_mean").units
    epsilon = keras.Input(shape=(k, latent_dim), name="epsilon")
    mean, log_var = posterior_model(models)(x)
    weights = LogWeights(models.generator, loss_layer(vae), densities)([x, mean, log_var, epsilon])
    model = keras.Model([x, epsilon], weights, name="log_weights")
    model.compile(jit_compile=distribution.xla_pays(architectures.is_convolutional(models.encoder)))
    return model


#: The log-weights models built so far, per VAE (held weakly: a run's entry goes with it) and
#: per ``(k, densities)``. A model is traced (and, with XLA, compiled) on its first call only,
#: so a second estimate on the same run (another seed, another test batch) reuses its work:
#: 15 estimates on one tiny run took 6.9 s on TensorFlow with a model each, most of it tracing
#: and compiling (2-core Xeon without AMX).
_LOG_WEIGHTS_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def shared_log_weights_model(models: VAEModels, k: int, densities: tuple[str, ...]) -> keras.Model:
    """:func:`log_weights_model` of ``models``, built once per ``(k, densities)`` while the
    run's VAE lives. It computes on the VAE's own layers, so it follows their weights."""
    built = _LOG_WEIGHTS_MODELS.setdefault(models.vae, {})
    densities = tuple(densities)
    if (k, densities) not in built:
        built[k, densities] = log_weights_model(models, k, densities)
    return built[k, densities]


def example_noise(seed: int, indices: range, k: int, latent_dim: int) -> np.ndarray:
    """(k, len(indices), latent_dim) standard normal draws; example ``i``'s come from ``(seed, i)``.

    Each example's k draws depend on the seed and its index only, so the
    estimate does not depend on how the examples are batched.
    """
    return np.stack(
        [np.random.default_rng((seed, i)).standard_normal((k, latent_dim)) for i in indices],
        axis=1,
    )


def importance_weighted_bounds(
    models: VAEModels,
    x: np.ndarray,
    k: int = 1000,
    seed: int = 0,
    max_rows: int = 50_000,
    progress: Callable[[int], None] | None = None,
    densities: tuple[str, ...] | None = None,
) -> dict[str, np.ndarray]:
    """Per-example ``log p_k(x)`` (nats) under each density, in batches of at most
    ``max_rows`` decoded samples; ``{density: array}``, default :func:`densities_of` the run.

    The log weights come from :func:`log_weights_model` (compiled, float32; built once per
    run, k and densities: :func:`shared_log_weights_model`); the
    log-sum-exp over the k samples is taken in float64. Every density uses the
    same ``z`` samples. Example ``i``'s noise depends on ``(seed, i)`` only
    (:func:`example_noise`), so the result does not depend on ``max_rows``.
    ``progress``, if given, is called with the number of examples done after
    each batch.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    check_unconditional(models)
    densities = tuple(densities or densities_of(loss_layer(models.vae)))
    model = shared_log_weights_model(models, k, densities)
    latent_dim = models.encoder.output_shape[-1]
    batch = max(1, max_rows // k)
    out = []
    for start in range(0, len(x), batch):
        indices = range(start, min(start + batch, len(x)))
        epsilon = example_noise(seed, indices, k, latent_dim).transpose(1, 0, 2)
        w = to_numpy(model.predict_on_batch([x[start : indices.stop], epsilon.astype("float32")]))
        out.append(logsumexp(w.astype(np.float64), axis=1) - math.log(k))
        if progress is not None:
            progress(indices.stop)
    bounds = np.concatenate(out)
    return {d: bounds[:, i] for i, d in enumerate(densities)}


def importance_weighted_log_likelihood(
    models: VAEModels,
    x: np.ndarray,
    k: int = 1000,
    seed: int = 0,
    max_rows: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Per-example ``log p_k(x)`` (nats) under the run's own likelihood:
    :func:`importance_weighted_bounds` of that density alone."""
    own = loss_layer(models.vae).likelihood
    return importance_weighted_bounds(models, x, k, seed, max_rows, progress, (own,))[own]


def elbo(
    models: VAEModels,
    x: np.ndarray,
    samples: int = 1,
    seed: int = 0,
    density: str | None = None,
) -> np.ndarray:
    """Per-example ELBO ``E_q[log p(x|z)] - KL(q(z|x) || p(z))``, analytic KL, sampled z.

    ``log p(x | z)`` is :func:`log_px_given_z` under ``density`` (default: the
    model's own training term; ``"continuous_bernoulli"`` for a Bernoulli run's
    normalised density).
    """
    check_unconditional(models)
    rng = np.random.default_rng(seed)
    loss = loss_layer(models.vae)
    density = density or loss.likelihood
    mean, log_var = (to_numpy(t) for t in posterior_model(models)(x, training=False))
    kl = to_numpy(losses.kl_divergence(mean, log_var)).astype(np.float64)
    log_px = np.zeros(len(x))
    for _ in range(samples):
        z = reparameterize(mean, log_var, rng.standard_normal(mean.shape).astype(np.float32))
        (term,) = log_px_given_z(models.generator, loss, x, z, (density,))
        log_px += to_numpy(term)
    return log_px / samples - kl
