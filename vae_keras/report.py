"""Trained runs in, every figure of the slides plus ``results.json`` and the README table out.

``scripts/make_figures.py`` is a thin wrapper around :func:`make_report`, which
runs the steps listed in :data:`STEPS` in order (one function per figure or
measurement), timing each. The figure names are the contract with the README;
each is drawn by a function of :mod:`vae_keras.plots` from arrays computed here.

Each step names the runs and data sets it needs (:class:`Step`). Before
anything is written, :func:`plan_report` loads the data sets the wanted steps
use and looks for their runs: a step whose runs are missing is skipped (the
report ends with the command that trains each), unless ``--only`` named it,
when nothing is drawn and the commands are the error. ``results.json`` keeps
what earlier reports measured in the steps that did not run now, each step
dated in ``report_steps``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from vae_keras import evaluation, plots
from vae_keras.background import figures as background_figures
from vae_keras.background.figures import BACKGROUND_FIGURES
from vae_keras.classifier import MODEL_FILE as CLASSIFIER_FILE
from vae_keras.data import DataError, Dataset, load_dataset
from vae_keras.fid import Statistics, compute_statistics, pixel_features
from vae_keras.progress import Progress, format_seconds
from vae_keras.runs import STATE_FILE, LoadedRun, RunError, load_run, write_json_atomic

#: Figures in the order of the slides.
MNIST_FIGURES = (
    "mnist_latent_space",
    "mnist_manifold",
    "mnist_reconstructions",
    "mnist_samples",
)
CIFAR_FIGURES = ("cifar10_samples", "cifar10_reconstructions")
FID_FIGURES = ("fid_mean_variance", "fid_differences")
QUALITY_FIGURES = ("fid_sample_size", "mnist_class_coverage")
FIGURES = (
    *MNIST_FIGURES,
    *CIFAR_FIGURES,
    *FID_FIGURES,
    *QUALITY_FIGURES,
    "mnist_training_curves",
    *BACKGROUND_FIGURES,
)

SLIDES_FID = 8.04
README_START = "<!-- results:start (written by scripts/make_figures.py) -->"
README_END = "<!-- results:end -->"


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
    cifar: RunSpec | None
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
    log: Callable[[str], None] = print


def wants(config: ReportConfig, figure: str) -> bool:
    """Whether the report draws ``figure`` (every figure unless ``--only`` names some)."""
    return config.only is None or figure in config.only


def utc_timestamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages behind every measurement."""
    import keras
    import matplotlib
    import scipy
    import tensorflow as tf

    versions = {
        "python": platform.python_version(),
        "keras_backend": keras.backend.backend(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
    }
    for other in ("jax", "torch"):  # the other backends, where installed and in use
        module = sys.modules.get(other)
        if module is not None:
            versions[other] = module.__version__
    return versions


def environment() -> dict[str, Any]:
    """Date, machine and package versions, for results.json."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return {
        "date": utc_timestamp(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_count": os.cpu_count(),
            "gpus": [g.name for g in gpus],
        },
        "versions": package_versions(),
    }


def benchmark_header() -> dict[str, Any]:
    """Date, a one-line machine description and package versions, for the benchmarks' JSON."""
    import tensorflow as tf

    gpu = "GPU" if tf.config.list_physical_devices("GPU") else "no GPU"
    return {
        "date": utc_timestamp(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {gpu}",
        "versions": package_versions(),
    }


def training_summary(run: LoadedRun) -> dict[str, Any]:
    """Final losses and the median seconds per epoch (first epoch, which compiles, left out)."""
    last = run.history[-1]
    seconds = [row["seconds"] for row in run.history[1:]] or [run.history[0]["seconds"]]
    keys = (
        "loss",
        "val_loss",
        "reconstruction_loss",
        "kl_loss",
        "val_reconstruction_loss",
        "val_kl_loss",
    )
    return {
        "run_dir": str(run.run_dir),
        "dataset": run.config.dataset,
        "latent_dim": run.config.latent_dim,
        "intermediate_dim": run.config.intermediate_dim,
        "seed": run.config.seed,
        "epochs": last["epoch"],
        "batch_size": run.config.batch_size,
        "limit": run.config.limit,
        **{f"final_{k}": round(last[k], 3) for k in keys if k in last},
        "seconds_per_epoch": round(statistics.median(seconds), 3),
    }


def mean_std(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
        "n": len(values),
    }


# ---------------------------------------------------------------------------
# The report: what every step shares, then one function per figure or measurement
# ---------------------------------------------------------------------------


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

    def prior_samples(self, run: LoadedRun) -> np.ndarray:
        """The ``fid_samples`` decoded prior samples of ``run`` (seed ``fid_seed``), drawn once."""
        key = str(run.run_dir)
        if key not in self.samples:
            self.samples[key] = evaluation.sample_prior(
                run, self.config.fid_samples, self.config.fid_seed
            )
        return self.samples[key]


def latent_space(r: Report) -> None:
    run2, mnist = r.runs2[0], r.mnist
    z = run2.models.encoder.predict(mnist.x_test, batch_size=2000, verbose=0)
    fig = plots.latent_scatter(
        z, mnist.y_test, f"MNIST test set in the latent space of the 2-D VAE ({len(z)} digits)"
    )
    r.save("mnist_latent_space", fig, f"encoder z_mean of the MNIST test set, {run2.run_dir}")


def manifold(r: Report) -> None:
    run2, n = r.runs2[0], r.config.manifold_n
    grid_x, grid_y, z = evaluation.manifold_latents(n)
    images = run2.models.generator.predict(z, verbose=0)
    fig = plots.manifold(
        images,
        grid_x,
        grid_y,
        r.mnist.image_shape,
        f"Decoded {n}x{n} grid of norm.ppf quantiles (2-D VAE)",
    )
    r.save(
        "mnist_manifold", fig, f"generator on norm.ppf(linspace(0.05, 0.95, {n}))^2, {run2.run_dir}"
    )


def mnist_reconstructions(r: Report) -> None:
    run8, x = r.runs8[0], r.mnist.x_test[:20]
    fig = plots.reconstructions(
        x,
        evaluation.reconstruct(run8, x),
        r.mnist.image_shape,
        f"MNIST test digits and their reconstructions (latent {run8.config.latent_dim})",
    )
    r.save("mnist_reconstructions", fig, f"vae(x) of the first 20 test digits, {run8.run_dir}")


def mnist_samples(r: Report) -> None:
    run8 = r.runs8[0]
    samples = r.prior_samples(run8)[:64]  # the first 64 of the FID samples
    fig = plots.image_grid(
        samples,
        8,
        8,
        r.mnist.image_shape,
        f"64 samples from N(0, I), decoded (latent {run8.config.latent_dim})",
    )
    r.save("mnist_samples", fig, f"generator(z), z ~ N(0, I), {run8.run_dir}")


def cifar10_samples(r: Report) -> None:
    cifar = r.datasets["cifar10"]
    pick = np.random.default_rng(0).choice(len(cifar.x_test), 64, replace=False)
    fig = plots.image_grid(
        cifar.x_test[pick], 8, 8, cifar.image_shape, "Randomly chosen 64 images from CIFAR-10"
    )
    r.save("cifar10_samples", fig, "64 random CIFAR-10 test images (seed 0)")


def cifar10_reconstructions(r: Report) -> None:
    cifar, run_c = r.datasets["cifar10"], r.loaded[r.config.cifar.path]
    x = cifar.x_test[:30]
    fig = plots.reconstructions(
        x,
        evaluation.reconstruct(run_c, x),
        cifar.image_shape,
        f"CIFAR-10 images vs reconstructions (latent {run_c.config.latent_dim})",
        labels=("images", "reconstructions"),
    )
    what = f"vae(x) of the first 30 test images, {run_c.run_dir}"
    r.save("cifar10_reconstructions", fig, what)


def fid(r: Report) -> None:
    """The slides' number: pixel-space FID of each run's prior samples against MNIST test."""
    config, shape = r.config, r.mnist.image_shape
    r.reference_stats = reference = evaluation.dataset_statistics(r.mnist.x_test, shape)
    fid_runs = []
    for run in (*r.runs8, *r.runs2):
        generated = compute_statistics(r.prior_samples(run))
        result = evaluation.fid_result(run, generated, reference, config.fid_seed)
        fid_runs.append(asdict(result))
        r.log(f"  {run.run_dir}: FID {result.fid:.3f}")
    latents = sorted({f["latent_dim"] for f in fid_runs})
    r.results["fid"] = {
        "protocol": (
            "slides' architecture (784-256-d), trained 50 epochs, batch 256, RMSprop; "
            f"{config.fid_samples} images decoded from z ~ N(0, I) "
            f"(sample seed {config.fid_seed}), "
            f"decoder means in [0, 1]; Frechet distance in pixel space (784 features) against the "
            f"{reference.n} MNIST test images"
        ),
        "slides": SLIDES_FID,
        "runs": fid_runs,
        "summary": {
            f"latent{d}": mean_std([f["fid"] for f in fid_runs if f["latent_dim"] == d])
            for d in latents
        },
    }


def fid_maps(r: Report) -> None:
    """Per-pixel means and variances behind the FID of the first latent-8 run."""
    run8, shape = r.runs8[0], r.mnist.image_shape
    if r.reference_stats is None:
        r.reference_stats = evaluation.dataset_statistics(r.mnist.x_test, shape)
    reference, generated = r.reference_stats, compute_statistics(r.prior_samples(run8))
    arrays = (reference.mu, np.diag(reference.sigma), generated.mu, np.diag(generated.sigma))
    if wants(r.config, "fid_mean_variance"):
        r.save(
            "fid_mean_variance",
            plots.mean_variance(*arrays, shape),
            f"per-pixel mean and variance, MNIST test vs {generated.n} samples of {run8.run_dir}",
        )
    if wants(r.config, "fid_differences"):
        r.save(
            "fid_differences",
            plots.differences(*arrays, shape),
            f"generated minus real per-pixel mean and variance, {run8.run_dir}",
        )


def sample_quality(r: Report) -> None:
    """Every metric of :mod:`vae_keras.metrics`, in pixel and classifier features; two figures.

    For each latent-2 and latent-8 run (its ``fid_samples`` prior samples) and for
    a reference row, the first ``fid_samples`` MNIST training images: against the
    MNIST test images. Also the classes the classifier gives the first latent-8
    run's samples against the test labels (``mnist_class_coverage``) and FID
    against 1/N for that run in both spaces (``fid_sample_size``).
    """
    from vae_keras.classifier import ClassifierFeatures
    from vae_keras.metrics import METRICS, Reference, sample_quality

    config, mnist, shape = r.config, r.mnist, r.mnist.image_shape
    n, seed = config.fid_samples, config.fid_seed
    classifier = ClassifierFeatures(config.classifier.path)
    spaces = {"pixels": pixel_features, "classifier": classifier}
    flat = {
        "MNIST train (reference)": mnist.x_train[:n],
        **{str(run.run_dir): r.prior_samples(run) for run in (*r.runs2, *r.runs8)},
    }
    test = evaluation.as_images(mnist.x_test, shape)
    rows: dict[str, list[dict[str, Any]]] = {}
    progress = Progress("sample quality", len(spaces) * len(flat), "rows", r.log, every=0.0)
    for space, extract in spaces.items():
        reference = Reference(np.asarray(extract(test), np.float64))  # reused by every row
        rows[space] = []
        for name, images in flat.items():
            features = np.asarray(extract(evaluation.as_images(images, shape)), np.float64)
            record = sample_quality(
                features,
                reference,
                seed=seed,
                kid_subsets=10 if config.quick else 100,
            )
            rows[space].append({"name": name, **record})
            r.log(f"  {space} {name}: FID {record['fid']:.3f}, KID {record['kid']['mean']:.4f}")
            progress.update(sum(map(len, rows.values())))

    def value(row: dict[str, Any], metric: str) -> float:
        v = row[metric]
        return v["mean"] if metric == "kid" else v["value"] if metric == "fid_infinity" else v

    summary = {}
    for space, space_rows in rows.items():
        for latent, runs in (("latent2", r.runs2), ("latent8", r.runs8)):
            names = {str(run.run_dir) for run in runs}
            picked = [row for row in space_rows if row["name"] in names]
            summary[f"{space} {latent}"] = {
                m: mean_std([value(row, m) for row in picked]) for m in METRICS
            }
    first8 = str(r.runs8[0].run_dir)
    if wants(config, "fid_sample_size"):
        curves = {}
        for space, space_rows in rows.items():
            inf = next(row["fid_infinity"] for row in space_rows if row["name"] == first8)
            curves[space] = (inf["points"], inf["value"], inf["slope"])
        r.save(
            "fid_sample_size",
            plots.fid_sample_size(
                curves, f"FID against sample size, latent-{r.runs8[0].config.latent_dim} VAE"
            ),
            f"FID of 20 % to 100 % of {n} samples of {first8} vs MNIST test, fitted in 1/N",
        )
    if wants(config, "mnist_class_coverage"):
        predicted = classifier.classes(evaluation.as_images(flat[first8], shape))
        r.save(
            "mnist_class_coverage",
            plots.class_coverage(
                predicted, mnist.y_test, f"Digits generated by {first8} (classifier) vs MNIST test"
            ),
            f"classes of {n} prior samples of {first8} by the classifier, against test labels",
        )
    r.results["sample_quality"] = {
        "features": list(spaces),
        "n": n,
        "sample_seed": seed,
        "rows": rows,
        "summary": summary,
    }


def training_curves(r: Report) -> None:
    """The first latent-2 run's curves, and the first latent-8 run's where it exists."""
    shown = [r.runs2[0], *r.runs8[:1]]
    fig = plots.training_curves(
        {f"latent {run.config.latent_dim}": run.history for run in shown},
        "Training curves of the slides' VAE on MNIST",
    )
    what = "history.json of " + " and ".join(str(run.run_dir) for run in shown)
    r.save("mnist_training_curves", fig, what)


def likelihood(r: Report) -> None:
    """Test-set ELBO and the k-sample importance-weighted bound, in nats per image."""
    from vae_keras import likelihood

    quick = r.config.quick
    x = r.mnist.x_test[:500] if quick else r.mnist.x_test
    k = 10 if quick else r.config.likelihood_k
    rows = []
    for run in (r.runs2[0], r.runs8[0]):
        elbo = likelihood.elbo(run.models, x, samples=10, seed=0)
        progress = Progress(f"latent {run.config.latent_dim}, k = {k}", len(x), "images", r.log)
        iw = likelihood.importance_weighted_log_likelihood(
            run.models, x, k=k, seed=0, progress=progress.update
        )
        rows.append(
            {
                "run_dir": str(run.run_dir),
                "latent_dim": run.config.latent_dim,
                "images": len(x),
                "elbo": float(elbo.mean()),
                "k": k,
                "iw_bound": float(iw.mean()),
            }
        )
    r.results["likelihood"] = rows


def denoising(r: Report) -> dict[str, Any]:
    x_train = r.mnist.x_train[:5000] if r.config.quick else r.mnist.x_train
    epochs = 2 if r.config.quick else 20
    return background_figures.denoising_autoencoder(
        r.out, x_train, r.mnist.x_test, r.mnist.image_shape, epochs, log=r.log
    )


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


def quality_runs(config: ReportConfig) -> list[RunSpec]:
    return [*config.mnist2, *config.mnist8, config.classifier]


@dataclass(frozen=True)
class Step:
    """One figure or measurement of the report: its function, the figures it draws, its needs.

    ``runs`` gives the runs the step cannot do without, ``optional`` those it
    uses where they exist; ``datasets`` the data sets it reads.
    """

    name: str
    run: Callable[[Report], None]
    figures: tuple[str, ...] = ()
    runs: Callable[[ReportConfig], list[RunSpec]] = no_runs
    datasets: tuple[str, ...] = ()
    optional: Callable[[ReportConfig], list[RunSpec]] = no_runs

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


#: The report, in order: the slides' figures, the FID and its maps, the other
#: sample-quality metrics, the training curves, the likelihood, the background.
STEPS: tuple[Step, ...] = (
    Step(
        "mnist_latent_space",
        latent_space,
        ("mnist_latent_space",),
        first_mnist2,
        ("mnist",),
    ),
    Step("mnist_manifold", manifold, ("mnist_manifold",), first_mnist2, ("mnist",)),
    Step(
        "mnist_reconstructions",
        mnist_reconstructions,
        ("mnist_reconstructions",),
        first_mnist8,
        ("mnist",),
    ),
    Step("mnist_samples", mnist_samples, ("mnist_samples",), first_mnist8, ("mnist",)),
    Step("cifar10_samples", cifar10_samples, ("cifar10_samples",), datasets=("cifar10",)),
    Step(
        "cifar10_reconstructions",
        cifar10_reconstructions,
        ("cifar10_reconstructions",),
        cifar_run,
        ("cifar10",),
    ),
    Step("fid", fid, (), every_mnist_run, ("mnist",)),
    Step("fid_maps", fid_maps, FID_FIGURES, first_mnist8, ("mnist",)),
    Step("sample_quality", sample_quality, QUALITY_FIGURES, quality_runs, ("mnist",)),
    Step(
        "mnist_training_curves",
        training_curves,
        ("mnist_training_curves",),
        first_mnist2,
        optional=first_mnist8,
    ),
    Step("likelihood", likelihood, (), first_of_each, ("mnist",)),
    background("denoising_autoencoder", denoising, "mnist"),
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
        """What was skipped and why, then each missing run's command once."""
        if not self.skipped:
            return []
        lines = [f"Skipped {len(self.skipped)} step(s) whose runs are missing:"]
        for step, missing in self.skipped:
            lines.append(f"  {step.name}: needs {', '.join(str(s.path) for s in missing)}")
        missing = {s for _, specs in self.skipped for s in specs}
        commands = dict.fromkeys(s.command for s in self.known if s in missing)
        lines.append("To draw them, train the missing runs, then run make_figures.py again:")
        lines += [f"  {command}" for command in commands]
        return lines


def plan_report(config: ReportConfig) -> Plan:
    """Which wanted steps can run; their data sets loaded (a :class:`DataError` stops here).

    A step whose runs are missing is skipped; with ``config.only`` (the user
    named the steps) that is a :class:`RunError` naming each missing run's
    command instead. Nothing is written.
    """
    wanted = [s for s in STEPS if s.wanted(config)]
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
    return Plan(steps, skipped, datasets, runs, [*quality_runs(config), *cifar_run(config)])


def make_report(config: ReportConfig) -> dict[str, Any]:
    """Run every wanted step of :data:`STEPS` that can run, in order, timed; write results.json
    (merged with what earlier reports measured) and the README table; say what was skipped."""
    plan = plan_report(config)
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
    results = merge_previous(r.out / "results.json", r.results)
    write_json_atomic(r.out / "results.json", results)
    r.log(f"  wrote {r.out / 'results.json'}")
    if config.readme is not None:
        update_readme(config.readme, results)
        r.log(f"  updated the results table in {config.readme}")
    for line in plan.skipped_lines():
        r.log(line)
    return results


def merge_previous(path: Path, results: dict[str, Any]) -> dict[str, Any]:
    """This report's results over the previous results.json: what this report did not
    measure (other steps' figures and numbers, other runs' training rows, the
    ``make reproduce`` timings) is kept, and ``report_steps`` dates every step."""
    if not path.is_file():
        return results
    merged = load_results(path)
    previous_date = merged.get("date")
    ran = {s["step"] for s in results["report_steps"]}
    steps = {
        s["step"]: {"date": previous_date, **s}  # entries written before steps were dated
        for s in merged.get("report_steps", [])
        if s["step"] not in ran
    }
    steps.update({s["step"]: s for s in results["report_steps"]})
    figures = {**merged.get("figures", {}), **results["figures"]}
    background_numbers = {**merged.get("background", {}), **results.get("background", {})}
    training = {t["run_dir"]: t for t in (*merged.get("training", []), *results["training"])}
    merged.update(results)
    merged.update(
        figures=figures,
        background=background_numbers,
        training=list(training.values()),
        report_steps=[steps[name] for name in STEP_NAMES if name in steps],
    )
    return merged


def results_table(results: dict[str, Any]) -> str:
    """The README's results table (Markdown), from results.json's content."""
    lines = [
        f"Last report {results['date'][:10]} (sections an earlier report measured carry their "
        f"date) on {results['machine']['processor']} "
        f"({results['machine']['cpu_count']} cores, "
        f"{'GPU' if results['machine']['gpus'] else 'no GPU'}), TensorFlow "
        f"{results['versions']['tensorflow']}, Keras {results['versions']['keras']}"
        + (" — QUICK MODE (not the real protocol)" if results.get("quick") else "")
        + ".",
        "",
        "| run | latent | seed | epochs | final loss | final val_loss | val reconstruction "
        "| val KL | s/epoch | FID (pixels) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    fids = {r["run_dir"]: r["fid"] for r in results.get("fid", {}).get("runs", [])}
    for t in results["training"]:
        fid = fids.get(t["run_dir"])
        lines.append(
            f"| `{t['run_dir']}` | {t['latent_dim']} | {t['seed']} | {t['epochs']} "
            f"| {t['final_loss']:.2f} | {t['final_val_loss']:.2f} "
            f"| {t.get('final_val_reconstruction_loss', float('nan')):.2f} "
            f"| {t.get('final_val_kl_loss', float('nan')):.2f} | {t['seconds_per_epoch']:.2f} "
            f"| {'' if fid is None else f'{fid:.2f}'} |"
        )
    summary = results.get("fid", {}).get("summary", {})
    if summary:
        when = measured_on(results, "fid")
        lines += [
            "",
            f"| FID, pixel space vs MNIST test{when} | mean | std | runs |",
            "|---|---|---|---|",
        ]
        lines.append(f"| slides | {results['fid']['slides']:.2f} | | |")
        for key, s in summary.items():
            lines.append(f"| ours, {key} | {s['mean']:.2f} | {s['std']:.2f} | {s['n']} |")
    like = results.get("likelihood")
    if like:
        lines += [
            "",
            f"| log-likelihood on MNIST test (nats/image){measured_on(results, 'likelihood')} "
            "| ELBO | importance-weighted bound | k |",
            "|---|---|---|---|",
        ]
        for r in like:
            lines.append(
                f"| `{r['run_dir']}` (latent {r['latent_dim']}) | {r['elbo']:.2f} "
                f"| {r['iw_bound']:.2f} | {r['k']} |"
            )
    quality = results.get("sample_quality")
    if quality:
        lines += [
            "",
            f"Sample quality against the MNIST test set{measured_on(results, 'sample_quality')} "
            f"({quality['n']} images per row; mean ± std over the training seeds; KID x 1000):",
            "",
            "| features | rows | FID | FID-infinity | KID x 1000 | precision | recall |",
            "|---|---|---|---|---|---|---|",
        ]
        for space, rows in quality["rows"].items():
            ref = next(r for r in rows if r["name"].startswith("MNIST train"))
            lines.append(
                f"| {space} | MNIST train vs test | {ref['fid']:.2f} "
                f"| {ref['fid_infinity']['value']:.2f} "
                f"| {1000 * ref['kid']['mean']:.2f} ± {1000 * ref['kid']['std']:.2f} "
                f"| {ref['precision']:.3f} | {ref['recall']:.3f} |"
            )
            for latent in ("latent2", "latent8"):
                q = quality["summary"][f"{space} {latent}"]

                def cell(m, scale=1.0, digits=2, q=q):
                    return f"{scale * q[m]['mean']:.{digits}f} ± {scale * q[m]['std']:.{digits}f}"

                lines.append(
                    f"| {space} | ours, {latent} ({q['fid']['n']} runs) | {cell('fid')} "
                    f"| {cell('fid_infinity')} | {cell('kid', 1000)} | {cell('precision', 1, 3)} "
                    f"| {cell('recall', 1, 3)} |"
                )
    lines += steps_table(results)
    return "\n".join(lines)


def steps_table(results: dict[str, Any]) -> list[str]:
    """Wall time of each step of ``make reproduce`` (if recorded) and of the report's steps."""
    lines = []
    reproduce = results.get("reproduce")
    if reproduce:
        setup = reproduce.get("setup_seconds")
        setup_text = "not recorded" if setup is None else f"{format_seconds(setup)} here"
        lines += [
            "",
            f"Wall time of `make reproduce` on this machine ({reproduce['date'][:10]}; set-up "
            f"of the venv and installs excluded, {setup_text}):",
            "",
            "| step | wall time |",
            "|---|---|",
            *(f"| `{s['command']}` | {format_seconds(s['seconds'])} |" for s in reproduce["steps"]),
            f"| **total** | **{format_seconds(reproduce['total_seconds'])}** |",
        ]
    steps = results.get("report_steps")
    if steps:

        def shown(s: dict[str, Any]) -> str:
            date = s.get("date", results["date"])[:10]
            when = "" if date == results["date"][:10] else f" ({date})"
            return f"{s['step']} {format_seconds(s['seconds'])}{when}"

        lines += [
            "",
            f"Steps of `scripts/make_figures.py` (run {results['date'][:10]} unless dated): "
            + ", ".join(map(shown, steps))
            + ".",
        ]
    return lines


def measured_on(results: dict[str, Any], step: str) -> str:
    """`` (measured 2026-11-23)`` for what an earlier report's ``step`` wrote, else ``""``."""
    dates = [s.get("date") for s in results.get("report_steps", []) if s["step"] == step]
    date = (dates[0] if dates and dates[0] else results["date"])[:10]
    return "" if date == results["date"][:10] else f" (measured {date})"


def replace_block(path: str | os.PathLike, start: str, end: str, text: str) -> None:
    """Replace what stands between the marker lines ``start`` and ``end`` of a file (atomically)."""
    from vae_keras.runs import write_text_atomic

    content = Path(path).read_text()
    if start not in content or end not in content:
        raise RunError(f"{path} has no markers {start} ... {end}.")
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    write_text_atomic(path, f"{head}{start}\n{text}\n{end}{tail}")


def update_readme(readme: Path, results: dict[str, Any]) -> None:
    """Rewrite the README's results table (between its results markers) from ``results``."""
    replace_block(readme, README_START, README_END, results_table(results))


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    return json.loads(Path(path).read_text())
