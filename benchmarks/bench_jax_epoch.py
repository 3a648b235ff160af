#!/usr/bin/env python
"""The JAX epoch: the project's fast path against Keras's own loop and a hand-written yardstick.

In one run, on this machine's JAX device (a GPU where there is one), each as whole processes,
T(--long epochs) - T(--short epochs) divided by the difference (start-up and compiling cancel
out; the per-epoch checkpoint commits stay in), the paths alternating for --rounds rounds
(a process's start-up varies by a second or more on a shared machine: the record keeps each
round and the medians over rounds):
  (1) `vae-keras train` (or `train-cifar10`) on JAX, the default fast path
      (vae_keras.jax_speed: the data on the device, an epoch's stacks under jax.lax.scan);
  (2) the same with --no-fuse-steps: Keras's JAX trainer, a Python loop of compiled steps;
  (3) MNIST only: the yardstick, a plain-JAX program of the same model, loss, RMSprop and
      batch size, each epoch one jitted lax.scan (--reference PATH: not part of the project;
      ../shared/gpu/jax_epoch_reference.py on the project's machines).
Prints (1)/(3) and (1)/(2); writes benchmarks/results/bench_jax_epoch_<dataset>-<device>.json
and the table of every such record into docs/speed.md. --dataset cifar10 times the
3072-512-128 model (on random pixels of CIFAR-10's shape when that is all the data folder
holds: --random-pixels says so in the record). The final val_loss of each path goes into the
record and the table: the equal-quality check.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_REFERENCE = (
    Path(__file__).resolve().parents[2] / "shared" / "gpu" / "jax_epoch_reference.py"
)
START, END = "<!-- jax-epoch:start -->", "<!-- jax-epoch:end -->"


def timed(argv: list[str], env: dict) -> tuple[float, str]:
    """Wall seconds of one whole process, and its standard output."""
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"error: {' '.join(argv)} failed:\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def project_epoch(verb: str, extra: list[str], short: int, long: int, env: dict) -> dict:
    """Seconds per epoch of ``vae-keras VERB`` (whole processes) and its last val_loss."""
    times, last = {}, None
    for epochs in (short, long):
        with tempfile.TemporaryDirectory() as tmp:
            argv = [sys.executable, "-m", "vae_keras", verb, "--epochs", str(epochs),
                    "--out", tmp + "/run", "--verbose", "0", *extra]  # fmt: skip
            times[epochs], _ = timed(argv, env)
            history = json.loads(Path(tmp, "run", "history.json").read_text())
            last = history[-1]
    return {
        "seconds_per_epoch": round((times[long] - times[short]) / (long - short), 4),
        "process_seconds": {str(k): round(v, 2) for k, v in times.items()},
        "final_val_loss": round(last["val_loss"], 2),
    }


def reference_epoch(reference: Path, latent: int, short: int, long: int, env: dict) -> dict:
    times, out = {}, {}
    for epochs in (short, long):
        times[epochs], stdout = timed([sys.executable, str(reference), "1", str(latent),
                                       str(epochs)], env)  # fmt: skip
        out = json.loads(stdout.strip().splitlines()[-1])
    return {
        "seconds_per_epoch": round((times[long] - times[short]) / (long - short), 4),
        "process_seconds": {str(k): round(v, 2) for k, v in times.items()},
        "in_process_seconds_per_epoch": out["s_per_epoch"],
        "final_val_loss": out["val_loss"][0],
    }


def summarise(rounds: list[dict]) -> tuple[dict, dict]:
    """Each path's median over ``rounds`` (``[{path: its result}, ...]``: seconds per epoch,
    in-process seconds where given; the last round's val_loss and process seconds), and the
    ratios of the fast path to the others as medians of each round's ratio."""
    paths = {}
    for name in rounds[0]:
        runs_ = [r[name] for r in rounds]
        paths[name] = {**runs_[-1]}
        for key in ("seconds_per_epoch", "in_process_seconds_per_epoch"):
            if key in runs_[-1]:
                paths[name][key] = round(statistics.median(r[key] for r in runs_), 4)

    def ratio(other):
        per_round = (r["fast"]["seconds_per_epoch"] / r[other]["seconds_per_epoch"] for r in rounds)
        return round(statistics.median(per_round), 3)

    ratios = {"ratio_fast_to_keras_loop": ratio("keras_loop")}
    if "reference" in paths:
        ratios["ratio_fast_to_reference"] = ratio("reference")
    return paths, ratios


