"""The order of a run's batches, from ``(seed, epoch)`` alone (NumPy only).

A resumed run must see exactly the batches an uninterrupted run would, on every
backend: :func:`epoch_order` is that order, :func:`seeded_batches` the batches
Keras's ``fit`` gets, and :func:`aligned_steps_per_execution` keeps compiled
multi-step calls from straddling two epochs. :mod:`vae_keras.training` and the
TensorFlow fast path (:mod:`vae_keras.tf_speed`) both use them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which epoch ``epoch`` of a run with ``seed`` visits ``n`` examples.

    A permutation of ``range(n)`` drawn from a generator seeded with
    ``(seed, epoch)`` alone: the same on every backend, and the same whether
    the run was interrupted before ``epoch`` or not.
    """
    return np.random.default_rng((seed, epoch)).permutation(n)


def seeded_batches(
    x: np.ndarray, batch_size: int, seed: int, first_epoch: int, last_epoch: int
) -> Iterator[np.ndarray]:
    """The batches of epochs ``first_epoch .. last_epoch - 1``, in :func:`epoch_order`.

    Each epoch ends with its own (possibly smaller) last batch, as ``fit`` on
    arrays does. Each element is a 1-tuple ``(inputs,)``: the model has no targets.
    """
    for epoch in range(first_epoch, last_epoch):
        order = epoch_order(len(x), seed, epoch)
        for start in range(0, len(x), batch_size):
            yield (x[order[start : start + batch_size]],)


def aligned_steps_per_execution(requested: int, steps: int) -> int:
    """The divisor of ``steps`` (steps per epoch) nearest to ``requested``, in ratio.

    Keras runs whole executions of ``steps_per_execution`` steps and does not
    stop one at the end of an epoch, so a value that does not divide the epoch
    would shift batches across epochs. 235 steps (MNIST, batch 256) and a
    request of 32 give 47.
    """
    divisors = [d for d in range(1, steps + 1) if steps % d == 0]
    return min(divisors, key=lambda d: (abs(math.log(d / requested)), -d))
