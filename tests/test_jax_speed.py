"""JAX's fast path: an epoch's steps as one compiled program, the data on the device.

tests/helpers/jax_speed_check.py runs on the JAX backend in a process of its own; the
index stacks both fast paths share are checked here, in NumPy.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_backends import installed, run_on

from vae_keras.batching import epoch_order, seeded_batches, stack_layout, stacked_orders

HELPER = __import__("pathlib").Path(__file__).parent / "helpers" / "jax_speed_check.py"


def test_the_fused_jax_path_trains_as_keras_loop_resumes_exactly_and_counts_batches():
    installed("jax")
    out = run_on("jax", HELPER)
    assert out["largest_relative_difference"] < 1e-4


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 700), batch=st.integers(1, 100), spe=st.integers(1, 40),
       seed=st.integers(0, 5))  # fmt: skip
def test_stacked_orders_are_the_seeded_batches_in_stacks(n, batch, spe, seed):
    """Concatenated, the stacks of each epoch are that epoch's order cut into its batches:
    the same batches as seeded_batches, in the same order, stacked as stack_layout says."""
    k, stacks_per_epoch = stack_layout(spe, n, batch)
    x = np.arange(n)
    stacks = list(stacked_orders(n, batch, seed, 1, 3, k))
    assert len(stacks) == 2 * stacks_per_epoch
    rows = [row for stack in stacks for row in stack]
    expected = [b[0] for b in seeded_batches(x, batch, seed, 1, 3)]
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        assert np.array_equal(x[row], want)
    assert all(s.dtype == np.int32 for s in stacks)
    full = n // batch
    assert all(s.shape == (k, batch) for s in stacks[: full // k])
    assert np.array_equal(np.concatenate([s.ravel() for s in stacks[:stacks_per_epoch]]),
                          epoch_order(n, seed, 1))  # fmt: skip
