"""Forward KL fits match moments; reverse KL fits sit on a mode; the discrete definition."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.integrate import trapezoid

from vae_keras.background.kl import (
    BIMODAL,
    Mixture1D,
    fit_gaussian,
    forward_kl,
    grid_for,
    kl_discrete,
    reverse_kl,
)

probabilities = arrays(np.float64, 5, elements=st.floats(0.01, 1.0)).map(lambda v: v / v.sum())


@settings(max_examples=50, deadline=None)
@given(probabilities, probabilities)
def test_discrete_kl_is_non_negative_and_zero_on_equality(p, q):
    assert kl_discrete(p, q) >= -1e-12
    assert kl_discrete(p, p) == pytest.approx(0.0, abs=1e-12)


def test_discrete_kl_is_asymmetric_and_infinite_off_support():
    p, q = np.array([0.9, 0.1]), np.array([0.5, 0.5])
    assert kl_discrete(p, q) != pytest.approx(kl_discrete(q, p))
    assert kl_discrete([0.5, 0.5], [1.0, 0.0]) == float("inf")
    assert kl_discrete([1.0, 0.0], [0.5, 0.5]) == pytest.approx(np.log(2))


def test_mixture_moments_and_density():
    p = Mixture1D((0.2, 0.8), (-1.0, 2.0), (0.5, 1.5))
    grid = grid_for(p)
    density = np.exp(p.log_pdf(grid))
    assert trapezoid(density, grid) == pytest.approx(1.0, abs=1e-9)
    assert trapezoid(grid * density, grid) == pytest.approx(p.mean(), abs=1e-9)
    assert trapezoid((grid - p.mean()) ** 2 * density, grid) == pytest.approx(
        p.variance(), abs=1e-8
    )


@pytest.mark.parametrize("p", [BIMODAL, Mixture1D((0.3, 0.7), (-2.0, 4.0), (0.7, 1.2))])
def test_forward_kl_fit_is_moment_matching(p):
    fit = fit_gaussian(p, "forward")
    assert fit.mean == pytest.approx(p.mean(), abs=1e-5)
    assert fit.sd == pytest.approx(np.sqrt(p.variance()), rel=1e-5)
    # what the optimiser minimised is forward_kl (P's log-density computed once there)
    assert fit.kl == pytest.approx(forward_kl(p, fit.mean, np.log(fit.sd), grid_for(p)), rel=1e-9)


def test_reverse_kl_fit_sits_on_one_mode():
    right = fit_gaussian(BIMODAL, "reverse", init=(0.5, 0.0))
    left = fit_gaussian(BIMODAL, "reverse", init=(-0.5, 0.0))
    assert right.mean == pytest.approx(3.0, abs=0.05) and right.sd == pytest.approx(1.0, abs=0.05)
    assert left.mean == pytest.approx(-3.0, abs=0.05)
    # on one well-separated mode of two, the reverse KL is close to log 2
    assert right.kl == pytest.approx(np.log(2), abs=0.01)
    assert right.kl == pytest.approx(
        reverse_kl(BIMODAL, right.mean, np.log(right.sd), grid_for(BIMODAL)), rel=1e-9
    )
    # the moment-matched Gaussian is a worse reverse-KL fit than the mode-seeking one
    wide = fit_gaussian(BIMODAL, "forward")
    grid = grid_for(BIMODAL)
    assert reverse_kl(BIMODAL, wide.mean, np.log(wide.sd), grid) > right.kl


def test_unknown_direction():
    with pytest.raises(ValueError, match="'forward' or 'reverse'"):
        fit_gaussian(BIMODAL, "sideways")
