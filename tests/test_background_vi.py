"""CAVI never lowers the ELBO and finds the means; both gradient estimators are unbiased."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vae_keras.background import cavi, estimators


def mixture_data(seed, n=300, means=(-6.0, 0.0, 5.0)):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(means), n)
    return np.asarray(means)[labels] + rng.standard_normal(n), np.asarray(means)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5))
def test_elbo_never_decreases(seed, k):
    x, _ = mixture_data(seed)
    fit = cavi.cavi(x, k=k, seed=seed, n_iter=60)
    steps = np.diff(fit.elbos)
    assert np.all(steps >= -1e-9 * np.abs(fit.elbos[1:]))


def test_each_coordinate_update_is_optimal():
    """Perturbing phi or m away from the CAVI update lowers the ELBO (it is the argmax)."""
    x, _ = mixture_data(1)
    x = x[:, None]
    fit = cavi.cavi(x, k=3, seed=1)
    best = cavi.elbo(x, fit.m, fit.s2, fit.phi, 25.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        m = fit.m + 0.05 * rng.standard_normal(fit.m.shape)
        assert cavi.elbo(x, m, fit.s2, fit.phi, 25.0) < best
        phi = np.clip(fit.phi + 0.02 * rng.random(fit.phi.shape), 1e-12, None)
        phi /= phi.sum(axis=1, keepdims=True)
        assert cavi.elbo(x, fit.m, fit.s2, phi, 25.0) < best


def test_finds_well_separated_means():
    x, means = mixture_data(2, n=600)
    fit = cavi.cavi(x, k=3, seed=0)
    assert np.sort(fit.m[:, 0]) == pytest.approx(means, abs=0.25)
    assert np.allclose(fit.phi.sum(axis=1), 1.0)


def test_two_dimensional_data():
    rng = np.random.default_rng(3)
    centres = np.array([[-5.0, 0.0], [5.0, 5.0]])
    x = centres[rng.integers(0, 2, 400)] + rng.standard_normal((400, 2))
    fit = cavi.cavi(x, k=2, seed=1)
    assert fit.m[np.argsort(fit.m[:, 0])] == pytest.approx(centres, abs=0.3)


@pytest.mark.parametrize("fn", estimators.FUNCTIONS, ids=lambda f: f.name)
def test_both_estimators_are_unbiased(fn):
    mu, sigma = 0.7, 0.8
    result = estimators.estimator_variance(fn, mu, sigma, samples=10, repeats=20_000, seed=1)
    exact = np.asarray(fn.exact_gradient(mu, sigma))
    for name in ("score", "reparameterization"):
        stderr = np.sqrt(result[f"{name}_var"] / 20_000)
        assert np.all(np.abs(result[f"{name}_mean"] - exact) < 5 * stderr), name


def test_exact_gradients_match_finite_differences():
    z = np.random.default_rng(0).standard_normal(2_000_000)
    for fn in estimators.FUNCTIONS:
        mu, sigma, h = 0.3, 0.6, 1e-3

        # common random numbers make the finite difference of the MC mean precise
        def expectation(m, s, fn=fn):
            return fn.f(m + s * z).mean()

        d_mu = (expectation(mu + h, sigma) - expectation(mu - h, sigma)) / (2 * h)
        d_sigma = (expectation(mu, sigma + h) - expectation(mu, sigma - h)) / (2 * h)
        assert (d_mu, d_sigma) == pytest.approx(fn.exact_gradient(mu, sigma), rel=2e-2, abs=2e-3)


@pytest.mark.parametrize("fn", estimators.FUNCTIONS, ids=lambda f: f.name)
def test_reparameterization_has_lower_variance(fn):
    for samples in (1, 10, 100):
        result = estimators.estimator_variance(fn, 0.7, 0.8, samples=samples, repeats=5000)
        assert np.all(result["reparameterization_var"] < result["score_var"])


def test_variance_falls_as_one_over_l():
    v1 = estimators.estimator_variance(estimators.SINE, 0.7, 0.8, samples=1, repeats=40_000)
    v10 = estimators.estimator_variance(estimators.SINE, 0.7, 0.8, samples=10, repeats=40_000)
    for name in ("score_var", "reparameterization_var"):
        assert v1[name] / v10[name] == pytest.approx(10.0, rel=0.15)
