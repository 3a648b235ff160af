"""Feature extractors for the Frechet distance and the other sample-quality metrics.

An extractor maps a batch of images (batch, H, W, C) in [0, 1] to features
(batch, d): the slides' own space, the pixels (:func:`pixel_features`); the
128-unit ``features`` layer of the digit classifier of ``scripts/train_classifier.py``
(:class:`ClassifierFeatures`); InceptionV3's pool-3 layer, as in published FIDs
(:class:`InceptionFeatures`). :func:`get_extractor` picks one by name.

Keras is imported when an extractor that needs it is made, so that
:mod:`vae_keras.fid` (which streams features) stays NumPy and SciPy only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vae_keras.errors import FIDInputError

#: A feature extractor maps (batch, H, W, C) float images in [0, 1] to (batch, d) features.
FeatureExtractor = Callable[[np.ndarray], np.ndarray]


def pixel_features(images: np.ndarray) -> np.ndarray:
    """The slides' feature space: the flattened pixels themselves, in [0, 1]."""
    images = np.asarray(images)
    return images.reshape(images.shape[0], -1)


class InceptionFeatures:
    """InceptionV3 pool-3 features (2048-d), as in published FIDs.

    Images in [0, 1] are resized to 299 x 299, grayscale is repeated to three
    channels, and ``keras.applications.inception_v3.preprocess_input`` maps
    them to [-1, 1]. ``weights`` is ``"imagenet"`` (downloaded by Keras on first
    use; needs internet), a path to a local ``.h5``/``.weights.h5`` file of the
    notop model, or ``None`` for random weights (tests only: such FIDs mean
    nothing).
    """

    dim = 2048

    def __init__(self, weights: str | os.PathLike | None = "imagenet", batch_size: int = 64):
        import keras

        self.batch_size = batch_size
        if weights not in (None, "imagenet") and not Path(weights).is_file():
            raise FIDInputError(f"Inception weights file {weights} not found.")
        try:
            self.model = keras.applications.InceptionV3(
                include_top=False,
                pooling="avg",
                weights=str(weights) if weights else None,
                input_shape=(299, 299, 3),
            )
        except Exception as exc:
            if weights == "imagenet":
                raise FIDInputError(
                    "Could not load the ImageNet weights of InceptionV3 "
                    f"({type(exc).__name__}: {exc}). Without internet, download "
                    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 elsewhere and pass "
                    "its path (--inception-weights PATH)."
                ) from exc
            raise FIDInputError(f"Could not load Inception weights from {weights}: {exc}") from exc

    def __call__(self, images: np.ndarray) -> np.ndarray:
        import keras

        images = np.asarray(images, dtype=np.float32)
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise FIDInputError(
                f"Inception features need (batch, H, W, 1 or 3) images, got {images.shape}."
            )
        if images.shape[-1] == 1:
            images = np.repeat(images, 3, axis=-1)
        resized = keras.ops.image.resize(images, (299, 299), interpolation="bilinear")
        scaled = keras.applications.inception_v3.preprocess_input(resized * 255.0)
        return np.asarray(self.model.predict(scaled, batch_size=self.batch_size, verbose=0))


class ClassifierFeatures:
    """Feature extractor: the ``features`` layer of a trained classifier (128 per image).

    Images (batch, 28, 28, 1) in [0, 1], as every extractor here takes them.
    """

    def __init__(self, path: str | os.PathLike, batch_size: int = 1000):
        import keras

        from vae_keras.classifier import FEATURE_LAYER, MODEL_FILE

        path = Path(path)
        if path.is_dir():
            path = path / MODEL_FILE
        if not path.is_file():
            raise FIDInputError(
                f"No classifier at {path}. Train one first: python scripts/train_classifier.py"
            )
        self.model = keras.saving.load_model(path)
        self.features = keras.Model(self.model.input, self.model.get_layer(FEATURE_LAYER).output)
        self.batch_size = batch_size

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self.features.predict(images, batch_size=self.batch_size, verbose=0))

    def classes(self, images: np.ndarray) -> np.ndarray:
        """The predicted digit of each image."""
        probabilities = self.model.predict(images, batch_size=self.batch_size, verbose=0)
        return np.argmax(probabilities, axis=-1)


FEATURES = ("pixels", "classifier", "inception")


DEFAULT_CLASSIFIER = "runs/mnist-classifier"


def get_extractor(
    name: str,
    inception_weights: str | None = "imagenet",
    classifier: str | os.PathLike = DEFAULT_CLASSIFIER,
) -> FeatureExtractor:
    """The feature extractor called ``name`` (one of :data:`FEATURES`).

    ``classifier``: the run directory (or ``.keras`` file) of
    ``scripts/train_classifier.py``, whose penultimate layer gives the features.
    """
    if name == "pixels":
        return pixel_features
    if name == "inception":
        return InceptionFeatures(inception_weights)
    if name == "classifier":
        return ClassifierFeatures(classifier)
    raise FIDInputError(f"Unknown feature space {name!r}; choose one of {list(FEATURES)}.")
