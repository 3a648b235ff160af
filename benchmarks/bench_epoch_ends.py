#!/usr/bin/env python
"""How long ``fit`` on NumPy arrays waits at its epochs' ends, with Keras's pipeline untouched
and with ``vae_keras.tf_speed.keras_arrays_without_autotune_thread`` (every command's start).

The classifier of ``scripts/train_classifier.py`` (``vae_keras.classifier``) trains on the
first ``--n`` MNIST training images for ``--epochs`` epochs, in a process of its own per
round, the two variants alternating, on one thread, with a busy loop on another core beside
it (``--load none``: without): the wait shows on a busy machine, as in ``make test-slow``.
A callback stamps each batch; an epoch's end wait is the time from its last batch to the next
epoch's first (or, after the last epoch, to ``fit``'s return), where nothing is computed.
Prints each variant's waits and wall time (medians over rounds) and their ratio, and writes
``benchmarks/results/bench_epoch_ends.json`` and the table of docs/speed.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from vae_keras.startup import require_tensorflow

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = ("keras", "without-thread")
LOADS = {"busy": "beside a busy loop on another core", "none": "on a quiet machine"}
NAMES = {"keras": "as Keras builds it", "without-thread": "without the autotuning thread"}
ONE_THREAD = {v: "1" for v in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                               "TF_NUM_INTEROP_THREADS", "OPENBLAS_NUM_THREADS")}  # fmt: skip


def epoch_end_waits(batch_ends: list[list[float]], epoch_starts: list[float], end: float):
    """Seconds from each epoch's last batch to the next epoch's first batch, then to ``end``
    (``fit``'s return): ``batch_ends[e]`` are epoch e's batch-end times, ``epoch_starts[e]``
    the start of its first batch."""
    nexts = [*epoch_starts[1:], end]
    return [nxt - ends[-1] for ends, nxt in zip(batch_ends, nexts, strict=True)]


def child(variant: str, data_dir: str, n: int, epochs: int) -> dict:
    """One fit of the classifier in this process; its waits, wall and CPU seconds."""
    import keras

    from vae_keras import classifier, tf_speed
    from vae_keras.data import load_dataset

    if variant == "without-thread":
        tf_speed.keras_arrays_without_autotune_thread()
    mnist = load_dataset("mnist", data_dir, limit=n)
    keras.utils.set_random_seed(0)
    model = classifier.build_classifier(mnist.image_shape)
    x = mnist.x_train.reshape(-1, *model.input_shape[1:])
    starts, ends = [], []

    class Stamps(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                starts.append(time.perf_counter())
                ends.append([])

        def on_train_batch_end(self, batch, logs=None):
            ends[-1].append(time.perf_counter())

    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(x, mnist.y_train, epochs=epochs, batch_size=128, verbose=0, callbacks=[Stamps()])
    done = time.perf_counter()
    waits = epoch_end_waits(ends, starts, done)
    return {"waits": waits, "wall": done - wall, "cpu": time.process_time() - cpu}


def summary(rounds: dict[str, list[dict]]) -> dict[str, dict]:
    """Per variant: medians over rounds of the summed and the longest wait, wall and CPU."""
    return {
        variant: {
            "waited_s": statistics.median(sum(r["waits"]) for r in rows),
            "longest_wait_s": statistics.median(max(r["waits"]) for r in rows),
            "wall_s": statistics.median(r["wall"] for r in rows),
            "cpu_s": statistics.median(r["cpu"] for r in rows),
        }
        for variant, rows in rounds.items()
    }


def epoch_ends_table(record: dict) -> str:
    from vae_keras.machine import recorded_machine

    rows = record["summary"]
    lines = [
        f"Measured {record['date'][:10]} on {recorded_machine(record)}, TensorFlow "
        f"{record['versions']['tensorflow']}, Keras {record['versions']['keras']}: the "
        f"classifier on {record['n']} MNIST images, {record['epochs']} epochs, one thread, "
        f"{LOADS[record['load']]}; medians of {record['rounds']} rounds "
        "(`benchmarks/bench_epoch_ends.py`):",
        "",
        "| Keras's array pipeline | waited at epoch ends (s) | longest wait (s) | wall (s) "
        "| CPU (s) |",
        "|---|---|---|---|---|",
    ]
    for variant in VARIANTS:
        r = rows[variant]
        lines.append(
            f"| {NAMES[variant]} | {r['waited_s']:.2f} | {r['longest_wait_s']:.2f} "
            f"| {r['wall_s']:.1f} | {r['cpu_s']:.1f} |"
        )
    ratio = rows["without-thread"]["wall_s"] / rows["keras"]["wall_s"]
    lines += ["", f"Wall time without the thread / as Keras builds it: {ratio:.2f}."]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default=os.environ.get("VAE_KERAS_DATA_DIR"))
    parser.add_argument("--n", type=int, default=20_000, help="training images")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="fits per variant")
    parser.add_argument("--load", choices=("busy", "none"), default="busy")
    parser.add_argument("--no-json", action="store_true", help="write neither JSON nor the table")
    parser.add_argument(
        "--readme",
        default="docs/speed.md",
        help="Markdown page whose table to rewrite (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    require_tensorflow("bench_epoch_ends.py times tf.data's iterators in Keras's fit")
    if args.child:
        print(json.dumps(child(args.child, args.data_dir, args.n, args.epochs)))
        return

    busy = None
    if args.load == "busy":
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    rounds: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    try:
        for _ in range(args.rounds):
            for variant in VARIANTS:
                done = subprocess.run(
                    [sys.executable, __file__, "--child", variant, "--data-dir",
                     str(args.data_dir), "--n", str(args.n), "--epochs", str(args.epochs)],
                    env={**os.environ, **ONE_THREAD}, capture_output=True, text=True,
                    check=True,
                )  # fmt: skip
                result = json.loads(done.stdout.strip().splitlines()[-1])
                rounds[variant].append(result)
                waits = " ".join(f"{w:.2f}" for w in result["waits"])
                print(f"{variant:>15}: waits {waits} s; wall {result['wall']:.1f} s")
    finally:
        if busy:
            busy.kill()
    rows = summary(rounds)
    for variant, r in rows.items():
        print(f"{variant:>15}: waited {r['waited_s']:.2f} s (median), wall {r['wall_s']:.1f} s")
    if args.no_json:
        return
    from vae_keras.atomic import write_json_atomic
    from vae_keras.report import benchmark_header, replace_block

    record = {**benchmark_header(), "n": args.n, "epochs": args.epochs, "rounds": args.rounds,
              "load": args.load, "runs": rounds, "summary": rows}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "bench_epoch_ends.json"
    write_json_atomic(out, record)
    print(f"wrote {out}")
    table = epoch_ends_table(record)
    replace_block(args.readme, "<!-- epoch-ends:start -->", "<!-- epoch-ends:end -->", table)
    print(f"Updated the epoch-ends table in {args.readme}")


if __name__ == "__main__":
    main()
