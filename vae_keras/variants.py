"""The model's variants, the images of each dataset, the FID study's runs (stdlib only).

A run records its ``architecture`` and ``likelihood`` by these names
(:class:`vae_keras.runs.RunConfig`); :mod:`vae_keras.architectures` and
:mod:`vae_keras.model` build them.
"""

#: Encoder/decoder bodies: the slides' dense layers, or the keras-io convolutional ones.
ARCHITECTURES = ("dense", "conv")
#: Decoder distributions ``p(x | z)``: the slides' cross-entropy, or slide "Example"'s Gaussian.
LIKELIHOODS = ("bernoulli", "gaussian")

#: Keras dtype policies a run may train with: the slides' float32, or float32 variables
#: with bfloat16 products (:func:`vae_keras.model.dtype_policy`).
PRECISIONS = ("float32", "mixed_bfloat16")

#: Image shape (without the sample axis) of each supported dataset.
IMAGE_SHAPES: dict[str, tuple[int, ...]] = {
    "mnist": (28, 28),
    "cifar10": (32, 32, 3),
}


#: The FID study (:mod:`vae_keras.report.study`): the slides' model with these latent sizes
#: and training seeds (latent 2 and 8 are the main protocol's runs, which ``make reproduce``
#: trains too).
STUDY_LATENTS = (2, 4, 8, 16, 32)
STUDY_SEEDS = (0, 1, 2)
#: The study's latent size whose runs the prior-hole step measures beside latent 2 and 8.
HOLE_STUDY_LATENT = 16
#: The KL weights of the rate-distortion study (latent 8, seed 0; beta 1 is make reproduce's
#: three seeds). 784 is the per-pixel mean of the cross-entropy next to the same KL.
RATE_BETAS = (0.25, 0.5, 2.0, 4.0, 784.0)
RATE_LATENT = 8


#: The conditional VAE's study (:mod:`vae_keras.report.conditional`): latent 8 beside make
#: reproduce's unconditional latent-8 runs, the same seeds.
CONDITIONAL_LATENT = 8


def conditional_run_name(seed: int) -> str:
    """``mnist-latent8-cond``, ``mnist-latent8-cond-seed1``: train_mnist.py's default names."""
    return f"mnist-latent{CONDITIONAL_LATENT}-cond" + (f"-seed{seed}" if seed else "")


def conditional_train_options(seed: int) -> tuple[str, ...]:
    """train_mnist.py's options for one conditional run (its default directory)."""
    return ("--latent-dim", str(CONDITIONAL_LATENT), "--conditional",
            *(("--seed", str(seed)) if seed else ()))  # fmt: skip


def rate_train_options(beta: float) -> tuple[str, ...]:
    """train_mnist.py's options for one rate-distortion run (its default directory)."""
    return ("--latent-dim", str(RATE_LATENT), "--beta", f"{beta:g}")


def study_run_name(latent_dim: int, seed: int) -> str:
    """``mnist-latent8``, ``mnist-latent8-seed1``: train_mnist.py's default run directories."""
    return f"mnist-latent{latent_dim}" + (f"-seed{seed}" if seed else "")


def study_train_options(latent_dim: int, seed: int) -> tuple[str, ...]:
    """train_mnist.py's options for one study run (its default directory)."""
    latent = () if latent_dim == 2 else ("--latent-dim", str(latent_dim))
    return (*latent, *(("--seed", str(seed)) if seed else ()))
