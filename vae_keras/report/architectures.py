"""The architecture comparison: the slides' dense Bernoulli VAE beside its variants.

MNIST: the dense and the conv architecture, both Bernoulli, both latent 2, trained
alike; their test ELBO, importance-weighted bound (the same images, k and noise
seeds for both) and pixel-space FID. CIFAR-10: the slides' dense Bernoulli model
against the conv architecture with the Gaussian decoder of slide "Example":
their reconstructions side by side, pixel-space FID and the reconstructions'
mean squared error. The two likelihoods' ELBOs are not compared: a Bernoulli
probability of grey levels and a Gaussian density are different quantities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_keras import evaluation, likelihood, plots
from vae_keras.fid import compute_statistics, fid_from_statistics
from vae_keras.progress import Progress
from vae_keras.report.context import Report
from vae_keras.runs import LoadedRun

#: Test images and importance samples of the MNIST comparison's bound (the full test set
#: and k = 1000 of the likelihood step would take the conv decoder half an hour here).
COMPARISON_IMAGES = 2000
COMPARISON_K = 100


def variant(run: LoadedRun) -> str:
    """``"conv, gaussian"``: a run's architecture and likelihood."""
    return f"{run.config.architecture}, {run.config.likelihood}"


def model_row(run: LoadedRun) -> dict[str, Any]:
    """What a comparison row says of the model: its run, variant, size and training length."""
    return {
        "run_dir": str(run.run_dir),
        "architecture": run.config.architecture,
        "likelihood": run.config.likelihood,
        "latent_dim": run.config.latent_dim,
        "parameters": run.models.vae.count_params(),
        "epochs": run.history[-1]["epoch"],
    }


def mnist_architectures(r: Report) -> None:
    """ELBO, IW bound and pixel FID of the dense and the conv latent-2 MNIST runs."""
    dense, conv = r.loaded[r.config.mnist2[0].path], r.loaded[r.config.mnist_conv.path]
    n = 500 if r.config.quick else COMPARISON_IMAGES
    k = 10 if r.config.quick else COMPARISON_K
    x = r.mnist.x_test[:n]
    rows = []
    for run in (dense, conv):
        progress = Progress(f"{variant(run)}, k = {k}", n, "images", r.log)
        iw = likelihood.importance_weighted_log_likelihood(
            run.models, x, k=k, seed=0, progress=progress.update
        )
        fid = fid_from_statistics(compute_statistics(r.prior_samples(run)), r.mnist_reference())
        rows.append(
            {
                **model_row(run),
                "elbo": float(likelihood.elbo(run.models, x, samples=10, seed=0).mean()),
                "iw_bound": float(iw.mean()),
                "fid": fid,
            }
        )
        r.log(f"  {run.run_dir}: ELBO {rows[-1]['elbo']:.2f}, IW {iw.mean():.2f}, FID {fid:.2f}")
    r.results["architectures_mnist"] = {
        "protocol": (
            f"the first {n} MNIST test images: ELBO (10 samples of z each) and the k = {k} "
            "importance-weighted bound, nats per image (grey levels as Bernoulli targets); "
            f"FID in pixel space of {r.config.fid_samples} prior samples (seed "
            f"{r.config.fid_seed}) against the 10,000 test images"
        ),
        "rows": rows,
    }


def cifar10_architectures(r: Report) -> None:
    """CIFAR-10 reconstructions of both models in one figure; their pixel FID and error."""
    cifar = r.datasets["cifar10"]
    dense, conv = r.loaded[r.config.cifar.path], r.loaded[r.config.cifar_conv.path]
    x = cifar.x_test[:10]
    shown = {"CIFAR-10 test images": x}
    reference = evaluation.dataset_statistics(cifar.x_test, cifar.image_shape)
    rows: list[dict[str, Any]] = []
    for run in (dense, conv):
        recon = evaluation.reconstruct(run, cifar.x_test)
        shown[f"{variant(run)} (latent {run.config.latent_dim})"] = recon[:10]
        fid = fid_from_statistics(compute_statistics(r.prior_samples(run)), reference)
        rows.append(
            {
                **model_row(run),
                "reconstruction_mse": float(np.mean((recon - cifar.x_test) ** 2)),
                "fid": fid,
            }
        )
        r.log(f"  {run.run_dir}: FID {fid:.2f}, MSE {rows[-1]['reconstruction_mse']:.5f}")
    fig = plots.image_rows(
        shown,
        cifar.image_shape,
        "CIFAR-10 reconstructions: the slides' dense Bernoulli VAE vs conv Gaussian",
    )
    r.save(
        "cifar10_architectures",
        fig,
        f"the first 10 test images, vae(x) of {dense.run_dir} and of {conv.run_dir}",
    )
    r.results["architectures_cifar10"] = {
        "protocol": (
            "the 10,000 CIFAR-10 test images: mean squared error of vae(x) (one z each), FID in "
            f"pixel space (3072 features) of {r.config.fid_samples} prior samples (seed "
            f"{r.config.fid_seed}) against them"
        ),
        "rows": rows,
    }
