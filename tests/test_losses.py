"""The loss terms against closed forms, Monte Carlo and their defining properties."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import special, stats

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


def backend_gradient(f, values):
    """d f(l) / d l at ``values`` (float32) by the autodiff of the Keras backend in use,
    where ``f`` maps a tensor to a tensor of the same shape (summed, so the gradient of an
    element-wise ``f`` is its derivative element by element)."""
    import keras

    values = np.asarray(values, dtype="float32")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        t = tf.constant(values)
        with tf.GradientTape() as tape:
            tape.watch(t)
            total = tf.reduce_sum(f(t))
        return np_(tape.gradient(total, t))
    if backend == "jax":
        import jax

        return np_(jax.grad(lambda t: f(t).sum())(values))
    import torch

    t = torch.tensor(values, requires_grad=True)
    f(t).sum().backward()
    return np_(t.grad)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float32, (64,), elements=st.floats(-150, 150, width=32)))
def test_softplus_is_log_one_plus_exp(logits):
    """log(1 + e^l) against numpy's float64 logaddexp(0, l), overflow-free for large |l|."""
    expected = np.logaddexp(0.0, np_(logits))
    np.testing.assert_allclose(np_(losses.softplus(logits)), expected, rtol=1e-6, atol=1e-7)


def test_softplus_gradient_is_the_sigmoid_everywhere_zero_included():
    """d softplus / dl = sigmoid(l), by the backend's autodiff: at 0 exactly 1/2 (where
    ``max(l, 0)``'s or ``relu``'s gradient picks a side), and saturated for large |l|."""
    logits = np.array([-150, -30, -1, -1e-3, 0, 1e-3, 1, 30, 150], dtype="float32")
    gradient = backend_gradient(losses.softplus, logits)
    np.testing.assert_allclose(gradient, special.expit(np_(logits)), rtol=1e-6, atol=1e-7)
    assert gradient[4] == 0.5


def test_reconstruction_loss_gradient_is_sigmoid_minus_target():
    """d/dl [softplus(l) - x l] = sigmoid(l) - x: the cross-entropy's gradient in its logits,
    the one the decoder is trained with, for grey-level targets and a logit of exactly 0."""
    rng = np.random.default_rng(4)
    x = rng.random((3, 8)).astype("float32")
    logits = rng.uniform(-8, 8, (3, 8)).astype("float32")
    logits[0, 0] = 0.0

    def loss(t):
        return losses.reconstruction_loss_from_logits(x, t)

    gradient = backend_gradient(loss, logits)
    np.testing.assert_allclose(gradient, special.expit(np_(logits)) - x, rtol=1e-5, atol=1e-6)


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


# The continuous Bernoulli (Loaiza-Ganem & Cunningham 2019)

#: Whether Keras computes a float64 input in float64: on TensorFlow and PyTorch it does, on JAX
#: its dtype rules round float64 to float32 (``keras.src.backend.common.dtypes``, as JAX itself
#: with x64 off). The float64 checks below hold to float64 rounding where it does, and to
#: float32's (a few parts in 10^7) on JAX: the formula is the same, only the rounding differs.
FLOAT64 = keras.backend.backend() != "jax"


def logit(lam):
    lam = np.asarray(lam, np.float64)
    return np.log(lam) - np.log1p(-lam)


def paper_log_normalizer(lam: float) -> float:
    """``log C(lambda)`` by the paper's formula, in float64 (lambda away from 1/2)."""
    return float(np.log(2 * np.arctanh(1 - 2 * lam) / (1 - 2 * lam)))


@pytest.mark.parametrize(
    "lam", [1e-7, 1e-4, 0.05, 0.3, 0.499, 0.4999999, 0.5, 0.5000001, 0.501, 0.8, 1 - 1e-4, 1 - 1e-7]
)
def test_continuous_bernoulli_density_integrates_to_one(lam):
    """``int_0^1 C(lambda) lambda^x (1 - lambda)^(1 - x) dx = 1``, by quadrature (float64)."""
    from scipy import integrate

    log_c = float(np_(losses.continuous_bernoulli_log_normalizer(np.array([logit(lam)])))[0])

    def density(x):
        return np.exp(log_c + x * np.log(lam) + (1 - x) * np.log1p(-lam))

    total, error = integrate.quad(density, 0.0, 1.0, epsabs=1e-12, epsrel=1e-12)
    assert total == pytest.approx(1.0, abs=1e-9 if FLOAT64 else 1e-6)


