"""The slides' ELBO identity log p(x) = KL(q || p(z|x)) + L(q), exactly, on the conjugate
Gaussian model; Jensen's bound; the Monte Carlo ELBO against the closed form."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import trapezoid

from vae_keras.background import elbo

xs = st.floats(-5, 5)
variances = st.floats(0.05, 5)
means = st.floats(-4, 4)


@given(xs, variances, means, variances)
def test_log_evidence_is_the_elbo_plus_the_kl_to_the_posterior(x, s2, m, v):
    pm, pv = elbo.posterior(x, s2)
    total = elbo.elbo(x, s2, m, v) + elbo.gaussian_kl(m, v, pm, pv)
    assert np.isclose(total, elbo.log_evidence(x, s2), rtol=0, atol=1e-9)
    assert elbo.elbo(x, s2, m, v) <= elbo.log_evidence(x, s2) + 1e-12  # Jensen


@given(xs, variances)
def test_the_bound_is_tight_at_the_posterior_only(x, s2):
    pm, pv = elbo.posterior(x, s2)
    assert np.isclose(elbo.elbo(x, s2, pm, pv), elbo.log_evidence(x, s2), atol=1e-12)
    assert elbo.elbo(x, s2, pm + 0.3, pv) < elbo.log_evidence(x, s2) - 1e-3


def test_the_posterior_is_bayes_rule_by_quadrature():
    x, s2 = 1.3, 0.7
    z = np.linspace(-10, 10, 200_001)
    joint = np.exp(-0.5 * z**2 - 0.5 * (x - z) ** 2 / s2) / (2 * np.pi * np.sqrt(s2))
    evidence = trapezoid(joint, z)
    assert np.isclose(np.log(evidence), elbo.log_evidence(x, s2), atol=1e-9)
    pm, pv = elbo.posterior(x, s2)
    post = joint / evidence
    assert np.isclose(np.sum(post * z) * (z[1] - z[0]), pm, atol=1e-6)
    assert np.isclose(np.sum(post * (z - pm) ** 2) * (z[1] - z[0]), pv, atol=1e-6)


def test_the_monte_carlo_elbo_converges_to_the_closed_form():
    eps = np.random.default_rng(0).standard_normal(400_000)
    x, s2, m, v = 0.8, 0.5, -0.2, 0.9
    estimate = elbo.elbo_monte_carlo(x, s2, m, v, eps)
    assert abs(estimate - elbo.elbo(x, s2, m, v)) < 0.01
    pm, pv = elbo.posterior(x, s2)  # at the posterior every draw gives log p(x): no variance
    assert np.isclose(elbo.elbo_monte_carlo(x, s2, pm, pv, eps[:5]), elbo.log_evidence(x, s2))


def test_the_gaussian_kl_is_zero_on_itself_and_positive_elsewhere():
    assert elbo.gaussian_kl(0.3, 1.7, 0.3, 1.7) == 0
    assert elbo.gaussian_kl(0.0, 1.0, 1.0, 1.0) == 0.5
    assert elbo.gaussian_kl(0.0, 1.0, 0.0, 2.0) > 0
