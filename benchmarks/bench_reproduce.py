#!/usr/bin/env python
"""Wall time of `make reproduce` from a fresh clone, step by step (goal: 12 minutes).

Clones the repository's HEAD into a new directory with ../shared beside it (a
symbolic link to this checkout's), runs `make venv` (timed apart: set-up is not
part of the goal) and then `make reproduce`, and prints the step table that
scripts/reproduce.py wrote into the clone's figures/results.json, with the total
over the 12-minute goal. Each training step shows its epochs, its start-up and its
finish (from the run's timing.json); a training that spent more than
vae_keras.chain.FINISH_LIMIT_SECONDS after its last epoch is reported and makes the
exit code 1. Nothing in this checkout is touched; the clone is kept (--dir) so that
its figures can be inspected.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vae_keras.chain import slow_finish, step_table

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 12 * 60


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
    print(f"\nFresh clone in {clone}; set-up (make venv) {setup:.0f} s, not counted.")
    print(step_table(steps))
    print(f"make reproduce (wall): {chain:.1f} s")
    print(f"make reproduce / 12-minute goal = {chain / GOAL_SECONDS:.2f}")
    slow = [report for report in map(slow_finish, steps) if report]
    for report in slow:
        print(f"SLOW FINISH: {report}")
    trainings = sum("epoch_seconds" in s for s in steps)
    print(f"{trainings} training steps, {len(slow)} with a slow finish")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
