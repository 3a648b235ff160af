"""The report's measurements: the slides' FID and its per-pixel maps, the other sample-quality
metrics, and the test-set log-likelihood bounds."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from vae_keras import evaluation, plots
from vae_keras.features import pixel_features
from vae_keras.fid import compute_statistics
from vae_keras.progress import Progress
from vae_keras.report.context import (
    SLIDES_FID,
    Report,
    wants,
)
from vae_keras.report.records import mean_std


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
    from vae_keras.features import ClassifierFeatures
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
