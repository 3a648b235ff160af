"""How the report runs its steps: what each needs, the plan made before anything is written,
then the steps in order, timed, and results.json and the README written at the end."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vae_keras.atomic import write_json_atomic
from vae_keras.data import DataError, Dataset, load_dataset
from vae_keras.progress import format_seconds
from vae_keras.report.context import (
    Report,
    ReportConfig,
    RunSpec,
)
from vae_keras.report.markdown import write_results_tables
from vae_keras.report.records import environment, training_summary
from vae_keras.report.results import merge_previous
from vae_keras.runs import STATE_FILE, RunError


def no_runs(config: ReportConfig) -> list[RunSpec]:
    return []


def first_mnist2(config: ReportConfig) -> list[RunSpec]:
    return list(config.mnist2[:1])


def first_mnist8(config: ReportConfig) -> list[RunSpec]:
    return list(config.mnist8[:1])


def first_of_each(config: ReportConfig) -> list[RunSpec]:
    return [*config.mnist2[:1], *config.mnist8[:1]]


def every_mnist_run(config: ReportConfig) -> list[RunSpec]:
    return [*config.mnist2, *config.mnist8]


def cifar_run(config: ReportConfig) -> list[RunSpec]:
    return [config.cifar] if config.cifar is not None else []


def mnist_comparison_runs(config: ReportConfig) -> list[RunSpec]:
    return [*config.mnist2[:1], *([config.mnist_conv] if config.mnist_conv else [])]


def cifar_comparison_runs(config: ReportConfig) -> list[RunSpec]:
    return [*cifar_run(config), *([config.cifar_conv] if config.cifar_conv else [])]


def study_runs(config: ReportConfig) -> list[RunSpec]:
    return list(config.study)


def quality_runs(config: ReportConfig) -> list[RunSpec]:
    return [*config.mnist2, *config.mnist8, config.classifier]


def rate_runs(config: ReportConfig) -> list[RunSpec]:
    return [*config.mnist8[:1], *config.rate]


def conditional_runs(config: ReportConfig) -> list[RunSpec]:
    """The conditional step cannot do without its first run and the classifier."""
    return [*config.conditional[:1], config.classifier]


def conditional_comparison_runs(config: ReportConfig) -> list[RunSpec]:
    """What the conditional step measures where it exists: the other conditional seeds and
    the unconditional latent-8 runs."""
    return [*config.conditional, *config.mnist8]


def hole_runs(config: ReportConfig) -> list[RunSpec]:
    """What the prior-hole step uses where it exists: the other seeds' latent-2 and latent-8
    runs, the study's latent-16 runs, the classifier (without it: pixels only)."""
    return [*config.mnist2, *config.mnist8, *config.hole, config.classifier]


@dataclass(frozen=True)
class Step:
    """One figure or measurement of the report: its function, the figures it draws, its needs.

    ``runs`` gives the runs the step cannot do without, ``optional`` those it
    uses where they exist; ``datasets`` the data sets it reads. ``makes_runs``, if
    given, is the one command that trains all of the step's runs, named instead of
    each missing run's own command when the step is skipped.
    """

    name: str
    run: Callable[[Report], None]
    figures: tuple[str, ...] = ()
    runs: Callable[[ReportConfig], list[RunSpec]] = no_runs
    datasets: tuple[str, ...] = ()
    optional: Callable[[ReportConfig], list[RunSpec]] = no_runs
    makes_runs: str | None = None

    def wanted(self, config: ReportConfig) -> bool:
        if "cifar10" in self.datasets and config.cifar is None:  # --no-cifar
            return False
        only = config.only
        return only is None or self.name in only or any(f in only for f in self.figures)


def background(name: str, make: Callable[[Report], dict[str, Any]], *datasets: str) -> Step:
    """The step drawing background figure ``name``; its numbers go to results.json's
    ``background``."""

    def step(r: Report) -> None:
        r.results.setdefault("background", {})[name] = make(r)
        r.results["figures"][name] = "see results.json: background"
        r.log(f"  wrote {r.out / f'{name}.png'}")

    step.__name__ = name
    return Step(name, step, (name,), datasets=datasets)


