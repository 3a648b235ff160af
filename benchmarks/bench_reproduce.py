#!/usr/bin/env python
"""Wall time of `make reproduce` from a fresh clone, step by step (goal: 15 minutes).

Clones the repository's HEAD into a new directory with ../shared beside it (a
symbolic link to this checkout's), runs `make venv` (timed apart: set-up is not
part of the goal) and then `make reproduce`, and prints the step table that
scripts/reproduce.py wrote into the clone's figures/results.json, with the total
over the 15-minute goal. Nothing in this checkout is touched; the clone is kept
(--dir) so that its figures can be inspected.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 15 * 60


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", default=None, help="where to clone (default: a new temp dir)")
    args = parser.parse_args(argv)

    base = Path(args.dir or tempfile.mkdtemp(prefix="vae-keras-reproduce-"))
    clone = base / "main"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    shared = ROOT.parent / "shared"
    if shared.is_dir() and not (base / "shared").exists():
        (base / "shared").symlink_to(shared)
    env = dict(os.environ)
    if (base / "shared" / "data").is_dir():
        env["VAE_KERAS_DATA_DIR"] = str(base / "shared" / "data")

    def timed(target: str) -> float:
        start = time.perf_counter()
        subprocess.run(["make", target], cwd=clone, env=env, check=True)
        return time.perf_counter() - start

    setup = timed("venv")
    chain = timed("reproduce")
    results = json.loads((clone / "figures" / "results.json").read_text())
    steps = results["reproduce"]["steps"]
    width = max(len(s["command"]) for s in steps)
    print(f"\nFresh clone in {clone}; set-up (make venv) {setup:.0f} s, not counted.")
    for s in steps:
        print(f"{s['command']:<{width}}  {s['seconds']:7.1f} s")
    print(f"{'make reproduce (wall)':<{width}}  {chain:7.1f} s")
    print(f"make reproduce / 15-minute goal = {chain / GOAL_SECONDS:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
