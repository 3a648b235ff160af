"""Command-line plumbing shared by the training scripts (they differ only in defaults)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from vae_keras.data import DATA_DIR_ENV, DataError, load_dataset
from vae_keras.runs import RunConfig, RunError


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
    parser.add_argument("--latent-dim", type=int, default=defaults.latent_dim, help="size of z")
    parser.add_argument(
        "--intermediate-dim",
        type=int,
        default=defaults.intermediate_dim,
        help="width of the hidden Dense layer of encoder and decoder",
    )
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="seed for weights, shuffling and noise"
    )
    parser.add_argument(
        "--limit",
        type=int,
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
        help=f"run directory (default {default_out}, plus -seed{{seed}} if --seed is not 0)",
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
    speed = parser.add_argument_group("speed (none of these changes what is trained)")
    speed.add_argument(
        "--pipeline",
        default="tfdata",
        choices=("tfdata", "numpy"),
        help="tfdata: seeded per-epoch shuffle (exact resume); numpy: the slides' fit on arrays",
    )
    speed.add_argument(
        "--no-jit", action="store_true", help="do not compile the train step with XLA"
    )
    speed.add_argument(
        "--steps-per-execution",
        type=int,
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
        help="mirrored: MirroredStrategy over all local GPUs (or CPU devices); multiworker: "
        "MultiWorkerMirroredStrategy across the machines in TF_CONFIG",
    )
    parser.set_defaults(default_out=default_out, dataset=defaults.dataset)
    return parser


def default_run_dir(template: str, latent_dim: int, seed: int) -> str:
    """``runs/mnist-latent8`` for seed 0, ``runs/mnist-latent8-seed1`` for seed 1, ..."""
    out = template.format(latent_dim=latent_dim)
    return out if seed == 0 else f"{out}-seed{seed}"


def run_training(args: argparse.Namespace) -> int:
    """Load the data, train or resume, print where the outputs went; return an exit code."""
    # Imported here so that --help answers without starting TensorFlow.
    from vae_keras.runs import read_state
    from vae_keras.training import TrainOptions, describe_devices, train

    out = Path(args.out or default_run_dir(args.default_out, args.latent_dim, args.seed))
    try:
        dataset = load_dataset(args.dataset, args.data_dir, limit=args.limit)
        config = RunConfig(
            dataset=args.dataset,
            original_dim=dataset.original_dim,
            intermediate_dim=args.intermediate_dim,
            latent_dim=args.latent_dim,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            limit=args.limit,
        )
        state = read_state(out) if out.is_dir() else None
        if args.resume and state is None:
            raise RunError(f"--resume: {out} holds no interrupted run to continue.")
        done = 0 if (state is None or args.fresh) else state["epochs_done"]
        print(f"Data: {dataset.source} ({len(dataset.x_train)} train / {len(dataset.x_test)} test)")
        print(describe_devices())
        if done >= config.epochs:
            print(f"{out} already holds {done} trained epochs (asked for {config.epochs}): done.")
        elif done:
            print(f"Resuming {out} after epoch {done} of {config.epochs}.")
        start = time.perf_counter()
        options = TrainOptions(
            pipeline=args.pipeline,
            jit_compile=not args.no_jit,
            steps_per_execution=args.steps_per_execution,
            fuse_steps=not args.no_fuse_steps,
            distribute=args.distribute,
        )
        history = train(
            config, dataset, out, fresh=args.fresh, verbose=args.verbose, options=options
        )
    except (DataError, RunError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    last = history[-1]
    print(
        f"Done in {time.perf_counter() - start:.1f} s: epoch {last['epoch']}, "
        f"loss {last['loss']:.2f}, val_loss {last['val_loss']:.2f}."
    )
    print(
        f"Run directory: {out} (config.json, vae.weights.h5, history.json, history.csv, state.json)"
    )
    return 0
