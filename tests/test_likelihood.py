"""The importance-weighted bound: its pieces, its k = 1 expectation, its growth with k."""

import keras
import numpy as np
import pytest
from scipy import stats

from vae_keras import likelihood
from vae_keras.data import load_dataset
from vae_keras.runs import RunConfig, load_run
from vae_keras.training import train


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from conftest import fixture_options, write_npz

    folder = tmp_path_factory.mktemp("lik")
    write_npz(folder, n_train=500, n_test=64)
    dataset = load_dataset("mnist", folder)
    config = RunConfig(intermediate_dim=32, latent_dim=2, epochs=3, batch_size=100)
    train(config, dataset, folder / "run", verbose=0, options=fixture_options())
    return load_run(folder / "run"), dataset.x_test


def test_log_normal_diag_matches_scipy():
    rng = np.random.default_rng(0)
    z, mean, log_var = rng.standard_normal((3, 5, 4))
    expected = stats.multivariate_normal(mean[0], np.diag(np.exp(log_var[0]))).logpdf(z[0])
    value = keras.ops.convert_to_numpy(likelihood.log_normal_diag(z, mean, log_var))[0]
    assert float(value) == pytest.approx(expected, rel=1e-10)


def test_k1_estimate_is_the_elbo_in_expectation(tiny_run):
    run, x = tiny_run
    x = x[:16]
    # 300 single-sample estimates at once: the log weights of 300 draws per example
    model = likelihood.log_weights_model(run.models, 300, ("bernoulli",))
    epsilon = likelihood.example_noise(0, range(len(x)), 300, 2).transpose(1, 0, 2)
    log_w = np.asarray(model.predict_on_batch([x, epsilon.astype("float32")]), np.float64)[..., 0]
    # the k = 1 estimate with seed 0 is the first of them (each example's first draw)
    k1_once = likelihood.importance_weighted_log_likelihood(run.models, x, k=1, seed=0)
    assert k1_once == pytest.approx(log_w[:, 0], rel=1e-5)
    k1 = log_w.mean(axis=1)
    elbo = likelihood.elbo(run.models, x, samples=300, seed=1)
    # both average 300 draws; the k = 1 estimate samples the KL too, so allow a few nats
    assert np.abs(k1 - elbo).mean() < 0.02 * np.abs(elbo).mean()
    # and the ELBO is minus the loss the model adds, averaged over its own noise: one
    # evaluate of 100 batches, each the 16 images with noise of its own (100 calls of
    # evaluate computed the same mean, each call with its own set-up)
    repeated = np.tile(x, (100,) + (1,) * (x.ndim - 1))
    loss = run.models.vae.evaluate(repeated, batch_size=16, verbose=0, return_dict=True)["loss"]
    assert -loss == pytest.approx(elbo.mean(), rel=0.01)


def test_bound_does_not_decrease_with_k(tiny_run):
    run, x = tiny_run
    means = [
        np.mean(
            [
                likelihood.importance_weighted_log_likelihood(run.models, x, k=k, seed=s).mean()
                for s in range(5)
            ]
        )
        for k in (1, 10, 100)
    ]
    assert means[0] < means[1] < means[2]


def test_batching_does_not_change_the_estimate(tiny_run):
    run, x = tiny_run
    estimates = [
        likelihood.importance_weighted_log_likelihood(
            run.models, x[:10], k=50, seed=3, max_rows=rows
        )
        for rows in (50, 150, 10_000)  # batches of 1, 3 (3, 3, 3, 1) and all 10 examples
    ]
    for other in estimates[1:]:
        assert np.allclose(other, estimates[0], rtol=1e-6, atol=1e-6)
    other_seed = likelihood.importance_weighted_log_likelihood(run.models, x[:10], k=50, seed=4)
    assert not np.allclose(other_seed, estimates[0])
    with pytest.raises(ValueError, match="k must be at least 1"):
        likelihood.importance_weighted_log_likelihood(run.models, x, k=0)


