#!/usr/bin/env python
"""Why the conv architecture trains without XLA on a CPU: one epoch with and without it.

Trains the conv VAE (``--architecture conv``, MNIST's first ``--limit`` images, batch 256)
for two epochs each way on TensorFlow with ``training.train`` (the default fused steps, then
one compiled call per step), and prints the second epoch's seconds (the first compiles) and
their ratio, measured in one run. Then the importance-weighted bound of the last run
(``likelihood.importance_weighted_log_likelihood``, k = 100 as the report's architecture
comparison, on ``--bound-images`` test images) with its log-weights model compiled with and
without XLA: one call each, its compile included, as a user's call pays it.
``vae_keras.distribution.xla_pays`` turns XLA off for conv on TensorFlow without a GPU, in
training and in the bound, because of these ratios. Writes benchmarks/results/bench_conv_xla.json.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def epoch_seconds(config, dataset, jit: bool, fuse: bool, run_dir: str) -> float:
    """Seconds of the second epoch of ``config`` trained into ``run_dir`` by ``training.train``
    with ``jit_compile=jit`` and ``fuse_steps=fuse`` (the first epoch compiles)."""
    from vae_keras import training

    # the benchmark's one intervention: the rule it measures is switched off
    rule, training.xla_for = training.xla_for, lambda config, options: options.jit_compile
    try:
        options = training.TrainOptions(jit_compile=jit, fuse_steps=fuse)
        history = training.train(config, dataset, run_dir, verbose=0, options=options, fresh=True)
    finally:
        training.xla_for = rule
    return history[-1]["seconds"]


def bound_seconds(run_dir: str, x, k: int, xla: bool) -> tuple[float, float]:
    """Seconds of one ``importance_weighted_log_likelihood`` call (k samples per image, its
    log-weights model built and compiled with or without XLA), and the mean bound."""
    import time

    from vae_keras import distribution, likelihood
    from vae_keras.runs import load_run

    models = load_run(run_dir).models
    rule, distribution.xla_pays = distribution.xla_pays, lambda convolutional: xla
    try:
        start = time.perf_counter()
        bound = float(likelihood.importance_weighted_log_likelihood(models, x, k=k).mean())
        return time.perf_counter() - start, bound
    finally:
        distribution.xla_pays = rule


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=2000, help="MNIST images per split")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--bound-images", type=int, default=500, help="test images of the bound")
    parser.add_argument(
        "--out", default=str(RESULTS / "bench_conv_xla.json"), help="JSON file (%(default)s)"
    )
    args = parser.parse_args(argv)

    from vae_keras.startup import quiet_start

    quiet_start()
    from vae_keras.atomic import write_json_atomic
    from vae_keras.data import load_dataset
    from vae_keras.runs import RunConfig

    dataset = load_dataset("mnist", args.data_dir, limit=args.limit)
    config = RunConfig(epochs=2, limit=args.limit, architecture="conv")
    run_dir = tempfile.mkdtemp(prefix="bench-conv-xla-")
    try:
        record = measure(config, dataset, run_dir, args.bound_images)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    write_json_atomic(Path(args.out), record)
    return 0


def measure(config, dataset, run_dir: str, bound_images: int) -> dict:
    """The epochs each way, then the bound each way, trained and scored in ``run_dir``; the
    record."""
    from vae_keras.report import benchmark_header
    from vae_keras.report.architectures import COMPARISON_K

    paths = {}
    for fuse in (True, False):  # the default fused steps, and one compiled call per step
        without = epoch_seconds(config, dataset, jit=False, fuse=fuse, run_dir=run_dir)
        with_xla = epoch_seconds(config, dataset, jit=True, fuse=fuse, run_dir=run_dir)
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
    x = dataset.x_test[:bound_images]
    without, bound = bound_seconds(run_dir, x, COMPARISON_K, xla=False)
    with_xla, bound_xla = bound_seconds(run_dir, x, COMPARISON_K, xla=True)
    bound_record = {
        "images": len(x),
        "k": COMPARISON_K,
        "seconds_without_xla": round(without, 2),
        "seconds_with_xla": round(with_xla, 2),
        "ratio": round(with_xla / without, 1),
        "bound_without_xla": round(bound, 3),
        "bound_with_xla": round(bound_xla, 3),
    }
    print(
        f"its importance-weighted bound, {len(x)} test images, k = {COMPARISON_K}: "
        f"{without:.2f} s without XLA, {with_xla:.2f} s with XLA ({bound_record['ratio']}x); "
        f"bound {bound:.3f} and {bound_xla:.3f} nats"
    )
    return {
        **benchmark_header(),
        "config": config.to_dict(),
        "images": len(dataset.x_train),
        "paths": paths,
        "bound": bound_record,
    }


if __name__ == "__main__":
    sys.exit(main())
