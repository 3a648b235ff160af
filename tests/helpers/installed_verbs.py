"""Run an installed venv's verbs and benchmarks one after another in this one process.

Usage: ``VENV/bin/python installed_verbs.py STEPS.json RESULTS.json``. ``STEPS.json`` is a list
of steps, each ``{"verb": [ARGS]}`` (``vae-keras ARGS``: :func:`vae_keras.commands.main`, the
console script's own function) or ``{"script": PATH, "args": [ARGS]}`` (``python PATH ARGS``: a
benchmark of the clone, its folder first on ``sys.path`` as Python puts it), either with an
optional ``"env"`` to add to the environment. Each runs in the working folder with descriptors
1 and 2 captured (tests/captured.py); an exception that escapes is printed on the captured
stderr as its traceback, exit code 1, as the process would end. The steps stop at the first
that fails. ``RESULTS.json`` gets one ``{"args", "returncode", "stdout", "stderr"}`` per step
run.

Why one process: tests/installed_user.py's verbs each started a new interpreter, and each paid
for importing Keras and the backend again (5 s of CPU on PyTorch, 3.5 s on JAX; ten such steps
a venv) to prove what the first verb's own process already proves (the console script starts,
settles the backend, writes Keras's config file). What each step proves is the verb's: it runs
on the one backend installed, exits 0 without a traceback and writes where a user expects.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: captured.py
from captured import call_captured  # noqa: E402


def as_process(main):
    """``main`` whose escaping exception is printed as its traceback, exit code 1."""

    def run():
        try:
            return main()
        except Exception:  # a bug: what the process would print before it ended
            traceback.print_exc()
            return 1

    return run


def run_step(step: dict) -> dict:
    """One step of STEPS.json in this process; its result."""
    if "verb" in step:
        from vae_keras.commands import main

        args = [str(a) for a in step["verb"]]
        argv = ["vae-keras", *args]
        result = call_captured(as_process(lambda: main(args)), argv, env=step.get("env"))
    else:
        script = str(step["script"])
        argv = [script, *map(str, step.get("args", []))]

        def run_script():
            sys.path.insert(0, str(Path(script).parent))
            try:
                runpy.run_path(script, run_name="__main__")
            finally:
                sys.path.remove(str(Path(script).parent))

        result = call_captured(as_process(run_script), argv, env=step.get("env"))
    return {"args": argv, "returncode": result.returncode, "stdout": result.stdout,
            "stderr": result.stderr}  # fmt: skip


def main() -> None:
    steps = json.loads(Path(sys.argv[1]).read_text())
    out = Path(sys.argv[2])
    results = []
    for step in steps:
        results.append(run_step(step))
        last = results[-1]
        if last["returncode"] != 0 or "Traceback" in last["stderr"]:
            break
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps(results))
    os.replace(partial, out)


if __name__ == "__main__":
    main()
