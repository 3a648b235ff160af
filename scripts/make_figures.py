#!/usr/bin/env python
"""Draw every figure of the slides from trained runs; write results.json and the README table.

Needs the runs made by:
  python scripts/train_mnist.py --latent-dim 2                 (latent-space figures)
  python scripts/train_mnist.py --latent-dim 8 [--seed 1, 2]   (samples, reconstructions, FID)
  python scripts/train_cifar10.py                              (CIFAR-10 reconstructions)
  python scripts/train_classifier.py                           (digit-aware features)

A missing run is reported with the command that makes it. --quick draws the same
files with fewer FID samples (for tests; its numbers are not the protocol's).
"""

import argparse
import sys
from pathlib import Path

from vae_keras.cli import guarded


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs-dir", default="runs", help="where the default run directories are")
    parser.add_argument(
        "--mnist2",
        nargs="+",
        default=None,
        help="latent-2 run directories (default: RUNS/mnist-latent2 and its -seed1, -seed2 if "
        "present); the first draws the latent figures",
    )
    parser.add_argument(
        "--mnist8",
        nargs="+",
        default=None,
        help="latent-8 run directories, one per training seed (default: RUNS/mnist-latent8, "
        "-seed1, -seed2); the first draws samples, reconstructions and the FID maps",
    )
    parser.add_argument(
        "--cifar", default=None, help="CIFAR-10 run (default RUNS/cifar10-latent128)"
    )
    parser.add_argument("--no-cifar", action="store_true", help="skip the CIFAR-10 reconstructions")
    parser.add_argument("--out", default="figures", help="output directory")
    parser.add_argument(
        "--readme", default="README.md", help="README whose results table to rewrite"
    )
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        help="run only these steps: figure names, or fid, fid_maps, sample_quality, likelihood",
    )
    parser.add_argument("--data-dir", default=None, help="folder holding mnist.npz and cifar10.npz")
    parser.add_argument(
        "--classifier",
        default=None,
        help="MNIST classifier run (default RUNS/mnist-classifier, from train_classifier.py)",
    )
    parser.add_argument("--fid-samples", type=int, default=10_000)
    parser.add_argument(
        "--manifold-n", type=int, default=15, help="grid size (the slides: 15 or 30)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1,000 FID samples, 5x5 grid: a fast check, not results",
    )
    args = parser.parse_args(argv)

    from vae_keras.data import DataError
    from vae_keras.fid import FIDInputError
    from vae_keras.report import FIGURES, STEP_NAMES, ReportConfig, RunSpec, make_report
    from vae_keras.runs import RunError

    if args.only:
        choices = [*FIGURES, *(s for s in STEP_NAMES if s not in FIGURES)]
        unknown = sorted(set(args.only) - set(choices))
        if unknown:
            parser.error(f"unknown figure(s) or step(s) {unknown}; choose from {choices}")
    runs = Path(args.runs_dir)

    def specs(paths, latent, script="train_mnist.py"):
        if paths:
            return [RunSpec(Path(p), f"python scripts/{script} --out {p}") for p in paths]
        found = [
            RunSpec(
                runs / f"mnist-latent{latent}", f"python scripts/{script} --latent-dim {latent}"
            )
        ]
        for seed in (1, 2):
            path = runs / f"mnist-latent{latent}-seed{seed}"
            if path.exists() or latent == 8:
                found.append(
                    RunSpec(path, f"python scripts/{script} --latent-dim {latent} --seed {seed}")
                )
        return found

    cifar = None
    if not args.no_cifar:
        path = Path(args.cifar) if args.cifar else runs / "cifar10-latent128"
        cifar = RunSpec(path, f"python scripts/train_cifar10.py --out {path}")
    config = ReportConfig(
        mnist2=specs(args.mnist2, 2),
        mnist8=specs(args.mnist8, 8),
        cifar=cifar,
        out_dir=Path(args.out),
        data_dir=args.data_dir,
        fid_samples=1000 if args.quick else args.fid_samples,
        manifold_n=5 if args.quick else args.manifold_n,
        only=args.only,
        readme=None if args.no_readme else Path(args.readme),
        quick=args.quick,
        classifier=Path(args.classifier) if args.classifier else runs / "mnist-classifier",
    )
    try:
        make_report(config)
    except (RunError, DataError, FIDInputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(guarded(main))
