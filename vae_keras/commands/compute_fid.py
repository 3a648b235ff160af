"""Frechet distance (slide "FID Score") and other sample-quality metrics between two sources.

A source is one of:
  runs/mnist-latent8      a trained run directory: --n images decoded from z ~ N(0, I), or
                          with --sampler gmm from a Gaussian mixture fitted to the run's
                          training codes (fitted once, cached in the run's latent_mixture.npz)
  mnist:test, cifar10:train
                          a dataset split (first --n images if --n is smaller)
  some/folder/            a folder of PNG images
  stats.npz               statistics saved earlier (mu, sigma, n), e.g. with --save-stats

Metrics (--metrics, comma-separated): fid (default), kid (Binkowski et al. 2018, mean and
std over subsets), precision, recall (Kynkaenniemi et al. 2019, k = 3), fid_infinity
(Chong & Forsyth 2020: FID at several sample sizes of source A, extrapolated in 1/N).
Source B is the reference. Statistics files serve fid only.

Example (the slides' protocol): python scripts/compute_fid.py runs/mnist-latent8 mnist:test
"""

import argparse
import json
import re
import time
from pathlib import Path

METRICS = ("fid", "kid", "precision", "recall", "fid_infinity")  # = vae_keras.metrics.METRICS,
SAMPLERS = ("prior", "gmm")  # = vae_keras.samplers.SAMPLERS (both repeated so that --help does
# not import the package and TensorFlow; a test checks that they agree)


def slug(source: str) -> str:
    """A file-name-safe name for a source: runs/mnist-latent8 -> runs-mnist-latent8."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", source).strip("-")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source_a")
    parser.add_argument("source_b")
    parser.add_argument(
        "--features",
        default="pixels",
        choices=("pixels", "classifier", "inception"),
        help="pixels in [0, 1]; classifier: the penultimate layer of the MNIST classifier of "
        "scripts/train_classifier.py (--classifier); inception: InceptionV3 pool features",
    )
    parser.add_argument(
        "--classifier",
        default="runs/mnist-classifier",
        help="with --features classifier: its run directory or .keras file",
    )
    parser.add_argument(
        "--inception-weights",
        default="imagenet",
        help="with --features inception: 'imagenet' (downloads) or a local notop .h5 file",
    )
    parser.add_argument(
        "--metrics",
        default="fid",
        help=f"comma-separated, from {','.join(METRICS)}",
    )
    parser.add_argument("--n", type=int, default=10_000, help="images to generate / take")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1234, help="seed of the generated latents")
    parser.add_argument(
        "--sampler",
        default="prior",
        help="where a run's z come from: prior (N(0, I), the slides') or gmm (a mixture of "
        "Gaussians fitted by EM to the run's training codes, chosen on its test codes)",
    )
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
    metrics_asked = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = sorted(set(metrics_asked) - set(METRICS))
    if unknown or not metrics_asked:
        parser.error(f"--metrics: unknown {unknown}; choose from {','.join(METRICS)}")
    if args.n < 2:
        parser.error(f"--n must be at least 2, got {args.n}")

    if args.sampler not in SAMPLERS:
        parser.error(f"--sampler: unknown {args.sampler!r}; choose {' or '.join(SAMPLERS)}")

    from vae_keras.startup import quiet_start

    quiet_start()
    from vae_keras.atomic import atomic_path
    from vae_keras.features import get_extractor
    from vae_keras.fid import compute_statistics, fid_from_statistics
    from vae_keras.metrics import sample_quality
    from vae_keras.sources import source_features, source_statistics

    sources = (args.source_a, args.source_b)
    options = (args.batch_size, args.data_dir, args.sampler)
    record = {"source_a": args.source_a, "source_b": args.source_b, "features": args.features}
    if args.sampler != "prior":
        record["sampler"] = args.sampler
    # a DataError, FIDInputError or RunError is one line and exit code 2 (cli.guarded)
    extractor = get_extractor(args.features, args.inception_weights, args.classifier)
    start = time.perf_counter()
    if metrics_asked == ["fid"]:  # statistics suffice (and may come from .npz files)
        stats = [source_statistics(s, extractor, args.n, args.seed, *options) for s in sources]
        record.update(n_generated=stats[0].n, n_reference=stats[1].n)
        record["fid"] = fid_from_statistics(*stats)
    else:
        features = [source_features(s, extractor, args.n, args.seed, *options) for s in sources]
        record.update(sample_quality(features[0], features[1], metrics_asked, args.seed))
        if args.save_stats:
            stats = [compute_statistics(f) for f in features]
    record["seed"] = args.seed
    record["seconds"] = round(time.perf_counter() - start, 2)
    print(
        f"{args.source_a}{'' if args.sampler == 'prior' else f' ({args.sampler} sampler)'} "
        f"against {args.source_b} [{args.features}, n = "
        f"{record['n_generated']} / {record['n_reference']}]:"
    )
    for name in METRICS:
        if name in record:
            value = record[name]
            shown = (
                f"{value['mean']:.5f} +/- {value['std']:.5f}"
                if name == "kid"
                else f"{value['value']:.4f}"
                if name == "fid_infinity"
                else f"{value:.4f}"
            )
            print(f"  {name:13s} {shown}")
    if args.save_stats:
        for s, path in zip(stats, args.save_stats, strict=True):
            s.save(path)
    if args.json is None:
        tag = "" if args.sampler == "prior" else f"-{args.sampler}"
        name = f"{slug(args.source_a)}{tag}__{slug(args.source_b)}.json"
        args.json = str(Path("runs") / "fid" / name)
    if args.json:
        with atomic_path(args.json) as tmp:
            Path(tmp).write_text(json.dumps(record, indent=2) + "\n")
        print(f"Record written to {args.json}")
    return 0
