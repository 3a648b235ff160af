"""The encoder and decoder bodies of the VAE, by name: ``dense`` (the slides') and ``conv``.

Every architecture takes and gives flat vectors of ``prod(image_shape)`` values,
the slides' layout (``x_train.reshape((len(x_train), np.prod(x_train.shape[1:])))``),
so the loss, the likelihood bound, FID and the run directory are the same code
for all of them; an architecture that wants images reshapes inside the model.

``dense``
    Slides "Encoder" and "Decoder", line for line: ``Dense(intermediate_dim,
    relu)`` to the two heads, and ``Dense(intermediate_dim, relu)`` then
    ``Dense(original_dim, sigmoid)`` back.
``conv``
    The convolutional VAE of the keras-io example and TensorFlow's CVAE
    tutorial: two 3x3 convolutions of stride 2 (``filters``, then twice as
    many) and ``Dense(intermediate_dim)`` to the heads; ``Dense`` to a quarter
    of the image's grid, two stride-2 transposed convolutions and a 3x3
    transposed convolution to the image's channels.

Both decoders end in a layer of logits (``decoder_logits``) and a ``sigmoid``
layer giving the mean (``decoder_mean``): the slides'
``Dense(original_dim, activation='sigmoid')`` is written as
``Dense(original_dim)`` then ``Activation('sigmoid')`` (the same function and
weights), so the Bernoulli loss and the likelihood bound take the exact logits
on every backend.

The decoder's output is the mean of ``p(x | z)`` for both likelihoods
(:mod:`vae_keras.model` adds the Bernoulli or Gaussian loss on top of it).
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from vae_keras.variants import ARCHITECTURES

#: Filters of the conv architecture's first convolution (the second has twice as many).
CONV_FILTERS = 16


def check_architecture(architecture: str, image_shape: tuple[int, ...]) -> None:
    """Raise ``ValueError`` if ``architecture`` is unknown or cannot take ``image_shape``."""
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}."
        )
    if architecture == "conv":
        h, w = image_shape[:2]
        if len(image_shape) not in (2, 3) or h % 4 or w % 4:
            raise ValueError(
                f"the conv architecture needs (height, width[, channels]) images with height and "
                f"width divisible by 4, got image_shape {tuple(image_shape)}."
            )


def is_convolutional(model: keras.Model) -> bool:
    """Whether ``model`` (a run's encoder, say) has a convolution: the ``conv`` architecture."""
    return any(isinstance(layer, layers.Conv2D) for layer in model.layers)


def channels_last(image_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """``(28, 28) -> (28, 28, 1)``; ``(32, 32, 3)`` stays."""
    return tuple(image_shape) if len(image_shape) == 3 else (*image_shape, 1)


def encoder_body(
    architecture: str, inputs, image_shape: tuple[int, ...], intermediate_dim: int, labels=None
):
    """The encoder up to (not including) the ``z_mean`` / ``z_log_var`` heads.

    ``dense``, slide "Encoder"::

        h = Dense(intermediate_dim, activation='relu')(x)

    ``labels`` (a conditional VAE's one-hot input, or None) join the input of that Dense
    layer, ``encoder_h``: the image itself (dense) or its flattened convolution features (conv).
    """
    if architecture == "dense":
        return _encoder_h(intermediate_dim, inputs, labels)
    h = layers.Reshape(channels_last(image_shape), name="encoder_image")(inputs)
    h = layers.Conv2D(
        CONV_FILTERS, 3, strides=2, padding="same", activation="relu", name="encoder_conv1"
    )(h)
    h = layers.Conv2D(
        2 * CONV_FILTERS, 3, strides=2, padding="same", activation="relu", name="encoder_conv2"
    )(h)
    h = layers.Flatten(name="encoder_flat")(h)
    return _encoder_h(intermediate_dim, h, labels)


def _encoder_h(intermediate_dim: int, h, labels):
    if labels is not None:
        h = layers.Concatenate(name="encoder_condition")([h, labels])
    return layers.Dense(intermediate_dim, activation="relu", name="encoder_h")(h)


def decoder_layers(
    architecture: str, image_shape: tuple[int, ...], intermediate_dim: int
) -> list[layers.Layer]:
    """The decoder's layers, in order, from ``z`` to the flat mean ``x_decoded_mean``.

    Created once, and applied twice by :func:`vae_keras.model.build_vae` (in the
    VAE and in the generator), as the slides do. ``dense``, slide "Decoder"::

        decoder_h = Dense(intermediate_dim, activation='relu')
        decoder_mean = Dense(original_dim, activation='sigmoid')

    here as ``Dense(original_dim, name="decoder_logits")`` and
    ``Activation("sigmoid", name="decoder_mean")``: the same function, with the
    logits a tensor of the graph (see the module's docstring).
    """
    original_dim = math.prod(image_shape)
    if architecture == "dense":
        return [
            layers.Dense(intermediate_dim, activation="relu", name="decoder_h"),
            layers.Dense(original_dim, name="decoder_logits"),
            layers.Activation("sigmoid", name="decoder_mean", dtype="float32"),
        ]
    height, width, channels = channels_last(image_shape)
    grid = (height // 4, width // 4, 2 * CONV_FILTERS)
    return [
        layers.Dense(math.prod(grid), activation="relu", name="decoder_h"),
        layers.Reshape(grid, name="decoder_grid"),
        layers.Conv2DTranspose(
            2 * CONV_FILTERS,
            3,
            strides=2,
            padding="same",
            activation="relu",
            name="decoder_deconv1",
        ),
        layers.Conv2DTranspose(
            CONV_FILTERS, 3, strides=2, padding="same", activation="relu", name="decoder_deconv2"
        ),
        layers.Conv2DTranspose(channels, 3, padding="same", name="decoder_image_logits"),
        layers.Flatten(name="decoder_logits"),
        layers.Activation("sigmoid", name="decoder_mean", dtype="float32"),
    ]


def apply(stack: list[layers.Layer], x):
    """``stack[-1](...stack[1](stack[0](x)))``."""
    for layer in stack:
        x = layer(x)
    return x


def apply_decoder(stack: list[layers.Layer], z):
    """``(logits, mean)``: the decoder ``stack`` applied to ``z``, with its ``decoder_logits``."""
    names = [layer.name for layer in stack]
    cut = names.index("decoder_logits") + 1
    logits = apply(stack[:cut], z)
    return logits, apply(stack[cut:], logits)


def decoder_logits(generator: keras.Model, z):
    """The decoder's logits ``l`` (its mean is ``sigmoid(l)``) for ``z`` of shape (..., latent).

    Every layer up to ``decoder_logits``. A generator saved before the dense
    decoder had that layer (its ``decoder_mean`` a ``Dense`` with a sigmoid):
    ``decoder_h``, then ``decoder_mean``'s affine map ``h W + b``. Leading
    axes of ``z`` beyond the batch are folded into it and restored.
    """
    z = ops.convert_to_tensor(z)
    lead = ops.shape(z)[:-1]
    flat = ops.reshape(z, (-1, ops.shape(z)[-1]))
    names = [layer.name for layer in generator.layers]
    if "decoder_logits" in names:
        stack = generator.layers[names.index("decoder_h") : names.index("decoder_logits") + 1]
        logits = apply(stack, flat)
    else:
        h = generator.get_layer("decoder_h")(flat)
        out = generator.get_layer("decoder_mean")
        logits = ops.matmul(h, out.kernel) + out.bias
    return ops.reshape(logits, (*lead, ops.shape(logits)[-1]))


def decode(generator: keras.Model, z):
    """The generator's mean for ``z`` of shape (..., latent): leading axes folded and restored."""
    z = ops.convert_to_tensor(z)
    lead = ops.shape(z)[:-1]
    mean = generator(ops.reshape(z, (-1, ops.shape(z)[-1])), training=False)
    return ops.reshape(mean, (*lead, ops.shape(mean)[-1]))
