"""The slides' ``fit``, on any Keras backend, with checkpoints and exact resume.

Slide "Loss function & Train" trains the VAE with::

    vae.compile(optimizer='rmsprop')
    vae.fit(x_train, epochs=50, batch_size=256, validation_data=(x_test, None))

:func:`train` is that call, behind ``scripts/train_mnist.py`` and
``scripts/train_cifar10.py``, with two additions that make a run resumable:

* the examples of epoch ``e`` are visited in the order
  :func:`vae_keras.batching.epoch_order`
  gives, a function of ``(seed, e)`` only, so a run resumed after an
  interruption sees exactly the batches an uninterrupted run would;
* :class:`RunCheckpoint` commits the weights, RMSprop's and the sampling
  noise's state and the history into the run directory after every epoch,
  crash-consistently (:mod:`vae_keras.runs`).

With both, a resumed run reproduces the uninterrupted run's history exactly,
on TensorFlow, JAX and PyTorch. :class:`TrainOptions` makes training faster
without changing what is trained; the two fast paths, each fusing the steps of a
Keras call into one compiled loop, live in :mod:`vae_keras.tf_speed` (a
``tf.data`` pipeline, ``tf.while_loop``, ``tf.distribute``) and
:mod:`vae_keras.jax_speed` (the data on the device, ``jax.lax.scan``), and this
module reaches them through :func:`fast_path` alone. :data:`PLAIN` is the slides'
plain call.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras

from vae_keras import distribution, monitoring, runs
from vae_keras.batching import aligned_steps_per_execution, seeded_batches, stack_layout
from vae_keras.conditioning import split_inputs
from vae_keras.data import Dataset
from vae_keras.distribution import on_tensorflow
from vae_keras.errors import ConfigError
from vae_keras.model import VAEModels
from vae_keras.runs import STEP_ENV, RunConfig, RunError


@dataclass(frozen=True)
class TrainOptions:
    """How fast training runs: the same model, loss, optimizer and number of steps.

    Two of them also change which random numbers a run draws, so its weights
    (not its expected quality) differ from a run with the defaults:
    ``pipeline="numpy"`` (another batch order) and ``jit_compile=False`` (on
    TensorFlow, XLA and plain TensorFlow draw other sampling noise from the same
    seed). ``steps_per_execution`` and ``fuse_steps`` change neither the batches
    nor the noise (tested: the same history to float32 rounding); ``distribute``
    splits each batch over replicas (each draws its own noise; the sums are
    reduced in another order).

    Attributes
    ----------
    pipeline
        ``"seeded"`` (default): the batches of :func:`seeded_batches` (on
        TensorFlow a ``tf.data`` pipeline). ``"numpy"``: the slides' plain
        ``fit(x_train, shuffle=True)`` on arrays: another batch order (and a
        resumed run no longer repeats the uninterrupted one exactly).
    jit_compile
        Compile the train step (XLA on TensorFlow and JAX; ``True`` by
        default). PyTorch always runs eagerly here. On TensorFlow, ``False``
        draws other sampling noise (XLA's random-number kernels are not plain
        TensorFlow's).
    steps_per_execution
        Gradient steps per call into the compiled function, rounded to a
        divisor of the steps per epoch (the number of steps, the batches and
        the noise are unchanged).
    fuse_steps
        TensorFlow and JAX: run the steps of one call inside one compiled loop
        (:func:`fast_path`, ``True`` by default). Applies to the seeded pipeline
        without ``distribute`` (on JAX, with ``jit_compile``); the same batches
        and noise.
    distribute
        ``None``; ``"mirrored"``: data parallel over all local GPUs (or CPU
        devices), with ``tf.distribute.MirroredStrategy`` on TensorFlow and
        ``keras.distribution.DataParallel`` on JAX; ``"multiworker"``
        (TensorFlow): ``tf.distribute.MultiWorkerMirroredStrategy`` across the
        machines named in ``TF_CONFIG``. The global batch stays ``batch_size``.
    """

    pipeline: str = "seeded"
    jit_compile: bool | str = True
    steps_per_execution: int = 32
    fuse_steps: bool = True
    distribute: str | None = None

    @property
    def fused(self) -> bool:
        """Whether training runs a fast path's fused steps (see ``fuse_steps``)."""
        backend = keras.backend.backend()
        return (
            self.fuse_steps
            and self.pipeline == "seeded"
            and self.distribute is None
            and (backend == "tensorflow" or (backend == "jax" and self.jit_compile is True))
        )

    def __post_init__(self):
        if self.pipeline not in ("seeded", "numpy"):
            raise ConfigError(f"pipeline must be 'seeded' or 'numpy', got {self.pipeline!r}.")
        if self.steps_per_execution < 1:
            raise ConfigError(f"steps_per_execution must be >= 1, got {self.steps_per_execution}.")
        distribution.check_distribution(self.distribute)


#: The slides' plain path: numpy arrays into fit, one step per call, Keras's default
#: compilation ("auto": XLA on JAX, and on TensorFlow only with a GPU).
PLAIN = TrainOptions(pipeline="numpy", jit_compile="auto", steps_per_execution=1, fuse_steps=False)


def xla_for(config: RunConfig, options: TrainOptions) -> bool | str:
    """Whether the train step is compiled with XLA: ``options.jit_compile`` where
    :func:`vae_keras.distribution.xla_pays` allows it (never on PyTorch, not the conv
    architecture on TensorFlow without a GPU: ``benchmarks/bench_conv_xla.py`` measured its
    epochs 24.4x slower with XLA on the default fused steps, 1.6x with one call per step).
    """
    if not distribution.xla_pays(convolutional=config.architecture == "conv"):
        return False
    return options.jit_compile


def fast_path(options: TrainOptions):
    """The backend's fast path for ``options``, or None: the one place that knows there are two.

    :mod:`vae_keras.tf_speed` on TensorFlow, :mod:`vae_keras.jax_speed` on JAX; each
    offers ``build_fused(config, n, steps_per_execution, jit_compile)`` (the VAE whose
    train step runs a stack of batches) and ``fit_arguments(config, dataset,
    first_epoch, steps_per_execution)`` (``fit``'s data, steps and validation).
    """
    if not options.fused:
        return None
    if on_tensorflow():
        from vae_keras import tf_speed

        return tf_speed
    from vae_keras import jax_speed

    return jax_speed


def build_for_training(config: RunConfig, n: int, options: TrainOptions) -> VAEModels:
    """The slides' VAE compiled as ``options`` asks, for ``n`` training examples."""
    on_torch = keras.backend.backend() == "torch"
    jit = xla_for(config, options)
    path = fast_path(options)
    if path is not None:
        return path.build_fused(config, n, options.steps_per_execution, jit)
    steps = math.ceil(n / config.batch_size)
    # Keras's PyTorch trainer runs one step per call (it refuses steps_per_execution > 1)
    spe = 1 if on_torch else aligned_steps_per_execution(options.steps_per_execution, steps)
    if options.distribute and on_tensorflow():
        from vae_keras import tf_speed

        jit, spe = tf_speed.distributed_compile_options(options.distribute, jit, spe)
    models = runs.build_from_config(config, jit_compile=jit, steps_per_execution=spe)
    if options.distribute == "multiworker":
        tf_speed.report_metrics_as_vectors(models.vae)
    return models


def fit_arguments(
    config: RunConfig, dataset: Dataset, first_epoch: int, options: TrainOptions
) -> dict:
    """The data, steps and validation arguments of ``fit`` for ``options``.

    The inputs are the images, and for a conditional run their one-hot labels too
    (:func:`vae_keras.conditioning.split_inputs`), on every path; the fast paths and
    ``tf.data`` build their own from ``dataset``.
    """
    if options.pipeline == "seeded":
        path = fast_path(options)
        if path is not None:
            return path.fit_arguments(config, dataset, first_epoch, options.steps_per_execution)
        if on_tensorflow():  # tf.data without fused steps
            from vae_keras import tf_speed

            return tf_speed.fit_arguments(
                config, dataset, first_epoch, options.steps_per_execution, fused=False
            )
    x_train = split_inputs(dataset, "train", config.conditional)
    x_test = split_inputs(dataset, "test", config.conditional)
    batch_size = config.batch_size
    validation = {"validation_data": (x_test, None), "validation_batch_size": batch_size}
    if options.pipeline == "numpy":  # the slides' call
        return {"x": x_train, "batch_size": batch_size, "shuffle": True, **validation}
    return {
        "x": seeded_batches(x_train, batch_size, config.seed, first_epoch, config.epochs),
        "steps_per_epoch": math.ceil(len(dataset.x_train) / batch_size),
        "shuffle": False,  # the batches come shuffled, by (seed, epoch)
        **validation,
    }


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
        history: list[dict],
        commit: bool = True,
    ):
        super().__init__()
        self.commit = commit
        self.run_dir = Path(run_dir)
        self.models = models
        self.config = config
        self.history = list(history)
        self._t0 = 0.0
        #: ``time.perf_counter()`` when this process's first epoch began and its last one
        #: was committed (None before): :func:`fit_run`'s timing record.
        self.first_epoch_began: float | None = None
        self.last_epoch_committed: float | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        if self.first_epoch_began is None:
            self.first_epoch_began = self._t0

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}
        row.update({k: float(v) for k, v in (logs or {}).items()})
        row["seconds"] = time.perf_counter() - self._t0
        self.history.append(row)
        if self.commit:
            runs.commit_epoch(self.run_dir, self.models, self.history, self.config)
        self.last_epoch_committed = time.perf_counter()


