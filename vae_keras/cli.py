"""Command-line plumbing shared by the training scripts (they differ only in defaults)."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from vae_keras.data import DATA_DIR_ENV, Dataset, load_dataset
from vae_keras.errors import UserError
from vae_keras.runs import RunConfig, RunError, lock_run_dir, writes_run_dir
from vae_keras.startup import quiet_start
from vae_keras.variants import ARCHITECTURES, LIKELIHOODS, PRECISIONS

#: Exit codes: a user error (bad argument, data or run directory), an error of the
#: system (unreadable or unwritable file, full disk), Ctrl-C.
USER_ERROR, SYSTEM_ERROR, INTERRUPTED = 2, 1, 130


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= ``minimum``, with a message saying what was wrong."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            bound = "at least 1" if minimum == 1 else f"{minimum} or more"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def positive_float(text: str) -> float:
    """An argparse type: a positive finite number (``--beta``), with a message saying why not."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def writable_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot be used (or created) as a writable directory, or None if it can."""
    if path.exists() and not path.is_dir():
        return f"{path} exists and is not a directory"
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{path} cannot be created: {existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return (
            f"{path} cannot be {'written' if existing == path else 'created'}: "
            f"no write permission in {existing}"
        )
    return None


def describe_os_error(exc: OSError) -> str:
    """``"<file>: <reason>"`` for an error of the system, in one line.

    h5py reports a failed write as one long text; its file name and reason are
    picked out of it.
    """
    h5 = re.search(r"filename = '([^']+)'.*?error message = '([^']+)'", str(exc), re.S)
    if h5:
        return f"{h5.group(1)}: {h5.group(2)}"
    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"{where}{reason}"


def system_error(exc: OSError, hint: str = "") -> int:
    """Report an error of the system in one line; return the exit code.

    Objects of the failed write (h5py files) are freed as the process ends and
    complain about the same failure once more; their complaints are dropped.
    """
    sys.unraisablehook = lambda _: None
    print(f"error: {describe_os_error(exc)}{hint}", file=sys.stderr)
    return SYSTEM_ERROR


def user_error(exc: UserError) -> int:
    """Report a mistake of the user's in one line (its message says how to fix it); exit code."""
    print(f"error: {exc}", file=sys.stderr)
    return USER_ERROR


def guarded(main: Callable[[], int]) -> int:
    """Run a script's ``main``; user errors, Ctrl-C and errors of the system end in one line.

    A :class:`~vae_keras.errors.UserError` (a bad argument, data set or run
    directory) exits with 2, Ctrl-C with 130, an ``OSError`` (a file that cannot
    be read or written, a full disk) with 1. Every other exception is a bug and
    keeps its traceback.
    """
    try:
        return main()
    except UserError as exc:
        return user_error(exc)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return INTERRUPTED
    except OSError as exc:
        return system_error(exc)


def training_parser(
    description: str, defaults: RunConfig, default_out: str
) -> argparse.ArgumentParser:
    """An argparse parser with the training options; ``defaults`` fills their defaults.

    ``default_out`` may contain ``{latent_dim}``, filled in after parsing; a
    non-zero seed appends ``-seed{seed}`` (:func:`default_run_dir`).
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    add_model_options(parser, defaults)
    add_run_options(parser, defaults, default_out)
    add_speed_options(parser)
    parser.set_defaults(default_out=default_out, dataset=defaults.dataset)
    return parser


def add_model_options(parser: argparse.ArgumentParser, defaults: RunConfig) -> None:
    """What is trained: sizes, architecture, likelihood."""
    parser.add_argument(
        "--latent-dim", type=positive_int, default=defaults.latent_dim, help="size of z"
    )
    parser.add_argument(
        "--intermediate-dim",
        type=positive_int,
        default=defaults.intermediate_dim,
        help="width of the hidden Dense layer of encoder and decoder",
    )
    parser.add_argument(
        "--architecture",
        default=defaults.architecture,
        choices=ARCHITECTURES,
        help="dense: the slides' Dense layers; conv: convolutional encoder and "
        "transposed-convolution decoder (keras-io / TensorFlow CVAE style)",
    )
    parser.add_argument(
        "--likelihood",
        default=defaults.likelihood,
        choices=LIKELIHOODS,
        help="bernoulli: the slides' 784 * binary_crossentropy; gaussian: N(x; mu(z), sigma^2 I) "
        "with one learned sigma^2 (slide 'Example'), its exact negative log-likelihood in nats",
    )
    parser.add_argument(
        "--beta",
        type=positive_float,
        default=defaults.beta,
        help="the KL term's weight: the loss is reconstruction + beta * KL (1: the slides' "
        "loss; the metrics report the unweighted terms); the run's directory gets -beta<B>",
    )
    parser.add_argument(
        "--conditional",
        action="store_true",
        help="a conditional VAE (Sohn et al. 2015): the one-hot label joins the encoder's input "
        "and z before the decoder, so samples can be asked for a class; the run's directory "
        "gets -cond",
    )
    parser.add_argument(
        "--precision",
        default=defaults.precision,
        choices=PRECISIONS,
        help="float32: the slides; mixed_bfloat16: Keras's mixed precision (float32 weights, "
        "bfloat16 products in the hidden layers; heads, sampling, sigmoid and loss in float32)",
    )


def add_run_options(parser: argparse.ArgumentParser, defaults: RunConfig, default_out: str) -> None:
    """How long, on what data, into which run directory, and what is shown."""
    parser.add_argument("--epochs", type=positive_int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=positive_int, default=defaults.batch_size)
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=defaults.seed,
        help="seed for weights, shuffling and noise",
    )
    parser.add_argument(
        "--limit",
        type=positive_int,
        default=None,
        help="train and validate on the first N examples of each split only (quick runs)",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help=f"folder holding {defaults.dataset}.npz in Keras's layout; default ${DATA_DIR_ENV}, "
        "else keras.datasets (downloads)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help=f"run directory (default {default_out}, plus -conv, -gaussian, -bf16, -beta<B>, "
        "-cond, -seed{{seed}} for another architecture, likelihood, precision, KL weight, "
        "a conditional VAE or seed)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--resume",
        action="store_true",
        help="require an interrupted run in --out and continue it (running again without "
        "--fresh resumes anyway)",
    )
    mode.add_argument(
        "--fresh", action="store_true", help="discard what --out holds and start again"
    )
    parser.add_argument(
        "--verbose", type=int, default=1, choices=(0, 1, 2), help="Keras fit verbosity"
    )
    parser.add_argument(
        "--tensorboard",
        action="store_true",
        help="also write TensorBoard event files (losses, decoded prior samples) under "
        "OUT/tensorboard; view with: tensorboard --logdir runs/",
    )


def add_speed_options(parser: argparse.ArgumentParser) -> None:
    """How fast: none of these changes what is trained."""
    speed = parser.add_argument_group("speed (none of these changes what is trained)")
    speed.add_argument(
        "--pipeline",
        default="seeded",
        choices=("seeded", "numpy"),
        help="seeded: per-(seed, epoch) shuffle (exact resume; tf.data on TensorFlow); numpy: "
        "the slides' fit on arrays",
    )
    speed.add_argument(
        "--no-jit", action="store_true", help="do not compile the train step with XLA"
    )
    speed.add_argument(
        "--steps-per-execution",
        type=positive_int,
        default=32,
        help="gradient steps per call (rounded to a divisor of the steps per epoch)",
    )
    speed.add_argument(
        "--no-fuse-steps",
        action="store_true",
        help="one compiled call per gradient step from Keras's loop, instead of the steps of "
        "one execution inside one compiled loop",
    )
    speed.add_argument(
        "--distribute",
        default=None,
        choices=("mirrored", "multiworker"),
        help="mirrored: data parallel over all local GPUs (or CPU devices): MirroredStrategy "
        "on TensorFlow, keras.distribution.DataParallel on JAX; multiworker (TensorFlow): "
        "MultiWorkerMirroredStrategy across the machines in TF_CONFIG",
    )


def default_run_dir(
    template: str,
    latent_dim: int,
    seed: int,
    architecture: str = "dense",
    likelihood: str = "bernoulli",
    precision: str = "float32",
    beta: float = 1.0,
    conditional: bool = False,
) -> str:
    """``runs/mnist-latent8`` for the slides' model and seed 0; then ``-conv``, ``-gaussian``,
    ``-bf16``, ``-beta4``, ``-cond`` and ``-seed1`` for another architecture, likelihood,
    precision, KL weight, a conditional VAE or another seed (``runs/mnist-latent2-conv``,
    ``runs/mnist-latent8-beta0.25-seed1``, ``runs/mnist-latent8-cond-seed2``)."""
    out = template.format(latent_dim=latent_dim)
    if architecture != "dense":
        out += f"-{architecture}"
    if likelihood != "bernoulli":
        out += f"-{likelihood}"
    if precision != "float32":
        out += "-bf16"
    if beta != 1.0:
        out += f"-beta{beta:g}"
    if conditional:
        out += "-cond"
    return out if seed == 0 else f"{out}-seed{seed}"


def run_training(args: argparse.Namespace) -> int:
    """Load the data, train or resume, print where the outputs went; return an exit code.

    Every user error (arguments, data, a damaged or busy run directory) is one
    line on stderr and exit code 2; nothing is created before the arguments and
    the data have been checked. Ctrl-C stops after saying how to resume (130).
    """
    out = Path(
        args.out
        or default_run_dir(
            args.default_out,
            args.latent_dim,
            args.seed,
            args.architecture,
            args.likelihood,
            args.precision,
            args.beta,
            args.conditional,
        )
    )
    problem = writable_dir_problem(out)
    if problem:
        print(f"error: --out: {problem}; choose another --out.", file=sys.stderr)
        return USER_ERROR
    quiet_start()
    try:
        dataset = load_dataset(args.dataset, args.data_dir, limit=args.limit)
        options = train_options(args)  # a ConfigError before anything is created
        if not writes_run_dir(args.distribute):  # a cluster worker other than the chief
            return train_locked(args, dataset, out, options)
        with lock_run_dir(out):  # before training starts: a second trainer is told at once
            return train_locked(args, dataset, out, options)
    except UserError as exc:
        return user_error(exc)
    except KeyboardInterrupt:
        print(f"\n{interrupted_message(out, args.epochs)}", file=sys.stderr)
        return INTERRUPTED
    except OSError as exc:
        return system_error(
            exc, f". {out} keeps its last committed epoch: fix this and run the same command."
        )


def train_options(args: argparse.Namespace):
    """The ``TrainOptions`` of the speed flags, checked against the backend."""
    # Imported here so that --help and argument errors answer without starting TensorFlow.
    from vae_keras.training import TrainOptions

    return TrainOptions(
        pipeline=args.pipeline,
        jit_compile=not args.no_jit,
        steps_per_execution=args.steps_per_execution,
        fuse_steps=not args.no_fuse_steps,
        distribute=args.distribute,
    )


def train_locked(args: argparse.Namespace, dataset: Dataset, out: Path, options) -> int:
    """The training of :func:`run_training`, its run directory locked; its errors go up."""
    from vae_keras.distribution import describe_devices
    from vae_keras.training import train

    config = RunConfig(
        dataset=args.dataset,
        original_dim=dataset.original_dim,
        intermediate_dim=args.intermediate_dim,
        latent_dim=args.latent_dim,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        limit=args.limit,
        architecture=args.architecture,
        likelihood=args.likelihood,
        precision=args.precision,
        beta=args.beta,
        conditional=args.conditional,
    )
    print(f"Data: {dataset.source} ({len(dataset.x_train)} train / {len(dataset.x_test)} test)")
    print(describe_devices())
    start = time.perf_counter()
    history = train(
        config,
        dataset,
        out,
        fresh=args.fresh,
        verbose=args.verbose,
        options=options,
        resume=args.resume,
        tensorboard=args.tensorboard,
    )
    last = history[-1]
    print(
        f"Done in {time.perf_counter() - start:.1f} s: epoch {last['epoch']}, "
        f"loss {last['loss']:.2f}, val_loss {last['val_loss']:.2f}."
    )
    if not writes_run_dir(args.distribute):
        print(f"This worker wrote nothing; the cluster's chief writes {out}.")
        return 0
    print(
        f"Run directory: {out} (config.json, state.json, vae-epoch{last['epoch']:04d}"
        ".weights.h5, history.json, history.csv, vae.keras, encoder.keras, generator.keras, "
        "timing.json)"
    )
    return 0


def interrupted_message(out: Path, epochs: int) -> str:
    """What Ctrl-C leaves behind, read from the run's committed state."""
    from vae_keras.runs import read_state

    try:
        state = read_state(out) if out.is_dir() else None
    except RunError:
        state = None
    done = state.epochs_done if state else 0
    return f"Interrupted after epoch {done} of {epochs}; run the same command to resume."
