"""Compute and draw the background figures (steps of :data:`vae_keras.report.STEPS`).

Each function returns the numbers its figure shows, for ``results.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm

from vae_keras import plots
from vae_keras.background import cavi, em, estimators, kl

BACKGROUND_FIGURES = (
    "denoising_autoencoder",
    "em_gmm",
    "kl_forward_reverse",
    "cavi_elbo",
    "gradient_variance",
)


def denoising_autoencoder(
    out: Path, x_train, x_test, image_shape, epochs: int, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Train a masking-noise and a Gaussian-noise denoising autoencoder; draw their outputs.

    Seeded (initial weights, batch order and noise), so that the figure and its numbers
    are the same from one run to the next.
    """
    import keras

    from vae_keras.autoencoders import build_autoencoder
    from vae_keras.progress import epoch_progress

    rows, numbers = {}, {}
    for corruption, level in (("mask", 0.5), ("gaussian", 0.5)):
        keras.utils.set_random_seed(0)
        models = build_autoencoder(corruption=corruption, level=level, seed=0)
        history = models.autoencoder.fit(
            x_train,
            x_train,
            epochs=epochs,
            batch_size=256,
            verbose=0,
            validation_data=(x_test, x_test),
            shuffle=True,
            callbacks=[epoch_progress(f"{corruption}-noise autoencoder", epochs, log)],
        ).history
        clean = x_test[:10]
        corrupted = np.asarray(models.corruption(clean, training=True))
        # the encoder sees the corrupted input as in training; the figure shows it clipped
        reconstructed = models.autoencoder.predict(corrupted, verbose=0)
        rows[f"{corruption} noise {level}"] = (clean, np.clip(corrupted, 0, 1), reconstructed)
        numbers[corruption] = {
            "level": level,
            "epochs": epochs,
            "final_loss": round(history["loss"][-1], 3),
            "final_val_loss_clean_input": round(history["val_loss"][-1], 3),
        }
    plots.save_figure(plots.denoising(rows, image_shape), out / "denoising_autoencoder.png")
    return numbers


def em_figure(out: Path) -> dict[str, Any]:
    truth = em.GMM(
        tau=np.array([0.4, 0.6]),
        mu=np.array([[-2.0, 0.0], [2.0, 1.5]]),
        sigma=np.array([[[1.0, 0.6], [0.6, 1.0]], [[0.8, -0.3], [-0.3, 0.5]]]),
    )
    x, _ = em.sample_gmm(truth, 1000, seed=0)
    fit = em.fit_gmm(x, k=2, n_iter=200, seed=4)
    fig = plots.em_gmm(
        x, fit.responsibilities, fit.params.mu, fit.params.sigma, fit.log_likelihoods, truth.mu
    )
    plots.save_figure(fig, out / "em_gmm.png")
    return {
        "iterations": len(fit.log_likelihoods) - 1,
        "log_likelihood_first_last": [fit.log_likelihoods[0], fit.log_likelihoods[-1]],
        "min_step": float(np.diff(fit.log_likelihoods).min()),
        "fitted_means": fit.params.mu.tolist(),
        "true_means": truth.mu.tolist(),
    }


def kl_figure(out: Path) -> dict[str, Any]:
    p = kl.BIMODAL
    forward = kl.fit_gaussian(p, "forward")
    reverse = kl.fit_gaussian(p, "reverse", init=(0.5, 0.0))
    grid = np.linspace(-8, 8, 1000)
    fig = plots.kl_forward_reverse(
        grid,
        np.exp(p.log_pdf(grid)),
        norm.pdf(grid, forward.mean, forward.sd),
        norm.pdf(grid, reverse.mean, reverse.sd),
    )
    plots.save_figure(fig, out / "kl_forward_reverse.png")
    return {
        "target": {"weights": p.weights, "means": p.means, "sds": p.sds},
        "forward": {
            "mean": forward.mean,
            "sd": forward.sd,
            "moments": [p.mean(), p.variance() ** 0.5],
        },
        "reverse": {"mean": reverse.mean, "sd": reverse.sd, "kl": reverse.kl},
    }


def cavi_figure(out: Path) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    true_means = np.array([-6.0, -1.0, 4.0])
    x = true_means[rng.integers(0, 3, 600)] + rng.standard_normal(600)
    fit = cavi.cavi(x, k=3, seed=2)
    order = np.argsort(fit.m[:, 0])
    fig = plots.cavi_elbo(x, fit.elbos, fit.m[order, 0], np.sqrt(fit.s2[order]), true_means)
    plots.save_figure(fig, out / "cavi_elbo.png")
    return {
        "sweeps": len(fit.elbos) - 1,
        "elbo_first_last": [fit.elbos[0], fit.elbos[-1]],
        "fitted_means": fit.m[order, 0].tolist(),
        "true_means": true_means.tolist(),
    }


def gradient_figure(out: Path, repeats: int) -> dict[str, Any]:
    samples = [1, 2, 5, 10, 20, 50, 100]
    variances: dict[str, dict[str, list[float]]] = {}
    for fn in estimators.FUNCTIONS:
        by = {"score function": [], "reparameterization": []}
        for n in samples:
            r = estimators.estimator_variance(fn, 0.7, 0.8, samples=n, repeats=repeats)
            by["score function"].append(float(r["score_var"][0]))
            by["reparameterization"].append(float(r["reparameterization_var"][0]))
        variances[fn.name] = by
    plots.save_figure(plots.gradient_variance(samples, variances), out / "gradient_variance.png")
    return {"mu": 0.7, "sigma": 0.8, "samples": samples, "variance_of_d_dmu": variances}
