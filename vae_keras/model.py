"""The slides' variational autoencoder, built with the Keras functional API.

The code follows the slides "Encoder", "Reparameterization trick", "Decoder",
"End-to-end Autoencoder" and "Loss function & Train" line by line. The one
change Keras 3 forces: symbolic ``Model.add_loss`` is gone, so the loss is added
by a small layer, :class:`VAELossLayer`, whose ``call`` adds the slides'
``vae_loss`` with ``self.add_loss`` and passes ``x_decoded_mean`` through.

The model runs on every Keras 3 backend (TensorFlow, JAX, PyTorch): it uses
``keras.ops`` only, the sampling ``Lambda`` layer owns its noise generator (so
that JAX threads its state through the compiled step), and :class:`VAE` reports
the two parts of the loss from ``compute_loss``, where every backend allows it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import NamedTuple

import keras
from keras import layers, ops

from vae_keras import architectures, losses, noise
from vae_keras.conditioning import IMAGES_INPUT, LABEL_INPUT, LATENT_INPUT
from vae_keras.data import NUM_CLASSES
from vae_keras.variants import LIKELIHOODS, PRECISIONS

#: Names of the per-epoch metrics the model reports beside ``loss`` (and as ``val_...``).
RECONSTRUCTION_METRIC = "reconstruction_loss"
KL_METRIC = "kl_loss"


def check_beta(beta) -> float:
    """``beta`` as a float if it is a positive finite number (the KL weight), else ValueError."""
    ok = isinstance(beta, (int, float)) and not isinstance(beta, bool)
    if not ok or not math.isfinite(beta) or beta <= 0:
        raise ValueError(
            f"beta must be a positive finite number (1 is the slides' loss), got {beta!r}."
        )
    return float(beta)


def reparameterize(z_mean, z_log_var, epsilon):
    """The reparameterization trick ``z = mu + sigma * epsilon``.

    Slide "Example": ``z = mu + sigma (.) epsilon`` with ``epsilon ~ N(0, I)``;
    slide "Reparameterization trick" writes it with ``sigma = exp(0.5 * log_var)``::

        return z_mean + K.exp(0.5 * z_log_var) * epsilon

    Parameters
    ----------
    z_mean, z_log_var, epsilon : tensors (or NumPy arrays) of the same shape (batch, latent_dim)
    """
    z_mean, z_log_var, epsilon = (ops.convert_to_tensor(t) for t in (z_mean, z_log_var, epsilon))
    return z_mean + ops.exp(0.5 * z_log_var) * epsilon


@keras.saving.register_keras_serializable(package="vae_keras")
def sampling(args, seed_generator: keras.random.SeedGenerator):
    """The slides' ``sampling(args)``, the body of the ``Lambda`` layer, with its noise source.

    Slide "Reparameterization trick"::

        def sampling(args):
            z_mean, z_log_var = args
            epsilon = K.random_normal(shape=(batch, dim))
            return z_mean + K.exp(0.5 * z_log_var) * epsilon

    Keras 3 draws random numbers from an explicit ``SeedGenerator``, which makes
    the noise reproducible for a given seed; the ``Lambda`` layer passes it as
    an argument (``Lambda(sampling, arguments={"seed_generator": ...})``), so the
    layer owns it: every backend advances its state, and a ``.keras`` file
    saves it. The noise is :func:`vae_keras.noise.standard_normal`: the numbers of
    ``keras.random.normal``, drawn without TensorFlow's slow path under XLA on a CPU.
    The function is registered by name, so a saved model loads in Keras's safe mode.
    """
    z_mean, z_log_var = args
    epsilon = noise.standard_normal(ops.shape(z_mean), seed_generator)
    return reparameterize(z_mean, z_log_var, epsilon)


@keras.saving.register_keras_serializable(package="vae_keras")
class VAELossLayer(layers.Layer):
    """Adds the slides' loss to the model and returns ``x_decoded_mean`` unchanged.

    ``call([inputs, x_decoded_mean, z_mean, z_log_var, x_logits])``: slide "Loss
    function & Train", lines 2-6 (``vae.add_loss(vae_loss)``), with the Bernoulli
    decoder. ``vae_loss = K.mean(xent_loss + kl_loss)`` is added as its two
    batch means, :meth:`reconstruction_term` and the mean of
    :func:`vae_keras.losses.kl_divergence` (Keras minimises their sum, the
    same number), so that ``fit`` reports each part on every backend.

    The cross-entropy is computed from the decoder's logits
    (:func:`vae_keras.losses.reconstruction_loss_from_logits`) on TensorFlow,
    JAX and PyTorch alike: Keras's ``binary_crossentropy`` of the sigmoid's
    output uses the logits on TensorFlow only, and elsewhere clips the output to
    ``[1e-7, 1 - 1e-7]`` (a pixel's loss saturates at 16.1 nats there). A model
    saved before the logits were an input (four inputs) gets the clipped
    formula, the same on every backend.
    """

    likelihood = "bernoulli"

    def __init__(self, beta: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.beta = check_beta(beta)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}

    def reconstruction_loss(self, x, x_decoded_mean):
        """``-log p(x | z)`` per example from the mean: :func:`losses.reconstruction_loss`."""
        return losses.reconstruction_loss(x, x_decoded_mean)

    def reconstruction_term(self, x, x_decoded_mean, x_logits=None):
        """``-log p(x | z)`` per example, from the logits where the graph has them."""
        if x_logits is None:
            return self.reconstruction_loss(x, x_decoded_mean)
        return losses.reconstruction_loss_from_logits(x, x_logits)

    def call(self, inputs):
        x, x_decoded_mean, z_mean, z_log_var, *x_logits = inputs
        reconstruction = self.reconstruction_term(x, x_decoded_mean, *x_logits)
        self.add_loss(ops.mean(reconstruction))
        kl = ops.mean(losses.kl_divergence(z_mean, z_log_var))
        # the KL weight (Higgins et al. 2017's beta); 1 is the slides' loss, the same number
        self.add_loss(kl if self.beta == 1.0 else self.beta * kl)
        return x_decoded_mean

    def compute_output_shape(self, input_shape):
        return input_shape[1]


@keras.saving.register_keras_serializable(package="vae_keras")
class GaussianVAELossLayer(VAELossLayer):
    """The Gaussian decoder of slide "Example": ``p(x | z) = N(x; mu_theta(z), sigma^2 I)``.

    The decoder's output is ``mu_theta(z)``; ``log sigma^2`` (``x_log_var``) is
    one learned number shared by every pixel, a weight of this layer (so it is
    trained by RMSprop with the rest, saved in checkpoints and ``.keras``
    files). Adds ``losses.gaussian_vae_loss`` as its two batch means: the exact
    Gaussian negative log-likelihood in nats, and the KL. The logits are not used.
    """

    likelihood = "gaussian"

    def __init__(self, beta: float = 1.0, **kwargs):
        super().__init__(beta=beta, **kwargs)
        self.x_log_var = self.add_weight(shape=(), initializer="zeros", name="x_log_var")

    def reconstruction_loss(self, x, x_decoded_mean):
        """``-log N(x; mu, sigma^2 I)`` per example: :func:`losses.gaussian_reconstruction_loss`."""
        return losses.gaussian_reconstruction_loss(x, x_decoded_mean, self.x_log_var)

    def reconstruction_term(self, x, x_decoded_mean, x_logits=None):
        return self.reconstruction_loss(x, x_decoded_mean)


#: The loss layer of each likelihood of :data:`vae_keras.variants.LIKELIHOODS`, by name.
LOSS_LAYERS = {"bernoulli": VAELossLayer, "gaussian": GaussianVAELossLayer}


def loss_layer(vae: keras.Model) -> VAELossLayer:
    """The layer of ``vae`` that adds the loss (and knows its likelihood)."""
    return vae.get_layer("vae_loss")


@keras.saving.register_keras_serializable(package="vae_keras")
class VAE(keras.Model):
    """The slides' functional ``vae = Model(inputs, x_decoded_mean)``, reporting its loss's parts.

    Built from the functional graph exactly as ``keras.Model(inputs, outputs)``;
    the one addition is that ``fit`` and ``evaluate`` report
    ``reconstruction_loss`` and ``kl_loss`` beside ``loss``: the two terms the
    loss layer added (the batch means of the Bernoulli or Gaussian
    ``-log p(x | z)`` and of :func:`vae_keras.losses.kl_divergence`). They are
    updated in ``compute_loss``, where Keras lets a model update its metrics on
    every backend (a metric updated inside a layer's ``call`` fails under JAX).
    """

    def __init__(self, inputs, outputs, name=None, **kwargs):
        # Functional's own signature, so Keras saves (and rebuilds) the layer graph
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.reconstruction_tracker = keras.metrics.Mean(name=RECONSTRUCTION_METRIC)
        self.kl_tracker = keras.metrics.Mean(name=KL_METRIC)

    def get_compile_config(self):
        """The compile settings a ``.keras`` file keeps: the optimizer, and Keras's defaults for
        speed (``jit_compile="auto"``, one step per execution).

        Keras would keep the values it resolved for this process: a model trained on JAX
        says ``jit_compile=True``, and loaded on PyTorch it was compiled with
        ``torch.compile``, whose first ``predict`` took 30 s; ``steps_per_execution > 1``
        is refused by PyTorch. ``"auto"`` lets each backend choose its own default.
        """
        config = super().get_compile_config()
        if config is not None:
            config = {**config, "jit_compile": "auto", "steps_per_execution": 1}
        return config

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = super().compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training
        )
        # the two terms the loss layer added; ``total`` is their sum, divided by the number of
        # replicas under a tf.distribute strategy
        reconstruction, weighted_kl = self.losses
        beta = loss_layer(self).beta  # the metric is the KL itself, so the ELBO stays the ELBO
        kl = weighted_kl if beta == 1.0 else weighted_kl / beta
        # weighted by examples, as Keras weights the loss (x: the images, or a conditional
        # model's dict of images and labels)
        batch = ops.shape(keras.tree.flatten(x)[0])[0]
        self.reconstruction_tracker.update_state(reconstruction, sample_weight=batch)
        self.kl_tracker.update_state(kl, sample_weight=batch)
        return total


class VAEModels(NamedTuple):
    """The three models of slide "End-to-end Autoencoder", sharing their layers.

    ``seed_generator`` is the sampling layer's noise source; its state is saved
    with a checkpoint so that a resumed run draws the noise an uninterrupted
    run would.
    """

    vae: keras.Model
    encoder: keras.Model
    generator: keras.Model
    seed_generator: keras.random.SeedGenerator


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Layers created inside compute with Keras's dtype policy ``precision``.

    ``"float32"`` is the slides' model. ``"mixed_bfloat16"`` keeps every weight
    in float32 and computes the hidden layers' products in bfloat16 (Keras's
    mixed precision); :func:`build_vae` keeps in float32 what carries the
    mathematics: the heads ``z_mean`` and ``z_log_var``, the sampling layer,
    the sigmoid ``decoder_mean`` and the loss. The global policy is restored on
    leaving, so building one model changes no other.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}.")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_vae(
    original_dim: int = 784,
    intermediate_dim: int = 256,
    latent_dim: int = 2,
    seed: int | None = None,
    optimizer: str | keras.optimizers.Optimizer = "rmsprop",
    compile: bool = True,
    architecture: str = "dense",
    likelihood: str = "bernoulli",
    image_shape: tuple[int, ...] | None = None,
    precision: str = "float32",
    beta: float = 1.0,
    conditional: bool = False,
    **compile_options,
) -> VAEModels:
    """Build the slides' VAE and return ``VAEModels(vae, encoder, generator)``.

    Parameters
    ----------
    original_dim, intermediate_dim, latent_dim
        The slides' "Network parameters" (784, 256, 2). 3072 inputs serve
        CIFAR-10. Every model takes and gives flat vectors of ``original_dim``.
    seed
        Seed of the sampling layer's noise; ``None`` draws one from Keras's
        global seed (set by ``keras.utils.set_random_seed``).
    optimizer
        Passed to ``vae.compile`` (slide: ``'rmsprop'``); no ``loss=``, the loss
        comes from ``add_loss``.
    compile
        Compile ``vae`` as on the slides.
    architecture
        ``"dense"`` (the slides' code) or ``"conv"``
        (:mod:`vae_keras.architectures`).
    likelihood
        ``"bernoulli"`` (the slides' cross-entropy) or ``"gaussian"`` (slide
        "Example"'s ``N(x; mu, sigma^2 I)``, one learned ``sigma^2``).
    image_shape
        The images' shape, e.g. ``(28, 28)``; needed by ``conv``; its product
        must be ``original_dim``. Default ``(original_dim,)``.
    precision
        ``"float32"`` (the slides) or ``"mixed_bfloat16"``: :func:`dtype_policy`.
    beta
        The KL term's weight: the loss is ``reconstruction + beta * KL`` (1, the default, is
        the slides' loss); the metrics report the unweighted terms.
    conditional
        A conditional VAE (Sohn et al. 2015; :mod:`vae_keras.conditioning`): a second input,
        the one-hot label, joins the input of the encoder's ``encoder_h`` layer and ``z``
        before the decoder; the three models take dicts of their named inputs.
    **compile_options
        Extra ``vae.compile`` arguments that change speed, not results
        (``jit_compile``, ``steps_per_execution``).
    """
    for name, value in (
        ("original_dim", original_dim),
        ("intermediate_dim", intermediate_dim),
        ("latent_dim", latent_dim),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    image_shape = tuple(image_shape) if image_shape is not None else (original_dim,)
    if math.prod(image_shape) != original_dim:
        raise ValueError(f"image_shape {image_shape} does not hold original_dim={original_dim}.")
    architectures.check_architecture(architecture, image_shape)
    if likelihood not in LOSS_LAYERS:
        raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {likelihood!r}.")
    beta = check_beta(beta)
    with dtype_policy(precision):
        models = _build_layers(
            original_dim, intermediate_dim, latent_dim, seed, architecture, likelihood, image_shape,
            beta, conditional,
        )  # fmt: skip
    if compile:
        models.vae.compile(optimizer=optimizer, **compile_options)
    return models


def _build_layers(
    original_dim: int,
    intermediate_dim: int,
    latent_dim: int,
    seed: int | None,
    architecture: str,
    likelihood: str,
    image_shape: tuple[int, ...],
    beta: float = 1.0,
    conditional: bool = False,
) -> VAEModels:
    """The graph of :func:`build_vae`, under the dtype policy in force (float32 parts named)."""

    # Encoder (a conditional one also takes the one-hot label, joined to its Dense layer's input)
    inputs = keras.Input(shape=(original_dim,), name=IMAGES_INPUT)
    labels = keras.Input(shape=(NUM_CLASSES,), name=LABEL_INPUT) if conditional else None
    h = architectures.encoder_body(architecture, inputs, image_shape, intermediate_dim, labels)
    z_mean = layers.Dense(latent_dim, name="z_mean", dtype="float32")(h)
    z_log_var = layers.Dense(latent_dim, name="z_log_var", dtype="float32")(h)

    # Reparameterization trick; the Lambda layer owns its noise source
    seed_generator = keras.random.SeedGenerator(seed)
    z = layers.Lambda(
        sampling,
        output_shape=(latent_dim,),
        arguments={"seed_generator": seed_generator},
        name="z",
        dtype="float32",
    )([z_mean, z_log_var])

    # Decoder (layers created once, used by vae and generator)
    decoder = architectures.decoder_layers(architecture, image_shape, intermediate_dim)
    if conditional:  # Sohn et al.: the decoder's input is (z, y)
        decoder.insert(0, layers.Concatenate(name="decoder_condition"))
    x_logits, x_decoded_mean = architectures.apply_decoder(decoder, _joined(z, labels))

    # Loss (slide lines 2-6), added from inside a layer
    loss = LOSS_LAYERS[likelihood](beta=beta, name="vae_loss", dtype="float32")
    x_decoded_mean = loss([inputs, x_decoded_mean, z_mean, z_log_var, x_logits])

    # End-to-end autoencoder
    model_inputs = inputs if labels is None else {IMAGES_INPUT: inputs, LABEL_INPUT: labels}
    vae = VAE(model_inputs, x_decoded_mean, name="vae")
    # Encoder, from inputs to latent space
    encoder = keras.Model(model_inputs, z_mean, name="encoder")
    # Generator, from latent space to reconstructed inputs
    decoder_input = keras.Input(shape=(latent_dim,), name=LATENT_INPUT)
    generator_labels = keras.Input(shape=(NUM_CLASSES,), name=LABEL_INPUT) if conditional else None
    _x_decoded_mean = architectures.apply(decoder, _joined(decoder_input, generator_labels))
    generator_inputs = (
        decoder_input
        if labels is None
        else {LATENT_INPUT: decoder_input, LABEL_INPUT: generator_labels}
    )
    generator = keras.Model(generator_inputs, _x_decoded_mean, name="generator")
    return VAEModels(vae, encoder, generator, seed_generator)


def _joined(z, labels):
    """The decoder's input: ``z``, or ``[z, labels]`` for its ``decoder_condition`` layer."""
    return z if labels is None else [z, labels]
