"""The slides' figures, one function per figure: a :class:`~vae_keras.report.context.Report` in,
a PNG (and its line in results.json) out. Arrays are computed by :mod:`vae_keras.evaluation`
and drawn by :mod:`vae_keras.plots`."""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_keras import evaluation, plots
from vae_keras.background import figures as background_figures
from vae_keras.report.context import (
    Report,
)


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


def training_curves(r: Report) -> None:
    """The first latent-2 run's curves, and the first latent-8 run's where it exists."""
    shown = [r.runs2[0], *r.runs8[:1]]
    fig = plots.training_curves(
        {f"latent {run.config.latent_dim}": run.history for run in shown},
        "Training curves of the slides' VAE on MNIST",
    )
    what = "history.json of " + " and ".join(str(run.run_dir) for run in shown)
    r.save("mnist_training_curves", fig, what)


def denoising(r: Report) -> dict[str, Any]:
    x_train = r.mnist.x_train[:5000] if r.config.quick else r.mnist.x_train
    epochs = 2 if r.config.quick else 20
    return background_figures.denoising_autoencoder(
        r.out, x_train, r.mnist.x_test, r.mnist.image_shape, epochs, log=r.log
    )
