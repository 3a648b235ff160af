"""What the two training profiles share: their options, the model they train, where they write.

``profile_train.py`` (CPU samples by ``perf``) and ``profile_xla_ops.py`` (XLA's own
operation trace) profile the same default training path of the same configurations; this
module builds that configuration from the command line and writes each record to
``benchmarks/results/<prefix>_<config>.json`` and every such record's table into docs/speed.md.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--dataset, --intermediate-dim, --latent-dim, --data-dir, --readme, --no-readme."""
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "cifar10"))
    parser.add_argument("--intermediate-dim", type=int, default=None)
    parser.add_argument("--latent-dim", type=int, default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--readme",
        default="docs/speed.md",
        help="Markdown page whose tables to rewrite (default: %(default)s)",
    )
    parser.add_argument("--no-readme", action="store_true")


def model_config(args: argparse.Namespace, dataset, epochs: int):
    """The slides' model for the dataset (MNIST 784-256-2, CIFAR-10 3072-512-128 by default)."""
    from vae_keras.runs import RunConfig

    mnist = args.dataset == "mnist"
    return RunConfig(
        dataset=args.dataset,
        original_dim=dataset.original_dim,
        intermediate_dim=args.intermediate_dim or (256 if mnist else 512),
        latent_dim=args.latent_dim or (2 if mnist else 128),
        epochs=epochs,
    )


def write_record(
    record: dict,
    prefix: str,
    args: argparse.Namespace,
    table: Callable[[dict], str],
    markers: tuple[str, str],
    suffix: str = "",
) -> None:
    """Write ``record`` as JSON (``suffix`` after its configuration in the file name, e.g. the
    backend); unless --no-readme, put every ``prefix`` table in --readme."""
    from vae_keras.atomic import write_json_atomic
    from vae_keras.report import replace_block

    c = record["config"]
    tag = f"{c['dataset']}-{c['original_dim']}-{c['intermediate_dim']}-{c['latent_dim']}"
    out = RESULTS / f"{prefix}_{tag}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, record)
    print(f"Written to {out}")
    if not args.no_readme:
        tables = [  # every configuration profiled so far, this one included
            table(json.loads(f.read_text())) for f in sorted(RESULTS.glob(f"{prefix}_*.json"))
        ]
        replace_block(args.readme, *markers, "\n\n".join(tables))
        print(f"Updated the {prefix} tables in {args.readme}")
