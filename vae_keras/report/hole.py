"""The prior hole: how far the codes are from ``N(0, I)``, and what decoding a mixture fitted to
them gives instead (the ELBO surgery of :mod:`vae_keras.latent`, the samplers of
:mod:`vae_keras.samplers`).

For each latent-2 and latent-8 run of ``make reproduce`` and each latent-16 run of the FID
study: the encodings of the 60,000 training images give the surgery's three terms; the mixture
(fitted once, cached beside the run) gives the held-out log-density of the test codes beside
the prior's; and ``fid_samples`` images decoded from each sampler are scored against MNIST test
in pixels and in the classifier's features (FID, KID, precision, recall). Two figures: the
latent-2 run's ``log q(z)`` beside ``log N(0, I)`` with the manifold grid marked
(``latent_hole``), and prior against mixture samples with the mixture's components over the
latent-2 codes (``mixture_samples``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_keras import evaluation, latent, latent_plots, samplers
from vae_keras.background.em import log_density
from vae_keras.features import pixel_features
from vae_keras.progress import Progress
from vae_keras.report.context import Report, wants
from vae_keras.report.records import mean_std

#: Draws of q(z) behind each surgery estimate (``quick``: 500).
SURGERY_SAMPLES = 10_000
SURGERY_SEED = 0
#: The metrics of each sampler's row (FID-infinity stays in the sample-quality step).
HOLE_METRICS = ("fid", "kid", "precision", "recall")
#: The latent plane drawn, [-PLANE, PLANE]^2, on a PLANE_POINTS^2 grid.
PLANE = 4.0
PLANE_POINTS = 121
#: A grid point is "in the hole" where q(z) < p(z) / HOLE_RATIO.
HOLE_RATIO = 10.0


def surgery_row(r: Report, run, spaces, references) -> dict[str, Any]:
    """One run: the surgery's terms, the mixture, each sampler's metrics in each space."""
    from vae_keras.metrics import sample_quality

    config, mnist = r.config, r.mnist
    train_mean, train_log_var = samplers.encode(run, mnist.x_train)
    test_mean, _ = samplers.encode(run, mnist.x_test)
    draws = 500 if config.quick else SURGERY_SAMPLES
    surgery = latent.elbo_surgery(train_mean, train_log_var, draws, SURGERY_SEED)
    mixture = samplers.latent_mixture(run, config.data_dir, r.log, (train_mean, test_mean))
    images = {
        "prior": r.prior_samples(run),
        "gmm": evaluation.sample_prior(
            run, config.fid_samples, config.fid_seed, sampler="gmm", data_dir=config.data_dir
        ),
    }
    quality: dict[str, dict[str, Any]] = {"prior": measured_prior_rows(r, run, spaces)}
    for sampler, flat in images.items():
        quality.setdefault(sampler, {})
        for space, extract in spaces.items():
            if space in quality[sampler]:
                continue
            features = np.asarray(extract(evaluation.as_images(flat, mnist.image_shape)))
            quality[sampler][space] = sample_quality(
                features.astype(np.float64),
                references[space],
                HOLE_METRICS,
                seed=config.fid_seed,
                kid_subsets=10 if config.quick else 100,
            )
    r.log(
        f"  {run.run_dir}: KL {surgery.average_kl:.2f} = I {surgery.mutual_information:.2f} "
        f"+ KL(q(z)||p(z)) {surgery.marginal_kl:.2f}; mixture K = {mixture.k}; pixel FID "
        f"{quality['prior']['pixels']['fid']:.2f} (prior), {quality['gmm']['pixels']['fid']:.2f} "
        "(mixture)"
    )
    return {
        "run_dir": str(run.run_dir),
        "latent_dim": run.config.latent_dim,
        "seed": run.config.seed,
        "surgery": surgery.as_dict(),
        "mixture": mixture.record(),
        "quality": quality,
    }


def measured_prior_rows(r: Report, run, spaces) -> dict[str, Any]:
    """The prior's rows of ``run`` that this report's sample-quality step measured (the same
    samples, seed and reference), by feature space, without FID-infinity; {} where it did not."""
    quality = r.results.get("sample_quality")
    if not quality or quality["n"] != r.config.fid_samples:
        return {}
    found = {}
    for space in spaces:
        for row in quality["rows"].get(space, []):
            if row["name"] == str(run.run_dir):
                found[space] = {k: v for k, v in row.items() if k not in ("name", "fid_infinity")}
    return found


def summarize(rows: list[dict[str, Any]], spaces) -> list[dict[str, Any]]:
    """Per latent size, the mean and std over training seeds of every number of the rows."""

    def metric(row: dict[str, Any], sampler: str, space: str, name: str) -> float:
        value = row["quality"][sampler][space][name]
        return value["mean"] if name == "kid" else value

    out = []
    for d in sorted({row["latent_dim"] for row in rows}):
        group = [row for row in rows if row["latent_dim"] == d]
        entry: dict[str, Any] = {"latent_dim": d, "runs": len(group)}
        for term in ("average_kl", "mutual_information", "marginal_kl"):
            entry[term] = mean_std([row["surgery"][term] for row in group])
        entry["log_n"] = group[0]["surgery"]["log_n"]
        entry["k"] = [row["mixture"]["k"] for row in group]
        entry["held_out_log_density"] = {
            "prior": mean_std([row["mixture"]["prior_held_out_log_density"] for row in group]),
            "gmm": mean_std([row["mixture"]["held_out_log_density"] for row in group]),
        }
        entry["mixture_seconds"] = mean_std([row["mixture"]["seconds"] for row in group])
        for sampler in ("prior", "gmm"):
            entry[sampler] = {
                space: {
                    name: mean_std([metric(row, sampler, space, name) for row in group])
                    for name in HOLE_METRICS
                }
                for space in spaces
            }
        out.append(entry)
    return out


def hole_figure(r: Report, run) -> dict[str, Any]:
    """``log N(0, I)``, ``log q(z)`` and the mixture's log-density over the latent-2 plane, the
    manifold grid marked; returns how many grid points fall in the hole."""
    train_mean, train_log_var = samplers.encode(run, r.mnist.x_train)
    mixture = samplers.latent_mixture(run, r.config.data_dir, r.log)
    axis = np.linspace(-PLANE, PLANE, PLANE_POINTS)
    plane = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)  # row i: z[1] = axis[i]
    shape = (PLANE_POINTS, PLANE_POINTS)
    grid = evaluation.manifold_latents(r.config.manifold_n)[2]
    log_ratio = latent.log_aggregate_posterior(grid, train_mean, train_log_var) - latent.log_prior(
        grid
    )
    in_hole = int((log_ratio < -np.log(HOLE_RATIO)).sum())
    log_q = latent.log_aggregate_posterior(plane, train_mean, train_log_var)
    log_mixture = log_density(plane, mixture.params)
    densities = {
        "log p(z) = log N(z; 0, I): the prior the slides decode": latent.log_prior(plane),
        f"log q(z): the aggregate posterior of {len(train_mean)} training codes": log_q,
        f"log of the mixture of {mixture.k} Gaussians fitted to them (EM)": log_mixture,
    }
    r.save(
        "latent_hole",
        latent_plots.prior_hole(
            PLANE,
            {k: v.reshape(shape) for k, v in densities.items()},
            grid,
            f"Where the grid is decoded and where images are encoded ({run.run_dir}): "
            f"{in_hole} of {len(grid)} grid points have q(z) < p(z) / {HOLE_RATIO:g}",
            log_ratio=(
                "log q(z) - log p(z): blue where q(z) < p(z)",
                (log_q - latent.log_prior(plane)).reshape(shape),
            ),
        ),
        f"log N(0, I), log q(z) of the training codes and the fitted mixture over the latent "
        f"plane of {run.run_dir}, the manifold grid marked",
    )
    return {
        "run_dir": str(run.run_dir),
        "grid_points": len(grid),
        "grid_points_in_hole": in_hole,
        "hole_ratio": HOLE_RATIO,
        "grid_log_ratio": {"min": float(log_ratio.min()), "median": float(np.median(log_ratio))},
    }


def samples_figure(r: Report, run8, run2) -> None:
    """64 prior samples beside 64 mixture samples of ``run8``; ``run2``'s codes and mixture."""
    config, mnist = r.config, r.mnist
    mixture8 = samplers.latent_mixture(run8, config.data_dir, r.log)
    mixture2 = samplers.latent_mixture(run2, config.data_dir, r.log)
    codes, _ = samplers.encode(run2, mnist.x_test)
    prior = r.prior_samples(run8)[:64]
    gmm = evaluation.sample_prior(
        run8, 64, config.fid_seed, sampler="gmm", data_dir=config.data_dir
    )
    r.save(
        "mixture_samples",
        latent_plots.mixture_samples(
            prior,
            gmm,
            mnist.image_shape,
            (
                f"z ~ N(0, I) (the slides'), {run8.run_dir}",
                f"z ~ mixture of {mixture8.k} Gaussians fitted to its codes",
            ),
            codes,
            mnist.y_test,
            mixture2.params.mu,
            mixture2.params.sigma,
            f"{run2.run_dir}: test codes and its {mixture2.k} components",
            "Decoding the prior against decoding a mixture fitted to the codes after training",
        ),
        f"64 decoded samples of {run8.run_dir} from N(0, I) and from its fitted mixture; the "
        f"mixture of {run2.run_dir} over its test codes",
    )


