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


def num_examples(x: np.ndarray | dict[str, np.ndarray]) -> int:
    """The examples in a model's inputs: an array, or a conditional model's dict of arrays."""
    return len(next(iter(x.values())) if isinstance(x, dict) else x)


def take(x: np.ndarray | dict[str, np.ndarray], indices: np.ndarray):
    """The rows ``indices`` of an array, or of each array of a dict of inputs."""
    return {k: v[indices] for k, v in x.items()} if isinstance(x, dict) else x[indices]


def seeded_batches(
    x: np.ndarray | dict[str, np.ndarray],
    batch_size: int,
    seed: int,
    first_epoch: int,
    last_epoch: int,
) -> Iterator[tuple]:
    """The batches of epochs ``first_epoch .. last_epoch - 1``, in :func:`epoch_order`.

    ``x`` is the model's inputs: an array, or a conditional model's dict of arrays (images
    and one-hot labels, batched together). Each epoch ends with its own (possibly smaller)
    last batch, as ``fit`` on arrays does. Each element is a 1-tuple ``(inputs,)``: the model
    has no targets.
    """
    n = num_examples(x)
    for epoch in range(first_epoch, last_epoch):
        order = epoch_order(n, seed, epoch)
        for start in range(0, n, batch_size):
            yield (take(x, order[start : start + batch_size]),)


def aligned_steps_per_execution(requested: int, steps: int) -> int:
    """The divisor of ``steps`` (steps per epoch) nearest to ``requested``, in ratio.

    Keras runs whole executions of ``steps_per_execution`` steps and does not
    stop one at the end of an epoch, so a value that does not divide the epoch
    would shift batches across epochs. 235 steps (MNIST, batch 256) and a
    request of 32 give 47.
    """
    divisors = [d for d in range(1, steps + 1) if steps % d == 0]
    return min(divisors, key=lambda d: (abs(math.log(d / requested)), -d))


def stack_layout(steps_per_execution: int, n: int, batch_size: int) -> tuple[int, int]:
    """``(steps per stack, stacks per epoch)`` of the fused paths for ``n`` examples.

    A stack holds a divisor of the full batches per epoch (the one nearest to
    ``steps_per_execution``); the last, smaller batch is a stack of its own.
    MNIST (234 full batches of 256 and one of 96) and 32 give stacks of 39 steps,
    seven per epoch.
    """
    full, rest = divmod(n, batch_size)
    k = aligned_steps_per_execution(steps_per_execution, full) if full else 1
    return k, full // k + (1 if rest else 0)


def stacked_orders(
    n: int, batch_size: int, seed: int, first_epoch: int, last_epoch: int, steps_per_stack: int
) -> Iterator[np.ndarray]:
    """The indices of :func:`seeded_batches`' batches, ``steps_per_stack`` at a time.

    For epochs ``first_epoch`` to ``last_epoch - 1``, in the order
    :func:`epoch_order` gives: int32 arrays of shape ``(steps_per_stack,
    batch_size)`` of consecutive full batches, then the epoch's last, smaller
    batch (if any) alone, shape ``(1, n mod batch_size)``. ``steps_per_stack``
    must divide the number of full batches. NumPy only: each fast path gathers
    its own batches from these (TensorFlow's in ``tf.data``, JAX's on the device).
    """
    full, rest = divmod(n, batch_size)
    if steps_per_stack < 1 or (full and full % steps_per_stack):
        raise ValueError(
            f"steps_per_stack={steps_per_stack} must divide the {full} full batches per epoch."
        )
    for epoch in range(first_epoch, last_epoch):
        order = epoch_order(n, seed, epoch).astype(np.int32)
        yield from order[: full * batch_size].reshape(-1, steps_per_stack, batch_size)
        if rest:
            yield order[full * batch_size :].reshape(1, rest)
