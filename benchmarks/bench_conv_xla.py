#!/usr/bin/env python
"""Why the conv architecture trains without XLA on a CPU: one epoch with and without it.

Trains the conv VAE (``--architecture conv``, MNIST's first ``--limit`` images, batch 256)
for two epochs each way on TensorFlow, with the same seeded tf.data pipeline, and
prints the second epoch's seconds (the first compiles) and their ratio, measured in one run.
``vae_keras.training.xla_for`` turns XLA off for conv on TensorFlow without a GPU because of
this ratio. Writes benchmarks/results/bench_conv_xla.json.
"""

import argparse
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def epoch_seconds(config, dataset, jit: bool) -> float:
    """Seconds of the second epoch of ``config`` trained with ``jit_compile=jit``."""
    import math

    import keras

    from vae_keras import training
    from vae_keras.batching import aligned_steps_per_execution
    from vae_keras.runs import build_from_config

    options = training.TrainOptions(jit_compile=jit, fuse_steps=False)
    keras.utils.set_random_seed(config.seed)
    steps = math.ceil(len(dataset.x_train) / config.batch_size)
    spe = aligned_steps_per_execution(options.steps_per_execution, steps)
    models = build_from_config(config, jit_compile=jit, steps_per_execution=spe)
    arguments = training.fit_arguments(config, dataset, 0, options)
    seconds = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    models.vae.fit(**arguments, epochs=config.epochs, callbacks=[Clock()], verbose=0)
    return seconds[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=2000, help="MNIST images per split")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)

    from vae_keras.startup import quiet_start

    quiet_start()
    from vae_keras.atomic import write_json_atomic
    from vae_keras.data import load_dataset
    from vae_keras.report import benchmark_header
    from vae_keras.runs import RunConfig

    dataset = load_dataset("mnist", args.data_dir, limit=args.limit)
    config = RunConfig(epochs=2, limit=args.limit, architecture="conv")
    without = epoch_seconds(config, dataset, jit=False)
    with_xla = epoch_seconds(config, dataset, jit=True)
    record = {
        **benchmark_header(),
        "config": config.to_dict(),
        "images": len(dataset.x_train),
        "epoch_seconds_without_xla": round(without, 2),
        "epoch_seconds_with_xla": round(with_xla, 2),
        "ratio": round(with_xla / without, 1),
    }
    print(
        f"conv VAE, {len(dataset.x_train)} MNIST images, one epoch: {without:.2f} s without XLA, "
        f"{with_xla:.2f} s with XLA ({record['ratio']}x)"
    )
    write_json_atomic(RESULTS / "bench_conv_xla.json", record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
