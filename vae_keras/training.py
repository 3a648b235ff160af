"""Fit the slides' VAE on a dataset and keep a resumable run directory.

``train(config, dataset, run_dir)`` is the one training function behind
``scripts/train_mnist.py`` and ``scripts/train_cifar10.py``. It is
``vae.fit(x_train, epochs=50, batch_size=256, validation_data=(x_test, None))``
of slide "Loss function & Train" with two additions:

* an input pipeline whose shuffle order is a function of ``(seed, epoch)``
  only (``tf.random.experimental.stateless_shuffle``), so a run resumed after an
  interruption sees exactly the batches an uninterrupted run would;
* a :class:`RunCheckpoint` callback that, after each epoch, commits the
  weights, the optimizer and sampling-noise state and the history into the run
  directory, crash-consistently (:mod:`vae_keras.runs`).

With both, a resumed run reproduces the uninterrupted run's history exactly.
Running ``train`` again on the same directory continues from the last finished
epoch. :class:`TrainOptions` makes it faster (XLA, several steps fused into
one compiled loop per call, :func:`fuse_train_steps`) or distributed without
changing what is trained; :data:`PLAIN` is the slides' plain ``fit`` on arrays.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from vae_keras import runs
from vae_keras.data import Dataset
from vae_keras.model import VAEModels
from vae_keras.runs import RunConfig, RunError


def describe_devices() -> str:
    """A one-line description of where TensorFlow will train."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return f"Training on {len(gpus)} GPU(s): " + ", ".join(g.name for g in gpus)
    cpus = tf.config.list_physical_devices("CPU")
    return f"Training on the CPU ({len(cpus)} device(s), {os.cpu_count()} cores); no GPU found"


