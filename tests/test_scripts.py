"""The command-line scripts, run as a user runs them."""

import json

import pytest
from conftest import run_script


def test_help_answers_without_training():
    result = run_script("scripts/train_mnist.py", "--help")
    assert result.returncode == 0
    for option in (
        "--latent-dim",
        "--epochs",
        "--batch-size",
        "--seed",
        "--data-dir",
        "--out",
        "--resume",
        "--pipeline",
        "--no-jit",
        "--steps-per-execution",
        "--no-fuse-steps",
        "--distribute",
        "--tensorboard",
    ):
        assert option in result.stdout


def test_bad_data_dir_is_a_clear_error(tmp_path):
    result = run_script(
        "scripts/train_mnist.py", "--data-dir", str(tmp_path), "--out", str(tmp_path / "run")
    )
    assert result.returncode == 2
    assert "mnist.npz not found" in result.stderr
    assert not (tmp_path / "run").exists()


def test_resume_without_a_run_is_refused(tmp_path):
    from conftest import write_npz

    write_npz(tmp_path)
    result = run_script(
        "scripts/train_mnist.py",
        "--data-dir",
        str(tmp_path),
        "--out",
        str(tmp_path / "run"),
        "--resume",
    )
    assert result.returncode == 2 and "holds no interrupted run" in result.stderr


@pytest.mark.slow
def test_train_mnist_one_epoch_on_real_data(mnist_dir, tmp_path):
    out = tmp_path / "run"
    args = [
        "scripts/train_mnist.py",
        "--epochs",
        "1",
        "--limit",
        "3000",
        "--out",
        str(out),
        "--verbose",
        "2",
    ]
    result = run_script(*args, env={"VAE_KERAS_DATA_DIR": mnist_dir})
    assert result.returncode == 0, result.stderr
    assert "Training with tensorflow on" in result.stdout
    assert "mnist.npz (3000 train / 3000 test)" in result.stdout
    for name in (
        "config.json",
        "vae-epoch0001.weights.h5",
        "history.json",
        "history.csv",
        "state.json",
    ):
        assert (out / name).is_file(), name
    history = json.loads((out / "history.json").read_text())
    assert len(history) == 1 and 100 < history[0]["val_loss"] < 600
    config = json.loads((out / "config.json").read_text())
    assert config["latent_dim"] == 2 and config["batch_size"] == 256 and config["limit"] == 3000
    # a second call with more epochs resumes instead of starting again
    result = run_script(*args[:2], "2", *args[3:], env={"VAE_KERAS_DATA_DIR": mnist_dir})
    assert result.returncode == 0, result.stderr
    assert "Resuming" in result.stdout and "after epoch 1 of 2" in result.stdout
    assert [r["epoch"] for r in json.loads((out / "history.json").read_text())] == [1, 2]


