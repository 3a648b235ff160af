"""Where a decoded sample's ``z`` comes from: the prior, or a mixture fitted to the codes.

The slides decode ``z ~ N(0, I)`` ("Grid sampling from the normal distribution": "recall that
q_phi(z|x) ~ p_theta(z) ~ N(0, I)"). The ELBO surgery (:mod:`vae_keras.latent`) measures how
far the codes of the training images are from that prior. The ``gmm`` sampler closes the gap
after training, with the lecture's own tool: a Gaussian mixture with full covariances fitted by
EM (slides "Example: Gaussian Mixture Model", "ELBO and EM Algorithm";
:mod:`vae_keras.background.em`) to the encoder's means ``mu(x_n)`` of the training images, then
decoded. Ghosh et al. 2020 ("From Variational to Deterministic Autoencoders", section 4) call
this ex-post density estimation.

The protocol (:func:`fit_latent_mixture`): EM from ``MIXTURE_SEED`` for each K in
``MIXTURE_COMPONENTS``; the K whose mixture gives the test images' codes the highest average
log-density is kept (the held-out log-likelihood, compared with the prior's). The mixture is
fitted once per checkpoint and cached beside the run in ``latent_mixture.npz``, written
atomically and keyed by the checkpoint's weights (their SHA-256), the numbers of codes, the
candidate Ks, EM's seed, stopping rule and regulariser, and this protocol's version; a cache
that is damaged or keyed otherwise is refitted, with a line that says why. Training records
nothing new: ``--fresh`` removes the cache with the run's other files.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from keras import ops

from vae_keras.atomic import atomic_path
from vae_keras.background.em import GMM, fit_gmm, log_density, sample_gmm
from vae_keras.batching import take
from vae_keras.conditioning import encoder_inputs
from vae_keras.errors import UserError
from vae_keras.latent import log_prior
from vae_keras.likelihood import posterior_model
from vae_keras.runs import MIXTURE_FILE, LoadedRun, committed_weights, read_state

#: The samplers of z: the prior N(0, I), or the mixture fitted to the training codes.
SAMPLERS = ("prior", "gmm")
#: The candidate numbers of mixture components; the held-out log-likelihood picks one.
MIXTURE_COMPONENTS = (1, 5, 10, 20)
MIXTURE_SEED = 0
#: EM's stopping rule: the log-likelihood gains less than this fraction, or ``MIXTURE_ITERATIONS``.
MIXTURE_TOL = 1e-5
MIXTURE_ITERATIONS = 200
#: Added to each covariance's diagonal (a component on a few codes stays invertible).
MIXTURE_REG = 1e-6
#: Bumped whenever the protocol changes, so that older caches are refitted.
MIXTURE_VERSION = 1


class SamplerError(UserError, ValueError):
    """A sampler that does not exist, or a run that a mixture cannot be fitted to."""


def check_sampler(name: str) -> str:
    """``name`` if it is a sampler of :data:`SAMPLERS`, else a one-line :class:`SamplerError`."""
    if name not in SAMPLERS:
        raise SamplerError(
            f"Unknown sampler {name!r}: choose {' or '.join(SAMPLERS)} (prior: z ~ N(0, I), "
            "the slides'; gmm: a Gaussian mixture fitted to the training codes)."
        )
    return name


def prior_latents(n: int, latent_dim: int, seed: int) -> np.ndarray:
    """``n`` draws of ``z ~ N(0, I)`` (float32), fixed by ``seed``."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def encode(
    run: LoadedRun, x: np.ndarray, labels: np.ndarray | None = None, batch_size: int = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """The encoder's ``(z_mean, z_log_var)`` of the images ``x`` (float64), in batches.

    A conditional run's encoder takes each image's label too (``labels``; required there).
    The model is called directly, not through ``predict``: each call builds a new
    ``posterior_model``, and ``predict`` would trace a new TensorFlow function for each.
    """
    model = posterior_model(run.models)
    inputs = encoder_inputs(x, labels, run.config.conditional)
    parts = [model(take(inputs, slice(i, i + batch_size)), training=False)
             for i in range(0, len(x), batch_size)]  # fmt: skip
    mean, log_var = (np.concatenate([ops.convert_to_numpy(p[j]) for p in parts]) for j in (0, 1))
    return mean.astype(np.float64), log_var.astype(np.float64)


@dataclass(frozen=True)
class LatentMixture:
    """The chosen mixture and how it was chosen: the held-out log-density of the test codes
    (nats per image) under each candidate K and under the prior, EM's iterations and seconds."""

    params: GMM
    k: int
    held_out: dict[int, float]
    prior_held_out: float
    iterations: dict[int, int]
    seconds: float

    def record(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "held_out_log_density": self.held_out[self.k],
            "prior_held_out_log_density": self.prior_held_out,
            "held_out_by_k": {str(k): v for k, v in self.held_out.items()},
            "em_iterations": {str(k): v for k, v in self.iterations.items()},
            "seconds": self.seconds,
        }


