#!/usr/bin/env python
"""float32 against --precision mixed_bfloat16: the same runs' quality and speed, side by side.

For each precision and training seed, the slides' MNIST model (latent --latent-dim, 50
epochs, the default training path) in train_mnist.py's own run directory
(runs/mnist-latent8-seed1, runs/mnist-latent8-bf16-seed1, ...): trained where it is
missing or unfinished, reused where it is complete. Then, per run, the final val_loss,
the pixel FID of 10,000 prior samples against the MNIST test set (the main FID protocol)
and the median s/epoch of its history; per precision the mean and the standard deviation
over seeds, and whether mixed_bfloat16's mean lies within the float32 seeds' spread
(mean +/- 2 std). For the speed of both in alternating rounds of one process, use
bench_train.py --precision mixed_bfloat16. Writes benchmarks/results/ and the precision
block of docs/speed.md.
"""

import argparse
import statistics
import sys
from pathlib import Path

from vae_keras.variants import PRECISIONS

RESULTS = Path(__file__).resolve().parent / "results"
START, END = "<!-- precision:start -->", "<!-- precision:end -->"


def summary(values: list[float]) -> dict[str, float]:
    """Mean and sample standard deviation (0 for one value)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std}


def within_spread(reference: dict[str, float], other: dict[str, float]) -> bool:
    """True if ``other``'s mean lies within ``reference``'s mean +/- 2 standard deviations."""
    return abs(other["mean"] - reference["mean"]) <= 2 * reference["std"]


def precision_table(record: dict) -> str:
    """The Markdown block: one row per precision, the machine and date under it."""
    lines = [
        "| precision | runs (seeds) | final val_loss | FID vs test (10,000 samples) "
        "| s/epoch (median of each run's epochs) |",
        "|---|---|---|---|---|",
    ]
    for name in PRECISIONS:
        s = record["summary"][name]
        lines.append(
            f"| {name} | {len(s['seeds'])} ({', '.join(map(str, s['seeds']))}) "
            f"| {s['val_loss']['mean']:.2f} ± {s['val_loss']['std']:.2f} "
            f"| {s['fid']['mean']:.2f} ± {s['fid']['std']:.2f} "
            f"| {s['seconds_per_epoch']['mean']:.2f} ± {s['seconds_per_epoch']['std']:.2f} |"
        )
    verdict = record["verdict"]
    lines += [
        "",
        f"MNIST 784-256-{record['latent_dim']}, {record['epochs']} epochs; mean ± std over "
        f"training seeds; {record['date'][:10]}, {record['machine']}. mixed_bfloat16's mean "
        f"val_loss is {'within' if verdict['val_loss_within'] else 'outside'} and its mean "
        f"FID {'within' if verdict['fid_within'] else 'outside'} the float32 seeds' spread "
        "(mean ± 2 std).",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--runs", default="runs", help="folder of the run directories")
    parser.add_argument(
        "--readme",
        default="docs/speed.md",
        help="Markdown page whose precision block to rewrite (default: %(default)s)",
    )
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--out", default=None, help="JSON file (default benchmarks/results/...)")
    args = parser.parse_args(argv)

    from vae_keras import evaluation
    from vae_keras.atomic import write_json_atomic
    from vae_keras.cli import default_run_dir
    from vae_keras.data import load_dataset
    from vae_keras.report import benchmark_header, replace_block
    from vae_keras.runs import RunConfig, load_run
    from vae_keras.training import train

    dataset = load_dataset("mnist", args.data_dir)
    reference = evaluation.dataset_statistics(dataset.x_test, dataset.image_shape)
    record = {**benchmark_header(), "latent_dim": args.latent_dim, "epochs": args.epochs}
    rows = []
    for precision in PRECISIONS:
        for seed in args.seeds:
            config = RunConfig(latent_dim=args.latent_dim, epochs=args.epochs, seed=seed,
                               precision=precision)  # fmt: skip
            template = str(Path(args.runs) / "mnist-latent{latent_dim}")
            run_dir = default_run_dir(template, args.latent_dim, seed, precision=precision)
            history = train(config, dataset, run_dir, verbose=0)  # returns at once if complete
            fid = evaluation.fid_of_run(load_run(run_dir), dataset, reference=reference).fid
            row = {
                "precision": precision,
                "seed": seed,
                "run_dir": run_dir,
                "val_loss": history[-1]["val_loss"],
                "fid": fid,
                "seconds_per_epoch": statistics.median(r["seconds"] for r in history[1:]),
            }
            rows.append(row)
            print(
                f"{precision:15s} seed {seed}: val_loss {row['val_loss']:.2f}, FID {fid:.2f}, "
                f"{row['seconds_per_epoch']:.2f} s/epoch ({run_dir})"
            )
    record["rows"] = rows
    record["summary"] = {
        name: {
            "seeds": [r["seed"] for r in rows if r["precision"] == name],
            **{
                key: summary([r[key] for r in rows if r["precision"] == name])
                for key in ("val_loss", "fid", "seconds_per_epoch")
            },
        }
        for name in PRECISIONS
    }
    f32, bf16 = (record["summary"][name] for name in PRECISIONS)
    record["verdict"] = {
        "val_loss_within": within_spread(f32["val_loss"], bf16["val_loss"]),
        "fid_within": within_spread(f32["fid"], bf16["fid"]),
    }
    table = precision_table(record)
    print(table)
    out = Path(args.out or RESULTS / f"bench_precision_mnist-784-256-{args.latent_dim}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, record)
    print(f"Written to {out}")
    if not args.no_readme:
        replace_block(args.readme, START, END, table)
        print(f"Table written to {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
