"""The architecture, the sampling layer and the loss the model adds, against the slides."""

import keras
import numpy as np
import pytest
from scipy import stats

from vae_keras import losses
from vae_keras.model import build_vae, reparameterize


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(0)
    return build_vae(seed=0)


def test_parameter_count_is_the_slides(models):
    assert models.vae.count_params() == 404_244


def test_layers_match_the_slides(models):
    vae = models.vae
    expected = {
        "encoder_h": (256, "relu"),
        "z_mean": (2, "linear"),
        "z_log_var": (2, "linear"),
        "decoder_h": (256, "relu"),
        "decoder_logits": (784, "linear"),
    }
    for name, (units, activation) in expected.items():
        layer = vae.get_layer(name)
        assert isinstance(layer, keras.layers.Dense)
        assert layer.units == units
        assert layer.activation.__name__ == activation
    # the slides' Dense(784, activation='sigmoid'), as Dense(784) then its sigmoid
    mean = vae.get_layer("decoder_mean")
    assert isinstance(mean, keras.layers.Activation) and mean.activation.__name__ == "sigmoid"
    generator = models.generator
    assert [layer.name for layer in generator.layers[1:]] == [
        "decoder_h",
        "decoder_logits",
        "decoder_mean",
    ]
    assert isinstance(vae.get_layer("z"), keras.layers.Lambda)
    assert vae.input_shape == (None, 784) and vae.output_shape == (None, 784)
    assert models.encoder.output_shape == (None, 2)
    assert models.generator.input_shape == (None, 2) and models.generator.output_shape == (
        None,
        784,
    )
    assert vae.optimizer.__class__.__name__ == "RMSprop"


def test_sizes_are_parameters():
    m = build_vae(original_dim=3072, intermediate_dim=64, latent_dim=8, compile=False)
    assert m.vae.output_shape == (None, 3072)
    assert m.encoder.output_shape == (None, 8)
    # 3072*64+64 + 2*(64*8+8) + 8*64+64 + 64*3072+3072
    assert (
        m.vae.count_params() == 3072 * 64 + 64 + 2 * (64 * 8 + 8) + 8 * 64 + 64 + 64 * 3072 + 3072
    )


@pytest.mark.parametrize("bad", [0, -3, 2.5, "8", True])
def test_bad_sizes_are_rejected(bad):
    with pytest.raises(ValueError, match="latent_dim must be a positive integer"):
        build_vae(latent_dim=bad)


def test_encoder_and_generator_share_weights_with_vae(models):
    vae, encoder, generator = models.vae, models.encoder, models.generator
    for name in ("encoder_h", "z_mean"):
        assert encoder.get_layer(name) is vae.get_layer(name)
    for name in ("decoder_h", "decoder_logits", "decoder_mean"):
        assert generator.get_layer(name) is vae.get_layer(name)
    z = np.ones((1, 2), "float32")
    before = generator.predict(z, verbose=0)
    bias = vae.get_layer("decoder_logits").bias
    old = bias.numpy()
    bias.assign(old + 1.0)
    try:
        after = generator.predict(z, verbose=0)
    finally:
        bias.assign(old)
    assert not np.allclose(before, after)


def test_reparameterize_is_the_formula():
    mu = np.array([[0.5, -1.0]], "float32")
    lv = np.array([[0.2, -3.0]], "float32")
    eps = np.array([[1.5, -0.25]], "float32")
    assert np.asarray(reparameterize(mu, lv, eps)) == pytest.approx(
        mu + np.exp(0.5 * lv) * eps, rel=1e-6
    )


def test_sampling_layer_has_the_requested_mean_and_variance(models):
    n = 40_000
    mu = np.array([1.5, -0.5], "float32")
    log_var = np.array([-1.0, 0.8], "float32")
    z = np.asarray(models.vae.get_layer("z")([np.tile(mu, (n, 1)), np.tile(log_var, (n, 1))]))
    var = np.exp(log_var)
    # sample mean within 5 standard errors; sample variance within 5 of its standard errors
    assert np.all(np.abs(z.mean(0) - mu) < 5 * np.sqrt(var / n))
    assert np.all(np.abs(z.var(0) - var) < 5 * var * np.sqrt(2 / n))
    for j in range(2):  # and the draws are Gaussian
        assert stats.kstest((z[:, j] - mu[j]) / np.sqrt(var[j]), "norm").pvalue > 1e-3