def train(
    config: RunConfig,
    dataset: Dataset,
    run_dir: str | os.PathLike,
    fresh: bool = False,
    verbose: int | str = "auto",
    callbacks: Sequence[keras.callbacks.Callback] = (),
    options: TrainOptions = TrainOptions(),
    resume: bool = False,
    tensorboard: bool = False,
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
    tensorboard
        Also write TensorBoard event files under ``run_dir/tensorboard``
        (:func:`vae_keras.monitoring.tensorboard_callbacks`).

    A complete run also gets ``vae.keras``, ``encoder.keras`` and
    ``generator.keras`` (:func:`runs.export_keras_models`).

    One process at a time trains in ``run_dir`` (:func:`runs.lock_run_dir`);
    another gets a :class:`runs.RunLockedError` at once.
    """
    if dataset.original_dim != config.original_dim:
        raise ConfigError(
            f"The dataset {dataset.name} has {dataset.original_dim} inputs per example but the "
            f"model expects original_dim={config.original_dim}."
        )
    run_dir = Path(run_dir)
    if not runs.writes_run_dir(options.distribute):
        # a worker of a cluster other than the chief: it resumes from the chief's checkpoint
        # (the run directory on a file system every worker sees) and writes nothing
        state = None if fresh or not run_dir.is_dir() else runs.read_state(run_dir)
        if state and state.epochs_done >= config.epochs:
            return state.history
        return fit_run(config, dataset, run_dir, state, options, verbose, callbacks, writer=False)
    with runs.lock_run_dir(run_dir):
        state = runs.start_run(run_dir, config, fresh)
        if resume and state is None:
            raise RunError(f"--resume: {run_dir} holds no interrupted run to continue.")
        done = state.epochs_done if state else 0
        if done >= config.epochs:
            if verbose:
                print(f"{run_dir} already holds {done} trained epochs (asked for {config.epochs}).")
            if runs.keras_models_missing(run_dir):  # killed after the last commit
                runs.export_keras_models(run_dir, runs.load_run(run_dir).models)
            return state.history
        if done and verbose:
            print(f"Resuming {run_dir} after epoch {done} of {config.epochs}.")
        return fit_run(config, dataset, run_dir, state, options, verbose, callbacks, tensorboard)


def fit_run(
    config: RunConfig,
    dataset: Dataset,
    run_dir: Path,
    state: runs.RunState | None,
    options: TrainOptions,
    verbose: int | str,
    callbacks: Sequence[keras.callbacks.Callback],
    tensorboard: bool = False,
    writer: bool = True,
) -> list[dict[str, float]]:
    """Build (or restore from ``state``) the model and ``fit`` the remaining epochs.

    A ``writer`` commits a checkpoint after every epoch and the Keras files at
    the end; a non-writing cluster worker only trains.
    """
    started = time.perf_counter()
    history = state.history if state else []
    keras.utils.set_random_seed(config.seed)
    build_scope, fit_scope = distribution.distribution_scopes(options.distribute)
    with build_scope:
        models = build_for_training(config, len(dataset.x_train), options)
        if state:
            runs.restore_checkpoint(run_dir, models, state, config, record_config=writer)
        # the optimizer's variables made here, not by its first update inside the traced
        # train step: TensorFlow traces a function that creates variables twice (1.3 s and
        # 0.7 s of a tiny run's 4.4 s of fixed cost, on a 2-core Xeon)
        if not models.vae.optimizer.built:
            models.vae.optimizer.build(models.vae.trainable_variables)
    checkpoint = RunCheckpoint(run_dir, models, config, history, commit=writer)
    extra = [progress_bar(config, len(dataset.x_train), options)]
    if tensorboard and writer:
        extra += monitoring.tensorboard_callbacks(run_dir, models.generator, dataset.image_shape)
    with fit_scope:
        models.vae.fit(
            **fit_arguments(config, dataset, len(history), options),
            epochs=config.epochs,
            initial_epoch=len(history),
            callbacks=[checkpoint, *extra, *callbacks],
            verbose=verbose,
        )
    if writer:
        runs.export_keras_models(run_dir, models)
        runs.write_timing(run_dir, timing(started, checkpoint, len(history)))
    return checkpoint.history


def timing(started: float, checkpoint: RunCheckpoint, first_epoch: int) -> dict:
    """Where this process's :func:`fit_run` spent its time (``timing.json``), in seconds.

    ``setup``: building (or restoring) the model until the first epoch begins;
    ``epochs``: the epochs' own seconds (training, validation, commit), summed;
    ``command``: the chain's step (:data:`vae_keras.runs.STEP_ENV`) or this process's
    command line; ``backend``: the Keras backend;
    ``finish``: from the last epoch's commit until the Keras files are written,
    which is ``fit``'s teardown and :func:`runs.export_keras_models`. A healthy
    run finishes in well under a second; TensorFlow's tf.data autotuning thread
    once made it half a minute (:func:`vae_keras.tf_speed.without_autotune_thread`).
    """
    now = time.perf_counter()
    epochs = checkpoint.history[first_epoch:]
    began = checkpoint.first_epoch_began or now
    return {
        "epochs_trained": [first_epoch + 1, first_epoch + len(epochs)],
        "setup_seconds": round(began - started, 3),
        "epoch_seconds": round(sum(row["seconds"] for row in epochs), 3),
        "finish_seconds": round(now - (checkpoint.last_epoch_committed or began), 3),
        "command": os.environ.get(STEP_ENV) or " ".join(["python", *sys.argv]),
        "backend": keras.backend.backend(),
    }


def progress_bar(config: RunConfig, n: int, options: TrainOptions) -> keras.callbacks.Callback:
    """Keras's progress bar, counting batches on every path (TensorFlow's fused one included)."""
    batches = math.ceil(n / config.batch_size)
    if options.fused:
        stack = stack_layout(options.steps_per_execution, n, config.batch_size)[0]
        return monitoring.BatchProgbar(stack, batches)
    return keras.callbacks.ProgbarLogger()
