"""The names of the model's variants and the images of each dataset (standard library only).

A run records its ``architecture`` and ``likelihood`` by these names
(:class:`vae_keras.runs.RunConfig`); :mod:`vae_keras.architectures` and
:mod:`vae_keras.model` build them.
"""

#: Encoder/decoder bodies: the slides' dense layers, or the keras-io convolutional ones.
ARCHITECTURES = ("dense", "conv")
#: Decoder distributions ``p(x | z)``: the slides' cross-entropy, or slide "Example"'s Gaussian.
LIKELIHOODS = ("bernoulli", "gaussian")

#: Image shape (without the sample axis) of each supported dataset.
IMAGE_SHAPES: dict[str, tuple[int, ...]] = {
    "mnist": (28, 28),
    "cifar10": (32, 32, 3),
}
