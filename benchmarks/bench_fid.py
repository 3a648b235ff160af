#!/usr/bin/env python
"""Time frechet_distance against the sqrtm reference, in one run, on this machine.

For each dimension d (784: MNIST pixels; 2048: Inception pool-3 features),
draws two feature sets of n samples with a decaying spectrum (like real
features), accumulates their statistics with StreamingStatistics, and times
both implementations of the distance (best of --repeat). Prints the speed-up and
the relative difference of the two values; writes benchmarks/results/bench_fid.json.
"""

import argparse
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy

from vae_keras.fid import compute_statistics, frechet_distance, frechet_distance_reference
from vae_keras.machine import cpu_description, machine_line, recorded_machine

RESULTS = Path(__file__).resolve().parent / "results" / "bench_fid.json"


def features(rng, n, d, shift):
    spectrum = 1.0 / np.sqrt(1.0 + np.arange(d))  # decaying, well conditioned at n >> d
    mixing, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (rng.standard_normal((n, d)) * spectrum) @ mixing.T + shift


def best_time(fn, args, repeat):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), value


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dims", type=int, nargs="+", default=[784, 2048])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument(
        "--readme",
        default="docs/fid.md",
        help="Markdown page whose FID table to rewrite (default: %(default)s)",
    )
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args(argv)

    rows = []
    for d in args.dims:
        rng = np.random.default_rng(d)
        start = time.perf_counter()
        a = compute_statistics(features(rng, args.n, d, 0.0), batch_size=1000)
        b = compute_statistics(features(rng, args.n, d, 0.05), batch_size=1000)
        stats_seconds = (time.perf_counter() - start) / 2
        stats_args = (a.mu, a.sigma, b.mu, b.sigma)
        t_fast, fast = best_time(frechet_distance, stats_args, args.repeat)
        t_ref, ref = best_time(frechet_distance_reference, stats_args, args.repeat)
        row = {
            "d": d,
            "n": args.n,
            "statistics_seconds_per_set": round(stats_seconds, 3),
            "frechet_distance_seconds": round(t_fast, 4),
            "sqrtm_reference_seconds": round(t_ref, 4),
            "speedup": round(t_ref / t_fast, 2),
            "fid": fast,
            "fid_reference": ref,
            "relative_difference": abs(fast - ref) / abs(ref),
        }
        rows.append(row)
        print(
            f"d={d:5d} n={args.n}: statistics {stats_seconds:.2f} s/set | frechet_distance "
            f"{t_fast:.3f} s | sqrtm reference {t_ref:.3f} s | speed-up {t_ref / t_fast:.1f}x | "
            f"FID {fast:.6f} vs {ref:.6f} (relative difference {row['relative_difference']:.2e})"
        )
    cpu = cpu_description()
    record = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_line(cpu),
        "cpu": cpu,
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "repeat": args.repeat,
        "results": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    from vae_keras.atomic import write_json_atomic

    write_json_atomic(args.out, record)
    print(f"Written to {args.out}")
    if not args.no_readme:
        from vae_keras.report import replace_block

        lines = [
            f"Measured {record['date'][:10]} on {recorded_machine(record)}, "
            f"numpy {np.__version__}, "
            f"scipy {scipy.__version__} (best of {args.repeat}).",
            "",
            "| d | n | statistics s/set | frechet_distance s | sqrtm reference s | speed-up "
            "| relative difference |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['d']} | {r['n']} | {r['statistics_seconds_per_set']:.2f} "
                f"| {r['frechet_distance_seconds']:.3f} | {r['sqrtm_reference_seconds']:.3f} "
                f"| {r['speedup']:.1f}x | {r['relative_difference']:.1e} |"
            )
        replace_block(
            args.readme, "<!-- bench-fid:start -->", "<!-- bench-fid:end -->", "\n".join(lines)
        )
        print(f"Updated the FID benchmark table in {args.readme}")


if __name__ == "__main__":
    main()
