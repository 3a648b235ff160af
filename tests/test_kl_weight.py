"""The KL weight (--beta): the loss reconstruction + beta * KL from the command line, its run
directory and record; older runs read as the slides' beta 1. (The loss layer's formula and its
unweighted metrics: tests/test_model.py; on every backend: tests/test_backends.py; on the fused
steps: tests/test_training.py and tests/test_jax_speed.py.) The weighted history is checked on
the command's default (XLA) path; the beta-1 comparison, about the loss and not the path, runs
with ``--no-jit`` (conftest.fixture_options says why)."""

import json

import pytest
from conftest import run_script, write_npz

from vae_keras.cli import default_run_dir
from vae_keras.runs import RunConfig, RunError


def test_beta_names_the_run_directory():
    template = "runs/mnist-latent{latent_dim}"
    assert default_run_dir(template, 8, 0, beta=4.0) == "runs/mnist-latent8-beta4"
    assert default_run_dir(template, 8, 1, beta=0.25) == "runs/mnist-latent8-beta0.25-seed1"
    assert default_run_dir(template, 8, 0, beta=1.0) == "runs/mnist-latent8"


def test_a_config_without_beta_is_the_slides_loss_and_a_bad_one_is_named():
    old = {k: v for k, v in RunConfig().to_dict().items() if k != "beta"}
    assert RunConfig.from_dict(old).beta == 1.0
    with pytest.raises(RunError, match="beta = -1.0 is not valid"):
        RunConfig.from_dict({**old, "beta": -1.0})
    assert not RunConfig(beta=2.0).same_model_and_data(RunConfig())  # no resume across betas


def test_train_with_beta_records_it_and_its_history_is_the_weighted_sum(tmp_path):
    write_npz(tmp_path, n_train=256, n_test=64)
    args = ("--beta", "4", "--epochs", "2", "--batch-size", "64", "--intermediate-dim", "16")
    done = run_script("scripts/train_mnist.py", *args, "--verbose", "0", cwd=tmp_path,
                      env={"VAE_KERAS_DATA_DIR": str(tmp_path)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = tmp_path / "runs" / "mnist-latent2-beta4"
    assert json.loads((run / "config.json").read_text())["beta"] == 4.0
    for row in json.loads((run / "history.json").read_text()):
        for prefix in ("", "val_"):
            expected = row[f"{prefix}reconstruction_loss"] + 4 * row[f"{prefix}kl_loss"]
            assert row[f"{prefix}loss"] == pytest.approx(expected, rel=1e-4)


def test_beta_1_is_the_slides_loss_the_same_history_as_without_the_option(tmp_path):
    """``--beta 1`` trains into the slides' run directory with the history, to the last digit,
    of a run without the option (same seed): beta 1 is today's loss, not a neighbour of it."""
    write_npz(tmp_path, n_train=256, n_test=64)
    args = ("--epochs", "2", "--batch-size", "64", "--intermediate-dim", "16", "--verbose", "0",
            "--no-jit")  # fmt: skip
    env = {"VAE_KERAS_DATA_DIR": str(tmp_path)}
    histories = []
    for extra, out in (((), "plain"), (("--beta", "1"), None)):
        where = ("--out", str(tmp_path / out)) if out else ()
        done = run_script("scripts/train_mnist.py", *args, *extra, *where, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        run = tmp_path / out if out else tmp_path / "runs" / "mnist-latent2"
        histories.append(json.loads((run / "history.json").read_text()))
    drop = ("seconds",)
    assert [{k: v for k, v in row.items() if k not in drop} for row in histories[0]] == [
        {k: v for k, v in row.items() if k not in drop} for row in histories[1]
    ]
