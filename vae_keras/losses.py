"""The loss of the slides' VAE, one function per formula.

Every function takes batched tensors (or NumPy arrays, converted with
``ops.convert_to_tensor``: PyTorch's tensors do not mix with NumPy's arrays in
one expression) and works with ``keras.ops``, so the model, the tests and the
evaluation scripts call the same code on every backend. The slide names refer
to ``shared/seeds/000_f150916e803b6370.txt``.
"""

from __future__ import annotations

import math

import keras
from keras import ops

LOG_2PI = math.log(2 * math.pi)


def reconstruction_loss(x, x_decoded_mean):
    """Bernoulli negative log-likelihood of ``x`` under the decoder's mean, per example.

    Slide "Loss function & Train", line 2::

        xent_loss = original_dim * binary_crossentropy(inputs, x_decoded_mean)

    ``binary_crossentropy`` averages over the ``original_dim`` pixels, so the
    product is the sum over pixels
    ``-sum_k [x_k log p_k + (1 - x_k) log(1 - p_k)]``: the ``-log p(x | z)`` of
    the slide "Example" with a Bernoulli decoder. Grey levels in [0, 1] are used
    as the targets, as in the slides' code. Computed here as Keras computes it
    from probabilities, on every backend alike: ``p`` clipped to
    ``[1e-7, 1 - 1e-7]`` (``keras.config.epsilon()``), so a pixel costs at most
    ``-log(1e-7) = 16.1`` nats. The model itself uses the exact
    :func:`reconstruction_loss_from_logits`.

    Parameters
    ----------
    x, x_decoded_mean : tensors of shape (..., original_dim)
        Inputs in [0, 1] and decoder means in [0, 1].

    Returns
    -------
    Tensor of the shape of ``x`` without its last axis.
    """
    x, p = ops.convert_to_tensor(x), ops.convert_to_tensor(x_decoded_mean)
    eps = keras.config.epsilon()
    p = ops.clip(p, eps, 1.0 - eps)
    return -ops.sum(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p), axis=-1)


def softplus(logits):
    """``softplus(l) = log(1 + e^l)``, computed as ``(l + |l|) / 2 + log1p(e^-|l|)``.

    The same function as ``keras.ops.softplus``: ``(l + |l|) / 2 = max(l, 0)`` and
    ``log(1 + e^l) = max(l, 0) + log(1 + e^-|l|)``. Nothing overflows (``e^-|l|`` is
    at most 1), and the gradient is ``sigmoid(l)`` everywhere, ``l = 0`` included:
    there ``d|l|/dl = sign(0) = 0`` on every backend, so the two halves give 1/2 (a
    ``relu`` in place of ``(l + |l|) / 2`` would give 0 where a logit is exactly 0, as
    it is for a dead hidden layer and a zero bias). Written out because its gradient
    reuses ``e^-|l|`` from the forward pass: JAX's own ``softplus``, ``logaddexp(l, 0)``,
    computes a second exponential and selects around infinities in its gradient, which
    shows in the epoch of a 2-core CPU (``benchmarks/bench_train.py --backend jax``).
    """
    logits = ops.convert_to_tensor(logits)
    magnitude = ops.abs(logits)
    return 0.5 * (logits + magnitude) + ops.log1p(ops.exp(-magnitude))


def reconstruction_loss_from_logits(x, logits):
    """:func:`reconstruction_loss` from the decoder's logits ``l`` (``p = sigmoid(l)``).

    ``-sum_k [x_k log sigmoid(l_k) + (1 - x_k) log(1 - sigmoid(l_k))]
    = sum_k [softplus(l_k) - x_k l_k]`` (:func:`softplus`), since
    ``log sigmoid(l) = l - softplus(l)`` and ``log(1 - sigmoid(l)) = -softplus(l)``:
    exact for saturated outputs too (``|l|`` of 20 and more, where ``sigmoid(l)``
    rounds to 0 or 1), and the same ops on every backend. This is the model's loss (TensorFlow's
    ``sigmoid_cross_entropy_with_logits`` computes the same sum). Summed over the last axis,
    so ``logits`` may carry extra leading axes (e.g. (batch, k, original_dim)
    with ``x`` of shape (batch, 1, original_dim)).
    """
    x, logits = ops.convert_to_tensor(x), ops.convert_to_tensor(logits)
    return ops.sum(softplus(logits) - x * logits, axis=-1)


def continuous_bernoulli_log_normalizer(logits):
    """``log C(lambda)`` of the continuous Bernoulli, per value, from ``l = logit(lambda)``.

    Loaiza-Ganem & Cunningham (2019), "The continuous Bernoulli: fixing a
    pervasive error in variational autoencoders", eq. (7): the density on
    ``[0, 1]`` ``p(x | lambda) = C(lambda) lambda^x (1 - lambda)^(1 - x)`` with::

        C(lambda) = 2 atanh(1 - 2 lambda) / (1 - 2 lambda)   (lambda != 1/2),   C(1/2) = 2

    With ``lambda = sigmoid(l)``: ``1 - 2 lambda = -tanh(l / 2)`` and
    ``atanh(1 - 2 lambda) = -l / 2``, so ``C = l / tanh(l / 2)``, which is
    computed here: exact for saturated ``l`` (``lambda`` within rounding of 0 or
    1, where ``C ~ |l|``), and by its series ``2 (1 + l^2 / 12 - l^4 / 720)``
    for ``|l| < 1e-2`` (``lambda`` near 1/2, where the ratio is 0 / 0). ``C``
    is even in ``l`` (symmetric in ``lambda <-> 1 - lambda``), at least 2, and
    grows with ``|l|``.

    Parameters
    ----------
    logits : tensor of any shape
        ``logit(lambda)``: the decoder's logits.

    Returns
    -------
    Tensor of the same shape: ``log C(sigmoid(logits))``.
    """
    logits = ops.convert_to_tensor(logits)
    small = ops.abs(logits) < 1e-2
    safe = ops.where(small, ops.ones_like(logits), logits)  # no 0 / 0 in the branch not taken
    ratio = safe / ops.tanh(safe / 2.0)
    square = ops.square(logits)
    series = 2.0 * (1.0 + square / 12.0 - ops.square(square) / 720.0)
    return ops.log(ops.where(small, series, ratio))