def shuffled_batches(
    x: np.ndarray, batch_size: int, seed: int, first_epoch: int, last_epoch: int
) -> tf.data.Dataset:
    """Batches of ``x`` for epochs ``first_epoch .. last_epoch - 1``, reshuffled each epoch.

    Epoch ``e`` visits the examples in the order
    ``stateless_shuffle(range(N), seed=(seed, e))``, so the order depends on the
    seed and the epoch number only. Each epoch ends with its own (possibly
    smaller) last batch, as ``fit`` on arrays does. Elements are input batches
    only: the model has no targets.
    """
    n = int(x.shape[0])
    x_tensor = tf.constant(x)

    def epoch_indices(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n, dtype=tf.int64), seed=tf.stack([tf.cast(seed, tf.int64), epoch])
        )
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    return (
        tf.data.Dataset.range(first_epoch, last_epoch)
        .flat_map(epoch_indices)
        .map(lambda idx: tf.gather(x_tensor, idx), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def stacked_batches(
    x: np.ndarray,
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
    n = int(x.shape[0])
    full, rest = divmod(n, batch_size)
    if steps_per_stack < 1 or (full and full % steps_per_stack):
        raise ValueError(
            f"steps_per_stack={steps_per_stack} must divide the {full} full batches per epoch."
        )
    x_tensor = tf.constant(x)

    def epoch_indices(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n, dtype=tf.int64), seed=tf.stack([tf.cast(seed, tf.int64), epoch])
        )
        stacks = tf.data.Dataset.from_tensor_slices(
            tf.reshape(order[: full * batch_size], (-1, steps_per_stack, batch_size))
        )
        if rest:
            last = tf.reshape(order[full * batch_size :], (1, 1, rest))
            stacks = stacks.concatenate(tf.data.Dataset.from_tensor_slices(last))
        return stacks

    return (
        tf.data.Dataset.range(first_epoch, last_epoch)
        .flat_map(epoch_indices)
        .map(lambda idx: tf.gather(x_tensor, idx), num_parallel_calls=tf.data.AUTOTUNE)
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
            one_step(stack[i])
            return (i + 1,)

        tf.while_loop(lambda i: i < tf.shape(stack)[0], body, (tf.constant(0),))
        return model.get_metrics_result()

    model.train_step = train_step


def validation_batches(x: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """``x`` in order, in batches of ``batch_size``, cached: the validation set of every epoch.

    The same batches ``fit(validation_data=(x, None), validation_batch_size=...)``
    makes from arrays, built once instead of sliced anew each epoch.
    """
    return tf.data.Dataset.from_tensor_slices(x).batch(batch_size).cache()


def steps_per_epoch(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)


class RunCheckpoint(keras.callbacks.Callback):
    """After every epoch, commit a checkpoint into the run directory (:func:`runs.commit_epoch`).

    Weights with RMSprop's variables, the sampling layer's noise-generator
    state and the history, committed by one rename of ``state.json``.
    """

    def __init__(
        self,
        run_dir: Path,
        models: VAEModels,
        config: RunConfig,
        history: list[dict[str, float]],
    ):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.models = models
        self.config = config
        self.history = list(history)
        self._t0 = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}
        row.update({k: float(v) for k, v in (logs or {}).items()})
        row["seconds"] = time.perf_counter() - self._t0
        self.history.append(row)
        runs.commit_epoch(self.run_dir, self.models, self.history, self.config)


DISTRIBUTE = (None, "mirrored", "multiworker")


@dataclass(frozen=True)
class TrainOptions:
    """How fast training runs; none of these changes what is trained.

    Attributes
    ----------
    pipeline
        ``"tfdata"`` (default): the seeded, per-epoch-shuffled ``tf.data``
        pipeline of :func:`shuffled_batches`. ``"numpy"``: the slides' plain
        ``fit(x_train, shuffle=True)`` on arrays (then a resumed run no longer
        repeats the uninterrupted one exactly).
    jit_compile
        Compile the train step with XLA (``True`` by default; Keras's
        ``"auto"`` enables it on GPUs only).
    steps_per_execution
        Gradient steps per call into the compiled function (fewer Python round
        trips; the number of steps per epoch is unchanged).
    fuse_steps
        Run the ``steps_per_execution`` steps of one call inside one compiled
        loop (:func:`fuse_train_steps`, ``True`` by default) rather than as one
        compiled call per step from Keras's loop. Applies to the ``"tfdata"``
        pipeline without ``distribute`` (elsewhere Keras's own loop runs).
    distribute
        ``None``; ``"mirrored"``: ``tf.distribute.MirroredStrategy`` over all
        local GPUs (or CPU devices); ``"multiworker"``:
        ``tf.distribute.MultiWorkerMirroredStrategy`` across the machines named
        in ``TF_CONFIG``. The global batch stays ``batch_size``.
    """

    pipeline: str = "tfdata"
    jit_compile: bool | str = True
    steps_per_execution: int = 32
    fuse_steps: bool = True
    distribute: str | None = None

    @property
    def fused(self) -> bool:
        """Whether training runs the fused steps (see ``fuse_steps``)."""
        return self.fuse_steps and self.pipeline == "tfdata" and self.distribute is None

    def __post_init__(self):
        if self.pipeline not in ("tfdata", "numpy"):
            raise ValueError(f"pipeline must be 'tfdata' or 'numpy', got {self.pipeline!r}.")
        if self.steps_per_execution < 1:
            raise ValueError(f"steps_per_execution must be >= 1, got {self.steps_per_execution}.")
        if self.distribute not in DISTRIBUTE:
            raise ValueError(f"distribute must be one of {DISTRIBUTE}, got {self.distribute!r}.")


#: The slides' plain path: numpy arrays into fit, no XLA, one step per call.
PLAIN = TrainOptions(pipeline="numpy", jit_compile=False, steps_per_execution=1, fuse_steps=False)


def aligned_steps_per_execution(requested: int, steps: int) -> int:
    """The divisor of ``steps`` (steps per epoch) nearest to ``requested``, in ratio.

    Keras runs whole executions of ``steps_per_execution`` steps and does not
    stop one at the end of an epoch, so a value that does not divide the epoch
    would shift batches across epochs. 235 steps (MNIST, batch 256) and a
    request of 32 give 47.
    """
    divisors = [d for d in range(1, steps + 1) if steps % d == 0]
    return min(divisors, key=lambda d: (abs(math.log(d / requested)), -d))


def distribution_scope(options: TrainOptions):
    """The scope of the strategy ``options.distribute`` names, or a no-op context."""
    if options.distribute is None:
        return contextlib.nullcontext()
    if options.distribute == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
    else:  # "multiworker": the cluster comes from the TF_CONFIG environment variable
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    print(f"{type(strategy).__name__} over {strategy.num_replicas_in_sync} device(s)")
    return strategy.scope()


def stack_layout(options: TrainOptions, n: int, batch_size: int) -> tuple[int, int]:
    """``(steps per stack, stacks per epoch)`` of the fused path for ``n`` examples.

    A stack holds a divisor of the full batches per epoch (the one nearest to
    ``options.steps_per_execution``); the last, smaller batch is a stack of its own.
    """
    full, rest = divmod(n, batch_size)
    k = aligned_steps_per_execution(options.steps_per_execution, full) if full else 1
    return k, full // k + (1 if rest else 0)


def build_for_training(config: RunConfig, n: int, options: TrainOptions) -> VAEModels:
    """The slides' VAE compiled as ``options`` asks, for ``n`` training examples.

    Fused (:attr:`TrainOptions.fused`): ``train_step`` replaced by
    :func:`fuse_train_steps`, one stack per Keras step, all stacks of an epoch in
    one Keras execution. Otherwise ``steps_per_execution`` rounded to a divisor
    of the steps per epoch.
    """
    if options.fused:
        # one Keras execution per epoch: its stacks in training, as many batches in validation
        stacks = stack_layout(options, n, config.batch_size)[1]
        models = runs.build_from_config(
            config, jit_compile=options.jit_compile, steps_per_execution=stacks
        )
        fuse_train_steps(models.vae)
        return models
    return runs.build_from_config(
        config,
        jit_compile=options.jit_compile,
        steps_per_execution=aligned_steps_per_execution(
            options.steps_per_execution, steps_per_epoch(n, config.batch_size)
        ),
    )


def fit_inputs(
    config: RunConfig, dataset: Dataset, first_epoch: int, options: TrainOptions
) -> tuple[dict, dict]:
    """The training-data and the validation arguments of ``fit`` for ``options``."""
    x_train, batch_size = dataset.x_train, config.batch_size
    if options.pipeline == "numpy":  # the slides' call
        data = {"x": x_train, "batch_size": batch_size, "shuffle": True}
        return data, {
            "validation_data": (dataset.x_test, None),
            "validation_batch_size": batch_size,
        }
    if options.fused:
        k, keras_steps = stack_layout(options, len(x_train), batch_size)
        batches = stacked_batches(x_train, batch_size, config.seed, first_epoch, config.epochs, k)
    else:
        batches = shuffled_batches(x_train, batch_size, config.seed, first_epoch, config.epochs)
        keras_steps = steps_per_epoch(len(x_train), batch_size)
    data = {
        "x": batches,
        "steps_per_epoch": keras_steps,
        "shuffle": False,  # the pipeline shuffles, by (seed, epoch)
    }
    return data, {"validation_data": validation_batches(dataset.x_test, batch_size)}


def train(
    config: RunConfig,
    dataset: Dataset,
    run_dir: str | os.PathLike,
    fresh: bool = False,
    verbose: int | str = "auto",
    callbacks: Sequence[keras.callbacks.Callback] = (),
    options: TrainOptions = TrainOptions(),
    resume: bool = False,
) -> list[dict[str, float]]:
    """Train (or resume training) the slides' VAE; return the full per-epoch history.

    Parameters
    ----------
    config
        Model sizes and training settings; ``config.original_dim`` must match
        the dataset.
    dataset
        From :func:`vae_keras.data.load_dataset`.
    run_dir
        Where the run is kept. If it holds a run of the same configuration,
        training continues after its last finished epoch (or returns at once if
        all ``config.epochs`` are done).
    fresh
        Discard what ``run_dir`` holds, damaged or not, and start again.
    verbose
        Passed to ``fit`` (1 shows Keras's progress bar); non-zero also says
        whether training resumes.
    callbacks
        Extra Keras callbacks, run after the checkpoint callback.
    options
        Speed settings (:class:`TrainOptions`); :data:`PLAIN` is the slides' path.
    resume
        Require a committed epoch in ``run_dir`` to continue from.

    One process at a time trains in ``run_dir`` (:func:`runs.lock_run_dir`);
    another gets a :class:`runs.RunLockedError` at once.
    """
    if dataset.original_dim != config.original_dim:
        raise ValueError(
            f"The dataset {dataset.name} has {dataset.original_dim} inputs per example but the "
            f"model expects original_dim={config.original_dim}."
        )
    if config.epochs < 1 or config.batch_size < 1:
        raise ValueError(
            f"epochs and batch_size must be positive, got {config.epochs} and {config.batch_size}."
        )
    run_dir = Path(run_dir)
    with runs.lock_run_dir(run_dir):
        state = runs.start_run(run_dir, config, fresh)
        if resume and state is None:
            raise RunError(f"--resume: {run_dir} holds no interrupted run to continue.")
        history = state.history if state else []
        done = len(history)
        if done >= config.epochs:
            if verbose:
                print(
                    f"{run_dir} already holds {done} trained epochs "
                    f"(asked for {config.epochs}): done."
                )
            return history
        if done and verbose:
            print(f"Resuming {run_dir} after epoch {done} of {config.epochs}.")

        keras.utils.set_random_seed(config.seed)
        with distribution_scope(options):
            models = build_for_training(config, len(dataset.x_train), options)
            if state:
                runs.restore_checkpoint(run_dir, models, state, config)

        checkpoint = RunCheckpoint(run_dir, models, config, history)
        data, validation = fit_inputs(config, dataset, done, options)
        models.vae.fit(
            **data,
            **validation,
            epochs=config.epochs,
            initial_epoch=done,
            callbacks=[checkpoint, *callbacks],
            verbose=verbose,
        )
    return checkpoint.history
