"""The noise functions return Keras's own random numbers: eagerly, in a graph, under XLA.

On TensorFlow they are a re-implementation (Philox named) and are checked against
Keras draw by draw; on JAX and PyTorch they are Keras's own functions, so there
only their distributions and the generator's advance are checked, in a process
of that backend (tests/helpers/backend_check.py, tests/test_backends.py).
"""

import keras
import numpy as np
import pytest
from scipy import stats

from vae_keras import noise

on_tensorflow = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the re-implementation exists on TensorFlow only; elsewhere it is keras.random",
)

PAIRS = (
    (noise.standard_normal, keras.random.normal),
    (noise.uniform, keras.random.uniform),
)


def _run_as(fn, mode):
    """``fn`` run eagerly, as a TensorFlow graph, or compiled with XLA (the training path)."""
    if mode == "eager":
        return fn
    import tensorflow as tf

    return tf.function(fn, jit_compile=mode == "xla")


@on_tensorflow
@pytest.mark.parametrize("ours, theirs", PAIRS, ids=("normal", "uniform"))
@pytest.mark.parametrize("mode", ("eager", "graph", "xla"))
def test_the_same_numbers_as_keras_draw_by_draw(ours, theirs, mode):
    shape = (64, 8)
    mine, keras_own = keras.random.SeedGenerator(11), keras.random.SeedGenerator(11)
    draw_ours = _run_as(lambda: ours(shape, mine), mode)
    draw_theirs = _run_as(lambda: theirs(shape, seed=keras_own), mode)
    draws = [keras.ops.convert_to_numpy(draw_ours()) for _ in range(3)]
    for got in draws:
        np.testing.assert_array_equal(got, keras.ops.convert_to_numpy(draw_theirs()))
    # the generator advances: consecutive draws differ
    assert not np.array_equal(draws[0], draws[1])
    assert draws[0].shape == shape and draws[0].dtype == np.float32


def test_the_numbers_follow_their_distributions():
    generator = keras.random.SeedGenerator(3)
    normal = keras.ops.convert_to_numpy(noise.standard_normal((200_000,), generator))
    uniform = keras.ops.convert_to_numpy(noise.uniform((200_000,), generator))
    assert stats.kstest(normal, "norm").pvalue > 1e-3
    assert stats.kstest(uniform, "uniform").pvalue > 1e-3
    assert uniform.min() >= 0.0 and uniform.max() < 1.0
