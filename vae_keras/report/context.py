"""What the report's steps share: the figure names, the runs it reads, the loaded state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vae_keras import evaluation, plots
from vae_keras.background.figures import BACKGROUND_FIGURES
from vae_keras.classifier import MODEL_FILE as CLASSIFIER_FILE
from vae_keras.data import Dataset
from vae_keras.fid import Statistics
from vae_keras.runs import STATE_FILE, LoadedRun, load_run

#: Figures in the order of the slides.
MNIST_FIGURES = (
    "mnist_latent_space",
    "mnist_manifold",
    "mnist_reconstructions",
    "mnist_samples",
)
CIFAR_FIGURES = ("cifar10_samples", "cifar10_reconstructions", "cifar10_architectures")
FID_FIGURES = ("fid_mean_variance", "fid_differences")
QUALITY_FIGURES = ("fid_sample_size", "mnist_class_coverage")
STUDY_FIGURES = ("fid_latent_size",)
HOLE_FIGURES = ("latent_hole", "mixture_samples")
RATE_FIGURES = ("rate_distortion", "beta_samples")
CONDITIONAL_FIGURES = ("conditional_samples",)
FIGURES = (
    *MNIST_FIGURES,
    *CIFAR_FIGURES,
    *FID_FIGURES,
    *QUALITY_FIGURES,
    *HOLE_FIGURES,
    *RATE_FIGURES,
    *CONDITIONAL_FIGURES,
    *STUDY_FIGURES,
    "mnist_training_curves",
    *BACKGROUND_FIGURES,
)
SLIDES_FID = 8.04


@dataclass(frozen=True)
class RunSpec:
    """A run directory the report needs, the command that creates it, the file that marks it."""

    path: Path
    command: str
    marker: str = STATE_FILE  # a VAE run's commit point; the classifier's model file

    def exists(self) -> bool:
        return (self.path / self.marker).is_file()

    def load(self) -> LoadedRun:
        return load_run(self.path, hint=self.command)


@dataclass
class ReportConfig:
    mnist2: Sequence[RunSpec]  # latent-2 runs; the first draws the latent figures
    mnist8: Sequence[RunSpec]  # latent-8 runs (training seeds); the first draws samples/FID maps
    cifar: RunSpec | None  # the slides' dense Bernoulli CIFAR-10 run; None: --no-cifar
    out_dir: Path
    data_dir: str | None = None
    fid_samples: int = evaluation.FID_SAMPLES
    fid_seed: int = evaluation.FID_SAMPLE_SEED
    manifold_n: int = 15
    only: Sequence[str] | None = None
    readme: Path | None = None
    quick: bool = False
    likelihood_k: int = 1000
    classifier: RunSpec = RunSpec(
        Path("runs/mnist-classifier"), "python scripts/train_classifier.py", CLASSIFIER_FILE
    )
    #: The variants compared with the slides' model: MNIST conv (with ``mnist2[0]``), and
    #: CIFAR-10 conv-Gaussian (with ``cifar``).
    mnist_conv: RunSpec | None = None
    cifar_conv: RunSpec | None = None
    #: The FID study's runs (:mod:`vae_keras.report.study`): every latent size and seed.
    study: Sequence[RunSpec] = ()
    #: Runs the prior-hole step measures beside ``mnist2`` and ``mnist8`` where they exist:
    #: the FID study's latent-16 runs.
    hole: Sequence[RunSpec] = ()
    #: The KL-weight study's runs (latent 8, one per beta of variants.RATE_BETAS).
    rate: Sequence[RunSpec] = ()
    #: The conditional VAE's runs (latent 8, ``--conditional``, each seed of variants.STUDY_SEEDS).
    conditional: Sequence[RunSpec] = ()
    log: Callable[[str], None] = print


def wants(config: ReportConfig, figure: str) -> bool:
    """Whether the report draws ``figure`` (every figure unless ``--only`` names some)."""
    return config.only is None or figure in config.only


@dataclass
class Report:
    """What the steps share: the configuration, MNIST, the loaded runs, the results so far.

    Prior samples are drawn once per run (:meth:`prior_samples`) and serve the
    sample grid, the FID and the sample-quality metrics alike.
    """

    config: ReportConfig
    datasets: dict[str, Dataset]  # the data sets the planned steps use, loaded by the plan
    loaded: dict[Path, LoadedRun]  # the runs the planned steps use, loaded before any write
    results: dict[str, Any]
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    reference_stats: Statistics | None = None  # pixel statistics of the MNIST test set

    @property
    def out(self) -> Path:
        return Path(self.config.out_dir)

    @property
    def mnist(self) -> Dataset:
        return self.datasets["mnist"]

    @property
    def runs2(self) -> list[LoadedRun]:
        """The latent-2 runs that are loaded (all of them, for a step that needs them all)."""
        return [self.loaded[s.path] for s in self.config.mnist2 if s.path in self.loaded]

    @property
    def runs8(self) -> list[LoadedRun]:
        return [self.loaded[s.path] for s in self.config.mnist8 if s.path in self.loaded]

    def log(self, line: str) -> None:
        self.config.log(line)

    def save(self, name: str, fig, what: str) -> None:
        """Write ``figures/<name>.png`` (atomically) and say in results.json what it shows."""
        plots.save_figure(fig, self.out / f"{name}.png")
        self.results["figures"][name] = what
        self.log(f"  wrote {self.out / f'{name}.png'}")

    def mnist_reference(self) -> Statistics:
        """Pixel statistics of the MNIST test set, computed once for every step that needs them."""
        if self.reference_stats is None:
            self.reference_stats = evaluation.dataset_statistics(
                self.mnist.x_test, self.mnist.image_shape
            )
        return self.reference_stats

    def prior_samples(self, run: LoadedRun) -> np.ndarray:
        """The ``fid_samples`` decoded prior samples of ``run`` (seed ``fid_seed``), drawn once."""
        key = str(run.run_dir)
        if key not in self.samples:
            self.samples[key] = evaluation.sample_prior(
                run, self.config.fid_samples, self.config.fid_seed, data_dir=self.config.data_dir
            )
        return self.samples[key]