def test_added_loss_equals_the_formula_by_hand(models):
    """One forward pass: recover epsilon's z, recompute the loss in NumPy, compare."""
    vae, generator = models.vae, models.generator
    rng = np.random.default_rng(0)
    x = rng.random((16, 784)).astype("float32")
    probe = keras.Model(
        vae.input,
        [
            vae.get_layer("z_mean").output,
            vae.get_layer("z_log_var").output,
            vae.get_layer("z").output,
            vae.output,
        ],
    )
    mu, log_var, z, x_dec = (np.asarray(t, dtype=np.float64) for t in probe(x))
    added = [float(loss) for loss in probe.losses]
    assert len(added) == 2  # the slides' vae_loss, as its two batch means
    # the decoder output is the generator applied to this z
    assert x_dec == pytest.approx(generator.predict(z.astype("float32"), verbose=0), abs=1e-6)
    p = np.clip(x_dec, 1e-7, 1 - 1e-7)
    xent = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)  # 784 * mean = sum
    kl = -0.5 * (1 + log_var - mu**2 - np.exp(log_var)).sum(axis=1)
    assert added[0] == pytest.approx(xent.mean(), rel=1e-5)
    assert added[1] == pytest.approx(kl.mean(), rel=1e-5)
    assert sum(added) == pytest.approx((xent + kl).mean(), rel=1e-5)


def analytic_kl(vae, x) -> float:
    """The mean of ``losses.kl_divergence`` of the encoder's ``z_mean``, ``z_log_var`` on ``x``."""
    posterior = keras.Model(vae.input, [vae.get_layer(n).output for n in ("z_mean", "z_log_var")])
    mean, log_var = posterior.predict(x, verbose=0)
    return float(np.mean(keras.ops.convert_to_numpy(losses.kl_divergence(mean, log_var))))


def test_loss_layer_reports_both_parts(models, tiny_dataset):
    result = models.vae.evaluate(tiny_dataset.x_test, batch_size=64, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(
        result["reconstruction_loss"] + result["kl_loss"], rel=1e-5
    )
    # the reported KL is the analytic KL of the encoder's outputs (no noise in it), computed
    # apart from the model; the reconstruction is then the rest of the added loss
    # (to float32 rounding of the loss it is the difference of: ~1e-7 of ~500 nats)
    kl = analytic_kl(models.vae, tiny_dataset.x_test)
    assert result["kl_loss"] == pytest.approx(kl, rel=1e-4, abs=2e-4)
    assert result["kl_loss"] > 0


def test_model_loss_uses_the_logits_arrays_are_clipped():
    """Where the decoder saturates, the model's loss is the exact one, from the logits.

    With decoder logits of 30 everywhere and an all-black image, -log(1 - sigmoid(30)) = 30
    nats per pixel, compiled (evaluate) or eager; the same probabilities given as an array
    to ``reconstruction_loss`` are clipped to 1 - 1e-7 (in float32): about 16 nats per pixel.
    """
    models = build_vae(latent_dim=2, seed=0)
    decoder = models.vae.get_layer("decoder_logits")
    kernel, bias = decoder.get_weights()
    decoder.set_weights([np.zeros_like(kernel), np.full_like(bias, 30.0)])
    x = np.zeros((8, 784), dtype="float32")
    compiled = models.vae.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    assert compiled["reconstruction_loss"] == pytest.approx(784 * 30.0, rel=1e-4)
    x_decoded = models.vae(x)
    eager = float(models.vae.losses[0])
    assert eager == pytest.approx(784 * 30.0, rel=1e-4)
    from_array = losses.reconstruction_loss(x, np.asarray(x_decoded))
    clipped = np.float32(1 - 1e-7)  # 1 - 1.19e-7 in float32
    assert np.asarray(from_array) == pytest.approx(-784 * np.log(1 - float(clipped)), rel=1e-3)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_the_kl_weight_multiplies_the_added_kl_and_the_metrics_stay_unweighted(
    likelihood, tiny_dataset
):
    """--beta: the loss is reconstruction + beta * KL, through add_loss; evaluate's loss is
    that sum while its kl_loss is the KL itself (so the ELBO stays the ELBO); the same weights
    at beta 1 give the slides' sum. The weight is kept in the layer's config (saved in .keras
    files)."""
    weighted = build_vae(intermediate_dim=32, latent_dim=2, seed=3, likelihood=likelihood, beta=4)
    plain = build_vae(intermediate_dim=32, latent_dim=2, seed=3, likelihood=likelihood)
    plain.vae.set_weights(weighted.vae.get_weights())
    x = tiny_dataset.x_test
    kl = analytic_kl(weighted.vae, x)
    w = weighted.vae.evaluate(x, batch_size=len(x), verbose=0, return_dict=True)
    p = plain.vae.evaluate(x, batch_size=len(x), verbose=0, return_dict=True)
    assert w["kl_loss"] == pytest.approx(kl, rel=1e-4)
    assert p["kl_loss"] == pytest.approx(kl, rel=1e-4)
    assert w["reconstruction_loss"] == pytest.approx(p["reconstruction_loss"], rel=1e-5)
    assert w["loss"] == pytest.approx(w["reconstruction_loss"] + 4 * w["kl_loss"], rel=1e-5)
    assert p["loss"] == pytest.approx(p["reconstruction_loss"] + p["kl_loss"], rel=1e-5)
    assert weighted.vae.get_layer("vae_loss").get_config()["beta"] == 4.0


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "2"])
def test_a_kl_weight_that_is_not_a_positive_finite_number_is_refused(bad):
    with pytest.raises(ValueError, match="beta must be a positive finite number"):
        build_vae(latent_dim=2, beta=bad, compile=False)
