"""make_figures.py --quick on tiny runs writes every promised file; missing runs are named."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_npz
from matplotlib.image import imread

from vae_keras.data import load_dataset
from vae_keras.report import FIGURES, README_END, README_START, STEP_NAMES, results_table
from vae_keras.runs import RunConfig
from vae_keras.training import train

ROOT = Path(__file__).resolve().parents[1]


def run_make_figures(*args, data_dir):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "VAE_KERAS_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "scripts/make_figures.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    data_dir = root / "data"
    data_dir.mkdir()
    write_npz(data_dir, n_train=300, n_test=200)
    write_npz(data_dir, name="cifar10", n_train=300, n_test=200, shape=(32, 32, 3))
    mnist = load_dataset("mnist", data_dir)
    cifar = load_dataset("cifar10", data_dir)
    runs = root / "runs"
    small = {"intermediate_dim": 16, "epochs": 1, "batch_size": 100}
    for latent, seed in ((2, 0), (8, 0), (8, 1), (8, 2)):
        name = f"mnist-latent{latent}" + (f"-seed{seed}" if seed else "")
        train(RunConfig(latent_dim=latent, seed=seed, **small), mnist, runs / name, verbose=0)
    cifar_config = RunConfig(dataset="cifar10", original_dim=3072, latent_dim=128, **small)
    train(cifar_config, cifar, runs / "cifar10-latent128", verbose=0)
    from vae_keras.classifier import train_classifier

    train_classifier(mnist, runs / "mnist-classifier", epochs=1, batch_size=100)
    return root, data_dir, runs


def test_quick_report_writes_every_figure_and_results(tiny_runs):
    root, data_dir, runs = tiny_runs
    readme = root / "README.md"
    readme.write_text(f"# title\n\n{README_START}\nold table\n{README_END}\n\nafter\n")
    out = root / "figures"
    result = run_make_figures(
        "--quick",
        "--runs-dir",
        str(runs),
        "--out",
        str(out),
        "--readme",
        str(readme),
        data_dir=data_dir,
    )
    assert result.returncode == 0, result.stderr
    for name in FIGURES:
        image = imread(out / f"{name}.png")
        assert image.shape[0] > 200 and image.shape[1] > 200, name
    results = json.loads((out / "results.json").read_text())
    assert results["quick"] is True and set(results["figures"]) == set(FIGURES)
    assert {"date", "machine", "versions", "training", "fid"} <= set(results)
    assert len(results["training"]) == 5  # 1 latent-2 run, 3 latent-8 runs, the CIFAR-10 run
    assert results["fid"]["summary"]["latent8"]["n"] == 3
    assert all(r["fid"] > 0 and r["n_generated"] == 1000 for r in results["fid"]["runs"])
    text = readme.read_text()
    assert (
        "old table" not in text and text.startswith("# title") and text.rstrip().endswith("after")
    )
    assert results_table(results) in text
    assert [s["step"] for s in results["report_steps"]] == list(STEP_NAMES)  # all, in order
    assert all(s["seconds"] >= 0 for s in results["report_steps"])
    assert "Steps of `scripts/make_figures.py`: mnist_latent_space" in text
    assert "[10/15] likelihood" in result.stdout  # progress: each step announced and timed
    assert "latent 8, k = 10: 200/200 images" in result.stdout  # the 200 test images
    quality = results["sample_quality"]["rows"]["classifier"]
    assert {"fid", "kid", "precision", "recall", "fid_infinity"} <= set(quality[0])
    # the pixel rows and the FID step draw the same prior samples: the same Frechet distances
    fids = {f["run_dir"]: f["fid"] for f in results["fid"]["runs"]}
    for row in results["sample_quality"]["rows"]["pixels"][1:]:
        assert row["fid"] == pytest.approx(fids[row["name"]], rel=1e-9)
    assert f"{results['fid']['summary']['latent8']['mean']:.2f}" in text
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_only_one_figure(tiny_runs, tmp_path):
    _, data_dir, runs = tiny_runs

    def only(name):
        args = ("--quick", "--runs-dir", str(runs), "--out", str(tmp_path), "--no-readme")
        result = run_make_figures(*args, "--only", name, data_dir=data_dir)
        assert result.returncode == 0, result.stderr

    only("mnist_samples")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist_samples.png", "results.json"]
    only("em_gmm")  # a second partial run keeps the first one's figures in results.json
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["figures"]) == {"mnist_samples", "em_gmm"}
    assert set(results["background"]) == {"em_gmm"}
    only("fid")  # a measurement without a figure
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["fid"]["summary"]["latent8"]["n"] == 3
    assert [s["step"] for s in results["report_steps"]] == ["fid"]


def test_missing_runs_name_the_commands(tiny_runs, tmp_path):
    _, data_dir, _ = tiny_runs
    result = run_make_figures(
        "--quick",
        "--runs-dir",
        str(tmp_path / "none"),
        "--out",
        str(tmp_path / "f"),
        "--no-readme",
        data_dir=data_dir,
    )
    assert result.returncode == 2
    assert "python scripts/train_mnist.py --latent-dim 8 --seed 2" in result.stderr
    assert "python scripts/train_cifar10.py" in result.stderr
    assert not (tmp_path / "f").exists()  # nothing written before the check


def test_unknown_figure_is_refused(tiny_runs, tmp_path):
    _, data_dir, runs = tiny_runs
    result = run_make_figures("--only", "nope", data_dir=data_dir)
    assert result.returncode == 2 and "unknown figure(s) or step(s) ['nope']" in result.stderr