@pytest.mark.parametrize("lam", [1e-6, 0.01, 0.2, 0.45, 0.55, 0.9, 1 - 1e-6])
def test_continuous_bernoulli_normalizer_is_the_papers_formula(lam):
    got = float(np_(losses.continuous_bernoulli_log_normalizer(np.array([logit(lam)])))[0])
    assert got == pytest.approx(paper_log_normalizer(lam), rel=1e-12 if FLOAT64 else 1e-6)


def test_continuous_bernoulli_normalizer_is_stable_in_float32():
    """Near 1/2 (0/0 in the formula), and saturated (sigmoid(l) rounds to 0 or 1 in float32)."""
    logits = np.array([0.0, 1e-8, -1e-5, 9.9e-3, 1.01e-2, 20.0, -20.0, 80.0, -80.0], np.float32)
    got = np_(losses.continuous_bernoulli_log_normalizer(logits))
    assert np.all(np.isfinite(got))
    assert got[:3] == pytest.approx(np.log(2.0), abs=1e-7)  # C(1/2) = 2
    # either side of the switch to the series, the same function (C = l / tanh(l / 2))
    exact = np.log(logits[3:5].astype(np.float64) / np.tanh(logits[3:5] / 2.0))
    # to 1e-7 (under 2 float32 steps at log 2, 5.96e-8 each); JAX's float32 tanh (XLA's own
    # approximation) is 1.7 steps off at 1.01e-2: 3 steps there
    assert got[3:5] == pytest.approx(exact, abs=1e-7 if FLOAT64 else 2e-7)
    # saturated: C = |l| / tanh(|l| / 2) = |l| to float32
    assert got[5:] == pytest.approx(np.log(np.abs(logits[5:])), rel=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.floats(-30, 30, allow_nan=False))
def test_continuous_bernoulli_normalizer_is_even_at_least_2_and_grows_with_the_logit(logit_):
    def f(v):
        return float(np_(losses.continuous_bernoulli_log_normalizer(np.array([v])))[0])

    assert f(logit_) == pytest.approx(f(-logit_), abs=1e-12)  # C(lambda) = C(1 - lambda)
    assert f(logit_) >= np.log(2.0) - 1e-12
    assert f(abs(logit_) + 0.5) > f(logit_)


def test_continuous_bernoulli_log_likelihood_is_torch_and_the_bernoulli_term_plus_log_c():
    """Against PyTorch's ContinuousBernoulli (an independent implementation), per example."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, logits = rng.random((5, 40)), rng.normal(0, 4, (5, 40))
    logits[0, :5] = [0.0, 1e-4, 25.0, -25.0, 3e-3]
    got = np_(losses.continuous_bernoulli_log_likelihood(x, logits))
    reference = torch.distributions.ContinuousBernoulli(logits=torch.tensor(logits))
    expected = reference.log_prob(torch.tensor(x)).sum(-1).numpy()
    # torch computes C from float64 probabilities: ~1e-7 nats lost at the saturated logits
    assert got == pytest.approx(expected, rel=1e-8, abs=1e-6 if FLOAT64 else 2e-5)
    bernoulli = -np_(losses.reconstruction_loss_from_logits(x, logits))
    log_c = np_(losses.continuous_bernoulli_log_normalizer(logits)).sum(-1)
    assert got == pytest.approx(bernoulli + log_c, rel=1e-12 if FLOAT64 else 1e-6)
    assert np.all(got - bernoulli >= 40 * np.log(2.0) - 1e-9)  # log C >= log 2 per pixel


def test_reconstruction_loss_from_probabilities_clips_on_every_backend():
    """The mean-based term clips p to [1e-7, 1 - 1e-7]: a pixel costs at most -log(1e-7)."""
    x = np.array([[0.0, 1.0, 0.5]], np.float32)
    p = np.array([[1.0, 0.0, 1.0]], np.float32)
    got = float(np_(losses.reconstruction_loss(x, p))[0])
    low, high = float(np.float32(1e-7)), float(np.float32(1 - 1e-7))  # the clip, in float32
    clipped = -np.log(low) - 1.5 * np.log(1 - high) - 0.5 * np.log(high)
    assert got == pytest.approx(clipped, rel=1e-4)
    assert got < 3 * 16.2  # not the infinite -log(0) of the unclipped formula
