"""The plain and denoising autoencoders: objective, corruption, training."""

import numpy as np
import pytest

from vae_keras import losses
from vae_keras.autoencoders import MaskingNoise, build_autoencoder


def test_squared_error_is_the_slides_objective():
    rng = np.random.default_rng(0)
    x, y = rng.random((5, 784)).astype("float32"), rng.random((5, 784)).astype("float32")
    per_example = np.asarray(losses.squared_error(x, y))
    assert per_example == pytest.approx(((x - y) ** 2).sum(axis=1), rel=1e-5)


def test_masking_noise_zeroes_the_requested_fraction_only_in_training():
    layer = MaskingNoise(0.3, seed=1)
    x = np.ones((200, 784), "float32")
    corrupted = np.asarray(layer(x, training=True))
    assert set(np.unique(corrupted)) <= {0.0, 1.0}  # no rescaling
    assert (corrupted == 0).mean() == pytest.approx(0.3, abs=0.01)
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    with pytest.raises(ValueError, match="rate must be in"):
        MaskingNoise(1.0)


@pytest.mark.parametrize("corruption", [None, "mask", "gaussian"])
def test_training_lowers_the_loss_and_prediction_is_clean(corruption, tiny_dataset):
    models = build_autoencoder(intermediate_dim=64, latent_dim=16, corruption=corruption, seed=0)
    x = tiny_dataset.x_train
    history = models.autoencoder.fit(x, x, epochs=3, batch_size=64, verbose=0).history["loss"]
    assert history[-1] < history[0]
    # predictions are deterministic: the corruption is off outside training
    a = models.autoencoder.predict(x[:8], verbose=0)
    assert np.array_equal(a, models.autoencoder.predict(x[:8], verbose=0))
    assert models.encoder.output_shape == (None, 16)


def test_unknown_corruption():
    with pytest.raises(ValueError, match="corruption must be one of"):
        build_autoencoder(corruption="salt")


def test_the_denoising_figure_is_the_same_from_one_run_to_the_next(tiny_dataset, tmp_path):
    from vae_keras.background.figures import denoising_autoencoder

    x = tiny_dataset
    runs = []
    for name in ("first", "second"):
        out = tmp_path / name
        out.mkdir()
        runs.append(
            denoising_autoencoder(out, x.x_train, x.x_test, x.image_shape, 2, log=lambda _: None)
        )
        assert (out / "denoising_autoencoder.png").stat().st_size > 0
    assert runs[0] == runs[1]
    assert set(runs[0]) == {"mask", "gaussian"}
