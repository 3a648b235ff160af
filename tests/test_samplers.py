"""The samplers of z (vae_keras.samplers): the prior, and the Gaussian mixture fitted by the
slides' EM to a run's training codes, chosen on its test codes and cached beside the run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import fixture_options, run_script, write_npz
from scipy.stats import multivariate_normal

from vae_keras import evaluation, samplers
from vae_keras.background.em import GMM, log_density, sample_gmm
from vae_keras.commands import compute_fid
from vae_keras.data import load_dataset
from vae_keras.runs import MIXTURE_FILE, RunConfig, is_run_file, load_run
from vae_keras.training import train

pytestmark = pytest.mark.filterwarnings("ignore::vae_keras.fid.SingularCovarianceWarning")

#: Three well-separated 2-D Gaussians with correlated covariances.
THREE = GMM(
    tau=np.array([0.5, 0.3, 0.2]),
    mu=np.array([[-6.0, 0.0], [6.0, 0.0], [0.0, 7.0]]),
    sigma=np.array(
        [[[1.0, 0.6], [0.6, 1.0]], [[0.5, 0.0], [0.0, 2.0]], [[1.5, -0.4], [-0.4, 0.5]]]
    ),
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    write_npz(folder, n_train=400, n_test=200)
    run_dir = folder / "run"
    train(
        RunConfig(intermediate_dim=32, latent_dim=2, epochs=2, batch_size=64),
        load_dataset("mnist", folder),
        run_dir,
        verbose=0,
        options=fixture_options(),
    )
    return folder, load_run(run_dir)


def test_the_samplers_listed_for_help_are_the_package_s():
    assert compute_fid.SAMPLERS == samplers.SAMPLERS
    with pytest.raises(samplers.SamplerError, match="Unknown sampler 'gauss': choose prior or gmm"):
        samplers.check_sampler("gauss")


def test_mixture_draws_have_the_mixture_s_moments():
    """The vectorised sampler (x = mu_z + L_z eps): component frequencies tau, and within each
    component the mean and covariance of its Gaussian (100,000 draws)."""
    x, z = sample_gmm(THREE, 100_000, seed=1)
    assert np.allclose(np.bincount(z) / len(z), THREE.tau, atol=0.01)
    for k in range(3):
        assert np.allclose(x[z == k].mean(0), THREE.mu[k], atol=0.03)
        assert np.allclose(np.cov(x[z == k], rowvar=False), THREE.sigma[k], atol=0.05)


def test_the_mixture_log_density_is_the_weighted_sum_of_gaussian_densities():
    z = np.random.default_rng(0).normal(size=(50, 2)) * 4
    expected = np.log(
        sum(
            t * multivariate_normal(m, s).pdf(z)
            for t, m, s in zip(THREE.tau, THREE.mu, THREE.sigma, strict=True)
        )
    )
    assert np.allclose(log_density(z, THREE), expected, atol=1e-10)


def test_the_held_out_likelihood_picks_the_true_number_of_components():
    """Codes from three Gaussians: among K = 1, 3, the mixture of 3 scores best on held-out
    codes, and its held-out log-density is within Monte Carlo error of the true mixture's.
    The prior's held-out score is the mean of log N(z; 0, I)."""
    train_codes, _ = sample_gmm(THREE, 4000, seed=2)
    test_codes, _ = sample_gmm(THREE, 2000, seed=3)
    mixture = samplers.fit_latent_mixture(train_codes, test_codes, components=(1, 3))
    truth = log_density(test_codes, THREE).mean()
    assert mixture.k == 3 and mixture.held_out[3] > mixture.held_out[1] + 1.0
    assert abs(mixture.held_out[3] - truth) < 0.02
    prior = multivariate_normal(np.zeros(2), np.eye(2)).logpdf(test_codes).mean()
    assert mixture.prior_held_out == pytest.approx(prior, abs=1e-10)
    assert set(mixture.iterations) == {1, 3} and mixture.iterations[3] > 1


def test_too_few_codes_for_any_candidate_is_one_clear_error():
    with pytest.raises(samplers.SamplerError, match="3 training codes are too few for a mixture"):
        samplers.fit_latent_mixture(np.zeros((3, 2)), np.zeros((2, 2)), components=(5, 10))


def test_the_run_s_mixture_is_fitted_once_cached_and_refitted_when_stale(tiny, monkeypatch):
    folder, run = tiny
    monkeypatch.setenv("VAE_KERAS_DATA_DIR", str(folder))
    cache = run.run_dir / MIXTURE_FILE
    cache.unlink(missing_ok=True)
    fits, lines = [], []
    real_fit = samplers.fit_latent_mixture

    def counting_fit(*args, **kwargs):
        fits.append(1)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(samplers, "fit_latent_mixture", counting_fit)
    first = samplers.latent_mixture(run, log=lines.append)
    assert cache.is_file() and len(fits) == 1 and first.k in samplers.MIXTURE_COMPONENTS
    assert is_run_file(MIXTURE_FILE)  # --fresh removes it with the run's files
    # the cache serves the next call, the same parameters
    again = samplers.latent_mixture(run, log=lines.append)
    assert len(fits) == 1 and np.array_equal(again.params.sigma, first.params.sigma)
    # the mixture's samples decode like any latents, reproducibly
    a = evaluation.sample_prior(run, 30, seed=4, sampler="gmm")
    z = samplers.sample_latents(run, 30, 4, "gmm")
    assert np.allclose(a, run.models.generator.predict(z, verbose=0), atol=1e-6)
    assert not np.allclose(a, evaluation.sample_prior(run, 30, seed=4))
    # --data-dir without the environment variable reaches the mixture's key (no download)
    monkeypatch.delenv("VAE_KERAS_DATA_DIR")
    shown = evaluation.sample_prior(run, 30, seed=4, sampler="gmm", data_dir=str(folder))
    assert len(fits) == 1 and np.array_equal(shown, a)
    monkeypatch.setenv("VAE_KERAS_DATA_DIR", str(folder))
    # damaged: one line, refitted, nothing else lost
    cache.write_bytes(b"not a zip file")
    samplers.latent_mixture(run, log=lines.append)
    assert len(fits) == 2 and "is damaged" in lines[-2] and "refitting" in lines[-2]
    # from another checkpoint: the key differs, refitted
    data = dict(np.load(cache))
    meta = json.loads(str(data["meta"]))
    meta["key"]["weights_sha256"] = "0" * 64
    np.savez(cache, **{**data, "meta": np.array(json.dumps(meta))})
    samplers.latent_mixture(run, log=lines.append)
    assert len(fits) == 3 and "another checkpoint" in lines[-2]


def test_fid_with_the_gmm_sampler_from_the_command_line(tiny, tmp_path):
    """`compute_fid.py RUN mnist:test --sampler gmm`: the record names the sampler and has its
    own file; an unknown sampler is one line and exit 2, before anything is computed."""
    folder, run = tiny
    env = {"VAE_KERAS_DATA_DIR": str(folder)}
    out = tmp_path / "gmm.json"
    args = (str(run.run_dir), "mnist:test", "--n", "200", "--sampler", "gmm")
    done = run_script("scripts/compute_fid.py", *args, "--json", str(out), env=env)
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    assert record["sampler"] == "gmm" and record["fid"] > 0 and "(gmm sampler)" in done.stdout
    bad = run_script("scripts/compute_fid.py", *args[:-1], "normal", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "--sampler: unknown 'normal'; choose prior or gmm" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "runs").exists()