def prior_hole(r: Report) -> None:
    """The step: every run's surgery and samplers, summarised per latent size; two figures."""
    from vae_keras.features import ClassifierFeatures
    from vae_keras.metrics import Reference

    config = r.config
    spaces = {"pixels": pixel_features}
    if config.classifier.exists():  # make fid-study trains none: pixels alone then
        spaces["classifier"] = ClassifierFeatures(config.classifier.path)
    test = evaluation.as_images(r.mnist.x_test, r.mnist.image_shape)
    references = {s: Reference(np.asarray(f(test), np.float64)) for s, f in spaces.items()}
    runs = [*r.runs2, *r.runs8, *(r.loaded[s.path] for s in config.hole if s.path in r.loaded)]
    progress = Progress("prior hole", len(runs), "runs", r.log, every=0.0)
    rows = []
    for i, run in enumerate(runs, 1):
        rows.append(surgery_row(r, run, spaces, references))
        progress.update(i)
    hole = hole_figure(r, r.runs2[0]) if wants(config, "latent_hole") else None
    if wants(config, "mixture_samples"):
        samples_figure(r, r.runs8[0], r.runs2[0])
    r.results["prior_hole"] = {
        "protocol": (
            f"encodings (z_mean, z_log_var) of the {len(r.mnist.x_train)} MNIST training images; "
            "ELBO surgery (Hoffman & Johnson 2016): the analytic average KL, and I_q(n; z) and "
            "KL(q(z) || p(z)) as Monte Carlo means over "
            f"{500 if config.quick else SURGERY_SAMPLES} draws of q(z) (seed {SURGERY_SEED}), "
            "log q(z) exact by log-sum-exp over every encoding; a Gaussian mixture (full "
            f"covariances) fitted by the slides' EM to the training z_mean, K in "
            f"{list(samplers.MIXTURE_COMPONENTS)} chosen by the mean log-density of the "
            f"{len(r.mnist.x_test)} test z_mean (EM seed {samplers.MIXTURE_SEED}, relative "
            f"tolerance {samplers.MIXTURE_TOL:g}, at most {samplers.MIXTURE_ITERATIONS} "
            f"iterations); {config.fid_samples} images decoded from each sampler (seed "
            f"{config.fid_seed}) against the MNIST test set, in pixels and in the classifier's "
            "features"
        ),
        "runs": rows,
        "summary": summarize(rows, spaces),
        **({"grid": hole} if hole else {}),
    }
