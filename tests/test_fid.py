"""The Frechet distance pinned to closed forms, a reference, and its properties."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vae_keras.errors import FIDInputError
from vae_keras.features import InceptionFeatures, get_extractor
from vae_keras.fid import (
    SingularCovarianceWarning,
    Statistics,
    StreamingStatistics,
    compute_statistics,
    frechet_distance,
    frechet_distance_reference,
    statistics_of_images,
    trace_sqrt_product,
)


def random_spd(rng, d, condition=10.0):
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    w = np.exp(rng.uniform(0, np.log(condition), d))
    return (q * w) @ q.T


def two_gaussians(d, seed):
    """A generator and two random Gaussians ``(m1, s1)``, ``(m2, s2)`` drawn from it."""
    rng = np.random.default_rng(seed)
    s1, s2 = random_spd(rng, d), random_spd(rng, d)
    m1, m2 = rng.standard_normal(d), rng.standard_normal(d)
    return rng, m1, s1, m2, s2


def random_orthogonal(rng, d):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


# --- closed forms --------------------------------------------------------------------------------


def test_one_dimension():
    # W2^2 between N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9 + 1, rel=1e-12)


def test_diagonal_covariances():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    m1, m2 = rng.standard_normal(6), rng.standard_normal(6)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("c", [0.0, 0.5, 2.0, 3.5])
def test_scaled_covariance(c):
    rng = np.random.default_rng(1)
    s1 = random_spd(rng, 8)
    mu = rng.standard_normal(8)
    expected = (1 - c) ** 2 * np.trace(s1)
    assert frechet_distance(mu, s1, mu, c**2 * s1) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_equal_covariances_leave_only_the_mean_term():
    rng = np.random.default_rng(2)
    s = random_spd(rng, 10, condition=100)
    m1, m2 = rng.standard_normal(10), rng.standard_normal(10)
    assert frechet_distance(m1, s, m2, s) == pytest.approx(np.sum((m1 - m2) ** 2), rel=1e-9)


def test_singular_covariances_use_the_eigen_path():
    # rank-deficient on both sides (like MNIST's always-black border pixels)
    a = np.diag([1.0, 4.0, 0.0, 0.0])
    b = np.diag([9.0, 0.0, 1.0, 0.0])
    expected = (1 - 3) ** 2 + (2 - 0) ** 2 + (0 - 1) ** 2
    assert frechet_distance(np.zeros(4), a, np.zeros(4), b) == pytest.approx(expected, rel=1e-12)
    assert trace_sqrt_product(a, b) == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize(("n1", "n2", "d"), [(5, 7, 20), (30, 30, 200)])
def test_fewer_samples_than_dimensions_give_the_nuclear_norm_of_the_cross_gram(n1, n2, d):
    """Both covariances singular (n < d): with centred samples A1 (n1 x d), A2 (n2 x d),
    ``tr[(S1^1/2 S2 S1^1/2)^1/2]`` is the sum of the singular values of
    ``A1 A2^T / sqrt((n1 - 1)(n2 - 1))``, a closed form that never builds a d x d matrix."""
    rng = np.random.default_rng(n1 + d)
    a1, a2 = rng.standard_normal((n1, d)), 2 + rng.random((n2, d))
    s1, s2 = np.cov(a1, rowvar=False), np.cov(a2, rowvar=False)
    c1, c2 = a1 - a1.mean(0), a2 - a2.mean(0)
    nuclear = np.linalg.svd(c1 @ c2.T, compute_uv=False).sum() / np.sqrt((n1 - 1) * (n2 - 1))
    assert trace_sqrt_product(s1, s2) == pytest.approx(nuclear, rel=1e-10)
    assert trace_sqrt_product(s2, s1) == pytest.approx(nuclear, rel=1e-10)


def test_one_singular_covariance_factors_the_other():
    # like MNIST: the test set's covariance is singular, the generated set's is not
    a, b = np.diag([1.0, 4.0, 0.0]), np.diag([9.0, 1.0, 2.0])
    expected = (1 - 3) ** 2 + (2 - 1) ** 2 + (0 - np.sqrt(2)) ** 2
    assert frechet_distance(np.zeros(3), a, np.zeros(3), b) == pytest.approx(expected, rel=1e-12)
    assert frechet_distance(np.zeros(3), b, np.zeros(3), a) == pytest.approx(expected, rel=1e-12)


# --- properties ----------------------------------------------------------------------------------

dims = st.integers(1, 12)
seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=40, deadline=None)
@given(dims, seeds)
def test_symmetric_and_zero_on_identical_statistics(d, seed):
    _, m1, s1, m2, s2 = two_gaussians(d, seed)
    assert frechet_distance(m1, s1, m2, s2) == pytest.approx(
        frechet_distance(m2, s2, m1, s1), rel=1e-9
    )
    assert frechet_distance(m1, s1, m1, s1) == pytest.approx(0.0, abs=1e-9 * np.trace(s1))
    assert frechet_distance(m1, s1, m2, s2) >= 0.0


@settings(max_examples=40, deadline=None)
@given(dims, seeds)
def test_invariant_to_rotations_of_the_features(d, seed):
    rng, m1, s1, m2, s2 = two_gaussians(d, seed)
    q = random_orthogonal(rng, d)
    rotated = frechet_distance(q @ m1, q @ s1 @ q.T, q @ m2, q @ s2 @ q.T)
    assert rotated == pytest.approx(frechet_distance(m1, s1, m2, s2), rel=1e-8, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(dims, seeds)
def test_agrees_with_the_sqrtm_reference(d, seed):
    _, m1, s1, m2, s2 = two_gaussians(d, seed)
    fast = frechet_distance(m1, s1, m2, s2)
    assert fast == pytest.approx(frechet_distance_reference(m1, s1, m2, s2), rel=1e-8, abs=1e-9)


def test_is_a_metric_on_gaussians_triangle_inequality():
    rng = np.random.default_rng(3)
    gs = [(rng.standard_normal(5), random_spd(rng, 5)) for _ in range(3)]
    w = [[np.sqrt(frechet_distance(*gs[i], *gs[j])) for j in range(3)] for i in range(3)]
    assert w[0][2] <= w[0][1] + w[1][2] + 1e-9


# --- statistics ----------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 200), st.integers(1, 6), st.integers(1, 50), seeds)
def test_streaming_statistics_equal_one_shot_np_cov(n, d, batch, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * rng.uniform(0.1, 10, d) + rng.uniform(-100, 100, d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularCovarianceWarning)
        stats = compute_statistics(x, batch_size=batch)
    assert stats.n == n
    assert np.allclose(stats.mu, x.mean(axis=0), rtol=1e-12, atol=1e-12)
    assert np.allclose(stats.sigma, np.atleast_2d(np.cov(x, rowvar=False)), rtol=1e-9, atol=1e-9)


def test_streaming_is_accurate_with_a_large_offset():
    # the naive sum(x x^T) - n mu mu^T would lose every digit here
    rng = np.random.default_rng(4)
    x = 1e8 + rng.standard_normal((5000, 3))
    stats = compute_statistics(x, batch_size=128)
    assert np.allclose(stats.sigma, np.cov(x, rowvar=False), rtol=1e-6)


def test_statistics_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    stats = compute_statistics(rng.standard_normal((50, 4)))
    stats.save(tmp_path / "s.npz")
    loaded = Statistics.load(tmp_path / "s.npz")
    assert loaded.n == 50
    assert np.array_equal(loaded.mu, stats.mu) and np.array_equal(loaded.sigma, stats.sigma)


def test_statistics_of_images_use_the_extractor():
    rng = np.random.default_rng(6)
    images = rng.random((30, 4, 4, 1))
    stats = statistics_of_images([images[:10], images[10:]], get_extractor("pixels"))
    assert np.allclose(stats.mu, images.reshape(30, -1).mean(0))


# --- validation ----------------------------------------------------------------------------------


def test_invalid_inputs_raise_clear_errors():
    eye = np.eye(3)
    with pytest.raises(FIDInputError, match="Dimensions differ"):
        frechet_distance(np.zeros(3), eye, np.zeros(2), np.eye(2))
    with pytest.raises(FIDInputError, match="mu2 contains NaN"):
        frechet_distance(np.zeros(3), eye, np.array([0, np.nan, 0]), eye)
    with pytest.raises(FIDInputError, match="sigma1 contains NaN or infinite"):
        frechet_distance(np.zeros(3), np.where(eye > 0, np.inf, 0.0), np.zeros(3), eye)
    with pytest.raises(FIDInputError, match="sigma2 must be square"):
        frechet_distance(np.zeros(3), eye, np.zeros(3), np.ones((3, 2)))
    with pytest.raises(FIDInputError, match="sigma1 is not symmetric"):
        frechet_distance(np.zeros(3), np.triu(np.ones((3, 3))), np.zeros(3), eye)
    with pytest.raises(FIDInputError, match="sigma1 must be 2-D"):
        frechet_distance(np.zeros(3), np.ones(3), np.zeros(3), eye)
    with pytest.raises(FIDInputError, match="sigma1 has negative variances"):
        frechet_distance(np.zeros(2), -np.eye(2) * 5, np.zeros(2), np.eye(2) * 5)
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3 and -1
    with pytest.raises(FIDInputError, match="not positive semi-definite"):
        frechet_distance(np.zeros(2), indefinite, np.zeros(2), np.eye(2))
    # both singular (no Cholesky factor): the pivoted one leaves the indefinite part over
    singular_indefinite = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(FIDInputError, match="not positive semi-definite"):
        frechet_distance(np.zeros(3), np.diag([1.0, 0.0, 0.0]), np.zeros(3), singular_indefinite)


def test_too_few_samples_and_singular_warning():
    with pytest.raises(FIDInputError, match="at least 2 samples; got 1"):
        StreamingStatistics().update(np.ones((1, 3))).result()
    with pytest.warns(SingularCovarianceWarning, match="5 samples in 8 dimensions is singular"):
        StreamingStatistics().update(np.random.default_rng(0).random((5, 8))).result()
    with pytest.raises(FIDInputError, match="Feature dimension changed from 3 to 4"):
        StreamingStatistics().update(np.ones((2, 3))).update(np.ones((2, 4)))
    with pytest.raises(FIDInputError, match="Features contain NaN"):
        StreamingStatistics().update(np.full((2, 3), np.nan))


def test_unknown_feature_space():
    with pytest.raises(FIDInputError, match="Unknown feature space 'vgg'"):
        get_extractor("vgg")


# --- Inception plumbing (random weights: ImageNet's cannot be downloaded here) -------------------


def test_inception_extractor_plumbing_with_random_weights():
    extractor = InceptionFeatures(weights=None, batch_size=4)
    gray = np.random.default_rng(7).random((3, 28, 28, 1)).astype("float32")
    features = extractor(gray)
    assert features.shape == (3, 2048) and np.all(np.isfinite(features))
    # grayscale is repeated to three channels: the same image in RGB gives the same features
    assert np.allclose(extractor(np.repeat(gray, 3, axis=-1)), features, atol=1e-5)


def test_inception_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(FIDInputError, match="weights file .* not found"):
        InceptionFeatures(weights=tmp_path / "missing.h5")