def continuous_bernoulli_log_likelihood(x, logits):
    """``log p(x | lambda)`` of the continuous Bernoulli, summed over pixels, per example.

    Loaiza-Ganem & Cunningham (2019)::

        log p(x | z) = sum_k [x_k log lambda_k + (1 - x_k) log(1 - lambda_k) + log C(lambda_k)]

    with ``lambda = sigmoid(logits)`` the decoder's output: minus
    :func:`reconstruction_loss_from_logits` (the slides' Bernoulli term) plus
    :func:`continuous_bernoulli_log_normalizer`. A normalised density of
    grey-level ``x`` in ``[0, 1]^D``, unlike the slides' term: since every
    ``log C >= log 2``, it is at least ``D log 2`` (543 nats for MNIST's 784
    pixels) above the Bernoulli number.

    Parameters
    ----------
    x, logits : tensors of shape (..., original_dim), broadcastable
        Inputs in [0, 1] and the decoder's logits.

    Returns
    -------
    Tensor of the broadcast shape without its last axis.
    """
    x, logits = ops.convert_to_tensor(x), ops.convert_to_tensor(logits)
    return -reconstruction_loss_from_logits(x, logits) + ops.sum(
        continuous_bernoulli_log_normalizer(logits), axis=-1
    )


def gaussian_reconstruction_loss(x, x_mean, x_log_var):
    """Gaussian negative log-likelihood of ``x`` under the decoder, per example, in nats.

    Slide "Example": ``log p(x | z) = log N(x; mu_theta, sigma_theta^2 I)``, so::

        -log p(x | z) = 1/2 sum_k [log(2 pi) + log sigma_k^2 + (x_k - mu_k)^2 / sigma_k^2]

    A density of continuous ``x``: it is negative where the decoder is sharp
    (``sigma^2 < 1 / (2 pi)``), unlike the Bernoulli term.

    Parameters
    ----------
    x, x_mean : tensors of shape (..., original_dim)
        Inputs and decoder means; extra leading axes are allowed.
    x_log_var : tensor broadcastable to ``x``
        ``log sigma^2``: one value per pixel, or a scalar shared by all of them.

    Returns
    -------
    Tensor of the shape of ``x`` without its last axis.
    """
    x, x_mean, x_log_var = (ops.convert_to_tensor(t) for t in (x, x_mean, x_log_var))
    x_log_var = ops.broadcast_to(x_log_var, ops.shape(x))
    return 0.5 * ops.sum(
        LOG_2PI + x_log_var + ops.square(x - x_mean) * ops.exp(-x_log_var), axis=-1
    )


def kl_divergence(z_mean, z_log_var):
    """Analytic ``KL(N(mu, diag(sigma^2)) || N(0, I))`` per example.

    Slide "Example" (after Kingma & Welling, 2014, appendix B)::

        -D_KL = 1/2 * sum_j (1 + log(sigma_j^2) - mu_j^2 - sigma_j^2)

    and slide "Loss function & Train", line 3::

        kl_loss = -0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)

    Parameters
    ----------
    z_mean, z_log_var : tensors of shape (batch, latent_dim)
        ``mu`` and ``log(sigma^2)`` of the encoder's Gaussian.

    Returns
    -------
    Tensor of shape (batch,), non-negative; zero exactly when ``mu = 0`` and
    ``log_var = 0``.
    """
    z_mean, z_log_var = ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def vae_loss(x, x_decoded_mean, z_mean, z_log_var):
    """The negative ELBO averaged over the batch: the scalar the VAE minimises.

    Slide "Loss function & Train", line 4::

        vae_loss = K.mean(xent_loss + kl_loss)

    i.e. ``mean_i [ -log p(x_i | z_i) + KL(q(z | x_i) || p(z)) ]`` with one
    sample ``z_i`` per example (L = 1, slide "Reparameterization").

    Returns
    -------
    Scalar tensor.
    """
    return ops.mean(reconstruction_loss(x, x_decoded_mean) + kl_divergence(z_mean, z_log_var))


def gaussian_vae_loss(x, x_mean, x_log_var, z_mean, z_log_var):
    """:func:`vae_loss` with the Gaussian decoder of slide "Example": the batch mean of
    ``gaussian_reconstruction_loss(x, x_mean, x_log_var) + kl_divergence(z_mean, z_log_var)``.
    """
    return ops.mean(
        gaussian_reconstruction_loss(x, x_mean, x_log_var) + kl_divergence(z_mean, z_log_var)
    )


def squared_error(x, x_reconstructed):
    """Squared reconstruction error per example, ``||x - f(g(x))||^2`` summed over inputs.

    Used as a Keras loss, whose batch mean is the slides' objective (slide
    "Autoencoder"): ``L_AE = 1/n sum_i (x_i - f_theta(g_phi(x_i)))^2``. The
    denoising autoencoder's ``L_DAE`` (Vincent et al. 2008) is the same
    function with the encoder fed a corrupted ``x~_i`` and compared with the
    clean ``x_i``.
    """
    x, x_reconstructed = ops.convert_to_tensor(x), ops.convert_to_tensor(x_reconstructed)
    return ops.sum(ops.square(x - x_reconstructed), axis=-1)
