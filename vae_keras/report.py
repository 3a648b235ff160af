"""Trained runs in, every figure of the slides plus ``results.json`` and the README table out.

``scripts/make_figures.py`` is a thin wrapper around :func:`make_report`. The
figure names are the contract with the README; each is drawn by a function of
:mod:`vae_keras.plots` from arrays computed here.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from vae_keras import evaluation, plots
from vae_keras.background.figures import BACKGROUND_FIGURES, make_background_figures
from vae_keras.classifier import MODEL_FILE as CLASSIFIER_FILE
from vae_keras.data import load_dataset
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


@dataclass
class RunSpec:
    """A run directory the report needs and the command that creates it."""

    path: Path
    command: str

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
    classifier: Path = Path("runs/mnist-classifier")
    log: Callable[[str], None] = print


def check_runs(config: ReportConfig) -> None:
    """Raise :class:`RunError` naming the command for every missing run, before any work."""
    specs = [*config.mnist2, *config.mnist8]
    if config.cifar is not None and wants(config, "cifar10_reconstructions"):
        specs.append(config.cifar)
    missing = [s for s in specs if not (s.path / STATE_FILE).is_file()]
    if wants(config, "sample_quality") and not (config.classifier / CLASSIFIER_FILE).is_file():
        missing.append(RunSpec(config.classifier, "python scripts/train_classifier.py"))
    if missing:
        lines = "\n".join(f"  {s.path}: {s.command}" for s in missing)
        raise RunError(f"Missing trained runs; train them first:\n{lines}")


def wants(config: ReportConfig, name: str) -> bool:
    if name == "sample_quality":  # a step, not a figure: wanted with either of its figures
        return config.only is None or any(f in config.only for f in QUALITY_FIGURES)
    return config.only is None or name in config.only


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


def likelihood_summary(runs: Sequence[LoadedRun], x: np.ndarray, k: int) -> list[dict[str, Any]]:
    """Test-set ELBO and the k-sample importance-weighted bound, in nats per image."""
    from vae_keras import likelihood

    rows = []
    for run in runs:
        elbo = likelihood.elbo(run.models, x, samples=10, seed=0)
        iw = likelihood.importance_weighted_log_likelihood(run.models, x, k=k, seed=0)
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
    return rows


QUALITY_METRICS = ("fid", "kid", "precision", "recall", "fid_infinity")


def quality_row(
    name: str, generated: np.ndarray, reference: np.ndarray, ref_stats, quick: bool
) -> dict[str, Any]:
    """FID, KID, precision, recall and FID-infinity of one set of features against the reference.

    ``ref_stats`` are the statistics of ``reference``, computed once by the caller.
    """
    from vae_keras import metrics
    from vae_keras.fid import compute_statistics, fid_from_statistics

    kid = metrics.kid(generated, reference, subsets=10 if quick else 100)
    pr = metrics.precision_recall(reference, generated)
    n = len(generated)
    inf = metrics.fid_infinity(generated, ref_stats, metrics.fraction_sizes(n))
    return {
        "name": name,
        "n": n,
        "fid": fid_from_statistics(compute_statistics(generated), ref_stats),
        "kid": kid.mean,
        "kid_std": kid.std,
        "precision": pr.precision,
        "recall": pr.recall,
        "fid_infinity": inf.value,
        "fid_points": inf.points,
        "fid_slope": inf.slope,
    }


def sample_quality(config: ReportConfig, runs2, runs8, mnist, save: Callable) -> dict[str, Any]:
    """The sample-quality step: every metric, in pixel and classifier features; two figures.

    For each latent-2 and latent-8 run (``fid_samples`` prior samples) and for a
    reference row, the first ``fid_samples`` MNIST training images: against the
    MNIST test images. Also the classes the classifier gives the first latent-8
    run's samples against the test labels (``mnist_class_coverage``) and FID
    against 1/N for that run in both spaces (``fid_sample_size``).
    """
    from vae_keras.classifier import ClassifierFeatures
    from vae_keras.fid import compute_statistics, pixel_features

    n, seed, shape = config.fid_samples, config.fid_seed, mnist.image_shape
    classifier = ClassifierFeatures(config.classifier)
    spaces = {"pixels": pixel_features, "classifier": classifier}
    images = {
        "MNIST train (reference)": evaluation.as_images(mnist.x_train[:n], shape),
        **{
            str(run.run_dir): evaluation.as_images(evaluation.sample_prior(run, n, seed), shape)
            for run in (*runs2, *runs8)
        },
    }
    test = evaluation.as_images(mnist.x_test, shape)
    rows: dict[str, list[dict[str, Any]]] = {}
    for space, extract in spaces.items():
        reference = np.asarray(extract(test), np.float64)
        ref_stats = compute_statistics(reference)
        rows[space] = []
        for name, batch in images.items():
            rows[space].append(
                quality_row(
                    name, np.asarray(extract(batch), np.float64), reference, ref_stats, config.quick
                )
            )
            config.log(
                f"  {space} {name}: FID {rows[space][-1]['fid']:.3f}, "
                f"KID {rows[space][-1]['kid']:.4f}"
            )
    summary = {}
    for space, space_rows in rows.items():
        for latent, runs in (("latent2", runs2), ("latent8", runs8)):
            names = {str(r.run_dir) for r in runs}
            picked = [r for r in space_rows if r["name"] in names]
            summary[f"{space} {latent}"] = {
                m: mean_std([r[m] for r in picked]) for m in QUALITY_METRICS
            }
    first8 = str(runs8[0].run_dir)
    if wants(config, "fid_sample_size"):
        curves = {
            space: next(
                (r["fid_points"], r["fid_infinity"], r["fid_slope"])
                for r in space_rows
                if r["name"] == first8
            )
            for space, space_rows in rows.items()
        }
        save(
            "fid_sample_size",
            plots.fid_sample_size(
                curves, f"FID against sample size, latent-{runs8[0].config.latent_dim} VAE"
            ),
            f"FID of 20 % to 100 % of {n} samples of {first8} vs MNIST test, fitted in 1/N",
        )
    if wants(config, "mnist_class_coverage"):
        predicted = classifier.classes(images[first8])
        save(
            "mnist_class_coverage",
            plots.class_coverage(
                predicted, mnist.y_test, f"Digits generated by {first8} (classifier) vs MNIST test"
            ),
            f"classes of {n} prior samples of {first8} by the classifier, against test labels",
        )
    return {"features": list(spaces), "n": n, "sample_seed": seed, "rows": rows, "summary": summary}


def mean_std(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
        "n": len(values),
    }


def make_report(config: ReportConfig) -> dict[str, Any]:
    """Draw the figures, compute the FIDs, write results.json (and the README table)."""
    log = config.log
    check_runs(config)
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mnist = load_dataset("mnist", config.data_dir)
    shape = mnist.image_shape
    results: dict[str, Any] = {**environment(), "quick": config.quick, "figures": {}}

    def save(name: str, fig, what: str) -> None:
        plots.save_figure(fig, out / f"{name}.png")
        results["figures"][name] = what
        log(f"  wrote {out / f'{name}.png'}")

    runs2 = [s.load() for s in config.mnist2]
    runs8 = [s.load() for s in config.mnist8]
    run2, run8 = runs2[0], runs8[0]
    results["training"] = [training_summary(r) for r in (*runs2, *runs8)]

    if wants(config, "mnist_latent_space"):
        z = run2.models.encoder.predict(mnist.x_test, batch_size=2000, verbose=0)
        fig = plots.latent_scatter(
            z, mnist.y_test, f"MNIST test set in the latent space of the 2-D VAE ({len(z)} digits)"
        )
        save("mnist_latent_space", fig, f"encoder z_mean of the MNIST test set, {run2.run_dir}")
    if wants(config, "mnist_manifold"):
        grid_x, grid_y, z = evaluation.manifold_latents(config.manifold_n)
        images = run2.models.generator.predict(z, verbose=0)
        n = config.manifold_n
        fig = plots.manifold(
            images, grid_x, grid_y, shape, f"Decoded {n}x{n} grid of norm.ppf quantiles (2-D VAE)"
        )
        save(
            "mnist_manifold",
            fig,
            f"generator on norm.ppf(linspace(0.05, 0.95, {n}))^2, {run2.run_dir}",
        )
    if wants(config, "mnist_reconstructions"):
        x = mnist.x_test[:20]
        fig = plots.reconstructions(
            x,
            evaluation.reconstruct(run8, x),
            shape,
            f"MNIST test digits and their reconstructions (latent {run8.config.latent_dim})",
        )
        save("mnist_reconstructions", fig, f"vae(x) of the first 20 test digits, {run8.run_dir}")
    if wants(config, "mnist_samples"):
        samples = evaluation.sample_prior(run8, 64, seed=config.fid_seed)
        fig = plots.image_grid(
            samples,
            8,
            8,
            shape,
            f"64 samples from N(0, I), decoded (latent {run8.config.latent_dim})",
        )
        save("mnist_samples", fig, f"generator(z), z ~ N(0, I), {run8.run_dir}")

    if wants(config, "cifar10_samples") or (
        config.cifar is not None and wants(config, "cifar10_reconstructions")
    ):
        cifar = load_dataset("cifar10", config.data_dir)
        if wants(config, "cifar10_samples"):
            pick = np.random.default_rng(0).choice(len(cifar.x_test), 64, replace=False)
            fig = plots.image_grid(
                cifar.x_test[pick],
                8,
                8,
                cifar.image_shape,
                "Randomly chosen 64 images from CIFAR-10",
            )
            save("cifar10_samples", fig, "64 random CIFAR-10 test images (seed 0)")
        if config.cifar is not None and wants(config, "cifar10_reconstructions"):
            run_c = config.cifar.load()
            results["training"].append(training_summary(run_c))
            x = cifar.x_test[:30]
            fig = plots.reconstructions(
                x,
                evaluation.reconstruct(run_c, x),
                cifar.image_shape,
                f"CIFAR-10 images vs reconstructions (latent {run_c.config.latent_dim})",
                labels=("images", "reconstructions"),
            )
            save(
                "cifar10_reconstructions",
                fig,
                f"vae(x) of the first 30 test images, {run_c.run_dir}",
            )

    log("FID (pixels, generated vs MNIST test) ...")
    reference = evaluation.dataset_statistics(mnist.x_test, shape)
    fid_runs = []
    for run in (*runs8, *runs2):
        generated = evaluation.run_statistics(run, shape, config.fid_samples, config.fid_seed)
        if run is run8:
            generated8 = generated  # also drawn in the mean/variance figures below
        result = evaluation.fid_result(run, generated, reference, config.fid_seed)
        fid_runs.append(asdict(result))
        log(f"  {run.run_dir}: FID {result.fid:.3f}")
    by_latent: dict[str, Any] = {}
    for latent in sorted({r["latent_dim"] for r in fid_runs}):
        values = [r["fid"] for r in fid_runs if r["latent_dim"] == latent]
        by_latent[f"latent{latent}"] = mean_std(values)
    results["fid"] = {
        "protocol": (
            "slides' architecture (784-256-d), trained 50 epochs, batch 256, RMSprop; "
            f"{config.fid_samples} images decoded from z ~ N(0, I) "
            f"(sample seed {config.fid_seed}), "
            f"decoder means in [0, 1]; Frechet distance in pixel space (784 features) against the "
            f"{reference.n} MNIST test images"
        ),
        "slides": SLIDES_FID,
        "runs": fid_runs,
        "summary": by_latent,
    }
    if wants(config, "fid_mean_variance") or wants(config, "fid_differences"):
        arrays = (reference.mu, np.diag(reference.sigma), generated8.mu, np.diag(generated8.sigma))
        if wants(config, "fid_mean_variance"):
            save(
                "fid_mean_variance",
                plots.mean_variance(*arrays, shape),
                f"per-pixel mean and variance, MNIST test vs {generated8.n} samples "
                f"of {run8.run_dir}",
            )
        if wants(config, "fid_differences"):
            save(
                "fid_differences",
                plots.differences(*arrays, shape),
                f"generated minus real per-pixel mean and variance, {run8.run_dir}",
            )
    if wants(config, "sample_quality"):
        config.log("Sample quality (FID, KID, precision, recall, FID-infinity) ...")
        results["sample_quality"] = sample_quality(config, runs2, runs8, mnist, save)
    if wants(config, "mnist_training_curves"):
        fig = plots.training_curves(
            {f"latent {r.config.latent_dim}": r.history for r in (run2, run8)},
            "Training curves of the slides' VAE on MNIST",
        )
        save("mnist_training_curves", fig, f"history.json of {run2.run_dir} and {run8.run_dir}")

    if wants(config, "likelihood"):
        log("Importance-weighted log-likelihood bound on the MNIST test set ...")
        results["likelihood"] = likelihood_summary(
            (run2, run8),
            mnist.x_test[:500] if config.quick else mnist.x_test,
            10 if config.quick else config.likelihood_k,
        )
    background = make_background_figures(
        out, mnist, lambda name: wants(config, name), config.quick, log
    )
    results["background"] = background
    for name in background:
        results["figures"][name] = "see results.json: background"

    previous = out / "results.json"
    if config.only is not None and previous.is_file():
        # a partial run keeps what it did not recompute (other figures, the likelihood)
        merged = load_results(previous)
        figures = {**merged.get("figures", {}), **results["figures"]}
        background = {**merged.get("background", {}), **results["background"]}
        training = {t["run_dir"]: t for t in (*merged.get("training", []), *results["training"])}
        merged.update(results)
        merged.update(figures=figures, background=background, training=list(training.values()))
        results = merged
    write_json_atomic(out / "results.json", results)
    log(f"  wrote {out / 'results.json'}")
    if config.readme is not None:
        update_readme(config.readme, results)
        log(f"  updated the results table in {config.readme}")
    return results


def results_table(results: dict[str, Any]) -> str:
    """The README's results table (Markdown), from results.json's content."""
    lines = [
        f"Measured {results['date'][:10]} on {results['machine']['processor']} "
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
        lines += ["", "| FID, pixel space vs MNIST test | mean | std | runs |", "|---|---|---|---|"]
        lines.append(f"| slides | {results['fid']['slides']:.2f} | | |")
        for key, s in summary.items():
            lines.append(f"| ours, {key} | {s['mean']:.2f} | {s['std']:.2f} | {s['n']} |")
    like = results.get("likelihood")
    if like:
        lines += [
            "",
            "| log-likelihood on MNIST test (nats/image) | ELBO | importance-weighted bound | k |",
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
            f"Sample quality against the MNIST test set ({quality['n']} images per row; mean "
            "± std over the training seeds; KID x 1000):",
            "",
            "| features | rows | FID | FID-infinity | KID x 1000 | precision | recall |",
            "|---|---|---|---|---|---|---|",
        ]
        for space, rows in quality["rows"].items():
            ref = next(r for r in rows if r["name"].startswith("MNIST train"))
            lines.append(
                f"| {space} | MNIST train vs test | {ref['fid']:.2f} | {ref['fid_infinity']:.2f} "
                f"| {1000 * ref['kid']:.2f} ± {1000 * ref['kid_std']:.2f} "
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
    return "\n".join(lines)


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
