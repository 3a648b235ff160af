#!/usr/bin/env python
"""Seconds of the importance-weighted bound (k = 1000): compiled vs the eager reference.

In one run, on one trained run directory (default runs/mnist-latent2):
  (1) the eager reference: per batch, encoder and decoder called eagerly and the formula
      applied with keras.ops to numpy arrays (converted at every call), the way
      vae_keras.likelihood computed it before it was compiled; timed on --reference-n
      images and scaled to 10,000;
  (2) likelihood.importance_weighted_log_likelihood: one compiled Keras model per batch
      (log_weights_model), on the whole test set;
  (3) the decoder's matrix products alone at this machine's numpy float32 speed;
  (4) the same products (and nothing else) as a compiled Keras model, batch for batch
      like (2): the bound of the backend's own matrix multiply.
Prints (2)/(1), (2)/(3), (2)/(4) and the largest per-image difference of (1) and (2) on the
images both computed (same noise per example). Writes benchmarks/results/.
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def eager_reference(models, x, k, seed, max_rows=100_000):
    """The bound as computed before compilation: eager calls, numpy in between."""
    import keras
    from scipy.special import logsumexp

    from vae_keras import losses
    from vae_keras.likelihood import example_noise, log_normal_diag, posterior_model
    from vae_keras.model import reparameterize

    to_numpy = keras.ops.convert_to_numpy
    posterior = posterior_model(models)
    latent = posterior.outputs[0].shape[-1]
    out = []
    batch = max(1, max_rows // k)
    for start in range(0, len(x), batch):
        idx = range(start, min(start + batch, len(x)))
        eps = example_noise(seed, idx, k, latent)
        xb = x[idx.start : idx.stop]
        mean, log_var = (to_numpy(t).astype(np.float64) for t in posterior(xb, training=False))
        z = to_numpy(reparameterize(mean, log_var, eps))
        decoded = models.generator(z.reshape(-1, latent).astype(np.float32), training=False)
        x_rep = np.broadcast_to(xb, (k, *xb.shape)).reshape(-1, xb.shape[-1])
        log_px = -to_numpy(losses.reconstruction_loss(x_rep, decoded)).reshape(k, -1)
        # tensors of the backend, float64 (PyTorch does not add a numpy array to its tensor)
        zt, mt, vt = (keras.ops.convert_to_tensor(a, "float64") for a in (z, mean, log_var))
        w = (
            log_px
            + to_numpy(log_normal_diag(zt, 0.0, keras.ops.zeros_like(zt)))
            - to_numpy(log_normal_diag(zt, mt, vt))
        )
        out.append(logsumexp(w, axis=0) - math.log(k))
    return np.concatenate(out)


def decoder_matmul_seconds(latent, hidden, original, samples, repeats=3):
    rng = np.random.default_rng(0)
    rows = 50_000
    z = rng.standard_normal((rows, latent)).astype(np.float32)
    w1 = rng.standard_normal((latent, hidden)).astype(np.float32)
    w2 = rng.standard_normal((hidden, original)).astype(np.float32)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        (z @ w1) @ w2
        best = min(best, time.perf_counter() - start)
    return best * samples / rows


def compiled_matmul_seconds(latent, hidden, original, samples, batch_rows=50_000, repeats=3):
    """Seconds for the decoder's two products as a compiled Keras model, ``batch_rows`` a call."""
    import keras

    z = keras.Input((latent,))
    h = keras.layers.Dense(hidden, activation="relu")(z)
    logits = keras.layers.Dense(original)(h)
    total = keras.layers.Lambda(lambda t: keras.ops.sum(t, axis=-1))(logits)
    model = keras.Model(z, total)
    model.compile(jit_compile=keras.backend.backend() != "torch")
    batch = np.random.default_rng(0).standard_normal((batch_rows, latent)).astype(np.float32)
    model.predict_on_batch(batch)  # compile
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(batch)
        best = min(best, time.perf_counter() - start)
    return best * samples / batch_rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", default="runs/mnist-latent2", help="trained run directory")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--reference-n", type=int, default=500)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    from vae_keras import likelihood
    from vae_keras.atomic import write_json_atomic
    from vae_keras.data import load_dataset
    from vae_keras.report import benchmark_header
    from vae_keras.runs import load_run

    run = load_run(args.run, hint="python scripts/train_mnist.py")
    x = load_dataset(run.config.dataset, args.data_dir).x_test
    start = time.perf_counter()
    reference = eager_reference(run.models, x[: args.reference_n], args.k, seed=0)
    t_reference = (time.perf_counter() - start) * len(x) / args.reference_n
    start = time.perf_counter()
    compiled = likelihood.importance_weighted_log_likelihood(run.models, x, k=args.k, seed=0)
    t_compiled = time.perf_counter() - start
    c = run.config
    t_bound = decoder_matmul_seconds(
        c.latent_dim, c.intermediate_dim, c.original_dim, len(x) * args.k
    )
    t_compiled_bound = compiled_matmul_seconds(
        c.latent_dim, c.intermediate_dim, c.original_dim, len(x) * args.k
    )
    record = {
        **benchmark_header(),
        "run": str(args.run),
        "k": args.k,
        "images": len(x),
        "seconds": {
            "eager_reference": t_reference,
            "compiled": t_compiled,
            "decoder_matmul_bound": t_bound,
            "compiled_matmul_bound": t_compiled_bound,
        },
        "ratio_compiled_over_reference": t_compiled / t_reference,
        "ratio_compiled_over_bound": t_compiled / t_bound,
        "ratio_compiled_over_compiled_bound": t_compiled / t_compiled_bound,
        "max_abs_difference_nats": float(np.abs(reference - compiled[: args.reference_n]).max()),
        "mean_log_likelihood_bound": float(compiled.mean()),
    }
    for name, seconds in record["seconds"].items():
        print(f"{name:22s} {seconds:8.1f} s per {len(x)} images")
    print(
        f"compiled / eager reference = {record['ratio_compiled_over_reference']:.3f}, "
        f"compiled / decoder matmul bound = {record['ratio_compiled_over_bound']:.2f}, "
        f"compiled / compiled matmul bound = {record['ratio_compiled_over_compiled_bound']:.2f}"
    )
    print(
        f"largest difference on {args.reference_n} images: "
        f"{record['max_abs_difference_nats']:.2e} nats; mean bound {compiled.mean():.3f}"
    )
    tag = f"latent{c.latent_dim}"
    out = Path(args.out) if args.out else RESULTS / f"bench_likelihood_{tag}.json"
    write_json_atomic(out, record)
    print(f"Written to {out}")


if __name__ == "__main__":
    main()
