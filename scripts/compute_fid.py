#!/usr/bin/env python
"""Frechet distance (slide "FID Score") between two image sources.

A source is one of:
  runs/mnist-latent8      a trained run directory: --n images generated from z ~ N(0, I)
  mnist:test, cifar10:train
                          a dataset split (first --n images if --n is smaller)
  some/folder/            a folder of PNG images
  stats.npz               statistics saved earlier (mu, sigma, n), e.g. with --save-stats

Example (the slides' protocol): python scripts/compute_fid.py runs/mnist-latent8 mnist:test
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

from vae_keras.cli import guarded


def slug(source: str) -> str:
    """A file-name-safe name for a source: runs/mnist-latent8 -> runs-mnist-latent8."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", source).strip("-")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source_a")
    parser.add_argument("source_b")
    parser.add_argument("--features", default="pixels", choices=("pixels", "inception"))
    parser.add_argument(
        "--inception-weights",
        default="imagenet",
        help="with --features inception: 'imagenet' (downloads) or a local notop .h5 file",
    )
    parser.add_argument("--n", type=int, default=10_000, help="images to generate / take")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1234, help="seed of the generated latents")
    parser.add_argument("--data-dir", default=None, help="folder holding <dataset>.npz")
    parser.add_argument(
        "--json", default=None, help="where to write the record (default runs/fid/A__B.json)"
    )
    parser.add_argument(
        "--save-stats",
        nargs=2,
        metavar=("A.npz", "B.npz"),
        default=None,
        help="also save the statistics of both sources",
    )
    args = parser.parse_args(argv)

    from vae_keras.data import DataError
    from vae_keras.fid import FIDInputError, fid_from_statistics, get_extractor
    from vae_keras.runs import RunError, atomic_path
    from vae_keras.sources import source_statistics

    try:
        extractor = get_extractor(args.features, args.inception_weights)
        start = time.perf_counter()
        stats = [
            source_statistics(source, extractor, args.n, args.seed, args.batch_size, args.data_dir)
            for source in (args.source_a, args.source_b)
        ]
        fid = fid_from_statistics(*stats)
    except (DataError, FIDInputError, RunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    record = {
        "source_a": args.source_a,
        "source_b": args.source_b,
        "fid": fid,
        "features": args.features,
        "n_a": stats[0].n,
        "n_b": stats[1].n,
        "seed": args.seed,
        "seconds": round(time.perf_counter() - start, 2),
    }
    print(
        f"FID({args.source_a}, {args.source_b}) = {fid:.4f}  [{args.features}, n = "
        f"{stats[0].n} / {stats[1].n}]"
    )
    if args.save_stats:
        for s, path in zip(stats, args.save_stats, strict=True):
            s.save(path)
    if args.json is None:
        args.json = str(Path("runs") / "fid" / f"{slug(args.source_a)}__{slug(args.source_b)}.json")
    if args.json:
        with atomic_path(args.json) as tmp:
            Path(tmp).write_text(json.dumps(record, indent=2) + "\n")
        print(f"Record written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(guarded(main))