def fit_latent_mixture(
    train_codes: np.ndarray,
    test_codes: np.ndarray,
    components: Sequence[int] = MIXTURE_COMPONENTS,
    seed: int = MIXTURE_SEED,
) -> LatentMixture:
    """EM for each K of ``components`` on ``train_codes``; the K with the highest average
    ``log q_K(z)`` over ``test_codes`` is kept (ties: the smaller K)."""
    train = np.asarray(train_codes, np.float64)
    usable = [k for k in components if k <= len(train)]
    if not usable:
        raise SamplerError(
            f"{len(train)} training codes are too few for a mixture of {min(components)} "
            "components: train on more images (a larger --limit, or none)."
        )
    start = time.perf_counter()
    fits, held_out, iterations = {}, {}, {}
    for k in usable:
        fit = fit_gmm(train, k, MIXTURE_ITERATIONS, MIXTURE_TOL, seed, reg=MIXTURE_REG)
        fits[k], iterations[k] = fit.params, len(fit.log_likelihoods) - 1
        held_out[k] = float(log_density(test_codes, fit.params).mean())
    best = max(usable, key=lambda k: (held_out[k], -k))
    return LatentMixture(
        params=fits[best],
        k=best,
        held_out=held_out,
        prior_held_out=float(log_prior(test_codes).mean()),
        iterations=iterations,
        seconds=round(time.perf_counter() - start, 2),
    )


def mixture_key(run: LoadedRun, n_train: int, n_test: int) -> dict[str, Any]:
    """What the cached mixture depends on: the checkpoint's weights, the codes, the protocol."""
    state = read_state(run.run_dir)
    weights = committed_weights(Path(run.run_dir), state) if state is not None else None
    digest = hashlib.sha256(weights.read_bytes()).hexdigest() if weights else None
    return {
        "weights": weights.name if weights else None,
        "weights_sha256": digest,
        "n_train": n_train,
        "n_test": n_test,
        "components": list(MIXTURE_COMPONENTS),
        "seed": MIXTURE_SEED,
        "tol": MIXTURE_TOL,
        "iterations": MIXTURE_ITERATIONS,
        "reg": MIXTURE_REG,
        "version": MIXTURE_VERSION,
    }


def save_mixture(path: str | Path, mixture: LatentMixture, key: dict[str, Any]) -> None:
    """Write the mixture and its key to ``path`` (``.npz``), atomically."""
    buffer = io.BytesIO()
    p = mixture.params
    np.savez(
        buffer,
        tau=p.tau,
        mu=p.mu,
        sigma=p.sigma,
        meta=np.array(json.dumps({"key": key, "record": mixture.record()})),
    )
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def load_mixture(path: str | Path, key: dict[str, Any]) -> tuple[LatentMixture | None, str | None]:
    """The cached mixture at ``path`` if it is whole and fitted under ``key``, else
    ``(None, why)``; ``why`` is None where there is no cache yet."""
    path = Path(path)
    if not path.is_file():
        return None, None
    try:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            params = GMM(data["tau"], data["mu"], data["sigma"])
        record = meta["record"]
        k = int(record["k"])
        if params.mu.shape[0] != k or params.sigma.shape != (k, *params.mu.shape[1:] * 2):
            raise ValueError("arrays of the wrong shape")
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        return None, f"{path} is damaged ({exc})"
    if meta["key"] != key:
        return None, f"{path} was fitted to another checkpoint or protocol"
    mixture = LatentMixture(
        params=params,
        k=k,
        held_out={int(c): v for c, v in record["held_out_by_k"].items()},
        prior_held_out=record["prior_held_out_log_density"],
        iterations={int(c): v for c, v in record["em_iterations"].items()},
        seconds=record["seconds"],
    )
    return mixture, None


def latent_mixture(
    run: LoadedRun,
    data_dir: str | None = None,
    log: Callable[[str], None] = print,
    codes: tuple[np.ndarray, np.ndarray] | None = None,
) -> LatentMixture:
    """The run's mixture: from its cache where that is valid, else fitted (and cached) on the
    codes of its training images, chosen on the codes of its test images (``codes``: the
    training and test ``z_mean`` where the caller has them)."""
    from vae_keras.data import load_dataset

    config = run.config
    dataset = load_dataset(config.dataset, data_dir, config.limit)
    key = mixture_key(run, len(dataset.x_train), len(dataset.x_test))
    path = Path(run.run_dir) / MIXTURE_FILE
    mixture, why = load_mixture(path, key)
    if mixture is not None:
        return mixture
    if why:
        log(f"  {why}: refitting")
    if codes is None:  # (a conditional run's codes: each image encoded with its own label)
        labels = (dataset.y_train, dataset.y_test) if config.conditional else (None, None)
        splits = zip((dataset.x_train, dataset.x_test), labels, strict=True)
        codes = tuple(encode(run, x, y)[0] for x, y in splits)
    train_codes, test_codes = codes
    mixture = fit_latent_mixture(train_codes, test_codes)
    save_mixture(path, mixture, key)
    log(
        f"  {run.run_dir}: mixture of {mixture.k} Gaussians on {len(train_codes)} codes "
        f"in {mixture.seconds:.1f} s (held-out log q(z) {mixture.held_out[mixture.k]:.2f} "
        f"vs prior {mixture.prior_held_out:.2f} nats per image); cached in {path}"
    )
    return mixture


def sample_latents(
    run: LoadedRun,
    n: int,
    seed: int,
    sampler: str = "prior",
    data_dir: str | None = None,
    log: Callable[[str], None] = print,
) -> np.ndarray:
    """``n`` latents (float32, fixed by ``seed``) from the prior or from the run's mixture."""
    if check_sampler(sampler) == "prior":
        return prior_latents(n, run.config.latent_dim, seed)
    z, _ = sample_gmm(latent_mixture(run, data_dir, log).params, n, seed)
    return z.astype(np.float32)
