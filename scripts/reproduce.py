#!/usr/bin/env python
"""Run every step of `make reproduce` in order, timing each; print and record the step table.

The steps (vae_keras.chain.REPRODUCE_STEPS) are the six MNIST trainings, CIFAR-10,
the classifier and make_figures.py, each a command you can also run by itself.
At the end the wall time of each step goes into figures/results.json ("reproduce")
and the README's results table. Each training resumes where it stopped, so after
a failure or Ctrl-C the same command carries on. `make reproduce` runs this after
setting up .venv (the set-up's duration, which it records in .venv/.setup-seconds,
is reported apart). With --compare it runs `make compare` instead
(vae_keras.chain.COMPARE_STEPS: the conv MNIST and conv-Gaussian CIFAR-10 runs and
the report's architecture comparison), recorded as "compare".
"""

import argparse
import sys
from pathlib import Path

from vae_keras.cli import guarded


def recorded_seconds(path: Path) -> float | None:
    """The set-up's seconds that `make venv` wrote, or None (unknown) if absent or unreadable."""
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--list", action="store_true", help="print the steps and exit")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="run the architecture comparison's steps (make compare) instead",
    )
    parser.add_argument("--results", default="figures/results.json", help="results.json to extend")
    parser.add_argument("--readme", default="README.md", help="README whose table to rewrite")
    parser.add_argument(
        "--setup-file",
        default=".venv/.setup-seconds",
        help="where `make venv` recorded the set-up's seconds (recorded as unknown if absent)",
    )
    args = parser.parse_args(argv)

    from vae_keras.chain import (
        COMPARE_STEPS,
        REPRODUCE_STEPS,
        ChainFailed,
        record_chain,
        run_chain,
        shown,
        step_table,
    )

    steps, key = (COMPARE_STEPS, "compare") if args.compare else (REPRODUCE_STEPS, "reproduce")
    if args.list:
        print("\n".join(shown(step) for step in steps))
        return 0
    try:
        timings = run_chain(steps)
    except ChainFailed as exc:
        if exc.timings:
            print(step_table(exc.timings))
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    print("\nWall time of each step:\n" + step_table(timings))
    setup_seconds = recorded_seconds(Path(args.setup_file))
    record_chain(Path(args.results), timings, setup_seconds, Path(args.readme), key)
    print(f"Step table written to {args.results} and {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(guarded(main))
