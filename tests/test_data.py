"""The loader: the data-dir path, the environment variable, and every documented error."""

import numpy as np
import pytest
from conftest import write_npz

from vae_keras import data
from vae_keras.data import DATA_DIR_ENV, DataError, load_dataset


def test_tiny_npz_loads_through_data_dir(tmp_path):
    write_npz(tmp_path)
    ds = load_dataset("mnist", tmp_path)
    assert ds.x_train.shape == (300, 784) and ds.x_test.shape == (100, 784)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    raw = np.load(tmp_path / "mnist.npz")["x_train"]
    assert np.array_equal(ds.x_train[0], raw[0].reshape(-1) / np.float32(255))
    assert ds.original_dim == 784 and ds.source.endswith("mnist.npz")


def test_environment_variable_is_used(tmp_path, monkeypatch):
    write_npz(tmp_path)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert load_dataset("mnist", limit=10).x_train.shape == (10, 784)


def test_cifar_layout_with_column_labels(tmp_path):
    _, y = np.zeros(1), np.arange(300).reshape(-1, 1) % 10
    write_npz(tmp_path, name="cifar10", shape=(32, 32, 3), y_train=y)
    ds = load_dataset("cifar10", tmp_path)
    assert ds.x_train.shape == (300, 3072) and ds.y_train.shape == (300,)
    assert ds.image_shape == (32, 32, 3)


def test_float_images_in_unit_range_are_kept(tmp_path):
    x = np.random.default_rng(0).random((300, 28, 28)).astype(np.float32)
    write_npz(tmp_path, x_train=x)
    assert np.array_equal(load_dataset("mnist", tmp_path).x_train, x.reshape(300, -1))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"y_test": None}, r"lacks the array\(s\) \['y_test'\]"),
        (
            {"x_train": np.zeros((5, 28, 27), np.uint8)},
            r"x_train has shape \(5, 28, 27\); expected \(N, 28, 28\)",
        ),
        (
            {"x_train": np.zeros((0, 28, 28), np.uint8), "y_train": np.zeros(0, np.uint8)},
            "x_train is empty",
        ),
        (
            {"x_test": np.zeros((100, 28, 28), np.complex64)},
            "x_test has dtype complex64; expected uint8",
        ),
        (
            {"x_test": np.full((100, 28, 28), 300, np.int32)},
            r"integer values in \[300, 300\]; expected pixel values",
        ),
        (
            {"x_test": np.full((100, 28, 28), 2.0, np.float32)},
            r"float values in \[2, 2\]; expected floats in \[0, 1\]",
        ),
        ({"x_test": np.full((100, 28, 28), np.nan, np.float32)}, "x_test contains NaN"),
        ({"y_train": np.zeros(299, np.uint8)}, r"y_train has shape \(299,\); expected \(300,\)"),
        ({"y_train": np.full(300, 10, np.uint8)}, r"labels in \[10, 10\]; expected 0..9"),
        ({"y_train": np.zeros(300, np.float32)}, "y_train has dtype float32; expected integer"),
    ],
)
def test_bad_arrays_raise_clear_errors(tmp_path, overrides, message):
    write_npz(tmp_path, **overrides)
    with pytest.raises(DataError, match=message) as info:
        load_dataset("mnist", tmp_path)
    assert "mnist.npz" in str(info.value)  # the message names the file


def test_missing_file_says_what_is_expected(tmp_path):
    with pytest.raises(DataError, match=r"mnist.npz not found.*x_train, y_train, x_test, y_test"):
        load_dataset("mnist", tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist or is not a folder"):
        load_dataset("mnist", tmp_path / "nowhere")


def test_corrupt_file(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="could not be read as a .npz file"):
        load_dataset("mnist", tmp_path)


def test_unknown_dataset_and_bad_limit(tmp_path):
    with pytest.raises(DataError, match="Unknown dataset 'fashion'"):
        load_dataset("fashion", tmp_path)
    write_npz(tmp_path)
    with pytest.raises(DataError, match="limit must be a positive"):
        load_dataset("mnist", tmp_path, limit=0)


def test_failed_download_says_how_to_use_a_local_copy(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)

    import keras

    class Broken:
        @staticmethod
        def load_data():
            raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets, "mnist", Broken)
    with pytest.raises(DataError, match=rf"--data-dir DIR or set {DATA_DIR_ENV}=DIR") as info:
        data.load_dataset("mnist")
    assert "Temporary failure in name resolution" in str(info.value)


def test_real_mnist_matches_its_readme(mnist_dir):
    ds = load_dataset("mnist", mnist_dir)
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert np.bincount(ds.y_test).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert ds.x_train.mean() * 255 == pytest.approx(33.32, abs=0.01)
