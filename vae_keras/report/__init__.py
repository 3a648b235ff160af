"""Trained runs in, every figure of the slides plus ``results.json`` and the README table out.

``scripts/make_figures.py`` is a thin wrapper around :func:`make_report`, which
runs the steps listed here, in :data:`STEPS`, in order (one function per figure or
measurement), timing each. The figure names are the contract with the README;
each is drawn by a function of :mod:`vae_keras.plots` from arrays computed here.

Each step names the runs and data sets it needs (:class:`Step`). Before
anything is written, :func:`plan_report` loads the data sets the wanted steps
use and looks for their runs: a step whose runs are missing is skipped (the
report ends with the command that trains each), unless ``--only`` named it,
when nothing is drawn and the commands are the error. ``results.json`` keeps
what earlier reports measured in the steps that did not run now, each step
dated in ``report_steps``.

The package, one job per module: :mod:`~vae_keras.report.context` (figure names,
the runs a report reads, what the steps share), :mod:`~vae_keras.report.figures`
(the slides' figures), :mod:`~vae_keras.report.quality` (FID, sample quality,
likelihood), :mod:`~vae_keras.report.pipeline` (plan and run the steps),
:mod:`~vae_keras.report.results` (results.json), :mod:`~vae_keras.report.markdown`
(the README block) and :mod:`~vae_keras.report.records` (date, machine and
versions, which the benchmarks' records carry too).
"""

from __future__ import annotations

from typing import Any

from vae_keras.background import figures as background_figures
from vae_keras.background.figures import BACKGROUND_FIGURES
from vae_keras.report import (
    architectures,
    conditional,
    figures,
    hole,
    pipeline,
    quality,
    rate,
    study,
)
from vae_keras.report.context import (
    CIFAR_FIGURES,
    CONDITIONAL_FIGURES,
    FID_FIGURES,
    FIGURES,
    HOLE_FIGURES,
    MNIST_FIGURES,
    QUALITY_FIGURES,
    RATE_FIGURES,
    SLIDES_FID,
    STUDY_FIGURES,
    Report,
    ReportConfig,
    RunSpec,
    wants,
)
from vae_keras.report.markdown import (
    README_END,
    README_START,
    TABLES_FILE,
    chosen_readme,
    has_results_markers,
    measured_on,
    replace_block,
    results_table,
    steps_table,
    update_readme,
    write_results_tables,
)
from vae_keras.report.pipeline import (
    Plan,
    Step,
    background,
    cifar_comparison_runs,
    cifar_run,
    conditional_comparison_runs,
    conditional_runs,
    every_mnist_run,
    first_mnist2,
    first_mnist8,
    first_of_each,
    hole_runs,
    mnist_comparison_runs,
    quality_runs,
    rate_runs,
    study_runs,
)
from vae_keras.report.records import benchmark_header, environment, package_versions, utc_timestamp
from vae_keras.report.results import load_results, merge_previous

