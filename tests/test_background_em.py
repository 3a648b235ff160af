"""EM for a Gaussian mixture: the slides' monotonicity theorem and parameter recovery."""

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy import stats

from vae_keras.background.em import (
    GMM,
    e_step,
    fit_gmm,
    gaussian_log_pdf,
    log_likelihood,
    m_step,
    sample_gmm,
)

TRUE = GMM(
    tau=np.array([0.3, 0.7]),
    mu=np.array([[-2.0, 0.0], [2.5, 1.0]]),
    sigma=np.array([[[1.0, 0.5], [0.5, 1.0]], [[0.6, -0.2], [-0.2, 0.4]]]),
)


def test_log_pdf_matches_scipy():
    x = np.random.default_rng(0).standard_normal((7, 2))
    expected = stats.multivariate_normal(TRUE.mu[0], TRUE.sigma[0]).logpdf(x)
    assert gaussian_log_pdf(x, TRUE.mu[0], TRUE.sigma[0]) == pytest.approx(expected, rel=1e-12)


def test_responsibilities_are_posteriors():
    x, _ = sample_gmm(TRUE, 50)
    resp, ll = e_step(x, TRUE)
    assert np.allclose(resp.sum(axis=1), 1.0)
    joint = np.stack(
        [
            t * stats.multivariate_normal(m, s).pdf(x)
            for t, m, s in zip(TRUE.tau, TRUE.mu, TRUE.sigma, strict=True)
        ],
        1,
    )
    assert np.allclose(resp, joint / joint.sum(1, keepdims=True))
    assert ll == pytest.approx(np.log(joint.sum(1)).sum())


def test_the_m_step_is_the_slides_closed_form():
    """tau_k = n_k / n, mu_k = sum_i T_ik x_i / n_k, Sigma_k = sum_i T_ik (x_i - mu_k)(x_i -
    mu_k)^T / n_k (+ reg I), computed here term by term, against m_step's second moments."""
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 2.0, (200, 3))
    resp = rng.dirichlet(np.ones(4), size=200)
    params = m_step(x, resp, reg=1e-3)
    for k in range(4):
        n_k = resp[:, k].sum()
        mu = (resp[:, k, None] * x).sum(0) / n_k
        centred = x - mu
        sigma = sum(r * np.outer(c, c) for r, c in zip(resp[:, k], centred, strict=True)) / n_k
        assert params.tau[k] == pytest.approx(n_k / 200, rel=1e-12)
        assert np.allclose(params.mu[k], mu, rtol=1e-12, atol=1e-12)
        assert np.allclose(params.sigma[k], sigma + 1e-3 * np.eye(3), rtol=1e-10, atol=1e-12)


def test_a_shifted_data_set_gives_the_shifted_fit():
    """EM runs on centred data: codes 1,000 units from the origin fit as well as at it."""
    x, _ = sample_gmm(TRUE, 400, seed=2)
    near, far = fit_gmm(x, 2, 30, seed=0), fit_gmm(x + 1000.0, 2, 30, seed=0)
    assert np.allclose(far.params.mu - 1000.0, near.params.mu, atol=1e-8)
    assert np.allclose(far.params.sigma, near.params.sigma, atol=1e-8)
    assert np.allclose(far.log_likelihoods, near.log_likelihoods, rtol=1e-10)


def test_responsibilities_of_points_whose_densities_underflow():
    """Points 60 units away, where every tau_k N(x; mu_k, Sigma_k) is 0 in float64: the log-sum-
    exp in place still gives the posterior (scipy's log densities, normalised in log space)."""
    x = np.array([[60.0, 0.0], [-50.0, 40.0]])
    resp, ll = e_step(x, TRUE)
    log_joint = np.stack(
        [np.log(t) + stats.multivariate_normal(m, s).logpdf(x)
         for t, m, s in zip(TRUE.tau, TRUE.mu, TRUE.sigma, strict=True)], 1,
    )  # fmt: skip
    assert np.all(np.exp(log_joint) == 0.0)  # the naive formula would divide 0 by 0
    norm = np.logaddexp.reduce(log_joint, axis=1)
    assert np.allclose(resp, np.exp(log_joint - norm[:, None]), atol=1e-12)
    assert ll == pytest.approx(norm.sum(), rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 3))
@example(seed=1053, k=3, d=3)  # 120 points: a component collapsed (singular covariance)
def test_log_likelihood_never_decreases(seed, k, d):
    """Exact EM (no regularisation). A component that collapses onto fewer than d + 1 points
    has a singular covariance (a Gaussian mixture's likelihood is unbounded there); with 400
    points that would be a rare draw, which the test then skips rather than hides."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((400, d)) + rng.integers(0, 3, (400, 1)) * 2.0
    try:
        fit = fit_gmm(x, k=k, n_iter=40, seed=seed, reg=0.0)
    except np.linalg.LinAlgError:
        assume(False)
    steps = np.diff(fit.log_likelihoods)
    assert np.all(steps >= -1e-9 * np.abs(fit.log_likelihoods[1:]))


def test_recovers_the_parameters_of_a_known_mixture():
    x, _ = sample_gmm(TRUE, 4000, seed=1)
    fit = fit_gmm(x, k=2, n_iter=200, seed=3)
    order = np.argsort(fit.params.mu[:, 0])
    assert fit.params.tau[order] == pytest.approx(TRUE.tau, abs=0.03)
    assert fit.params.mu[order] == pytest.approx(TRUE.mu, abs=0.1)
    assert fit.params.sigma[order] == pytest.approx(TRUE.sigma, abs=0.1)
    assert fit.log_likelihoods[-1] >= log_likelihood(x, TRUE) - 1e-6  # the MLE beats the truth


def test_bad_input():
    with pytest.raises(ValueError, match="n >= k"):
        fit_gmm(np.zeros((1, 2)), k=2)
