#!/usr/bin/env python
"""The chain of `make reproduce`, run in place on this process's backend and devices.

For a machine without make or TensorFlow, such as the GPU machine: runs
vae_keras.chain.REPRODUCE_STEPS in the current folder (each step as
`python -m vae_keras VERB`, on KERAS_BACKEND), then writes one record
(benchmarks/results/chain_<backend>_<gpu or cpu>.json): the machine, the backend and
its devices (the GPU's model, from the backend), the versions, and each step's wall
time with its epochs and start-up, with a copy of the report's results.json beside it
(report_<backend>_<gpu or cpu>.json, naming the same devices), and rewrites the chain table
of docs/backends.md from every such record, with the FID of each latent size the report
measured. --random-cifar10 DIR first writes a cifar10.npz of uniformly random
pixels of CIFAR-10's shape into DIR (where the real one cannot travel): the CIFAR-10 step
is then a timing only, and the record says so. --table-only rewrites the table alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
START, END = "<!-- chain:start -->", "<!-- chain:end -->"


def write_random_cifar10(folder: Path) -> Path:
    """``cifar10.npz`` of uniform random uint8 pixels of CIFAR-10's shapes (timing only)."""
    import numpy as np

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cifar10.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (50000, 32, 32, 3), dtype=np.uint8),
        y_train=rng.integers(0, 10, (50000, 1), dtype=np.uint8),
        x_test=rng.integers(0, 256, (10000, 32, 32, 3), dtype=np.uint8),
        y_test=rng.integers(0, 10, (10000, 1), dtype=np.uint8),
    )
    return path


def record_name(record: dict) -> str:
    devices = record["backend_devices"]
    from vae_keras.machine import file_slug

    where = devices["gpus"][0] if devices["gpus"] else "cpu"
    return f"chain_{devices['backend']}_{file_slug(where)}.json"


def report_path(record_path: Path) -> Path:
    """The report written beside a chain record: ``chain_X.json`` -> ``report_X.json``."""
    return record_path.with_name("report_" + record_path.name.removeprefix("chain_"))


def fid_line(report: dict) -> str:
    """``FID vs MNIST test (mean +/- std over seeds): latent 2 23.62 +/- 0.16 (3 runs), ...``."""
    summary = report.get("fid", {}).get("summary", {})
    parts = [f"latent {key.removeprefix('latent')} {v['mean']:.2f} +/- {v['std']:.2f} "
             f"({v['n']} runs)" for key, v in sorted(summary.items())]  # fmt: skip
    return f" FID vs MNIST test, mean +/- std over seeds: {'; '.join(parts)}." if parts else ""


def table(records: list[dict], reports: list[dict | None] | None = None) -> str:
    """One block per record: where it ran, its report's FID, then its step table."""
    from vae_keras.chain import step_table
    from vae_keras.progress import format_seconds

    blocks = []
    reports = reports or [None] * len(records)
    for r, report in sorted(zip(records, reports, strict=True), key=lambda pair: pair[0]["date"]):
        devices = r["backend_devices"]
        note = (
            " CIFAR-10 on random pixels of its shape (timing only)." if r["random_cifar10"] else ""
        )
        blocks.append(
            f"{r['date'][:10]}, {r['machine']}; backend {devices['backend']} "
            f"{r['versions'].get(devices['backend'], '')} on {', '.join(devices['devices'])}, "
            f"Keras {r['versions']['keras']}. Total {format_seconds(r['total_seconds'])} "
            f"(set-up excluded).{note}{fid_line(report or {})}\n\n"
            f"```\n{step_table(r['steps'])}\n```"
        )
    return "\n\n".join(blocks) if blocks else "(no record yet)"


def rewrite_table(readme: Path) -> None:
    from vae_keras.report import replace_block

    paths = sorted(RESULTS.glob("chain_*.json"))
    records = [json.loads(p.read_text()) for p in paths]
    reports = [json.loads(report_path(p).read_text()) if report_path(p).is_file() else None
               for p in paths]  # fmt: skip
    replace_block(readme, START, END, table(records, reports))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--random-cifar10", default=None, metavar="DIR",
                        help="first write random CIFAR-10-shaped pixels into DIR")  # fmt: skip
    parser.add_argument("--out", default=None, help="JSON record (default benchmarks/results/)")
    parser.add_argument("--readme", default="docs/backends.md", help="page whose table to rewrite")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--table-only", action="store_true", help="rewrite the table, run nothing")
    args = parser.parse_args(argv)
    from vae_keras.startup import quiet_start

    quiet_start()
    if args.table_only:
        rewrite_table(Path(args.readme))
        return 0
    from vae_keras.atomic import write_json_atomic
    from vae_keras.chain import REPRODUCE_STEPS, ChainFailed, run_chain, step_table
    from vae_keras.machine import nvidia_smi_gpus
    from vae_keras.report import benchmark_header

    if args.random_cifar10:
        written = write_random_cifar10(Path(args.random_cifar10))
        print(f"Random CIFAR-10 pixels (timing only): {written}")
    try:
        steps = run_chain(REPRODUCE_STEPS)
    except ChainFailed as exc:
        print(step_table(exc.timings) if exc.timings else "", f"\nerror: {exc}", file=sys.stderr)
        return exc.code
    record = {
        **benchmark_header(),
        "nvidia_smi": nvidia_smi_gpus(),
        "random_cifar10": bool(args.random_cifar10),
        "steps": steps,
        "total_seconds": round(sum(s["seconds"] for s in steps), 1),
    }
    out = Path(args.out) if args.out else RESULTS / record_name(record)
    write_json_atomic(out, record)
    report = Path("figures/results.json")
    if report.is_file():
        write_json_atomic(report_path(out), json.loads(report.read_text()))
    print(f"\n{step_table(steps)}\nRecord: {out}")
    if not args.no_readme:
        rewrite_table(Path(args.readme))
    return 0


if __name__ == "__main__":
    sys.exit(main())
