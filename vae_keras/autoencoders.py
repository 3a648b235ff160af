"""The plain and the denoising autoencoder of the slides' background (slide "Autoencoder").

Same dense layout as the VAE (``original_dim -> intermediate_dim -> latent_dim ->
intermediate_dim -> original_dim``), but a deterministic code ``g_phi(x)`` and the
squared-error objective :func:`vae_keras.losses.squared_error`. A denoising
autoencoder corrupts its input during training only, with masking noise (a
fraction of the pixels set to 0) or additive Gaussian noise, as in Vincent et
al. (2008): ``x~ ~ M_D(x~ | x)``.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
from keras import layers, ops

from vae_keras import losses, noise

CORRUPTIONS = (None, "mask", "gaussian")


class MaskingNoise(layers.Layer):
    """Zero each input with probability ``rate`` in training (no rescaling, unlike Dropout)."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be in [0, 1), got {rate}.")
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        keep = noise.uniform(ops.shape(inputs), self.seed_generator) >= self.rate
        return inputs * ops.cast(keep, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


def corruption_layer(
    kind: str | None, level: float, seed: int | None = None
) -> layers.Layer | None:
    """The corruption ``M_D`` of a denoising autoencoder: masking or Gaussian noise, or None."""
    if kind is None:
        return None
    if kind == "mask":
        return MaskingNoise(level, seed=seed, name="masking_noise")
    if kind == "gaussian":
        return layers.GaussianNoise(level, seed=seed, name="gaussian_noise")
    raise ValueError(f"corruption must be one of {CORRUPTIONS}, got {kind!r}.")


class AutoencoderModels(NamedTuple):
    autoencoder: keras.Model  # x -> f(g(x~)) during training, f(g(x)) otherwise
    encoder: keras.Model  # x -> g(x)
    corruption: layers.Layer | None


def build_autoencoder(
    original_dim: int = 784,
    intermediate_dim: int = 256,
    latent_dim: int = 32,
    corruption: str | None = None,
    level: float = 0.3,
    seed: int | None = None,
) -> AutoencoderModels:
    """Build an (optionally denoising) autoencoder, compiled with RMSprop and ``squared_error``."""
    inputs = keras.Input(shape=(original_dim,), name="ae_input")
    noise = corruption_layer(corruption, level, seed)
    h = noise(inputs) if noise is not None else inputs
    h = layers.Dense(intermediate_dim, activation="relu", name="encoder_h")(h)
    code = layers.Dense(latent_dim, name="code")(h)
    h_dec = layers.Dense(intermediate_dim, activation="relu", name="decoder_h")(code)
    outputs = layers.Dense(original_dim, activation="sigmoid", name="decoder_mean")(h_dec)
    autoencoder = keras.Model(
        inputs, outputs, name="denoising_autoencoder" if noise else "autoencoder"
    )
    autoencoder.compile(optimizer="rmsprop", loss=losses.squared_error)
    return AutoencoderModels(autoencoder, keras.Model(inputs, code, name="ae_encoder"), noise)
