"""The loss terms against closed forms, Monte Carlo and their defining properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from vae_keras import losses

finite = st.floats(-5, 5, allow_nan=False, width=32)


def np_(t):
    return np.asarray(t, dtype=np.float64)


def test_kl_is_zero_at_the_prior():
    assert np_(
        losses.kl_divergence(np.zeros((3, 4), "float32"), np.zeros((3, 4), "float32"))
    ) == pytest.approx(np.zeros(3), abs=1e-7)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, (4, 3), elements=finite), arrays(np.float32, (4, 3), elements=finite))
def test_kl_is_non_negative(mu, log_var):
    assert np.all(np_(losses.kl_divergence(mu, log_var)) >= -1e-4)


@pytest.mark.parametrize(("mu", "log_var"), [([0.5, -1.0], [0.3, -0.7]), ([2.0, 0.0], [-2.0, 1.0])])
def test_kl_matches_monte_carlo(mu, log_var):
    """KL(q || p) = E_q[log q(z) - log p(z)], estimated from 200,000 draws of z ~ q."""
    mu, log_var = np.array(mu), np.array(log_var)
    sigma = np.exp(0.5 * log_var)
    rng = np.random.default_rng(0)
    z = mu + sigma * rng.standard_normal((200_000, mu.size))
    log_ratio = (stats.norm.logpdf(z, mu, sigma) - stats.norm.logpdf(z)).sum(axis=1)
    estimate, stderr = log_ratio.mean(), log_ratio.std() / np.sqrt(len(log_ratio))
    analytic = np_(
        losses.kl_divergence(mu[None].astype("float32"), log_var[None].astype("float32"))
    )[0]
    assert abs(estimate - analytic) < 5 * stderr


def test_kl_grows_with_distance_from_prior():
    mus = np.linspace(0, 3, 7, dtype="float32")[:, None]
    kl = np_(losses.kl_divergence(mus, np.zeros_like(mus)))
    assert np.allclose(kl, 0.5 * mus[:, 0] ** 2, atol=1e-6)
    assert np.all(np.diff(kl) > 0)


def test_reconstruction_loss_is_bernoulli_negative_log_likelihood():
    rng = np.random.default_rng(1)
    x = (rng.random((5, 784)) > 0.5).astype("float32")
    p = rng.uniform(0.01, 0.99, (5, 784)).astype("float32")
    expected = -stats.bernoulli.logpmf(x, p).sum(axis=1)
    assert np_(losses.reconstruction_loss(x, p)) == pytest.approx(expected, rel=1e-4)


def test_reconstruction_loss_of_grey_levels_is_summed_cross_entropy():
    rng = np.random.default_rng(2)
    x = rng.random((4, 3072)).astype("float32")
    p = rng.uniform(0.01, 0.99, (4, 3072)).astype("float32")
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    assert np_(losses.reconstruction_loss(x, p)) == pytest.approx(expected, rel=1e-4)


def test_vae_loss_is_batch_mean_of_both_terms():
    rng = np.random.default_rng(3)
    x = rng.random((6, 10)).astype("float32")
    p = rng.uniform(0.05, 0.95, (6, 10)).astype("float32")
    mu = rng.standard_normal((6, 2)).astype("float32")
    lv = rng.standard_normal((6, 2)).astype("float32")
    per_example = np_(losses.reconstruction_loss(x, p)) + np_(losses.kl_divergence(mu, lv))
    assert float(losses.vae_loss(x, p, mu, lv)) == pytest.approx(per_example.mean(), rel=1e-6)


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float32, (3, 5), elements=st.floats(-12, 12, width=32)),
    arrays(np.float32, (3, 5), elements=st.floats(0, 1, width=32)),
)
def test_reconstruction_loss_from_logits_is_the_same_sum(logits, x):
    """softplus(l) - x l is the Bernoulli NLL of sigmoid(l) (where the clipping does not act)."""
    by_hand = -(x * np.log(1 / (1 + np.exp(-np_(logits)))) + (1 - x) * np.log(
        1 / (1 + np.exp(np_(logits)))
    )).sum(-1)  # fmt: skip
    from_logits = np_(losses.reconstruction_loss_from_logits(x, logits))
    assert from_logits == pytest.approx(by_hand, rel=1e-4, abs=1e-4)
    assert from_logits == pytest.approx(
        np_(losses.reconstruction_loss(x, 1 / (1 + np.exp(-logits)))), rel=1e-3, abs=1e-3
    )


def test_reconstruction_loss_from_logits_is_exact_where_probabilities_saturate():
    # p = sigmoid(-40) underflows the clipped form (16.1 nats); the logit form keeps 40 nats
    loss = np_(losses.reconstruction_loss_from_logits(np.ones((1, 1)), np.full((1, 1), -40.0)))
    assert loss == pytest.approx([40.0], rel=1e-6)
    # extra leading axes broadcast: (batch, 1, d) targets against (batch, k, d) logits
    x, logits = np.full((2, 1, 4), 0.5), np.zeros((2, 3, 4))
    assert np_(losses.reconstruction_loss_from_logits(x, logits)) == pytest.approx(
        np.full((2, 3), 4 * np.log(2.0))
    )


unit = st.floats(0, 1, allow_nan=False, width=32)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float32, (3, 6), elements=unit),
    arrays(np.float32, (3, 6), elements=unit),
    st.floats(-6, 2, allow_nan=False),
)
def test_gaussian_nll_is_minus_the_sum_of_normal_log_densities(x, mean, log_var):
    """Slide "Example": -log N(x; mu, sigma^2 I), against scipy's normal density pixel by pixel."""
    expected = -stats.norm.logpdf(x, mean, np.exp(0.5 * log_var)).sum(axis=1)
    shared = np_(losses.gaussian_reconstruction_loss(x, mean, np.float32(log_var)))
    per_pixel = np_(losses.gaussian_reconstruction_loss(x, mean, np.full_like(x, log_var)))
    np.testing.assert_allclose(shared, expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(per_pixel, shared, rtol=1e-6)


def test_gaussian_nll_matches_monte_carlo_and_is_smallest_at_the_mean_squared_error():
    """E_{x ~ N(mu, s^2)}[-log N(x; mu, s^2)] = d/2 (log(2 pi s^2) + 1), the normal's entropy;
    and over one shared variance, the NLL of fixed (x, mu) is smallest at s^2 = mean((x - mu)^2)."""
    rng = np.random.default_rng(0)
    d, log_var = 8, -1.5
    mean = rng.random(d).astype("float32")
    x = (mean + np.exp(0.5 * log_var) * rng.standard_normal((100_000, d))).astype("float32")
    nll = np_(losses.gaussian_reconstruction_loss(x, mean, np.float32(log_var)))
    entropy = 0.5 * d * (np.log(2 * np.pi) + log_var + 1)
    assert abs(nll.mean() - entropy) < 4 * nll.std() / np.sqrt(len(nll))
    x, mean = rng.random((1, 50)).astype("float32"), rng.random((1, 50)).astype("float32")
    best = np.log(np.mean((x - mean) ** 2))
    grid = best + np.linspace(-1, 1, 21)
    values = [
        float(np_(losses.gaussian_reconstruction_loss(x, mean, np.float32(v)))[0]) for v in grid
    ]
    assert int(np.argmin(values)) == 10  # the middle of the grid: log mean squared error
    assert np.all(np.diff(values[:11]) < 0) and np.all(np.diff(values[10:]) > 0)


def test_gaussian_vae_loss_is_batch_mean_of_both_terms():
    rng = np.random.default_rng(2)
    x, mean = rng.random((5, 7)).astype("float32"), rng.random((5, 7)).astype("float32")
    mu, log_var = rng.standard_normal((2, 5, 3)).astype("float32")
    total = float(np_(losses.gaussian_vae_loss(x, mean, np.float32(-2.0), mu, log_var)))
    parts = np_(losses.gaussian_reconstruction_loss(x, mean, np.float32(-2.0))) + np_(
        losses.kl_divergence(mu, log_var)
    )
    assert total == pytest.approx(parts.mean(), rel=1e-6)
