#!/usr/bin/env python
"""Keras's random numbers against ``vae_keras.noise`` inside an XLA-compiled TensorFlow function.

Both draw the same Philox numbers (``tests/test_noise.py``); ``keras.random.*`` leaves
TensorFlow's algorithm at ``"auto_select"``, which XLA on a CPU compiles into a slow
generic kernel, and ``vae_keras.noise`` names ``"philox"``. For the shapes the project
draws per training step (the VAE's noise for latent 2, 8 and 128, and the denoising
autoencoder's masks over 784 pixels), this prints milliseconds per draw for each, their
ratio, and writes ``benchmarks/results/bench_noise.json``. The rounds alternate the two.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from pathlib import Path

from vae_keras.machine import recorded_machine
from vae_keras.startup import require_tensorflow

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RESULTS = Path(__file__).resolve().parent / "results"
SHAPES = ((256, 2), (256, 8), (256, 128), (256, 784))


def _seconds_per_draw(fn, draws: int) -> float:
    start = time.perf_counter()
    for _ in range(draws):
        fn().numpy()
    return (time.perf_counter() - start) / draws


def noise_table(record: dict) -> str:
    lines = [
        f"Measured {record['date'][:10]} on {recorded_machine(record)}, TensorFlow "
        f"{record['versions']['tensorflow']}, Keras {record['versions']['keras']} (medians of "
        f"{record['rounds']} rounds of {record['draws']} draws):",
        "",
        "| shape | distribution | `keras.random` ms | `vae_keras.noise` ms | ratio |",
        "|---|---|---|---|---|",
    ]
    for row in record["rows"]:
        shape = " x ".join(map(str, row["shape"]))
        lines.append(
            f"| {shape} | {row['kind']} | {row['keras_ms']:.2f} | {row['ours_ms']:.2f} | "
            f"{row['ratio']:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--draws", type=int, default=20, help="draws timed per round")
    parser.add_argument("--no-json", action="store_true", help="write neither JSON nor the table")
    parser.add_argument(
        "--readme",
        default="docs/speed.md",
        help="Markdown page whose table to rewrite (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    require_tensorflow("bench_noise.py times TensorFlow's random-number kernels")

    import keras
    import tensorflow as tf

    from vae_keras import noise
    from vae_keras.atomic import write_json_atomic
    from vae_keras.report import benchmark_header, replace_block

    rows = []
    print(f"{'shape':>12} {'kind':>8} {'keras ms':>9} {'ours ms':>8} {'ratio':>6}")
    for shape in SHAPES:
        for kind, ours, theirs in (
            ("normal", noise.standard_normal, keras.random.normal),
            ("uniform", noise.uniform, keras.random.uniform),
        ):
            keras_fn = tf.function(
                functools.partial(theirs, shape, seed=keras.random.SeedGenerator(0)),
                jit_compile=True,
            )
            ours_fn = tf.function(
                functools.partial(ours, shape, keras.random.SeedGenerator(0)), jit_compile=True
            )
            keras_fn(), ours_fn()  # compile
            times = {"keras": [], "ours": []}
            for _ in range(args.rounds):
                times["keras"].append(_seconds_per_draw(keras_fn, args.draws))
                times["ours"].append(_seconds_per_draw(ours_fn, args.draws))
            keras_ms = 1e3 * statistics.median(times["keras"])
            ours_ms = 1e3 * statistics.median(times["ours"])
            rows.append(
                {
                    "shape": list(shape),
                    "kind": kind,
                    "keras_ms": keras_ms,
                    "ours_ms": ours_ms,
                    "ratio": ours_ms / keras_ms,
                }
            )
            print(
                f"{str(shape):>12} {kind:>8} {keras_ms:9.3f} {ours_ms:8.3f} "
                f"{ours_ms / keras_ms:6.2f}"
            )
    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / "bench_noise.json"
        record = {**benchmark_header(), "rounds": args.rounds, "draws": args.draws, "rows": rows}
        write_json_atomic(out, record)
        print(f"wrote {out}")

        replace_block(
            args.readme, "<!-- noise:start -->", "<!-- noise:end -->", noise_table(record)
        )
        print(f"Updated the noise table in {args.readme}")


if __name__ == "__main__":
    main()
