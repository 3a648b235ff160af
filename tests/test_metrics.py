"""KID, precision/recall and FID-infinity against direct computations and constructed cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from vae_keras import metrics
from vae_keras.errors import FIDInputError
from vae_keras.fid import Statistics, compute_statistics, frechet_distance


def direct_mmd2(x, y):
    """O(n^2) loops over the pairs: the unbiased MMD^2 written as its definition."""
    d = x.shape[1]

    def k(a, b):
        return (float(a @ b) / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 12), st.integers(1, 5))
def test_mmd2_equals_the_direct_sum(seed, n, d):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((n, d)), rng.standard_normal((n, d)) + 0.5
    assert metrics.mmd2_unbiased(x, y) == pytest.approx(direct_mmd2(x, y), rel=1e-9, abs=1e-9)


def test_kid_with_one_full_subset_is_the_unbiased_mmd2():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((30, 4)), rng.standard_normal((30, 4)) * 1.5
    result = metrics.kid(x, y, subsets=1, subset_size=30)
    assert result.mean == pytest.approx(direct_mmd2(x, y), rel=1e-9)
    assert result.std == 0.0 and result.subset_size == 30


def test_kid_is_unbiased_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(2)
    same = [
        metrics.mmd2_unbiased(rng.standard_normal((50, 3)), rng.standard_normal((50, 3)))
        for _ in range(400)
    ]
    # the mean over many draws is within 3 standard errors of zero (a biased V-statistic is not)
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(len(same))
    shifted = metrics.kid(
        rng.standard_normal((500, 3)),
        rng.standard_normal((500, 3)) + 1.0,
        subsets=20,
        subset_size=200,
    )
    assert shifted.mean > 5 * shifted.std > 0


def clusters(centres, per_cluster, rng, spread=0.05):
    return np.concatenate([c + spread * rng.standard_normal((per_cluster, 2)) for c in centres])


def test_precision_and_recall_follow_the_overlap_of_the_sets():
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0], [5, 0], [0, 5], [5, 5]], float)
    real = clusters(centres, 100, rng)
    same = metrics.precision_recall(real, real)
    assert same.precision == 1.0 and same.recall == 1.0
    # generated digits of only two of the four kinds: faithful (precision 1) but half the modes
    half = metrics.precision_recall(real, clusters(centres[:2], 200, rng))
    assert half.precision > 0.95
    assert half.recall == pytest.approx(0.5, abs=0.05)
    # generated points off the real manifold: recall keeps, precision drops to the overlap
    shifted = metrics.precision_recall(
        real, clusters(np.vstack([centres[:2], [[20, 20]] * 2]), 100, rng)
    )
    assert shifted.precision == pytest.approx(0.5, abs=0.05)
    assert shifted.recall == pytest.approx(half.recall, abs=0.05)  # the same two modes covered


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 40), st.integers(4, 40), st.integers(1, 7))
def test_precision_and_recall_match_the_definition_by_brute_force(seed, m, n, batch):
    """One pass over blocks of distances gives both fractions of the definition."""
    rng = np.random.default_rng(seed)
    real, generated = rng.normal(size=(m, 3)), rng.normal(0.5, 1.5, size=(n, 3))
    k = 3
    d_rr, d_gg = cdist(real, real), cdist(generated, generated)
    radius_r = np.sort(d_rr, axis=1)[:, k]  # k-th nearest other point (index 0 is itself)
    radius_g = np.sort(d_gg, axis=1)[:, k]
    d_gr = cdist(generated, real)
    precision = np.mean([(d_gr[i] <= radius_r).any() for i in range(n)])
    recall = np.mean([(d_gr[:, j] <= radius_g).any() for j in range(m)])
    got = metrics.manifold_coverages(
        real, generated, metrics.knn_radii(real, k), metrics.knn_radii(generated, k), batch
    )
    assert got == pytest.approx((precision, recall))


def test_fid_infinity_recovers_the_distance_of_two_gaussians():
    d = 8
    mu_a, mu_b = np.zeros(d), np.full(d, 0.3)
    sigma_a, sigma_b = np.eye(d), np.diag(np.linspace(0.5, 2.0, d))
    truth = frechet_distance(mu_a, sigma_a, mu_b, sigma_b)
    reference = Statistics(mu_a, sigma_a, 10**9)  # exact statistics of the reference
    sizes = (200, 400, 800, 1600, 3200)
    values = {1: [], 3: []}
    bias_smallest = []
    for seed in range(20):  # 20 generated sets of 3,200 (the pool, as 10,000 in the report)
        generated = np.random.default_rng(seed).multivariate_normal(mu_b, sigma_b, size=3200)
        for repeats in values:
            result = metrics.fid_infinity(generated, reference, sizes, seed=seed, repeats=repeats)
            assert [n for n, _ in result.points] == list(sizes)
            values[repeats].append(result.value)
        bias_smallest.append(result.points[0][1] - truth)
    bias = np.mean(bias_smallest)
    assert bias > 0.1  # FID at N = 200 is biased upwards ...
    assert abs(np.mean(values[3]) - truth) < 0.1 * bias  # ... the extrapolation is not,
    assert np.mean(np.abs(np.array(values[3]) - truth)) < 0.4 * bias  # nor far off in one set,
    assert np.std(values[3]) < np.std(values[1])  # and averaging subsets steadies it


def test_bad_inputs_are_named():
    with pytest.raises(FIDInputError, match="Feature sizes differ"):
        metrics.kid(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(FIDInputError, match=r"must be a \(n, d\) array"):
        metrics.precision_recall(np.zeros(5), np.zeros((5, 2)))
    with pytest.raises(FIDInputError, match="NaN"):
        metrics.kid(np.full((5, 2), np.nan), np.zeros((5, 2)))


def test_sample_quality_record_matches_the_functions_and_reuses_the_reference():
    rng = np.random.default_rng(7)
    generated, real = rng.normal(size=(300, 6)), rng.normal(0.2, 1.1, size=(400, 6))
    reference = metrics.Reference(real)
    first = metrics.sample_quality(generated, reference, seed=3, kid_subsets=5)
    again = metrics.sample_quality(generated, reference, seed=3, kid_subsets=5)  # cached parts
    assert again == first == metrics.sample_quality(generated, real, seed=3, kid_subsets=5)
    a, b = compute_statistics(generated), compute_statistics(real)
    assert first["fid"] == pytest.approx(frechet_distance(a.mu, a.sigma, b.mu, b.sigma))
    assert first["kid"]["mean"] == metrics.kid(generated, real, subsets=5, seed=3).mean
    pr = metrics.precision_recall(real, generated)
    assert (first["precision"], first["recall"], first["k"]) == (pr.precision, pr.recall, 3)
    size, value = first["fid_infinity"]["points"][-1]  # the whole set: the FID itself
    assert size == 300 and value == pytest.approx(first["fid"])
    only = metrics.sample_quality(generated, reference, metrics=("recall",))
    assert set(only) == {"n_generated", "n_reference", "precision", "recall", "k"}
    with pytest.raises(FIDInputError, match="Unknown metrics"):
        metrics.sample_quality(generated, reference, metrics=("fidd",))
    with pytest.raises(FIDInputError, match="Feature sizes differ"):
        metrics.sample_quality(generated[:, :5], reference)