#: The report, in order: the slides' figures, the FID and its maps, the other
#: sample-quality metrics, the training curves, the likelihood, the architecture
#: comparison, the background.
STEPS: tuple[Step, ...] = (
    Step(
        "mnist_latent_space",
        figures.latent_space,
        ("mnist_latent_space",),
        first_mnist2,
        ("mnist",),
    ),
    Step("mnist_manifold", figures.manifold, ("mnist_manifold",), first_mnist2, ("mnist",)),
    Step(
        "mnist_reconstructions",
        figures.mnist_reconstructions,
        ("mnist_reconstructions",),
        first_mnist8,
        ("mnist",),
    ),
    Step("mnist_samples", figures.mnist_samples, ("mnist_samples",), first_mnist8, ("mnist",)),
    Step("cifar10_samples", figures.cifar10_samples, ("cifar10_samples",), datasets=("cifar10",)),
    Step(
        "cifar10_reconstructions",
        figures.cifar10_reconstructions,
        ("cifar10_reconstructions",),
        cifar_run,
        ("cifar10",),
    ),
    Step("fid", quality.fid, (), every_mnist_run, ("mnist",)),
    Step("fid_maps", quality.fid_maps, FID_FIGURES, first_mnist8, ("mnist",)),
    Step("sample_quality", quality.sample_quality, QUALITY_FIGURES, quality_runs, ("mnist",)),
    Step(
        "mnist_training_curves",
        figures.training_curves,
        ("mnist_training_curves",),
        first_mnist2,
        optional=first_mnist8,
    ),
    Step("likelihood", quality.likelihood, (), first_of_each, ("mnist",)),
    Step(
        "prior_hole",
        hole.prior_hole,
        HOLE_FIGURES,
        first_of_each,
        ("mnist",),
        optional=hole_runs,
    ),
    Step(
        "fid_latent_size",
        study.fid_latent_size,
        STUDY_FIGURES,
        study_runs,
        ("mnist",),
        makes_runs="python scripts/fid_latent_size.py",
    ),
    Step(
        "rate_distortion",
        rate.rate_distortion,
        RATE_FIGURES,
        rate_runs,
        ("mnist",),
        optional=every_mnist_run,
        makes_runs="python scripts/rate_distortion.py",
    ),
    Step(
        "conditional",
        conditional.conditional,
        CONDITIONAL_FIGURES,
        conditional_runs,
        ("mnist",),
        optional=conditional_comparison_runs,
        makes_runs="python scripts/conditional.py",
    ),
    Step(
        "mnist_architectures",
        architectures.mnist_architectures,
        (),
        mnist_comparison_runs,
        ("mnist",),
    ),
    Step(
        "cifar10_architectures",
        architectures.cifar10_architectures,
        ("cifar10_architectures",),
        cifar_comparison_runs,
        ("cifar10",),
    ),
    background("denoising_autoencoder", figures.denoising, "mnist"),
    background("em_gmm", lambda r: background_figures.em_figure(r.out)),
    background("kl_forward_reverse", lambda r: background_figures.kl_figure(r.out)),
    background("cavi_elbo", lambda r: background_figures.cavi_figure(r.out)),
    background(
        "gradient_variance",
        lambda r: background_figures.gradient_figure(r.out, 2000 if r.config.quick else 20_000),
    ),
)


#: What ``--only`` accepts: figure names, and the names of the steps that draw no figure.
STEP_NAMES = tuple(s.name for s in STEPS)


def plan_report(config: ReportConfig) -> Plan:
    """:func:`pipeline.plan_report` of :data:`STEPS`: what runs and what is skipped."""
    return pipeline.plan_report(config, STEPS)


def make_report(config: ReportConfig) -> dict[str, Any]:
    """:func:`pipeline.make_report` of :data:`STEPS`: the whole report (``make_figures.py``)."""
    return pipeline.make_report(config, STEPS)


__all__ = [
    "BACKGROUND_FIGURES",
    "CIFAR_FIGURES",
    "CONDITIONAL_FIGURES",
    "FID_FIGURES",
    "FIGURES",
    "MNIST_FIGURES",
    "Plan",
    "QUALITY_FIGURES",
    "STUDY_FIGURES",
    "README_END",
    "README_START",
    "Report",
    "ReportConfig",
    "RunSpec",
    "SLIDES_FID",
    "STEPS",
    "STEP_NAMES",
    "Step",
    "background",
    "benchmark_header",
    "cifar_comparison_runs",
    "cifar_run",
    "environment",
    "every_mnist_run",
    "first_mnist2",
    "first_mnist8",
    "first_of_each",
    "mnist_comparison_runs",
    "load_results",
    "make_report",
    "measured_on",
    "merge_previous",
    "package_versions",
    "plan_report",
    "quality_runs",
    "study_runs",
    "replace_block",
    "TABLES_FILE",
    "chosen_readme",
    "has_results_markers",
    "results_table",
    "steps_table",
    "update_readme",
    "write_results_tables",
    "utc_timestamp",
    "wants",
]
