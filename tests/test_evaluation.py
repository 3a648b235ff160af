"""Sampling, reconstruction and the FID protocol on a tiny trained run; compute_fid.py sources."""

import json

import numpy as np
import pytest
from conftest import fixture_options, run_script, write_npz

from vae_keras import evaluation, samplers
from vae_keras.data import load_dataset
from vae_keras.errors import FIDInputError
from vae_keras.features import pixel_features
from vae_keras.fid import Statistics, frechet_distance
from vae_keras.runs import RunConfig, load_run
from vae_keras.sources import source_statistics
from vae_keras.training import train

# the tiny sets here have fewer images than pixels; the warning is tested in test_fid.py
pytestmark = pytest.mark.filterwarnings("ignore::vae_keras.fid.SingularCovarianceWarning")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    write_npz(folder, n_train=400, n_test=300)
    dataset = load_dataset("mnist", folder)
    run_dir = folder / "run"
    train(
        RunConfig(intermediate_dim=32, latent_dim=3, epochs=2, batch_size=64),
        dataset,
        run_dir,
        verbose=0,
        options=fixture_options(),
    )
    return folder, dataset, load_run(run_dir)


def test_prior_samples_are_reproducible_and_independent_of_batch_size(tiny):
    _, _, run = tiny
    a = evaluation.sample_prior(run, 50, seed=3, batch_size=7)
    b = evaluation.sample_prior(run, 50, seed=3, batch_size=50)
    assert a.shape == (50, 784) and np.allclose(a, b, atol=1e-6)
    assert 0.0 <= a.min() and a.max() <= 1.0
    assert not np.allclose(a, evaluation.sample_prior(run, 50, seed=4))
    z = samplers.prior_latents(50, 3, seed=3)
    assert np.allclose(a, run.models.generator.predict(z, verbose=0), atol=1e-6)


def test_reconstructions_are_reproducible(tiny):
    _, dataset, run = tiny
    x = dataset.x_test[:20]
    r1, r2 = evaluation.reconstruct(run, x, seed=1), evaluation.reconstruct(run, x, seed=1)
    assert r1.shape == x.shape and np.array_equal(r1, r2)
    assert not np.array_equal(r1, evaluation.reconstruct(run, x, seed=2))


def test_as_images_adds_a_channel_to_grey_images():
    assert evaluation.as_images(np.zeros((4, 784)), (28, 28)).shape == (4, 28, 28, 1)
    assert evaluation.as_images(np.zeros((4, 3072)), (32, 32, 3)).shape == (4, 32, 32, 3)


def test_fid_of_run_is_the_distance_of_the_two_pixel_sets(tiny):
    _, dataset, run = tiny
    result = evaluation.fid_of_run(run, dataset, n=500, seed=5)
    generated = evaluation.sample_prior(run, 500, seed=5)
    expected = frechet_distance(
        generated.mean(0),
        np.cov(generated, rowvar=False),
        dataset.x_test.mean(0),
        np.cov(dataset.x_test, rowvar=False),
    )
    assert result.fid == pytest.approx(expected, rel=1e-6)
    assert result.n_generated == 500 and result.n_reference == 300 and result.latent_dim == 3


def test_sources(tiny, tmp_path):
    folder, dataset, run = tiny
    split = source_statistics("mnist:test", pixel_features, n=300, seed=0, data_dir=str(folder))
    assert split.n == 300 and np.allclose(split.mu, dataset.x_test.mean(0))
    split.save(tmp_path / "s.npz")
    assert np.array_equal(
        source_statistics(str(tmp_path / "s.npz"), pixel_features, 0, 0).mu, split.mu
    )
    generated = source_statistics(str(run.run_dir), pixel_features, n=100, seed=5)
    assert generated.n == 100
    assert np.allclose(generated.mu, evaluation.sample_prior(run, 100, seed=5).mean(0), atol=1e-6)
    with pytest.raises(FIDInputError, match="neither a run directory"):
        source_statistics(str(tmp_path / "nothing"), pixel_features, 10, 0)


def test_png_folder_source_matches_the_arrays(tiny, tmp_path):
    import matplotlib.pyplot as plt

    _, dataset, _ = tiny
    images = dataset.x_test[:40].reshape(-1, 28, 28)
    for i, image in enumerate(images):
        plt.imsave(tmp_path / f"{i:02d}.png", image, cmap="gray", vmin=0, vmax=1)
    stats = source_statistics(str(tmp_path), pixel_features, n=40, seed=0, batch_size=16)
    assert stats.n == 40 and stats.mu.shape == (784,)  # grey RGBA PNGs come back with one channel
    assert np.allclose(stats.mu, images.reshape(40, -1).mean(0), atol=2 / 255)


def test_compute_fid_script_refuses_a_bad_source(tiny):
    folder, _, _ = tiny
    bad = run_script("scripts/compute_fid.py", "mnist:valid", "mnist:test",
                     env={"VAE_KERAS_DATA_DIR": str(folder)})  # fmt: skip
    assert bad.returncode == 2 and "expected <dataset>:<split>" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_compute_fid_script_computes_every_metric(tiny, tmp_path):
    folder, _, run = tiny
    out = tmp_path / "all.json"
    env = {"VAE_KERAS_DATA_DIR": str(folder)}
    result = run_script(
        "scripts/compute_fid.py", run.run_dir, "mnist:test", "--n", "60",
        "--metrics", "fid,kid,precision,recall,fid_infinity", "--json", out,
        "--save-stats", tmp_path / "a.npz", tmp_path / "b.npz", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(out.read_text())
    a, b = Statistics.load(tmp_path / "a.npz"), Statistics.load(tmp_path / "b.npz")
    assert record["fid"] == pytest.approx(frechet_distance(a.mu, a.sigma, b.mu, b.sigma))
    assert record["n_generated"] == 60 and record["n_reference"] == 60
    assert f"{record['fid']:.4f}" in result.stdout
    assert set(record["kid"]) >= {"mean", "std"} and record["kid"]["std"] >= 0
    # precision and recall are those of the same features, computed here by the package
    from vae_keras import metrics
    from vae_keras.features import get_extractor
    from vae_keras.sources import source_features

    features = [
        source_features(str(s), get_extractor("pixels"), 60, 1234, data_dir=str(folder))
        for s in (run.run_dir, "mnist:test")
    ]
    expected = metrics.precision_recall(features[1], features[0])
    assert (record["precision"], record["recall"]) == pytest.approx(
        (expected.precision, expected.recall)
    )
    points = record["fid_infinity"]["points"]
    assert [n for n, _ in points] == [12, 24, 36, 48, 60]
    assert record["features"] == "pixels" and record["seed"] == 1234
    # statistics files serve FID only
    refused = run_script(
        "scripts/compute_fid.py", tmp_path / "a.npz", "mnist:test", "--metrics", "kid",
        "--n", "60", "--json", tmp_path / "x.json", env=env,
    )  # fmt: skip
    assert refused.returncode == 2 and "serve FID only" in refused.stderr
    assert not (tmp_path / "x.json").exists()