def error_lines(result):
    """stderr without TensorFlow's start-up logging: the lines a user is meant to read."""
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--latent-dim", "0", "must be at least 1, got 0"),
        ("--epochs", "0", "must be at least 1, got 0"),
        ("--batch-size", "-3", "must be at least 1, got -3"),
        ("--limit", "0", "must be at least 1, got 0"),
        ("--intermediate-dim", "two", "expected a whole number, got 'two'"),
        ("--seed", "-1", "must be 0 or more, got -1"),
        ("--beta", "0", "must be a positive finite number, got 0"),
        ("--beta", "-2", "must be a positive finite number, got -2"),
        ("--beta", "nan", "must be a positive finite number, got nan"),
        ("--beta", "inf", "must be a positive finite number, got inf"),
        ("--beta", "four", "expected a number, got 'four'"),
    ],
)
def test_bad_numbers_are_refused_before_anything_is_created(tmp_path, option, value, message):
    out = tmp_path / "run"
    result = run_script("scripts/train_mnist.py", option, value, "--out", str(out))
    assert result.returncode == 2
    assert f"argument {option}: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_an_out_that_cannot_be_a_directory_is_refused(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    for out, message in (
        (afile, f"error: --out: {afile} exists and is not a directory; choose another --out."),
        (
            afile / "run",
            f"error: --out: {afile / 'run'} cannot be created: {afile} is not a directory; "
            "choose another --out.",
        ),
    ):
        result = run_script("scripts/train_mnist.py", "--out", str(out))
        assert result.returncode == 2
        assert result.stderr.strip() == message
    assert afile.read_text() == "mine" and sorted(tmp_path.iterdir()) == [afile]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A one-epoch run on synthetic data, and the arguments that train it (without XLA, as
    :func:`conftest.fixture_options`: these tests are about damaged files, not the path)."""
    from conftest import fixture_options, write_npz

    from vae_keras.data import load_dataset
    from vae_keras.runs import RunConfig
    from vae_keras.training import train

    root = tmp_path_factory.mktemp("damaged")
    write_npz(root, n_train=200, n_test=100)
    config = RunConfig(intermediate_dim=16, epochs=1, batch_size=100)
    train(config, load_dataset("mnist", root), root / "run", verbose=0, options=fixture_options())
    args = ["--data-dir", str(root), "--intermediate-dim", "16", "--epochs", "1"]
    return root / "run", [*args, "--batch-size", "100", "--verbose", "0", "--no-jit"]


def damaged_copy(run_dir, tmp_path, damage):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    damage(copy)
    return copy


def truncate_weights(run_dir):
    (weights,) = run_dir.glob("vae-epoch*.weights.h5")
    weights.write_bytes(weights.read_bytes()[:5000])
    return weights


def test_a_damaged_run_is_named_and_fresh_clears_it(trained_run, tmp_path):
    run_dir, args = trained_run
    copy = damaged_copy(run_dir, tmp_path, lambda d: (d / "state.json").write_text("{oops"))
    result = run_script("scripts/train_mnist.py", *args, "--out", str(copy))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = error_lines(result)
    assert f"{copy / 'state.json'} is not valid JSON" in line and "--fresh" in line
    (copy / "mine.txt").write_text("not a run file")
    result = run_script("scripts/train_mnist.py", *args, "--out", str(copy), "--fresh")
    assert result.returncode == 0, result.stderr
    assert json.loads((copy / "state.json").read_text())["epochs_done"] == 1
    assert (copy / "mine.txt").read_text() == "not a run file"  # --fresh removes run files only


def test_truncated_weights_are_named_by_every_script(trained_run, tmp_path):
    run_dir, args = trained_run
    copy = damaged_copy(run_dir, tmp_path, truncate_weights)
    weights = next(copy.glob("vae-epoch*.weights.h5"))
    data = ["--data-dir", str(run_dir.parent)]
    for script_args in (
        ["scripts/train_mnist.py", *args, "--out", str(copy), "--epochs", "2"],
        ["scripts/compute_fid.py", str(copy), "mnist:test", "--n", "100", *data],
        [
            "scripts/make_figures.py",
            "--only",
            "mnist_samples",
            "--mnist2",
            str(copy),
            "--mnist8",
            str(copy),
            "--no-cifar",
            "--no-readme",
            "--out",
            str(tmp_path / "figs"),
            "--quick",
            *data,
        ],
    ):
        result = run_script(*script_args)
        assert result.returncode == 2, (script_args[0], result.stderr[-2000:])
        assert "Traceback" not in result.stderr, script_args[0]
        (line,) = error_lines(result)
        assert f"{weights} is damaged or does not belong to this model" in line, line
        assert "--fresh" in line
    assert not (tmp_path / "figs").exists() or not list((tmp_path / "figs").glob("*.png"))
    assert json.loads((copy / "config.json").read_text())["epochs"] == 1  # refused: unchanged


def test_an_unwritable_output_is_an_error_not_a_traceback(trained_run, tmp_path):
    run_dir, _ = trained_run
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_script(
        "scripts/compute_fid.py",
        "mnist:test",
        "mnist:train",
        "--n",
        "100",
        "--data-dir",
        str(run_dir.parent),
        "--json",
        str(blocker / "fid.json"),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = error_lines(result)
    assert str(blocker) in line


def test_export_run_writes_keras_files_for_an_older_run(trained_run, tmp_path):
    import shutil

    run_dir, _ = trained_run
    copy = tmp_path / "old"
    shutil.copytree(run_dir, copy)
    for name in ("vae.keras", "encoder.keras", "generator.keras"):
        (copy / name).unlink()  # as a run trained before the exports existed
    result = run_script("scripts/export_run.py", str(copy))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "wrote vae.keras, encoder.keras, generator.keras" in result.stdout
    for name in ("vae.keras", "encoder.keras", "generator.keras"):
        assert (copy / name).stat().st_size > 0
    result = run_script("scripts/export_run.py", str(tmp_path / "nothing"))
    assert result.returncode == 2 and "No trained run in" in result.stderr
    assert not (tmp_path / "nothing").exists()
