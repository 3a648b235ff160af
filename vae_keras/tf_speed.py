"""The TensorFlow fast path: a ``tf.data`` pipeline, fused train steps, ``tf.distribute``.

:mod:`vae_keras.training` calls this module when the Keras backend is
TensorFlow; nothing else knows it exists. None of it changes what is trained:
the batches are those of :func:`vae_keras.batching.epoch_order`, in the same
order, with one gradient step per batch, Keras's own ``train_step``, loss,
optimizer and metrics. What it changes is how many times Python hands work to
TensorFlow: with fused steps an MNIST epoch is one call into one XLA-compiled
loop instead of 235 calls.
"""

from __future__ import annotations

import contextlib
import functools
import math

import keras
import numpy as np
import tensorflow as tf

from vae_keras import runs
from vae_keras.batching import epoch_order, num_examples, stack_layout
from vae_keras.conditioning import split_inputs
from vae_keras.data import Dataset
from vae_keras.model import VAEModels
from vae_keras.runs import RunConfig


def epoch_orders(n: int, seed: int, first_epoch: int, last_epoch: int) -> tf.data.Dataset:
    """One element per epoch: the order :func:`vae_keras.batching.epoch_order` gives it."""

    orders = np.stack([epoch_order(n, seed, e) for e in range(first_epoch, last_epoch)])
    return tf.data.Dataset.from_tensor_slices(orders)


