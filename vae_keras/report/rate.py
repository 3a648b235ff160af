"""The KL weight's study (issue: "the KL weight, and why ``784 *``"): the slides' latent-8 model
trained with ``--beta`` in :data:`vae_keras.variants.RATE_BETAS` beside its three beta-1 seeds.

For each run, on the MNIST test set: the rate ``R = E KL(q(z|x) || p(z))`` and the distortion
``D = E[-log p(x|z)]`` (Alemi et al. 2018, "Fixing a Broken ELBO": ``D + R`` is the negative
ELBO, ``beta`` trades one for the other), both from ``evaluate`` (one ``z`` per image, the
unweighted metrics); the active units (Burda et al. 2016, :func:`vae_keras.latent.active_units`);
the pixel FID, precision and recall of its prior samples. ``beta = 784`` is the per-pixel mean of
the cross-entropy next to the same KL (the loss of keras-team/keras#3383 before its fix).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_keras import evaluation, latent, latent_plots, plots, samplers
from vae_keras.features import pixel_features
from vae_keras.report.context import SLIDES_FID, Report, wants
from vae_keras.report.records import mean_std


def measure(r: Report, run, reference) -> dict[str, Any]:
    """One run's rate, distortion, active units and sample quality."""
    from vae_keras.metrics import sample_quality

    x = r.mnist.x_test
    scores = run.models.vae.evaluate(x, batch_size=1000, verbose=0, return_dict=True)
    codes, _ = samplers.encode(run, x)
    images = evaluation.as_images(r.prior_samples(run), r.mnist.image_shape)
    features = np.asarray(pixel_features(images), np.float64)
    metrics = ("fid", "precision", "recall")
    quality = sample_quality(features, reference, metrics, seed=r.config.fid_seed)
    return {
        "run_dir": str(run.run_dir),
        "beta": run.config.beta,
        "seed": run.config.seed,
        "rate": float(scores["kl_loss"]),
        "distortion": float(scores["reconstruction_loss"]),
        "active_units": latent.active_units(codes),
        "unit_activity": [round(float(a), 4) for a in latent.unit_activity(codes)],
        "fid": quality["fid"],
        "precision": quality["precision"],
        "recall": quality["recall"],
    }


def rate_distortion(r: Report) -> None:
    """The step: every beta run and the beta-1 seeds measured; two figures."""
    from vae_keras.metrics import Reference

    test = evaluation.as_images(r.mnist.x_test, r.mnist.image_shape)
    reference = Reference(np.asarray(pixel_features(test), np.float64))
    runs = [*r.runs8, *(r.loaded[s.path] for s in r.config.rate if s.path in r.loaded)]
    measured = [(measure(r, run, reference), run) for run in runs]
    rows = [row for row, _ in measured]
    for row in rows:
        r.log(
            f"  {row['run_dir']}: beta {row['beta']:g}, R {row['rate']:.2f}, "
            f"D {row['distortion']:.2f}, {row['active_units']} active units, FID {row['fid']:.2f}"
        )
    ones = [row for row in rows if row["beta"] == 1.0]
    keys = ("rate", "distortion", "active_units", "fid", "precision", "recall")
    summary = {k: mean_std([row[k] for row in ones]) for k in keys}
    # one point per beta: the weighted runs and the first beta-1 seed
    shown = sorted(
        ((row, run) for row, run in measured if row["beta"] != 1.0 or row is ones[0]),
        key=lambda pair: pair[0]["beta"],
    )
    if wants(r.config, "rate_distortion"):
        r.save(
            "rate_distortion",
            latent_plots.rate_distortion(
                [row for row, _ in shown],
                ones[0],
                "The slides' latent-8 VAE trained with its KL term weighted by β",
                SLIDES_FID,
            ),
            "rate against distortion on MNIST test, FID, precision and recall against beta",
        )
    if wants(r.config, "beta_samples"):
        x = r.mnist.x_test[:10]
        images: dict[str, np.ndarray] = {"MNIST test images": x}
        for row, run in shown:
            images[f"β = {row['beta']:g}: reconstructions"] = evaluation.reconstruct(run, x)
            images[f"β = {row['beta']:g}: samples from N(0, I)"] = r.prior_samples(run)[:10]
        r.save(
            "beta_samples",
            plots.image_rows(
                images, r.mnist.image_shape, "Reconstructions and samples against the KL weight β"
            ),
            "10 test digits, their reconstructions and 10 prior samples per beta (latent 8)",
        )
    r.results["rate_distortion"] = {
        "protocol": (
            "the slides' model with latent 8 (50 epochs, batch 256, RMSprop), the loss "
            "reconstruction + beta * KL; on the 10,000 MNIST test images: rate R (mean KL) and "
            "distortion D (mean -log p(x|z), one z per image), active units (variance over the "
            f"images of z_mean > {latent.ACTIVE_THRESHOLD}), and the pixel FID, precision and "
            f"recall of {r.config.fid_samples} prior samples (seed {r.config.fid_seed})"
        ),
        "runs": rows,
        "beta1": summary,
    }
