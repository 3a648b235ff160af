#!/usr/bin/env python
"""Why the conv architecture trains without XLA on a CPU: one epoch with and without it.

Trains the conv VAE (``--architecture conv``, MNIST's first ``--limit`` images, batch 256)
for two epochs each way on TensorFlow with ``training.train`` (the default fused steps, then
one compiled call per step), and prints the second epoch's seconds (the first compiles) and
their ratio, measured in one run.
``vae_keras.training.xla_for`` turns XLA off for conv on TensorFlow without a GPU because of
this ratio. Writes benchmarks/results/bench_conv_xla.json.
"""

import argparse
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def epoch_seconds(config, dataset, jit: bool, fuse: bool) -> float:
    """Seconds of the second epoch of ``config`` trained by ``training.train`` with
    ``jit_compile=jit`` and ``fuse_steps=fuse`` (the first epoch compiles)."""
    from vae_keras import training

    # the benchmark's one intervention: the rule it measures is switched off
    rule, training.xla_for = training.xla_for, lambda config, options: options.jit_compile
    try:
        with tempfile.TemporaryDirectory() as run_dir:
            options = training.TrainOptions(jit_compile=jit, fuse_steps=fuse)
            history = training.train(config, dataset, run_dir, verbose=0, options=options)
    finally:
        training.xla_for = rule
    return history[-1]["seconds"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=2000, help="MNIST images per split")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--out", default=str(RESULTS / "bench_conv_xla.json"), help="JSON file (%(default)s)"
    )
    args = parser.parse_args(argv)

    from vae_keras.startup import quiet_start

    quiet_start()
    from vae_keras.atomic import write_json_atomic
    from vae_keras.data import load_dataset
    from vae_keras.report import benchmark_header
    from vae_keras.runs import RunConfig

    dataset = load_dataset("mnist", args.data_dir, limit=args.limit)
    config = RunConfig(epochs=2, limit=args.limit, architecture="conv")
    paths = {}
    for fuse in (True, False):  # the default fused steps, and one compiled call per step
        without = epoch_seconds(config, dataset, jit=False, fuse=fuse)
        with_xla = epoch_seconds(config, dataset, jit=True, fuse=fuse)
        name = "fused steps" if fuse else "one call per step"
        paths[name] = {
            "epoch_seconds_without_xla": round(without, 2),
            "epoch_seconds_with_xla": round(with_xla, 2),
            "ratio": round(with_xla / without, 1),
        }
        print(
            f"conv VAE, {len(dataset.x_train)} MNIST images, {name}: one epoch {without:.2f} s "
            f"without XLA, {with_xla:.2f} s with XLA ({paths[name]['ratio']}x)"
        )
    record = {
        **benchmark_header(),
        "config": config.to_dict(),
        "images": len(dataset.x_train),
        "paths": paths,
    }
    write_json_atomic(Path(args.out), record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
