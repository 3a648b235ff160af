#!/usr/bin/env python
"""The epoch on each Keras backend, side by side, and PyTorch eager against torch.compile.

In one run, on this machine (its GPU where the backend sees one), each path in its own
process, alternating for --rounds rounds: the project's default training path
(``TrainOptions()``: the seeded batches of ``batching.epoch_order``) on the slides'
MNIST 784-256-2 VAE for 1 + --epochs epochs, on

  tensorflow  the fused tf.data/XLA path (vae_keras.tf_speed);
  jax         the fused lax.scan path (vae_keras.jax_speed);
  torch       Keras's PyTorch trainer, eager (the project's choice);
  torch-compiled  the same with ``jit_compile=True``: Keras wraps its train and test steps
              in ``torch.compile`` (the choice this benchmark informs: the faster stays).

Each process reports its first epoch (compiling included) and the median of the others;
the record keeps the median over rounds of each, the final val_loss (the equal-quality
check: same model, batches and optimizer) and the ratio of each path's epoch to the
fastest's. A backend that is not installed is left out and said so. Writes
benchmarks/results/bench_backends_mnist-<device>.json and the table of every such record
into docs/backends.md.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
START, END = "<!-- backends-epoch:start -->", "<!-- backends-epoch:end -->"
#: path name -> (Keras backend, compile the train step with the backend's compiler)
PATHS = {
    "tensorflow": ("tensorflow", True),
    "jax": ("jax", True),
    "torch": ("torch", False),
    "torch-compiled": ("torch", True),
}


def child(path: str, epochs: int, limit: int | None) -> dict:
    """Train on ``path`` in this process; seconds of the first epoch, median of the rest."""
    backend, compiled = PATHS[path]
    os.environ["KERAS_BACKEND"] = backend
    from vae_keras.startup import quiet_start

    quiet_start()
    import keras

    from vae_keras import runs
    from vae_keras.data import load_dataset
    from vae_keras.machine import backend_devices
    from vae_keras.training import TrainOptions, build_for_training, fit_arguments

    dataset = load_dataset("mnist", None, limit=limit)
    config = runs.RunConfig(dataset="mnist", original_dim=dataset.original_dim,
                            intermediate_dim=256, latent_dim=2, epochs=1 + epochs)  # fmt: skip
    keras.utils.set_random_seed(config.seed)
    options = TrainOptions()
    if backend == "torch" and compiled:
        # training.xla_for keeps PyTorch eager; here Keras's torch.compile of the step is tried
        vae = runs.build_from_config(config, jit_compile=True, steps_per_execution=1).vae
    else:
        vae = build_for_training(config, len(dataset.x_train), options).vae
    seconds: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)
            self.val_loss = float(logs["val_loss"])

    timer = EpochTimer()
    vae.fit(**fit_arguments(config, dataset, 0, options), epochs=config.epochs,
            callbacks=[timer], verbose=0)  # fmt: skip
    return {
        "first_epoch": round(seconds[0], 3),
        "seconds_per_epoch": round(statistics.median(seconds[1:]), 4),
        "final_val_loss": round(timer.val_loss, 2),
        "devices": backend_devices()["devices"],
        "version": importlib.import_module(backend).__version__,
    }


def run_child(path: str, epochs: int, limit: int | None) -> dict:
    argv = [sys.executable, __file__, "--child", path, "--epochs", str(epochs)]
    if limit:
        argv += ["--limit", str(limit)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise SystemExit(f"error: the {path} path failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def summarise(rounds: list[dict]) -> dict:
    """Median over rounds of each path's epoch and first epoch; ratios to the fastest path."""
    paths = {}
    for name in rounds[0]:
        runs_ = [r[name] for r in rounds]
        paths[name] = {
            "seconds_per_epoch": round(statistics.median(r["seconds_per_epoch"] for r in runs_), 4),
            "first_epoch": round(statistics.median(r["first_epoch"] for r in runs_), 3),
            "final_val_loss": runs_[-1]["final_val_loss"],
            "devices": runs_[-1]["devices"],
            "version": runs_[-1]["version"],
        }
    fastest = min(p["seconds_per_epoch"] for p in paths.values())
    for p in paths.values():
        p["ratio_to_fastest"] = round(p["seconds_per_epoch"] / fastest, 3)
    return paths


def table(records: list[dict]) -> str:
    """Markdown table of every ``bench_backends_*.json`` record, one row per path."""
    from vae_keras.machine import recorded_machine

    lines = [
        "| date | machine | path | devices | first epoch s (compiling) | s/epoch "
        "| / fastest | final val_loss |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(records, key=lambda r: r["date"]):
        for name, p in r["paths"].items():
            cells = [
                r["date"][:10],
                recorded_machine(r),
                f"{name} {p['version']}",
                ", ".join(p["devices"]),
                f"{p['first_epoch']:.1f}",
                f"{p['seconds_per_epoch']:.3f}",
                f"{p['ratio_to_fastest']:.2f}",
                f"{p['final_val_loss']:.2f}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_table(page: str) -> None:
    """Put the table of every ``bench_backends_*.json`` record between ``page``'s markers."""
    from vae_keras.report import replace_block

    records = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("bench_backends_*.json"))]
    replace_block(page, START, END, table(records))


def installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=list(PATHS))
    parser.add_argument("--epochs", type=int, default=3, help="measured epochs after the first")
    parser.add_argument("--rounds", type=int, default=2, help="alternate the paths this often")
    parser.add_argument("--limit", type=int, default=None, help="first N images (quick runs)")
    parser.add_argument("--out", default=None, help="JSON record (default benchmarks/results/)")
    parser.add_argument("--readme", default="docs/backends.md", help="page whose table to rewrite")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--table-only", action="store_true", help="rewrite the table only")
    parser.add_argument("--child", choices=list(PATHS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.rounds < 1:
        parser.error("--epochs and --rounds must be at least 1")
    if args.child:
        print(json.dumps(child(args.child, args.epochs, args.limit)))
        return 0
    if args.table_only:
        write_table(args.readme)
        return 0
    paths = [p for p in args.paths if installed(PATHS[p][0])]
    for p in set(args.paths) - set(paths):
        print(f"{p}: left out ({PATHS[p][0]} is not installed)")
    if not paths:
        parser.error("none of the --paths' backends is installed")
    rounds = []
    for i in range(args.rounds):
        rounds.append({p: run_child(p, args.epochs, args.limit) for p in paths})
        shown = (f"{p} {r['seconds_per_epoch']:.3f} s/epoch" for p, r in rounds[-1].items())
        print(f"round {i + 1}: " + ", ".join(shown))

    # the header from a process on one installed backend (the records name its devices too)
    os.environ.setdefault("KERAS_BACKEND", PATHS[paths[0]][0])
    from vae_keras.startup import quiet_start

    quiet_start()
    from vae_keras.atomic import write_json_atomic
    from vae_keras.machine import device_slug
    from vae_keras.report import benchmark_header

    header = benchmark_header()
    record = {
        **header,
        "model": "MNIST 784-256-2",
        "epochs": args.epochs,
        "limit": args.limit,
        "rounds": rounds,
        "paths": summarise(rounds),
    }
    slug = device_slug(header)
    out = Path(args.out) if args.out else RESULTS / f"bench_backends_mnist-{slug}.json"
    write_json_atomic(out, record)
    print(table([record]))
    print(f"[{header['machine']}]\nRecord: {out}")
    if not args.no_readme:
        write_table(args.readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