def test_the_log_weights_model_is_built_once_per_run_and_follows_its_weights():
    """shared_log_weights_model: one model per (k, densities) while the VAE lives, computing
    with the VAE's current weights, and gone with the run."""
    import gc
    import weakref

    from vae_keras.model import build_vae

    models = build_vae(intermediate_dim=8, latent_dim=2, seed=0)
    x = np.random.default_rng(0).random((4, 784)).astype("float32")
    first = likelihood.shared_log_weights_model(models, 5, ("bernoulli",))
    assert likelihood.shared_log_weights_model(models, 5, ("bernoulli",)) is first
    assert likelihood.shared_log_weights_model(models, 6, ("bernoulli",)) is not first
    before = likelihood.importance_weighted_log_likelihood(models, x, k=5, seed=0)
    models.vae.set_weights([w * 0.5 for w in models.vae.get_weights()])
    after = likelihood.importance_weighted_log_likelihood(models, x, k=5, seed=0)
    assert not np.allclose(before, after)  # the shared model computes with the new weights
    fresh = likelihood.log_weights_model(models, 5, ("bernoulli",))
    epsilon = likelihood.example_noise(0, range(4), 5, 2).transpose(1, 0, 2).astype("float32")
    direct = np.asarray(fresh.predict_on_batch([x, epsilon]), np.float64)[..., 0]
    from scipy.special import logsumexp

    assert after == pytest.approx(logsumexp(direct, axis=1) - np.log(5), rel=1e-5)
    vae = weakref.ref(models.vae)
    assert vae() in likelihood._LOG_WEIGHTS_MODELS
    del models, first, fresh
    gc.collect()
    assert vae() is None  # the cache kept neither the VAE alive nor, so, its entry


def test_posterior_model_shares_the_vae_weights(tiny_run):
    run, x = tiny_run
    mean, _ = likelihood.posterior_model(run.models)(x[:4])
    assert np.allclose(mean, run.models.encoder.predict(x[:4], verbose=0), atol=1e-6)
    assert isinstance(likelihood.posterior_model(run.models), keras.Model)


def numpy_forward(models, x, epsilon):
    """The VAE's encoder and decoder in float64 NumPy, from its own weights: (mu, log_var, z,
    logits) for ``epsilon`` of shape (batch, k, latent_dim)."""
    vae, generator = models.vae, models.generator

    def dense(name, inputs, model=vae):
        kernel, bias = (np.asarray(w, np.float64) for w in model.get_layer(name).get_weights())
        return inputs @ kernel + bias

    h = np.maximum(dense("encoder_h", x.astype(np.float64)), 0)
    mu, log_var = dense("z_mean", h), dense("z_log_var", h)
    z = mu[:, None, :] + np.exp(0.5 * log_var[:, None, :]) * epsilon
    logits = dense("decoder_logits", np.maximum(dense("decoder_h", z, generator), 0), generator)
    return mu, log_var, z, logits


