"""The noise functions return Keras's own random numbers, eagerly and compiled with XLA."""

import keras
import numpy as np
import pytest
from scipy import stats

from vae_keras import noise

PAIRS = (
    (noise.standard_normal, keras.random.normal),
    (noise.uniform, keras.random.uniform),
)


def _compiled(fn, jit):
    if keras.backend.backend() != "tensorflow":
        return fn
    import tensorflow as tf

    return tf.function(fn, jit_compile=jit)


@pytest.mark.parametrize("ours, theirs", PAIRS, ids=("normal", "uniform"))
@pytest.mark.parametrize("jit", (False, True), ids=("eager", "xla"))
def test_the_same_numbers_as_keras_draw_by_draw(ours, theirs, jit):
    shape = (64, 8)
    mine, keras_own = keras.random.SeedGenerator(11), keras.random.SeedGenerator(11)
    draw_ours = _compiled(lambda: ours(shape, mine), jit)
    draw_theirs = _compiled(lambda: theirs(shape, seed=keras_own), jit)
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