@dataclass
class Plan:
    """The steps to run, those skipped (with the command that makes each missing run), and the
    data sets and runs they use, all read before anything is written."""

    steps: list[Step]
    skipped: list[tuple[Step, list[RunSpec]]]
    datasets: dict[str, Dataset]
    runs: list[RunSpec]
    known: list[RunSpec]  # every run the report can use, in the order the commands are listed

    def skipped_lines(self) -> list[str]:
        """What was skipped and why, then each missing run's command once (as
        :func:`vae_keras.commands.command_here` writes it: the verb where no script is here)."""
        from vae_keras.commands import command_here

        if not self.skipped:
            return []
        lines = [f"Skipped {len(self.skipped)} step(s) whose runs are missing:"]
        for step, missing in self.skipped:
            if step.makes_runs:
                lines.append(
                    f"  {step.name}: needs {len(missing)} more runs; "
                    f"`{command_here(step.makes_runs)}` "
                    "trains them and runs the step"
                )
            else:
                lines.append(f"  {step.name}: needs {', '.join(str(s.path) for s in missing)}")
        missing = {s for step, specs in self.skipped if not step.makes_runs for s in specs}
        commands = dict.fromkeys(command_here(s.command) for s in self.known if s in missing)
        if commands:
            again = command_here("python scripts/make_figures.py")
            lines.append(f"To draw them, train the missing runs, then run `{again}` again:")
            lines += [f"  {command}" for command in commands]
        return lines


def plan_report(config: ReportConfig, steps: Sequence[Step]) -> Plan:
    """Which wanted steps can run; their data sets loaded (a :class:`DataError` stops here).

    A step whose runs are missing is skipped; with ``config.only`` (the user
    named the steps) that is a :class:`RunError` naming each missing run's
    command instead. Nothing is written.
    """
    wanted = [s for s in steps if s.wanted(config)]
    steps, skipped = [], []
    for step in wanted:
        missing = [spec for spec in step.runs(config) if not spec.exists()]
        (skipped.append((step, missing)) if missing else steps.append(step))
    if config.only and skipped:
        lines = "\n".join(
            f"  {step.name}: {spec.path} is missing; make it with {spec.command}"
            for step, missing in skipped
            for spec in missing
        )
        raise RunError(f"--only names steps whose runs are missing; train them first:\n{lines}")
    names = sorted({d for step in steps for d in step.datasets})
    datasets = {}
    for name in names:
        try:
            datasets[name] = load_dataset(name, config.data_dir)
        except DataError as exc:
            skip = " Or skip the CIFAR-10 figures with --no-cifar." if name == "cifar10" else ""
            raise DataError(f"{exc}{skip}") from None
    runs = [spec for step in steps for spec in step.runs(config)]
    runs += [spec for step in steps for spec in step.optional(config) if spec.exists()]
    runs = [spec for spec in dict.fromkeys(runs) if spec.marker == STATE_FILE]  # VAE runs
    known = [
        *quality_runs(config),
        *mnist_comparison_runs(config),
        *cifar_comparison_runs(config),
        *study_runs(config),
        *hole_runs(config),
        *config.rate,
        *config.conditional,
    ]
    return Plan(steps, skipped, datasets, runs, known)


def with_named_steps_figures(config: ReportConfig, steps: Sequence[Step]) -> ReportConfig:
    """``config`` whose ``only`` also lists the figures of every step it names: naming a step
    in ``--only`` asks for all that the step draws (figure names select one figure)."""
    if config.only is None:
        return config
    named = [f for step in steps if step.name in config.only for f in step.figures]
    return replace(config, only=list(dict.fromkeys([*config.only, *named])))


def make_report(config: ReportConfig, steps: Sequence[Step]) -> dict[str, Any]:
    """Run every wanted step of ``steps`` that can run, in order, timed; write results.json
    (merged with what earlier reports measured) and the README table; say what was skipped."""
    config = with_named_steps_figures(config, steps)
    plan = plan_report(config, steps)
    r = Report(
        config=config,
        datasets=plan.datasets,
        loaded={spec.path: spec.load() for spec in plan.runs},  # a damaged run stops here
        results={**environment(), "quick": config.quick, "figures": {}},
    )
    r.results["training"] = [training_summary(run) for run in r.loaded.values()]
    Path(config.out_dir).mkdir(parents=True, exist_ok=True)
    timings = []
    for i, step in enumerate(plan.steps, 1):
        r.log(f"[{i}/{len(plan.steps)}] {step.name} ...")
        start = time.perf_counter()
        step.run(r)
        seconds = time.perf_counter() - start
        timings.append({"step": step.name, "seconds": round(seconds, 1), "date": r.results["date"]})
        r.log(f"[{i}/{len(plan.steps)}] {step.name}: {format_seconds(seconds)}")
    r.results["report_steps"] = timings
    results = merge_previous(r.out / "results.json", r.results, [s.name for s in steps])
    write_json_atomic(r.out / "results.json", results)
    r.log(f"  wrote {r.out / 'results.json'}")
    if config.readme is not None:
        r.log(f"  {write_results_tables(config.readme, results, r.out / 'results.json')}")
    for line in plan.skipped_lines():
        r.log(line)
    return results