def without_autotune_thread(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """``dataset`` with tf.data's autotuning model thread turned off.

    With autotuning on, every iterator starts a ``tf_data_model`` thread that
    re-optimises the pipeline at doubling intervals, up to one a minute, and the
    iterator's destructor joins it. In TensorFlow 2.21 the cancellation that
    should wake it is sometimes missed, so destroying ``fit``'s iterator after
    the last epoch waited for the thread's timer: 26-36 s in three of four
    50-epoch MNIST runs (``gdb`` showed the main thread in
    ``RootDataset::Iterator::~Iterator`` and the model thread in
    ``Model::OptimizeLoop``'s timed wait). Without the thread nothing waits;
    ``AUTOTUNE`` in ``map`` and ``prefetch`` then means the core count and a
    buffer that grows while the consumer waits, which is all a pipeline of
    gathers needs.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def keras_arrays_without_autotune_thread() -> None:
    """Keras's own pipeline for NumPy arrays, with :func:`without_autotune_thread`.

    ``fit``, ``evaluate`` and ``predict`` on arrays (the classifier, the autoencoders, the
    report's encodings) run through Keras's ``ArrayDataAdapter.get_tf_dataset``, and
    ``fit`` makes a new iterator of it every epoch. Its destructor is where the autotuning
    thread's missed wake-up bites: on a busy machine the classifier's epochs waited seconds
    at their ends, computing nothing (``benchmarks/bench_epoch_ends.py`` measures it; its
    table is in docs/speed.md). Only the pipeline's options change: the batches, their
    order and the seeds are Keras's, so the trained weights are identical
    (tests/test_training.py).
    Called once per process (``vae_keras.startup.quiet_start``, every command); calling it
    again changes nothing. Keras's class is private: where it is missing, nothing is done.
    """
    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    except ImportError:  # a Keras without it: its own pipeline, timer and all
        return
    keras_own = ArrayDataAdapter.get_tf_dataset
    if getattr(keras_own, "without_autotune_thread", False):
        return

    @functools.wraps(keras_own)  # its __wrapped__: Keras's own
    def get_tf_dataset(self):
        return without_autotune_thread(keras_own(self))

    get_tf_dataset.without_autotune_thread = True
    ArrayDataAdapter.get_tf_dataset = get_tf_dataset


def gather(x_tensor, indices):
    """The rows ``indices`` of a tensor, or of each tensor of a conditional model's dict."""
    return tf.nest.map_structure(lambda t: tf.gather(t, indices), x_tensor)


def shuffled_batches(
    x: np.ndarray | dict, batch_size: int, seed: int, first_epoch: int, last_epoch: int
) -> tf.data.Dataset:
    """Batches of ``x`` for epochs ``first_epoch .. last_epoch - 1``: those of
    :func:`vae_keras.batching.seeded_batches`, as a ``tf.data`` pipeline.

    Each epoch ends with its own (possibly smaller) last batch, as ``fit`` on
    arrays does. Elements are input batches only (an array, or a conditional model's dict
    of images and labels): the model has no targets.
    """
    x_tensor = tf.nest.map_structure(tf.constant, x)
    return without_autotune_thread(
        epoch_orders(num_examples(x), seed, first_epoch, last_epoch)
        .flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
        .map(lambda idx: gather(x_tensor, idx), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def stacked_batches(
    x: np.ndarray | dict,
    batch_size: int,
    seed: int,
    first_epoch: int,
    last_epoch: int,
    steps_per_stack: int,
) -> tf.data.Dataset:
    """The batches of :func:`shuffled_batches`, ``steps_per_stack`` at a time.

    Each element stacks ``steps_per_stack`` consecutive batches of one epoch,
    shape ``(steps_per_stack, batch_size, ...)``, for a train step made by
    :func:`fuse_train_steps`; the epoch's last, smaller batch (if any) comes
    alone, shape ``(1, N mod batch_size, ...)``. ``steps_per_stack`` must divide
    the number of full batches, ``N // batch_size``. The batches, their order and
    their number are those of :func:`shuffled_batches`.
    """
    n = num_examples(x)
    full, rest = divmod(n, batch_size)
    if steps_per_stack < 1 or (full and full % steps_per_stack):
        raise ValueError(
            f"steps_per_stack={steps_per_stack} must divide the {full} full batches per epoch."
        )
    x_tensor = tf.nest.map_structure(tf.constant, x)

    def stacks_of(order):
        stacks = tf.data.Dataset.from_tensor_slices(
            tf.reshape(order[: full * batch_size], (-1, steps_per_stack, batch_size))
        )
        if rest:
            last = tf.reshape(order[full * batch_size :], (1, 1, rest))
            stacks = stacks.concatenate(tf.data.Dataset.from_tensor_slices(last))
        return stacks

    return without_autotune_thread(
        epoch_orders(n, seed, first_epoch, last_epoch)
        .flat_map(stacks_of)
        .map(lambda idx: gather(x_tensor, idx), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def fuse_train_steps(model: keras.Model) -> None:
    """Make ``model.train_step`` take a stack of batches and run one step per batch, in a loop.

    Keras's own ``train_step`` (forward pass, ``add_loss`` loss, gradients,
    RMSprop update, metrics) runs unchanged for each batch of the stack, inside
    one ``tf.while_loop`` in the compiled train function, so XLA compiles the
    whole loop once and a stack of 39 steps is one call instead of 39. The number
    of gradient steps and the per-epoch metrics are those of one step per batch;
    only Keras's step counter (and its progress bar) counts stacks. Feed it
    :func:`stacked_batches`.
    """
    one_step = model.train_step

    def train_step(stack):
        def body(i):
            one_step(tf.nest.map_structure(lambda s: s[i], stack))
            return (i + 1,)

        steps = tf.shape(tf.nest.flatten(stack)[0])[0]
        tf.while_loop(lambda i: i < steps, body, (tf.constant(0),))
        return model.get_metrics_result()

    model.train_step = train_step


def validation_batches(x: np.ndarray | dict, batch_size: int) -> tf.data.Dataset:
    """``x`` in order, in batches of ``batch_size``, cached: the validation set of every epoch.

    The same batches ``fit(validation_data=(x, None), validation_batch_size=...)``
    makes from arrays, built once instead of sliced anew each epoch.
    """
    return without_autotune_thread(tf.data.Dataset.from_tensor_slices(x).batch(batch_size).cache())


def report_metrics_as_vectors(model: keras.Model) -> None:
    """Work around Keras 3's multi-worker reduction of a step's scalar metrics.

    Under ``MultiWorkerMirroredStrategy`` Keras reduces every value a train or
    test step returns with ``strategy.reduce("MEAN", value, axis=0)``, which
    fails on the scalar metrics of every step ("Invalid reduction dimension 0
    for input with 0 dimensions"; tensorflow/tensorflow#72388). Returned as
    shape-(1,) vectors, they are averaged over the replicas into the scalars
    Keras expects. Each replica's running mean is over its equal share of
    every global batch, so their average is the mean over the whole batch.
    """
    for name in ("train_step", "test_step"):
        step = getattr(model, name)

        def as_vectors(data, step=step):
            return {k: tf.reshape(v, [1]) for k, v in step(data).items()}

        setattr(model, name, as_vectors)


def distributed_compile_options(
    distribute: str, jit_compile, steps_per_execution: int
) -> tuple[bool | str, int]:
    """``(jit_compile, steps_per_execution)`` that work under ``distribute``.

    XLA does not compile collective operations for CPU devices ("Collectives
    are not yet implemented for CPU devices when compiling with XLA"), so
    without a GPU the distributed step runs as a plain ``tf.function``; and
    Keras's loop of several steps per execution fails under
    ``MultiWorkerMirroredStrategy`` ("You must feed a value for placeholder
    tensor ... while/cond"), so there each execution is one step.
    """
    if not tf.config.list_physical_devices("GPU"):
        jit_compile = False
    if distribute == "multiworker":
        steps_per_execution = 1
    return jit_compile, steps_per_execution


def distribution_scope(distribute: str | None):
    """The scope of the strategy ``distribute`` names, or a no-op context."""
    if distribute is None:
        return contextlib.nullcontext()
    if distribute == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
    else:  # "multiworker": the cluster comes from the TF_CONFIG environment variable
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    print(f"{type(strategy).__name__} over {strategy.num_replicas_in_sync} device(s)")
    return strategy.scope()


def build_fused(config: RunConfig, n: int, steps_per_execution: int, jit_compile) -> VAEModels:
    """The VAE with :func:`fuse_train_steps`: one stack per Keras step, an epoch per execution."""
    stacks = stack_layout(steps_per_execution, n, config.batch_size)[1]
    models = runs.build_from_config(config, jit_compile=jit_compile, steps_per_execution=stacks)
    fuse_train_steps(models.vae)
    return models


def fit_arguments(
    config: RunConfig,
    dataset: Dataset,
    first_epoch: int,
    steps_per_execution: int,
    fused: bool = True,
) -> dict:
    """``fit``'s data, steps and validation arguments on the ``tf.data`` pipeline."""
    x_train, batch_size = split_inputs(dataset, "train", config.conditional), config.batch_size
    if fused:
        k, keras_steps = stack_layout(steps_per_execution, len(dataset.x_train), batch_size)
        batches = stacked_batches(x_train, batch_size, config.seed, first_epoch, config.epochs, k)
    else:
        batches = shuffled_batches(x_train, batch_size, config.seed, first_epoch, config.epochs)
        keras_steps = math.ceil(len(dataset.x_train) / batch_size)
    return {
        "x": batches,
        "steps_per_epoch": keras_steps,
        "shuffle": False,  # the pipeline shuffles, by (seed, epoch)
        "validation_data": validation_batches(
            split_inputs(dataset, "test", config.conditional), batch_size
        ),
    }
