"""Random numbers as Keras draws them, without TensorFlow's slow XLA path on a CPU.

``keras.random.normal`` and ``keras.random.uniform`` call, on TensorFlow,
``tf.random.stateless_normal`` / ``stateless_uniform`` with the default algorithm
``"auto_select"``, which is Philox. Compiled with XLA on a CPU (the default training
path compiles its step), that default is lowered to a generic random-bits kernel much
slower than the same Philox stream asked for by name: about 13 ms against under 1 ms for
the 256 x 128 normals of a CIFAR-10 training step, whose epoch of 196 steps took 9.1 s
(47 ms a step) before this module and 6.6 s after (``benchmarks/bench_noise.py`` measures
each shape the project draws; ``benchmarks/bench_train.py`` the epochs). The functions
here return the same numbers as Keras's (a test checks it, eagerly and compiled) and name
``alg="philox"`` on TensorFlow; on JAX and PyTorch they are Keras's own functions.
"""

from __future__ import annotations

import keras


def _draw(distribution: str, shape, seed_generator: keras.random.SeedGenerator, dtype):
    """``keras.random.<distribution>``'s numbers; on TensorFlow, its op with Philox named.

    On TensorFlow the seed is drawn as Keras draws it (``SeedGenerator.next()``), folded
    into int32 as ``keras.src.backend.tensorflow.random._cast_seed`` does.
    """
    dtype = dtype or keras.config.floatx()
    if keras.backend.backend() != "tensorflow":
        return getattr(keras.random, distribution)(shape, dtype=dtype, seed=seed_generator)
    import tensorflow as tf

    seed = seed_generator.next()
    if seed.dtype != tf.int32:
        seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)
    stateless = getattr(tf.random, f"stateless_{distribution}")
    return stateless(shape, seed=seed, dtype=dtype, alg="philox")


def standard_normal(shape, seed_generator: keras.random.SeedGenerator, dtype=None):
    """``epsilon ~ N(0, I)``: the numbers of ``keras.random.normal(shape, seed=seed_generator)``.

    Slide "Reparameterization trick": ``epsilon = K.random_normal(shape=(batch, dim))``.
    """
    return _draw("normal", shape, seed_generator, dtype)


def uniform(shape, seed_generator: keras.random.SeedGenerator, dtype=None):
    """``u ~ U[0, 1)``: the numbers of ``keras.random.uniform(shape, seed=seed_generator)``."""
    return _draw("uniform", shape, seed_generator, dtype)