def table(records: list[dict]) -> str:
    """Markdown table of every ``bench_jax_epoch_*.json`` record."""
    from vae_keras.machine import recorded_machine

    lines = [
        "| model | date | machine | device | (1) fast path s/epoch | (2) Keras's loop s/epoch "
        "| (3) yardstick s/epoch | (1)/(3) | (1)/(2) | final val_loss (1) / (2) / (3) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(records, key=lambda r: (r["model"], r["date"])):
        fast, loop, ref = r["paths"]["fast"], r["paths"]["keras_loop"], r["paths"].get("reference")
        gpus = r["backend_devices"]["gpus"]
        cells = [
            r["model"] + (" (random pixels)" if r.get("random_pixels") else ""),
            r["date"][:10],
            recorded_machine(r),
            gpus[0] if gpus else "CPU",
            f"{fast['seconds_per_epoch']:.3f}",
            f"{loop['seconds_per_epoch']:.3f}",
            f"{ref['seconds_per_epoch']:.3f}" if ref else "",
            f"{r['ratio_fast_to_reference']:.2f}" if ref else "",
            f"{r['ratio_fast_to_keras_loop']:.2f}",
            f"{fast['final_val_loss']:.2f} / {loop['final_val_loss']:.2f} / "
            + (f"{ref['final_val_loss']:.2f}" if ref else "-"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_table(page: str) -> None:
    """Put the table of every ``bench_jax_epoch_*.json`` record between ``page``'s markers."""
    from vae_keras.report import replace_block

    records = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("bench_jax_epoch_*.json"))]
    replace_block(page, START, END, table(records))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "cifar10"))
    parser.add_argument("--latent-dim", type=int, default=None, help="default: the script's")
    parser.add_argument("--short", type=int, default=1, help="epochs of the short processes")
    parser.add_argument("--long", type=int, default=6, help="epochs of the long processes")
    parser.add_argument("--rounds", type=int, default=3, help="alternate the paths this often")
    parser.add_argument("--reference", default=str(DEFAULT_REFERENCE), help="the yardstick")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--random-pixels", action="store_true", help="record that the data are random pixels"
    )
    parser.add_argument("--out", default=None, help="JSON record (default benchmarks/results/)")
    parser.add_argument("--readme", default="docs/speed.md", help="page whose table to rewrite")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--table-only", action="store_true", help="rewrite the table only")
    args = parser.parse_args(argv)
    if args.long <= args.short:
        parser.error("--long must be more epochs than --short")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    os.environ["KERAS_BACKEND"] = "jax"
    from vae_keras.startup import quiet_start

    quiet_start()
    from vae_keras.atomic import write_json_atomic
    from vae_keras.machine import device_slug
    from vae_keras.report import benchmark_header

    if args.table_only:
        write_table(args.readme)
        return 0
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    if args.data_dir:
        env["VAE_KERAS_DATA_DIR"] = args.data_dir
    verb = "train" if args.dataset == "mnist" else "train-cifar10"
    latent = args.latent_dim or (2 if args.dataset == "mnist" else 128)
    extra = ["--latent-dim", str(latent)]
    reference = Path(args.reference)
    rounds = []
    for i in range(args.rounds):
        one = {
            "fast": project_epoch(verb, extra, args.short, args.long, env),
            "keras_loop": project_epoch(
                verb, [*extra, "--no-fuse-steps"], args.short, args.long, env
            ),
        }
        if args.dataset == "mnist" and reference.is_file():
            one["reference"] = reference_epoch(reference, latent, args.short, args.long, env)
        rounds.append(one)
        shown = (f"{p} {r['seconds_per_epoch']:.3f}" for p, r in one.items())
        print(f"round {i + 1}: " + ", ".join(shown) + " s/epoch", flush=True)
    paths, ratios = summarise(rounds)
    header = benchmark_header()
    model = "MNIST 784-256-2" if args.dataset == "mnist" else "CIFAR-10 3072-512-128"
    if args.latent_dim and args.dataset == "mnist":
        model = f"MNIST 784-256-{latent}"
    record = {
        **header,
        "model": model,
        "epochs": [args.short, args.long],
        "random_pixels": args.random_pixels,
        "rounds": rounds,
        "paths": paths,
        **ratios,
    }
    slug = device_slug(header)
    out = Path(args.out) if args.out else RESULTS / f"bench_jax_epoch_{args.dataset}-{slug}.json"
    write_json_atomic(out, record)
    print(json.dumps({k: v for k, v in record.items() if k in ("model", "paths")}, indent=1))
    print(f"(1)/(2) = {record['ratio_fast_to_keras_loop']:.2f}", end="")
    if "reference" in paths:
        print(f", (1)/(3) = {record['ratio_fast_to_reference']:.2f}", end="")
    print(f"  [{header['machine']}]\nRecord: {out}")
    if not args.no_readme:
        write_table(args.readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
