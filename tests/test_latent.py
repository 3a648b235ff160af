"""The ELBO surgery (vae_keras.latent) where the answer is known: one image (no information),
identical posteriors (q(z) is that Gaussian), far-apart posteriors (log N), a 1-D mixture
against quadrature, the log-sum-exp in chunks against all at once."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from vae_keras import latent


def closed_form_kl(mean, log_var):
    """KL(N(mean, diag exp(log_var)) || N(0, I)), float64 NumPy."""
    return 0.5 * np.sum(np.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)


def test_the_average_kl_is_the_losss_analytic_term():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(50, 3)), rng.normal(scale=0.5, size=(50, 3))
    assert latent.average_kl(mean, log_var) == pytest.approx(
        closed_form_kl(mean, log_var).mean(), rel=1e-12
    )


def test_one_image_carries_no_information_and_its_marginal_kl_is_its_kl():
    mean, log_var = np.array([[0.7, -1.2]]), np.array([[-0.4, 0.3]])
    result = latent.elbo_surgery(mean, log_var, n_samples=40_000, seed=1)
    assert result.log_n == 0.0
    assert result.mutual_information == pytest.approx(0.0, abs=1e-12)  # log q(z|x) = log q(z)
    kl = closed_form_kl(mean, log_var)[0]
    assert result.average_kl == pytest.approx(kl, rel=1e-12)
    assert abs(result.marginal_kl - kl) < 4 * result.marginal_kl_se


def test_identical_posteriors_make_q_of_z_that_gaussian():
    mean, log_var = np.tile([[0.3, 0.1, -2.0]], (7, 1)), np.tile([[-1.0, 0.5, 0.0]], (7, 1))
    z = np.random.default_rng(2).normal(size=(100, 3))
    expected = stats.multivariate_normal(mean[0], np.diag(np.exp(log_var[0]))).logpdf(z)
    assert latent.log_aggregate_posterior(z, mean, log_var) == pytest.approx(expected, rel=1e-10)
    result = latent.elbo_surgery(mean, log_var, n_samples=20_000, seed=3)
    assert result.mutual_information == pytest.approx(0.0, abs=1e-10)
    kl = closed_form_kl(mean[0], log_var[0])
    assert abs(result.marginal_kl - kl) < 4 * result.marginal_kl_se


def test_far_apart_posteriors_carry_log_n_nats_the_ceiling():
    """Eight narrow posteriors 40 standard deviations apart: z names its image, I = log 8."""
    mean = np.stack([np.arange(8) * 4.0 - 14.0, np.zeros(8)], axis=1)
    log_var = np.full((8, 2), math.log(0.1**2))
    result = latent.elbo_surgery(mean, log_var, n_samples=4_000, seed=4)
    assert result.mutual_information == pytest.approx(math.log(8), abs=1e-9)
    assert result.mutual_information <= result.log_n + 1e-9  # to rounding
    # the identity: the two estimated terms add up to the average KL, within their error
    total_se = math.hypot(result.mutual_information_se, result.marginal_kl_se)
    assert abs(result.mutual_information + result.marginal_kl - result.average_kl) < 4 * max(
        total_se, 1e-3
    )


def test_the_one_dimensional_marginal_kl_against_quadrature():
    mean, log_var = np.array([[-1.5], [0.2], [2.0]]), np.log(np.array([[0.3], [0.8], [0.5]]) ** 2)
    sd = np.exp(0.5 * log_var[:, 0])

    def q(z):
        return np.mean(stats.norm.pdf(z, mean[:, 0], sd))

    def integrand(z):
        value = q(z)
        return value * (math.log(value) - stats.norm.logpdf(z)) if value > 0 else 0.0

    expected, _ = integrate.quad(integrand, -12, 12, points=list(mean[:, 0]), limit=200)
    grid = np.linspace(-4, 4, 41)[:, None]
    assert latent.log_aggregate_posterior(grid, mean, log_var) == pytest.approx(
        np.log([q(g) for g in grid[:, 0]]), rel=1e-10
    )
    result = latent.elbo_surgery(mean, log_var, n_samples=100_000, seed=5)
    assert abs(result.marginal_kl - expected) < 4 * result.marginal_kl_se
    assert result.marginal_kl_se < 0.01
    # I = average KL - marginal KL, the latter by quadrature
    information = result.average_kl - expected
    assert abs(result.mutual_information - information) < 4 * result.mutual_information_se


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), chunk=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_the_log_sum_exp_in_chunks_is_the_log_sum_exp_of_all(n, chunk, seed):
    """Chunks of samples against all at once; each pair's density against the loss's formula
    (likelihood.log_normal_diag), which the pairwise form expands."""
    from vae_keras.likelihood import log_normal_diag

    rng = np.random.default_rng(seed)
    mean, log_var = rng.normal(size=(n, 2)), rng.normal(scale=0.5, size=(n, 2))
    z = rng.normal(size=(9, 2))
    pairs = latent.pairwise_log_normal_diag(z, mean, log_var)
    direct = np.asarray(log_normal_diag(z[:, None, :], mean[None], log_var[None]))
    assert pairs == pytest.approx(direct, rel=1e-10, abs=1e-10)
    whole = latent.log_aggregate_posterior(z, mean, log_var, chunk=len(z))
    assert latent.log_aggregate_posterior(z, mean, log_var, chunk=chunk) == pytest.approx(
        whole, rel=1e-12, abs=1e-12
    )
    # every sample's information term is at most log N
    samples, index = latent.aggregate_posterior_samples(mean, log_var, 50, seed)
    terms = latent.mutual_information_terms(samples, index, mean, log_var)
    assert terms.max() <= math.log(n) + 1e-9


def test_encodings_of_the_wrong_shape_are_refused_with_what_was_expected():
    with pytest.raises(ValueError, match=r"must be \(N, latent_dim\) arrays of one shape"):
        latent.elbo_surgery(np.zeros(8), np.zeros(8))
    with pytest.raises(ValueError, match="got \\(3, 2\\) and \\(3, 4\\)"):
        latent.elbo_surgery(np.zeros((3, 2)), np.zeros((3, 4)))


def test_the_in_place_log_sum_exp_is_scipy_s():
    """latent.logsumexp_rows against scipy's logsumexp: large and tiny values (no overflow),
    a row of -inf (log 0), a row with one finite entry."""
    from scipy.special import logsumexp

    rng = np.random.default_rng(0)
    a = rng.normal(scale=300.0, size=(5, 7))
    a[1] = -np.inf
    a[2, 1:] = -np.inf
    expected = logsumexp(a, axis=1)
    got = latent.logsumexp_rows(a.copy())
    assert got[1] == -np.inf and np.allclose(got[[0, 2, 3, 4]], expected[[0, 2, 3, 4]], rtol=1e-12)


def test_active_units_count_the_units_whose_posterior_mean_varies():
    """Burda et al.'s A_u = Var_x(E[z_u | x]) on codes of known variances 1, 0.04, 0.0025 and
    0 (a constant unit): two active at 0.01, its estimate close to the truth; a shift of a
    unit's mean changes nothing."""
    rng = np.random.default_rng(0)
    scales = np.array([1.0, 0.2, 0.05, 0.0])
    z_mean = rng.normal(size=(20_000, 4)) * scales + np.array([3.0, -1.0, 0.5, 7.0])
    assert np.allclose(latent.unit_activity(z_mean), scales**2, rtol=0.05, atol=1e-4)
    assert latent.active_units(z_mean) == 2 and latent.active_units(z_mean, 0.001) == 3
    assert latent.active_units(z_mean - 100.0) == 2
    with pytest.raises(ValueError, match="z_mean must be"):
        latent.unit_activity(np.zeros(5))