def test_the_log_weights_are_the_formula_element_by_element(tiny_run):
    """log p(x|z) + log p(z) - log q(z|x) for fixed noise, against NumPy and SciPy."""
    from scipy.special import log_expit

    run, x = tiny_run
    x, k = x[:12], 7
    epsilon = np.random.default_rng(5).standard_normal((len(x), k, 2))
    mu, log_var, z, logits = numpy_forward(run.models, x, epsilon)
    xx = x[:, None, :].astype(np.float64)
    log_px_z = np.sum(xx * log_expit(logits) + (1 - xx) * log_expit(-logits), axis=-1)
    log_pz = stats.norm.logpdf(z).sum(axis=-1)
    log_qz = stats.norm.logpdf(z, mu[:, None, :], np.exp(0.5 * log_var[:, None, :])).sum(axis=-1)
    expected = log_px_z + log_pz - log_qz  # (batch, k)
    model = likelihood.log_weights_model(run.models, k, ("bernoulli", "continuous_bernoulli"))
    got = np.asarray(model.predict_on_batch([x, epsilon.astype("float32")]), np.float64)
    assert got.shape == (len(x), k, 2)
    np.testing.assert_allclose(got[..., 0], expected, rtol=2e-5, atol=1e-3)
    # the continuous Bernoulli adds log C(lambda) = log(l / tanh(l / 2)) per pixel
    log_c = np.sum(np.log(logits / np.tanh(logits / 2)), axis=-1)
    np.testing.assert_allclose(got[..., 1], expected + log_c, rtol=2e-5, atol=2e-3)
    # the bound is log-mean-exp of exactly these weights, example by example
    noise = likelihood.example_noise(3, range(len(x)), k, 2).transpose(1, 0, 2)
    _, _, z, logits = numpy_forward(run.models, x, noise)
    log_w = (
        np.sum(xx * log_expit(logits) + (1 - xx) * log_expit(-logits), axis=-1)
        + stats.norm.logpdf(z).sum(axis=-1)
        - stats.norm.logpdf(z, mu[:, None, :], np.exp(0.5 * log_var[:, None, :])).sum(axis=-1)
    )
    bound = likelihood.importance_weighted_log_likelihood(run.models, x, k=k, seed=3)
    from scipy.special import logsumexp

    np.testing.assert_allclose(bound, logsumexp(log_w, axis=1) - np.log(k), rtol=2e-5, atol=1e-3)


def test_the_elbo_is_the_formula_element_by_element(tiny_run):
    """E_q[log p(x|z)] - KL(q || p), with the same draws, against NumPy: the Bernoulli term
    from the logits (as the model's loss), and the continuous Bernoulli's (plus log C)."""
    from scipy.special import log_expit

    run, x = tiny_run
    x, samples = x[:12], 3
    rng = np.random.default_rng(9)
    draws = np.stack([rng.standard_normal((len(x), 2)).astype(np.float32) for _ in range(samples)])
    mu, log_var, z, logits = numpy_forward(run.models, x, draws.transpose(1, 0, 2))
    xx = x[:, None, :].astype(np.float64)
    per_draw = np.sum(xx * log_expit(logits) + (1 - xx) * log_expit(-logits), axis=-1)
    kl = -0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var), axis=-1)
    got = likelihood.elbo(run.models, x, samples=samples, seed=9)
    np.testing.assert_allclose(got, per_draw.mean(axis=1) - kl, rtol=2e-5, atol=1e-3)
    log_c = np.sum(np.log(logits / np.tanh(logits / 2)), axis=-1)
    cb = likelihood.elbo(run.models, x, samples=samples, seed=9, density="continuous_bernoulli")
    np.testing.assert_allclose(cb, (per_draw + log_c).mean(axis=1) - kl, rtol=2e-5, atol=2e-3)


def test_both_densities_share_one_pass_and_bound_their_elbos(tiny_run):
    """One call gives the Bernoulli bound of importance_weighted_log_likelihood and the
    continuous Bernoulli's; each bound is above its ELBO, and the normalised density's are
    at least 784 log 2 nats higher (log C >= log 2 per pixel)."""
    run, x = tiny_run
    x = x[:10]
    bounds = likelihood.importance_weighted_bounds(run.models, x, k=50, seed=2)
    assert set(bounds) == {"bernoulli", "continuous_bernoulli"}
    own = likelihood.importance_weighted_log_likelihood(run.models, x, k=50, seed=2)
    np.testing.assert_allclose(bounds["bernoulli"], own, rtol=1e-6)
    assert np.all(bounds["continuous_bernoulli"] >= bounds["bernoulli"] + 784 * np.log(2) - 1e-3)
    for density, bound in bounds.items():
        elbo = likelihood.elbo(run.models, x, samples=50, seed=0, density=density)
        assert bound.mean() > elbo.mean()
    with pytest.raises(ValueError, match="not gaussian"):
        likelihood.elbo(run.models, x, density="gaussian")
