"""A small convolutional MNIST classifier: a feature space that knows what a digit is.

Pixel features (and ImageNet's InceptionV3) ignore what a digit is; the FID tools'
maintainers advise a feature space from a classifier trained on the dataset
itself. :func:`build_classifier` is a two-convolution network of the Keras MNIST
example's kind; its 128-unit ``features`` layer gives the ``classifier`` features
of :mod:`vae_keras.features` (FID, KID, precision and recall), and its softmax
classifies generated digits (which digits the VAE over- or under-produces).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import keras
from keras import layers

from vae_keras.atomic import atomic_path, write_json_atomic
from vae_keras.data import Dataset

FEATURE_LAYER = "features"
MODEL_FILE = "classifier.keras"
RESULT_FILE = "result.json"


def build_classifier(image_shape: tuple[int, ...] = (28, 28), classes: int = 10) -> keras.Model:
    """Conv(32) - pool - Conv(64) - pool - Dense(128, ``features``) - softmax, compiled (Adam)."""
    shape = tuple(image_shape) if len(image_shape) == 3 else (*image_shape, 1)
    inputs = keras.Input(shape=shape, name="image")
    h = layers.Conv2D(32, 3, activation="relu")(inputs)
    h = layers.MaxPooling2D()(h)
    h = layers.Conv2D(64, 3, activation="relu")(h)
    h = layers.MaxPooling2D()(h)
    h = layers.Flatten()(h)
    h = layers.Dropout(0.25)(h)
    features = layers.Dense(128, activation="relu", name=FEATURE_LAYER)(h)
    outputs = layers.Dense(classes, activation="softmax", name="class")(
        layers.Dropout(0.25)(features)
    )
    model = keras.Model(inputs, outputs, name="mnist_classifier")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


#: Training epochs of ``scripts/train_classifier.py`` and of :func:`train_classifier`.
EPOCHS = 6


def train_classifier(
    dataset: Dataset,
    out_dir: str | os.PathLike,
    epochs: int = EPOCHS,
    batch_size: int = 128,
    seed: int = 0,
) -> dict:
    """Train on the training split, test on the test split; write the model and its record.

    ``out_dir`` receives ``classifier.keras`` (loads in Keras's safe mode) and
    ``result.json`` (test accuracy, epochs, seed, seconds), each written atomically.
    """
    keras.utils.set_random_seed(seed)
    model = build_classifier(dataset.image_shape)
    x_train = dataset.x_train.reshape(-1, *model.input_shape[1:])
    x_test = dataset.x_test.reshape(-1, *model.input_shape[1:])
    start = time.perf_counter()
    model.fit(x_train, dataset.y_train, epochs=epochs, batch_size=batch_size, verbose=2)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, dataset.y_test, verbose=0)
    out_dir = Path(out_dir)
    with atomic_path(out_dir / MODEL_FILE) as tmp:
        model.save(tmp)
    result = {
        "test_accuracy": float(accuracy),
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "train_seconds": seconds,
        "data": dataset.source,
    }
    write_json_atomic(out_dir / RESULT_FILE, result)
    return result


def read_result(out_dir: str | os.PathLike) -> dict:
    return json.loads((Path(out_dir) / RESULT_FILE).read_text())
