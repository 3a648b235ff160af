"""The JAX fast path, the twin of :mod:`vae_keras.tf_speed`: an epoch's steps as one program.

Keras's JAX trainer runs ``steps_per_execution`` as a Python loop of single compiled
steps, each fed a batch copied from the host (``keras/src/backend/jax/trainer.py``,
``_make_function``): on a GPU that loop, not the arithmetic, sets the epoch's time.
Here, as on TensorFlow, ``fit`` and its callbacks stay in charge, but

* the training and validation images are put on the device once
  (:func:`device_batches`, :class:`ValidationStacks`); each Keras step gets a stack
  of batch *indices* (:func:`vae_keras.batching.stacked_orders`, the order of
  :func:`vae_keras.batching.epoch_order`) and gathers its batches there;
* :func:`fuse_steps` makes Keras's own stateless ``train_step(state, data)``
  (forward pass, ``add_loss`` loss, gradients, ``optimizer.stateless_apply``,
  metrics) the body of a ``jax.lax.scan`` over the stack, and ``test_step`` the
  same for validation, so a stack of 39 gradient steps is one compiled call.

The batches, the number of gradient steps, the losses and the metrics are those of one
step per batch; only Keras's step counter (and the progress bar it drives) counts stacks.
:mod:`vae_keras.training` reaches this module through :func:`vae_keras.training.fast_path`
alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import jax
import jax.numpy as jnp
import keras
import numpy as np

from vae_keras import runs
from vae_keras.batching import num_examples, stack_layout, stacked_orders
from vae_keras.conditioning import split_inputs
from vae_keras.data import Dataset
from vae_keras.model import VAEModels
from vae_keras.runs import RunConfig

#: The keys of a fused step's data (:func:`device_batches`).
IMAGES, STACK = "images", "order"


def fuse_steps(model: keras.Model) -> None:
    """Make ``model.train_step`` and ``test_step`` run one Keras step per batch of a stack.

    Each gets ``data = ({"images": ..., "order": ...},)`` (:func:`device_batches`):
    ``images`` the whole split on the device, ``order`` an int32 ``(steps, batch)``
    stack of indices. ``jax.lax.scan`` carries Keras's state (weights, RMSprop's slots,
    the sampling layer's seed, the metrics) through one call of Keras's own step per row
    of ``order``; the logs returned are the last step's (Keras's running means over the
    epoch so far). Any other ``data`` (``evaluate`` on arrays) goes to Keras's step as is.
    """

    def fused(one_step):
        def step(state, data):
            stack = data[0] if isinstance(data, (tuple, list)) and len(data) == 1 else data
            if not (isinstance(stack, dict) and STACK in stack):
                return one_step(state, data)
            images, order = stack[IMAGES], stack[STACK]

            def body(state, indices):
                # mode="clip": the indices are in range by construction (a permutation);
                # JAX's default, "fill", adds a select over every gathered pixel
                # (images is an array, or a conditional model's dict of images and labels)
                batch = jax.tree.map(lambda a: jnp.take(a, indices, axis=0, mode="clip"), images)
                logs, state = one_step(state, batch)
                return state, logs

            state, logs = jax.lax.scan(body, state, order)
            return jax.tree.map(lambda v: v[-1], logs), state

        return step

    model.train_step = fused(model.train_step)
    model.test_step = fused(model.test_step)


def device_batches(images: np.ndarray | dict, orders: Iterator[np.ndarray]) -> Iterator[tuple]:
    """``({"images": on the device, "order": stack},)`` for each stack of ``orders`` (inputs
    only: the model has no targets): the images
    are put on the device once (Keras passes a ``jax.Array`` through as it is); only the
    small index stacks travel from the host."""
    on_device = jax.device_put(images)
    for order in orders:
        yield ({IMAGES: on_device, STACK: order},)


class ValidationStacks(keras.utils.PyDataset):
    """The validation set in order, as ``fit(validation_data=(x, None))`` batches it, in stacks
    over the images on the device; a finite sequence that ``fit`` walks once per epoch (a
    generator would run on into the next epoch's stacks when the validation's stacks are
    fewer than ``steps_per_execution``)."""

    def __init__(self, images: np.ndarray | dict, batch_size: int, steps_per_stack: int):
        super().__init__()
        self.images = jax.device_put(images)
        n = num_examples(images)
        full, rest = divmod(n, batch_size)
        order = np.arange(n, dtype=np.int32)
        self.stacks = list(order[: full * batch_size].reshape(-1, steps_per_stack, batch_size))
        if rest:
            self.stacks.append(order[full * batch_size :].reshape(1, rest))

    def __len__(self) -> int:
        return len(self.stacks)

    def __getitem__(self, index: int) -> tuple:
        return ({IMAGES: self.images, STACK: self.stacks[index]},)


def build_fused(config: RunConfig, n: int, steps_per_execution: int, jit_compile) -> VAEModels:
    """The VAE with :func:`fuse_steps`: one stack per Keras step, an epoch per execution."""
    stacks = stack_layout(steps_per_execution, n, config.batch_size)[1]
    models = runs.build_from_config(config, jit_compile=jit_compile, steps_per_execution=stacks)
    fuse_steps(models.vae)
    return models


def fit_arguments(
    config: RunConfig, dataset: Dataset, first_epoch: int, steps_per_execution: int
) -> dict:
    """``fit``'s data, steps and validation arguments: index stacks over device-resident data."""
    batch_size = config.batch_size
    n, n_val = len(dataset.x_train), len(dataset.x_test)
    k, keras_steps = stack_layout(steps_per_execution, n, batch_size)
    orders = stacked_orders(n, batch_size, config.seed, first_epoch, config.epochs, k)
    k_val = stack_layout(steps_per_execution, n_val, batch_size)[0]
    return {
        "x": device_batches(split_inputs(dataset, "train", config.conditional), orders),
        "steps_per_epoch": keras_steps,
        "shuffle": False,  # the orders are shuffled, by (seed, epoch)
        "validation_data": ValidationStacks(
            split_inputs(dataset, "test", config.conditional), batch_size, k_val
        ),
    }
