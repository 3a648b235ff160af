"""The MNIST classifier behind the `classifier` feature space: it learns, loads, and serves FID."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_script, synthetic_images, write_npz

from vae_keras import classifier
from vae_keras.data import Dataset, load_dataset, validate_split
from vae_keras.features import ClassifierFeatures

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Ten noisy prototype digits: 600 training and 200 test images of the same prototypes."""
    images, labels = synthetic_images(800, seed=5)
    xtr, ytr = validate_split(images[:600], labels[:600], (28, 28))
    xte, yte = validate_split(images[600:], labels[600:], (28, 28))
    dataset = Dataset("mnist", (28, 28), xtr, ytr, xte, yte, "synthetic")
    out = tmp_path_factory.mktemp("classifier")
    result = classifier.train_classifier(dataset, out, epochs=3, batch_size=64, seed=0)
    return out, dataset, result


def test_the_classifier_learns_and_its_files_load_in_safe_mode(trained):
    out, dataset, result = trained
    assert result["test_accuracy"] > 0.95
    assert json.loads((out / classifier.RESULT_FILE).read_text()) == result
    features = ClassifierFeatures(out)  # loads classifier.keras in safe mode
    images = dataset.x_test.reshape(-1, 28, 28, 1)
    assert features(images).shape == (len(images), 128)
    assert np.mean(features.classes(images) == dataset.y_test) > 0.95


def test_compute_fid_with_classifier_features(trained, tmp_path):
    out, _, _ = trained
    write_npz(tmp_path, n_train=200, n_test=200)
    record = tmp_path / "record.json"
    data_args = ["--data-dir", tmp_path]
    result = run_script(
        "scripts/compute_fid.py", "mnist:train", "mnist:test", "--n", "200",
        "--features", "classifier", "--classifier", out, "--metrics", "fid,kid",
        *data_args, "--json", record,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(record.read_text())
    assert data["features"] == "classifier" and data["fid"] > 0 and "mean" in data["kid"]
    missing = run_script(
        "scripts/compute_fid.py", "mnist:train", "mnist:test", "--features", "classifier",
        "--classifier", tmp_path / "none", *data_args,
    )  # fmt: skip
    assert missing.returncode == 2 and "python scripts/train_classifier.py" in missing.stderr


@pytest.mark.slow
def test_the_classifier_reaches_99_percent_on_the_real_test_set(mnist_dir, tmp_path):
    result = classifier.train_classifier(load_dataset("mnist", mnist_dir), tmp_path, seed=0)
    assert result["test_accuracy"] >= 0.990
