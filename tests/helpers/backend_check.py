"""Check the slides' VAE on the Keras backend this process runs (KERAS_BACKEND); print JSON.

Usage: ``python backend_check.py OUT_DIR``; the trained run is kept in OUT_DIR/full, with
``expected.npz`` (the run's own encoder and generator outputs on fixed inputs) for the
``.keras`` files to be checked against in a fresh process.

Run as a subprocess, one per backend (the backend is fixed when Keras is imported):
the loss the model adds against 784 x BCE + KL computed independently in numpy,
training (the loss falls, both parts are reported and add up, the reported
validation KL is the analytic KL of the trained encoder), and an interrupted run
resumed to the uninterrupted history; then the same for the conv architecture with
the Gaussian likelihood (OUT_DIR/variant, ``expected-variant.npz``); mixed precision; and
a conditional VAE (OUT_DIR/conditional, ``expected-conditional.npz``).
"""

import json
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import synthetic_dataset  # noqa: E402

from vae_keras import model as vae_model  # noqa: E402
from vae_keras.runs import RunConfig, load_run  # noqa: E402
from vae_keras.training import train  # noqa: E402

out = {"backend": keras.backend.backend(), "keras": keras.__version__}

# 1. The added loss, from the same weights, batch and noise on every backend: the model's
# layers with epsilon an input (the sampling layer's own noise differs by backend), eager and
# compiled; 200 of the 784 outputs saturated (logits of +/-20, where sigmoid rounds to 0 or 1)
from vae_keras import architectures  # noqa: E402
from vae_keras.model import build_vae, reparameterize  # noqa: E402

rng = np.random.default_rng(0)
models = build_vae(latent_dim=2, seed=0, compile=False)
weights = [rng.normal(0.0, 0.05, w.shape).astype("float32") for w in models.vae.get_weights()]
models.vae.set_weights(weights)
logits_layer = models.vae.get_layer("decoder_logits")
kernel, bias = (np.array(w) for w in logits_layer.get_weights())
kernel[:, :200] = 0.0
bias[:200] = np.where(np.arange(200) % 2, 20.0, -20.0)
logits_layer.set_weights([kernel, bias])
x = rng.random((16, 784)).astype("float32")
epsilon = rng.standard_normal((16, 2)).astype("float32")
vae = models.vae
x_in, eps_in = keras.Input((784,)), keras.Input((2,))
h = vae.get_layer("encoder_h")(x_in)
z_mean, z_log_var = vae.get_layer("z_mean")(h), vae.get_layer("z_log_var")(h)
decoder = [vae.get_layer(n) for n in ("decoder_h", "decoder_logits", "decoder_mean")]
x_logits, x_mean = architectures.apply_decoder(decoder, reparameterize(z_mean, z_log_var, eps_in))
probe = keras.Model(
    [x_in, eps_in], vae.get_layer("vae_loss")([x_in, x_mean, z_mean, z_log_var, x_logits])
)
probe([x, epsilon])
out["added_terms"] = [float(keras.ops.convert_to_numpy(t)) for t in probe.losses]
probe.compile()  # the backend's default (XLA on TensorFlow and JAX)
out["compiled_loss"] = float(probe.evaluate([x, epsilon], verbose=0, batch_size=16))
with np.errstate(over="ignore"):

    def dense(name, inputs):
        w, b = (np.asarray(v, np.float64) for v in vae.get_layer(name).get_weights())
        return inputs @ w + b

    h64 = np.maximum(dense("encoder_h", x.astype(np.float64)), 0.0)
    mu, lv = dense("z_mean", h64), dense("z_log_var", h64)
    l64 = dense("decoder_logits", np.maximum(dense("decoder_h", mu + np.exp(lv / 2) * epsilon), 0))
    bce = np.sum(np.logaddexp(0.0, l64) - x * l64, axis=1)  # -x log s(l) - (1-x) log(1-s(l))
    kl = -0.5 * np.sum(1 + lv - mu**2 - np.exp(lv), axis=1)
out["numpy_terms"] = [float(bce.mean()), float(kl.mean())]
out["saturated"] = float(np.abs(l64[:, :200]).min())
clipped = keras.ops.convert_to_numpy(probe.predict([x, epsilon], verbose=0, batch_size=16))
out["clipped_reconstruction"] = float(
    np.mean(keras.ops.convert_to_numpy(vae_model.losses.reconstruction_loss(x, clipped)))
)
out["passes_through"] = bool(np.allclose(clipped, 1 / (1 + np.exp(-l64)), rtol=1e-5, atol=1e-6))

# 1b. The sampling noise: N(0, 1) and U[0, 1) (Kolmogorov-Smirnov), the generator advancing
from scipy import stats  # noqa: E402

from vae_keras import noise  # noqa: E402

