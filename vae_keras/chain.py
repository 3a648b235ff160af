"""The chain ``make reproduce`` runs: every training, then the figures; each step timed.

:data:`REPRODUCE_STEPS` is the list of commands (the README's "what it runs");
:func:`run_chain` runs them one after the other as child processes, showing their
output as it comes, and stops at the first that fails; :func:`record_chain` writes
the wall time of each step into ``figures/results.json`` and the README's table.
Every training resumes where it stopped, so after a failure or Ctrl-C the same
command carries on. A step is written as the script a clone runs
(``scripts/train_mnist.py``) and run as the same verb of the installed package
(``python -m vae_keras train``, :func:`step_argv`), so the chain needs no clone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vae_keras.progress import format_seconds
from vae_keras.runs import STEP_ENV
from vae_keras.variants import (
    CONDITIONAL_LATENT,
    RATE_BETAS,
    RATE_LATENT,
    STUDY_LATENTS,
    STUDY_SEEDS,
    conditional_train_options,
    rate_train_options,
    study_train_options,
)

#: ``make reproduce``: the six MNIST runs of the FID table, CIFAR-10, the classifier, the
#: figures (``--verbose 2``: one line per epoch, so that the log stays readable), the latent
#: explorer of the 2-D run.
REPRODUCE_STEPS: tuple[tuple[str, ...], ...] = (
    ("scripts/train_mnist.py", "--latent-dim", "2", "--verbose", "2"),
    ("scripts/train_mnist.py", "--latent-dim", "2", "--seed", "1", "--verbose", "2"),
    ("scripts/train_mnist.py", "--latent-dim", "2", "--seed", "2", "--verbose", "2"),
    ("scripts/train_mnist.py", "--latent-dim", "8", "--verbose", "2"),
    ("scripts/train_mnist.py", "--latent-dim", "8", "--seed", "1", "--verbose", "2"),
    ("scripts/train_mnist.py", "--latent-dim", "8", "--seed", "2", "--verbose", "2"),
    ("scripts/train_cifar10.py", "--verbose", "2"),
    ("scripts/train_classifier.py",),
    ("scripts/make_figures.py",),
    (
        "scripts/export_explorer.py",
        "runs/mnist-latent2",
        "--out",
        "explorer",
        "--screenshot",
        "figures/explorer.png",
    ),  # fmt: skip
)


#: ``make compare``: the slides' dense runs the comparison needs (each returns at once when
#: ``make reproduce`` trained it), the conv MNIST and conv-Gaussian CIFAR-10 runs, then the
#: report's two comparison steps.
COMPARE_STEPS: tuple[tuple[str, ...], ...] = (
    ("scripts/train_mnist.py", "--latent-dim", "2", "--verbose", "2"),
    ("scripts/train_mnist.py", "--architecture", "conv", "--verbose", "2"),
    ("scripts/train_cifar10.py", "--verbose", "2"),
    (
        "scripts/train_cifar10.py",
        "--architecture",
        "conv",
        "--likelihood",
        "gaussian",
        "--verbose",
        "2",
    ),  # fmt: skip
    ("scripts/make_figures.py", "--only", "mnist_architectures", "cifar10_architectures"),
)


#: ``make fid-study`` (``scripts/fid_latent_size.py``): every study run (each returns at once
#: when it is trained), then the report's ``fid_latent_size`` step.
STUDY_STEPS: tuple[tuple[str, ...], ...] = (
    *(
        ("scripts/train_mnist.py", *study_train_options(d, s), "--verbose", "2")
        for d in STUDY_LATENTS
        for s in STUDY_SEEDS
    ),
    ("scripts/make_figures.py", "--only", "fid_latent_size", "prior_hole"),
)


#: ``make rate-distortion`` (``scripts/rate_distortion.py``): the latent-8 runs of each KL
#: weight, the three beta-1 seeds of make reproduce (each returns at once when trained), then
#: the report's ``rate_distortion`` step.
RATE_STEPS: tuple[tuple[str, ...], ...] = (
    *(("scripts/train_mnist.py", *rate_train_options(b), "--verbose", "2") for b in RATE_BETAS),
    *(
        ("scripts/train_mnist.py", *study_train_options(RATE_LATENT, s), "--verbose", "2")
        for s in STUDY_SEEDS
    ),
    ("scripts/make_figures.py", "--only", "rate_distortion"),
)


#: ``make conditional`` (``scripts/conditional.py``): the conditional latent-8 runs and make
#: reproduce's unconditional latent-8 runs (each returns at once when trained), then the
#: report's ``conditional`` step, which also needs make reproduce's digit classifier.
CONDITIONAL_STEPS: tuple[tuple[str, ...], ...] = (
    *(
        ("scripts/train_mnist.py", *conditional_train_options(s), "--verbose", "2")
        for s in STUDY_SEEDS
    ),  # fmt: skip
    *(
        ("scripts/train_mnist.py", *study_train_options(CONDITIONAL_LATENT, s), "--verbose", "2")
        for s in STUDY_SEEDS
    ),
    ("scripts/make_figures.py", "--only", "conditional"),
)


def shown(step: Sequence[str]) -> str:
    """The step as the README shows it: ``python scripts/train_mnist.py --latent-dim 2``."""
    return " ".join(("python", *step))


def step_argv(step: Sequence[str]) -> list[str]:
    """The process a step runs: ``scripts/train_mnist.py ARGS`` is
    ``python -m vae_keras train ARGS`` (:data:`vae_keras.commands.VERBS`)."""
    from vae_keras.commands import verb_of_script

    verb = verb_of_script(step[0])
    if verb is None:
        raise ValueError(f"{step[0]} is not a script of vae_keras.commands.VERBS")
    return [sys.executable, "-m", "vae_keras", verb, *step[1:]]


#: Where the chain's JAX processes keep their compiled programs (under the runs folder).
JAX_CACHE = Path("runs") / ".jax-compilation-cache"


def step_env(cwd: str | Path, step: str) -> dict[str, str]:
    """A step's environment: this process's, the step's name (:data:`STEP_ENV`), and JAX's
    persistent compilation cache in ``cwd/runs/.jax-compilation-cache`` (JAX reads both
    variables when it starts; the other backends ignore them; a user's own setting wins).

    The runs of one shape (three seeds of a latent size) and the report's passes over them
    compile the same programs: from the second process on, JAX loads them from the cache
    instead of compiling again (``benchmarks/gpu_check.sh`` times the chain on a GPU, where
    compiling weighs most). Every compile is cached (``0`` seconds minimum, not JAX's one):
    on a CPU most take under a second.
    """
    env = {**os.environ, STEP_ENV: step}
    env.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(cwd).resolve() / JAX_CACHE))
    env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    return env


class ChainFailed(Exception):
    """A step exited with a non-zero code; ``timings`` holds the steps done before it."""

    def __init__(self, step: Sequence[str], code: int, timings: list[dict[str, Any]]):
        super().__init__(
            f"`{shown(step)}` exited with code {code}; run the same make target again to resume."
        )
        self.code, self.timings = code, timings


def run_chain(
    steps: Sequence[Sequence[str]] = REPRODUCE_STEPS,
    cwd: str | Path = ".",
    log: Callable[[str], None] | None = None,
    runner: Callable[[list[str], str], int] | None = None,
) -> list[dict[str, Any]]:
    """Run ``steps`` in order; return ``[{"command", "seconds"}]``; raise :class:`ChainFailed`.

    ``runner(argv, shown)`` runs one step's process (:func:`step_argv`) and returns its
    exit code; by default a child process in :func:`step_env` (told ``shown`` through
    :data:`STEP_ENV`, JAX's compilation cache on).
    """

    def run(argv: list[str], step: str) -> int:
        return subprocess.run(argv, cwd=cwd, env=step_env(cwd, step)).returncode

    def flushed(line: str) -> None:  # before the child's output, also when piped to a file
        print(line, flush=True)

    runner, log = runner or run, log or flushed
    timings: list[dict[str, Any]] = []
    for i, step in enumerate(steps, 1):
        log(f"== [{i}/{len(steps)}] {shown(step)}")
        began, start = time.time(), time.perf_counter()
        code = runner(step_argv(step), shown(step))
        seconds = time.perf_counter() - start
        if code != 0:
            raise ChainFailed(step, code, timings)
        timing = {"command": shown(step), "seconds": round(seconds, 1)}
        timing.update(training_split(Path(cwd), shown(step), since=began))
        timings.append(timing)
        log(f"== [{i}/{len(steps)}] done in {format_seconds(seconds)}")
        report = slow_finish(timing)
        if report:
            log(f"== {report}")
    return timings


#: The most a training may spend between its last epoch's commit and the end of its
#: Keras files' export before the chain reports it (a healthy run takes under a second).
FINISH_LIMIT_SECONDS = 5.0


def training_split(cwd: Path, command: str, since: float) -> dict[str, float]:
    """How a training step's process spent its time, from the ``timing.json`` it wrote.

    The record of ``runs/*/timing.json`` written since ``since`` (a ``time.time()``)
    by ``command``; ``{}`` for a step that is not a training, or a training that
    had nothing left to train. Its keys: ``setup_seconds``, ``epoch_seconds``,
    ``finish_seconds`` (:func:`vae_keras.training.timing`).
    """
    from vae_keras.runs import TIMING_FILE, read_json

    for path in sorted((cwd / "runs").glob(f"*/{TIMING_FILE}")):
        try:
            if path.stat().st_mtime < since:
                continue
            record = read_json(path)
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("command") == command:
            keys = ("setup_seconds", "epoch_seconds", "finish_seconds")
            return {k: round(float(record[k]), 1) for k in keys if k in record}
    return {}


def slow_finish(timing: dict[str, Any]) -> str | None:
    """A one-line report if a training step idled after its last epoch, else None."""
    finish = timing.get("finish_seconds")
    if finish is None or finish <= FINISH_LIMIT_SECONDS:
        return None
    return (
        f"`{timing['command']}` spent {finish:.1f} s after its last epoch "
        f"(more than {FINISH_LIMIT_SECONDS:.0f} s): the end of fit or the Keras files' export "
        "stalled (see tf_speed.without_autotune_thread)"
    )


def step_table(timings: Sequence[dict[str, Any]]) -> str:
    """The steps' wall times as aligned text lines, with the total.

    A training step also shows how its process split the time: the epochs, and
    the rest (start-up: imports, data, compiling, plus the finish after the
    last epoch, shown apart).
    """
    width = max(len(t["command"]) for t in timings)

    def line(t: dict[str, Any]) -> str:
        text = f"{t['command']:<{width}}  {format_seconds(t['seconds']):>6}"
        if "epoch_seconds" in t:
            finish = t.get("finish_seconds", 0.0)
            rest = t["seconds"] - t["epoch_seconds"] - finish
            text += (
                f"  (epochs {format_seconds(t['epoch_seconds'])}, start-up "
                f"{format_seconds(rest)}, finish {finish:.1f} s)"
            )
        return text

    total = sum(t["seconds"] for t in timings)
    return "\n".join([*map(line, timings), f"{'total':<{width}}  {format_seconds(total):>6}"])


def record_chain(
    results_path: Path,
    timings: Sequence[dict[str, Any]],
    setup_seconds: float | None,
    readme: Path | None = None,
    key: str = "reproduce",
) -> dict[str, Any]:
    """Add ``key`` (date, steps, total, set-up) to results.json; rewrite the README table
    (or, where ``readme`` has no results markers, write ``results.md`` beside results.json).

    ``key`` is ``"reproduce"`` for ``make reproduce``, ``"compare"`` for ``make compare``,
    ``"fid_study"`` for ``make fid-study``.
    """
    from vae_keras.atomic import write_json_atomic
    from vae_keras.report import load_results, utc_timestamp, write_results_tables

    results = load_results(results_path)
    results[key] = {
        "date": utc_timestamp(),
        "steps": list(timings),
        "total_seconds": round(sum(t["seconds"] for t in timings), 1),
        "setup_seconds": setup_seconds,
    }
    write_json_atomic(results_path, results)
    if readme is not None:
        print(f"Step table: {write_results_tables(readme, results, results_path)}")
    return results


def add_chain_options(parser) -> None:
    """The options every chain script takes: ``--list``, ``--results``, ``--readme``,
    ``--setup-file``."""
    parser.add_argument("--list", action="store_true", help="print the steps and exit")
    parser.add_argument("--results", default="figures/results.json", help="results.json to extend")
    parser.add_argument(
        "--readme",
        default=None,
        help="README whose results table to rewrite (default README.md where it has the "
        "results markers, else results.md beside --results)",
    )
    parser.add_argument(
        "--setup-file",
        default=".venv/.setup-seconds",
        help="where `make venv` recorded the set-up's seconds (recorded as unknown if absent)",
    )


def study_main(argv, description: str, steps: Sequence[Sequence[str]], key: str) -> int:
    """The ``main`` of a study's script (``make fid-study``, ``make rate-distortion``): the
    chain options, then :func:`list_or_run` of ``steps`` into results.json's ``key``."""
    import argparse

    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_chain_options(parser)
    return list_or_run(parser.parse_args(argv), steps, key)


def list_or_run(args, steps: Sequence[Sequence[str]], key: str) -> int:
    """What a chain's command does with :func:`add_chain_options`' arguments: with ``--list``,
    print the steps, importing neither the report nor Keras (unless ``--readme`` names a
    file, which is checked first as without ``--list``); else :func:`run_and_record`."""
    readme = None
    if args.readme is not None or not args.list:
        from vae_keras.report import chosen_readme

        readme = chosen_readme(args.readme)
    if args.list:
        from vae_keras.commands import command_here

        print("\n".join(command_here(shown(step)) for step in steps))
        return 0
    return run_and_record(steps, key, Path(args.results), readme, Path(args.setup_file))


def recorded_seconds(path: Path) -> float | None:
    """The set-up's seconds that `make venv` wrote, or None (unknown) if absent or unreadable."""
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return None


def run_and_record(
    steps: Sequence[Sequence[str]],
    key: str,
    results: Path,
    readme: Path | None,
    setup_file: Path,
) -> int:
    """What ``scripts/reproduce.py`` and the studies' scripts do (:func:`list_or_run`):
    :func:`run_chain`, print the step table, :func:`record_chain` under ``key``; the exit
    code."""
    try:
        timings = run_chain(steps)
    except ChainFailed as exc:
        if exc.timings:
            print(step_table(exc.timings))
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    print("\nWall time of each step:\n" + step_table(timings))
    record_chain(results, timings, recorded_seconds(setup_file), readme, key)
    print(f"Step table written to {results}")
    return 0