g = keras.random.SeedGenerator(3)
normal = [keras.ops.convert_to_numpy(noise.standard_normal((100_000,), g)) for _ in range(2)]
uniform = keras.ops.convert_to_numpy(noise.uniform((100_000,), g))
out["noise"] = {
    "normal_p": float(stats.kstest(normal[0], "norm").pvalue),
    "uniform_p": float(stats.kstest(uniform, "uniform").pvalue),
    "advances": bool(not np.array_equal(normal[0], normal[1])),
    "uniform_range": bool(uniform.min() >= 0.0 and uniform.max() < 1.0),
}

# 2. Training on a small synthetic set
dataset = synthetic_dataset(640, 128)
xte, yte = dataset.x_test, dataset.y_test
config = RunConfig(intermediate_dim=64, latent_dim=2, epochs=4, batch_size=64, seed=5)


class StopAfter(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == 2:
            raise KeyboardInterrupt


keep = Path(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    history = train(config, dataset, keep / "full", verbose=0)
    out["history"] = history
    vae = load_run(keep / "full").models.vae
    posterior = keras.Model(vae.input, [vae.get_layer(n).output for n in ("z_mean", "z_log_var")])
    mean, log_var = (np.asarray(keras.ops.convert_to_numpy(t), np.float64) for t in posterior(xte))
    out["analytic_val_kl"] = float(
        np.mean(-0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=1))
    )
    # 3. What comes after training: reconstructions, FID, likelihood, a figure
    from vae_keras import evaluation, likelihood, plots

    run = load_run(keep / "full")
    z_fixed = np.random.default_rng(7).standard_normal((16, 2)).astype("float32")
    np.savez(
        keep / "expected.npz",
        z=z_fixed,
        generated=keras.ops.convert_to_numpy(run.models.generator(z_fixed)),
        x=xte[:16],
        encoded=keras.ops.convert_to_numpy(run.models.encoder(xte[:16])),
    )
    recon = [evaluation.reconstruct(run, xte[:32], seed=1) for _ in range(2)]
    out["reconstructions_repeat"] = bool(np.array_equal(*recon))
    out["reconstructions_in_unit_interval"] = bool(((recon[0] > 0) & (recon[0] < 1)).all())
    out["fid"] = evaluation.fid_of_run(run, dataset, n=256, seed=3).fid
    out["iw_k1"] = float(
        likelihood.importance_weighted_log_likelihood(run.models, xte[:32], k=1, seed=0).mean()
    )
    out["iw_k100"] = float(
        likelihood.importance_weighted_log_likelihood(run.models, xte[:32], k=100, seed=0).mean()
    )
    out["elbo"] = float(likelihood.elbo(run.models, xte[:32], samples=50, seed=0).mean())
    # the ELBO surgery and the mixture sampler on this backend's encodings
    from vae_keras import latent, samplers

    codes, log_var = samplers.encode(run, dataset.x_train)
    out["surgery"] = latent.elbo_surgery(codes, log_var, n_samples=500, seed=0).as_dict()
    mixture = samplers.fit_latent_mixture(codes, samplers.encode(run, xte)[0], components=(1, 3))
    out["mixture_k"], out["mixture_held_out"] = mixture.k, mixture.held_out[mixture.k]
    out["mixture_prior_held_out"] = mixture.prior_held_out
    # the KL weight: the same weights evaluated with beta 3 and the slides' beta 1
    weighted = build_vae(intermediate_dim=64, latent_dim=2, seed=5, beta=3.0)
    weighted.vae.set_weights(run.models.vae.get_weights())
    out["beta3"] = weighted.vae.evaluate(xte, batch_size=len(xte), verbose=0, return_dict=True)
    out["beta1"] = run.models.vae.evaluate(xte, batch_size=len(xte), verbose=0, return_dict=True)
    z = keras.ops.convert_to_numpy(run.models.encoder(xte))
    figure = plots.latent_scatter(z, yte, "latent space")
    out["figure_axes"] = len(figure.axes)
    try:
        train(config, dataset, Path(tmp) / "resumed", verbose=0, callbacks=[StopAfter()])
    except KeyboardInterrupt:
        pass
    out["resumed"] = train(config, dataset, Path(tmp) / "resumed", verbose=0)

    # 4. The conv architecture with the Gaussian likelihood: trains, resumes exactly, and its
    # .keras files (in keep/variant) are checked in fresh processes like the dense ones
    small = synthetic_dataset(128, 32)
    variant = RunConfig(**{**config.to_dict(), "epochs": 2, "intermediate_dim": 16,
                           "architecture": "conv", "likelihood": "gaussian"})  # fmt: skip
    out["variant_history"] = train(variant, small, keep / "variant", verbose=0)

    class StopAfterOne(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    try:
        train(variant, small, Path(tmp) / "variant", verbose=0, callbacks=[StopAfterOne()])
    except KeyboardInterrupt:
        pass
    out["variant_resumed"] = train(variant, small, Path(tmp) / "variant", verbose=0)
    run = load_run(keep / "variant")
    np.savez(
        keep / "expected-variant.npz",
        z=z_fixed,
        generated=keras.ops.convert_to_numpy(run.models.generator(z_fixed)),
        x=small.x_test[:16],
        encoded=keras.ops.convert_to_numpy(run.models.encoder(small.x_test[:16])),
    )
    out["variant_iw_k50"] = float(
        likelihood.importance_weighted_log_likelihood(run.models, small.x_test[:16], k=50).mean()
    )
    out["variant_elbo"] = float(likelihood.elbo(run.models, small.x_test[:16], samples=20).mean())

    # 5. --precision mixed_bfloat16: bfloat16 products where the policy puts them, float32
    # weights and outputs, the float32 model's loss to bfloat16's precision; it trains
    mixed = RunConfig(**{**config.to_dict(), "epochs": 3, "precision": "mixed_bfloat16"})
    out["mixed_history"] = train(mixed, dataset, Path(tmp) / "mixed", verbose=0)
    out["global_policy_after"] = keras.config.dtype_policy().name
    mixed_models = load_run(Path(tmp) / "mixed").models
    out["mixed_compute_dtypes"] = {
        layer.name: layer.compute_dtype
        for layer in mixed_models.vae.layers
        if layer.name in ("encoder_h", "z_mean", "z", "decoder_h", "decoder_logits", "decoder_mean")
        or layer.name == "vae_loss"
    }
    out["mixed_variable_dtypes"] = sorted({v.dtype for v in mixed_models.vae.weights})
    out["mixed_output_dtypes"] = [
        str(keras.ops.convert_to_numpy(mixed_models.encoder(xte[:4])).dtype),
        str(keras.ops.convert_to_numpy(mixed_models.generator(z_fixed[:4])).dtype),
    ]
    as_float32 = build_vae(original_dim=784, intermediate_dim=64, latent_dim=2, seed=1)
    as_float32.vae.set_weights(mixed_models.vae.get_weights())
    pair = (as_float32, mixed_models)
    generated = [keras.ops.convert_to_numpy(m.generator(z_fixed)) for m in pair]
    encoded = [keras.ops.convert_to_numpy(m.encoder(xte)) for m in pair]
    out["mixed_vs_float32_max_difference"] = {
        "generated": float(np.abs(generated[0] - generated[1]).max()),
        "encoded": float(np.abs(encoded[0] - encoded[1]).max()),
        "encoded_scale": float(np.abs(encoded[0]).max()),
    }

    # 6. The conditional VAE (--conditional): the label joins encoder and decoder; the fast path
    # (fused steps where the backend has one) and Keras's loop train the same; the generator
    # draws another image for another label; .keras files checked in fresh processes
    from vae_keras.conditioning import encoder_inputs, generator_inputs  # noqa: E402
    from vae_keras.training import TrainOptions  # noqa: E402

    conditional = RunConfig(**{**config.to_dict(), "epochs": 2, "intermediate_dim": 16,
                               "conditional": True})  # fmt: skip
    out["conditional_history"] = train(conditional, small, keep / "conditional", verbose=0)
    loop = TrainOptions(fuse_steps=False)
    out["conditional_loop_history"] = train(
        conditional, small, Path(tmp) / "loop", verbose=0, options=loop
    )
    try:  # interrupted after its first epoch, then resumed
        train(conditional, small, Path(tmp) / "cond-resumed", verbose=0, callbacks=[StopAfterOne()])
    except KeyboardInterrupt:
        pass
    out["conditional_resumed"] = train(conditional, small, Path(tmp) / "cond-resumed", verbose=0)
    run = load_run(keep / "conditional")
    labels = np.arange(16) % 10
    as_other_digit = generator_inputs(z_fixed, (labels + 1) % 10)
    generated = keras.ops.convert_to_numpy(run.models.generator(generator_inputs(z_fixed, labels)))
    other = keras.ops.convert_to_numpy(run.models.generator(as_other_digit))
    out["conditional_label_changes_image"] = float(np.abs(generated - other).max(axis=1).min())
    codes = [
        keras.ops.convert_to_numpy(run.models.encoder(encoder_inputs(small.x_test[:16], y)))
        for y in (labels, (labels + 1) % 10)
    ]
    encoded = codes[0]
    out["conditional_label_changes_code"] = float(np.abs(codes[0] - codes[1]).max())
    np.savez(keep / "expected-conditional.npz", z=z_fixed, labels=labels, generated=generated,
             x=small.x_test[:16], encoded=encoded)  # fmt: skip
print(json.dumps(out))
