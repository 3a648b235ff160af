"""make_figures.py on tiny runs: every promised file, from any state; missing runs are named."""

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import fixture_options, run_script, write_npz
from matplotlib.image import imread

from vae_keras.data import load_dataset
from vae_keras.report import (
    BACKGROUND_FIGURES,
    FIGURES,
    README_END,
    README_START,
    STEP_NAMES,
    results_table,
    update_readme,
)
from vae_keras.runs import RunConfig
from vae_keras.training import train

ROOT = Path(__file__).resolve().parents[1]


def run_make_figures(*args, data_dir, cwd=ROOT):
    return run_script("scripts/make_figures.py", *args, env={"VAE_KERAS_DATA_DIR": str(data_dir)},
                      cwd=cwd)  # fmt: skip


@pytest.fixture(scope="module")
def report_data(tmp_path_factory):
    """A data folder with small synthetic MNIST and CIFAR-10 sets (Keras's layout)."""
    data_dir = tmp_path_factory.mktemp("report-data")
    write_npz(data_dir, n_train=300, n_test=200)
    write_npz(data_dir, name="cifar10", n_train=300, n_test=200, shape=(32, 32, 3))
    return data_dir


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory, report_data):
    root = tmp_path_factory.mktemp("report")
    data_dir = report_data
    mnist = load_dataset("mnist", data_dir)
    cifar = load_dataset("cifar10", data_dir)
    runs = root / "runs"
    small = {"intermediate_dim": 16, "epochs": 1, "batch_size": 100}
    for latent, seed in ((2, 0), (8, 0), (8, 1), (8, 2)):
        name = f"mnist-latent{latent}" + (f"-seed{seed}" if seed else "")
        train(RunConfig(latent_dim=latent, seed=seed, **small), mnist, runs / name, verbose=0,
              options=fixture_options())  # fmt: skip
    cifar_config = RunConfig(dataset="cifar10", original_dim=3072, latent_dim=128, **small)
    train(cifar_config, cifar, runs / "cifar10-latent128", verbose=0, options=fixture_options())
    from vae_keras.classifier import train_classifier

    train_classifier(mnist, runs / "mnist-classifier", epochs=1, batch_size=100)
    return root, data_dir, runs


def test_quick_report_writes_every_figure_and_results(tiny_runs):
    root, data_dir, runs = tiny_runs
    out = root / "figures"
    result = run_make_figures(
        "--quick", "--runs-dir", str(runs), "--out", str(out), data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    # every figure but the architecture comparison's and the FID study's, whose conv runs and
    # latent sizes these tiny runs lack (tests/test_variants.py and test_the_fid_study_... draw
    # them): skipped, with the commands that train them
    not_here = ("cifar10_architectures", "fid_latent_size", "rate_distortion", "beta_samples",
                "conditional_samples")  # fmt: skip
    drawn = [name for name in FIGURES if name not in not_here]
    for name in drawn:
        image = imread(out / f"{name}.png")
        assert image.shape[0] > 200 and image.shape[1] > 200, name
    assert "  mnist_architectures: needs" in result.stdout
    assert "  cifar10_architectures: needs" in result.stdout
    # the study's 11 missing runs are one command, not eleven
    assert "  fid_latent_size: needs 11 more runs; `python scripts/fid_latent_size.py`" in (
        result.stdout
    )
    assert "--latent-dim 32" not in result.stdout
    assert "  rate_distortion: needs 5 more runs; `python scripts/rate_distortion.py`" in (
        result.stdout
    )
    assert "  conditional: needs 1 more runs; `python scripts/conditional.py`" in result.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["quick"] is True and set(results["figures"]) == set(drawn)
    assert {"date", "machine", "versions", "training", "fid"} <= set(results)
    assert len(results["training"]) == 5  # 1 latent-2 run, 3 latent-8 runs, the CIFAR-10 run
    assert results["fid"]["summary"]["latent8"]["n"] == 3
    assert all(r["fid"] > 0 and r["n_generated"] == 1000 for r in results["fid"]["runs"])
    readme = root / "README.md"  # the table that a report without --quick writes
    readme.write_text(f"# title\n\n{README_START}\nold table\n{README_END}\n\nafter\n")
    update_readme(readme, results)
    text = readme.read_text()
    assert (
        "old table" not in text and text.startswith("# title") and text.rstrip().endswith("after")
    )
    assert results_table(results) in text
    # skipped: no conv runs, no latent sizes 4, 16, 32 and no beta runs here
    compared = ("mnist_architectures", "cifar10_architectures", "fid_latent_size")
    compared += ("rate_distortion", "conditional")
    ran = [name for name in STEP_NAMES if name not in compared]
    assert [s["step"] for s in results["report_steps"]] == ran  # all the others, in order
    assert all(s["seconds"] >= 0 for s in results["report_steps"])
    assert (
        f"Steps of `scripts/make_figures.py` (run {results['date'][:10]} unless dated): "
        "mnist_latent_space" in text
    )
    assert "[11/17] likelihood" in result.stdout  # progress: each step announced and timed
    assert "latent 8, k = 10: 200/200 images" in result.stdout  # the 200 test images
    for row in results["likelihood"]:  # both densities, each bound above its ELBO
        assert row["iw_bound"] > row["elbo"] and row["cb_iw_bound"] > row["cb_elbo"]
        assert row["cb_elbo"] > row["elbo"] + 784 * math.log(2)  # log C >= log 2 per pixel
        assert f"{row['cb_iw_bound']:.2f}" in text
    quality = results["sample_quality"]["rows"]["classifier"]
    assert {"fid", "kid", "precision", "recall", "fid_infinity"} <= set(quality[0])
    # the pixel rows and the FID step draw the same prior samples: the same Frechet distances
    fids = {f["run_dir"]: f["fid"] for f in results["fid"]["runs"]}
    for row in results["sample_quality"]["rows"]["pixels"][1:]:
        assert row["fid"] == pytest.approx(fids[row["name"]], rel=1e-9)
    assert f"{results['fid']['summary']['latent8']['mean']:.2f}" in text
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    # the prior hole: the surgery's two estimates add up to the analytic average KL (within
    # four standard errors), the mutual information below log N; each run's mixture cached
    hole = results["prior_hole"]
    assert [row["latent_dim"] for row in hole["summary"]] == [2, 8]
    for row in hole["runs"]:
        s = row["surgery"]
        se = math.hypot(s["mutual_information_se"], s["marginal_kl_se"])
        assert abs(s["mutual_information"] + s["marginal_kl"] - s["average_kl"]) < 4 * se + 1e-6
        assert s["mutual_information"] <= s["log_n"] + 1e-6 and s["log_n"] == pytest.approx(
            math.log(300)
        )
        assert set(row["quality"]) == {"prior", "gmm"}
        assert (Path(row["run_dir"]) / "latent_mixture.npz").is_file()
    # the prior's rows are taken from the sample-quality step (the same samples), not
    # measured twice; the mixture's differ
    pixel_rows = {r["name"]: r for r in results["sample_quality"]["rows"]["pixels"]}
    for row in hole["runs"]:
        prior, gmm = row["quality"]["prior"]["pixels"], row["quality"]["gmm"]["pixels"]
        assert prior["kid"] == pixel_rows[row["run_dir"]]["kid"] and "fid_infinity" not in prior
        assert gmm["fid"] != prior["fid"] and set(gmm) == set(prior)
    assert "The prior hole" in text and "| 8 | pixels | " in text


def test_only_one_figure(tiny_runs, tmp_path):
    _, data_dir, runs = tiny_runs

    def only(name):
        args = ("--quick", "--runs-dir", str(runs), "--out", str(tmp_path), "--no-readme")
        result = run_make_figures(*args, "--only", name, data_dir=data_dir)
        assert result.returncode == 0, result.stderr

    only("mnist_samples")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist_samples.png", "results.json"]
    only("fid")  # a measurement without a figure; the first partial run's figure is kept
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["fid"]["summary"]["latent8"]["n"] == 3
    assert set(results["figures"]) == {"mnist_samples"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist_samples.png", "results.json"]
    # every step is dated; the earlier partial runs' steps are kept
    assert [s["step"] for s in results["report_steps"]] == ["mnist_samples", "fid"]
    assert all(s["date"] <= results["date"] for s in results["report_steps"])


def test_from_nothing_trained_it_draws_the_background_and_names_every_missing_run(
    tiny_runs, tmp_path
):
    _, data_dir, _ = tiny_runs
    out = tmp_path / "f"
    result = run_make_figures(
        "--quick", "--runs-dir", str(tmp_path / "none"), "--out", str(out), data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    drawn = {p.stem for p in out.glob("*.png")}
    assert drawn == {*BACKGROUND_FIGURES, "cifar10_samples"}  # what needs no trained run
    lines = result.stdout.splitlines()
    commands = lines[lines.index(next(x for x in lines if x.startswith("To draw them"))) + 1 :]
    none = tmp_path / "none"
    made_by = [
        ("train_mnist.py", "", "mnist-latent2"),
        ("train_mnist.py", "--latent-dim 8 ", "mnist-latent8"),
        ("train_mnist.py", "--latent-dim 8 --seed 1 ", "mnist-latent8-seed1"),
        ("train_mnist.py", "--latent-dim 8 --seed 2 ", "mnist-latent8-seed2"),
        ("train_classifier.py", "", "mnist-classifier"),
        ("train_mnist.py", "--architecture conv ", "mnist-latent2-conv"),
        ("train_cifar10.py", "", "cifar10-latent128"),
        (
            "train_cifar10.py",
            "--architecture conv --likelihood gaussian ",
            "cifar10-latent128-conv-gaussian",
        ),  # fmt: skip
    ]
    assert [c.strip() for c in commands] == [
        f"python scripts/{script} {options}--out {none / name}" for script, options, name in made_by
    ]
    assert "  fid: needs " in result.stdout and "  mnist_latent_space: needs " in result.stdout


def test_only_names_a_step_whose_run_is_missing_nothing_is_written(tiny_runs, tmp_path):
    _, data_dir, _ = tiny_runs
    out = tmp_path / "f"
    args = ("--runs-dir", str(tmp_path / "none"), "--out", str(out), "--no-readme")
    result = run_make_figures(*args, "--only", "mnist_samples", "em_gmm", data_dir=data_dir)
    assert result.returncode == 2
    assert "python scripts/train_mnist.py --latent-dim 8 --out" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()  # nothing written before the check
    result = run_make_figures(*args, "--only", "em_gmm", data_dir=data_dir)  # needs no run
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["em_gmm.png", "results.json"]


def test_no_cifar_needs_no_cifar10(tiny_runs, tmp_path):
    _, data_dir, runs = tiny_runs
    mnist_only = tmp_path / "data"
    mnist_only.mkdir()
    shutil.copy(data_dir / "mnist.npz", mnist_only)
    out = tmp_path / "f"
    args = ("--quick", "--runs-dir", str(runs), "--out", str(out))
    only = ("--only", "cifar10_samples", "mnist_samples", "em_gmm")
    refused = run_make_figures(*args, *only, data_dir=mnist_only)
    assert refused.returncode == 2 and "--no-cifar" in refused.stderr and not out.exists()
    result = run_make_figures(*args, "--no-cifar", *only[:1], *only[2:], data_dir=mnist_only)
    assert result.returncode == 0, result.stderr
    assert sorted(p.stem for p in out.glob("*.png")) == ["em_gmm", "mnist_samples"]


def digest(paths):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_quick_leaves_the_committed_figures_results_and_readme_byte_identical(tiny_runs):
    _, data_dir, runs = tiny_runs
    committed = [*sorted((ROOT / "figures").iterdir()), ROOT / "README.md"]
    before = digest(committed)
    result = run_make_figures(
        "--quick", "--runs-dir", str(runs), "--only", "mnist_samples", "em_gmm", data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    assert digest(committed) == before
    quick = runs / "figures-quick"
    assert {"mnist_samples.png", "em_gmm.png", "results.json"} <= {p.name for p in quick.iterdir()}
    for refused in (("--out", "figures"), ("--readme", "README.md")):
        result = run_make_figures("--quick", *refused, data_dir=data_dir)
        assert result.returncode == 2 and "--quick never" in result.stderr
    assert digest(committed) == before


def fresh_clone(destination: Path) -> Path:
    """The project's files as a clone has them: no venv, no runs, no caches."""
    ignored = shutil.ignore_patterns(
        ".git",
        ".venv",
        "runs",
        "__pycache__",
        "*.egg-info",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
    )
    return Path(shutil.copytree(ROOT, destination, ignore=ignored))


@pytest.mark.slow  # a copy of the tree and a full report (make test-slow, which CI runs)
def test_the_design_cards_two_commands_in_a_fresh_clone(report_data, tmp_path):
    """`python scripts/train_mnist.py`, then `python scripts/make_figures.py`, nothing else.

    In ``make test-slow``: about 28 s of one worker (2-core Xeon without AMX), most of it the
    report's full settings (the background figures' 20 epochs and 20,000 draws). ``make
    test`` keeps the report's own tests on tiny runs (every figure, any state, the README's
    table); this one proves the design card's two commands in a clone, as before."""
    data_dir = report_data
    clone = fresh_clone(tmp_path / "clone")
    committed = json.loads((clone / "figures" / "results.json").read_text())
    train = run_script("scripts/train_mnist.py", "--epochs", "2", "--verbose", "0",
                       env={"VAE_KERAS_DATA_DIR": str(data_dir)}, cwd=clone)  # fmt: skip
    assert train.returncode == 0, train.stderr
    result = run_make_figures(data_dir=data_dir, cwd=clone)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # the latent-2 figures come from the new run (the committed ones were other pixels)
    for name in ("mnist_latent_space", "mnist_manifold", "mnist_training_curves"):
        assert (clone / "figures" / f"{name}.png").read_bytes() != (
            ROOT / "figures" / f"{name}.png"
        ).read_bytes(), name
    assert "python scripts/train_mnist.py --latent-dim 8 --seed 2" in result.stdout
    results = json.loads((clone / "figures" / "results.json").read_text())
    # what the steps that did not run measured before is kept, with its date
    for key in ("fid", "sample_quality", "likelihood", "reproduce"):
        assert results[key] == committed[key], key
    steps = {s["step"]: s for s in results["report_steps"]}
    assert steps["mnist_latent_space"]["date"] == results["date"]
    fid_date = (
        next(  # the committed fid step's date (a report before dating: the report's)
            (s.get("date") for s in committed["report_steps"] if s["step"] == "fid"), None
        )
        or committed["date"]
    )
    assert steps["fid"]["date"] == fid_date < results["date"]
    readme = (clone / "README.md").read_text()
    if fid_date[:10] != results["date"][:10]:  # an earlier day's numbers say so
        assert f"(measured {fid_date[:10]})" in readme
    assert f"{committed['fid']['summary']['latent8']['mean']:.2f}" in readme
    new_row = next(t for t in results["training"] if t["run_dir"] == "runs/mnist-latent2")
    assert new_row["epochs"] == 2


def test_unknown_figure_is_refused(tiny_runs, tmp_path):
    _, data_dir, runs = tiny_runs
    result = run_make_figures("--only", "nope", data_dir=data_dir)
    assert result.returncode == 2 and "unknown figure(s) or step(s) ['nope']" in result.stderr


def test_the_fid_study_measures_every_run_and_summarises_each_latent_size(tiny_runs, tmp_path):
    """The study step on the tiny runs (latent 2: one seed, latent 8: three): per run, FID
    against test and train and both ELBOs; per latent size, the seeds' values, mean and std;
    the figure; the README table; the configuration closest to 8.04."""
    from vae_keras.report import ReportConfig, RunSpec, make_report, results_table

    root, data_dir, runs = tiny_runs
    names = ["mnist-latent2", "mnist-latent8", "mnist-latent8-seed1", "mnist-latent8-seed2"]
    config = ReportConfig(
        mnist2=[],
        mnist8=[],
        cifar=None,
        out_dir=tmp_path,
        data_dir=str(data_dir),
        fid_samples=300,
        only=["fid_latent_size"],
        quick=True,
        study=[RunSpec(runs / name, f"train {name}") for name in names],
        log=lambda line: None,
    )
    results = make_report(config)
    study = results["fid_latent_size"]
    assert [r["run_dir"] for r in study["runs"]] == [str(runs / n) for n in names]
    for row in study["runs"]:
        assert row["fid_test"] > 0 and row["fid_train"] > 0 and row["fid_test"] != row["fid_train"]
        assert row["cb_elbo"] > row["elbo"] + 784 * math.log(2)
    two, eight = study["rows"]
    assert (two["latent_dim"], two["seeds"]) == (2, [0])
    assert (eight["latent_dim"], eight["seeds"]) == (8, [0, 1, 2])
    fids = [r["fid_test"] for r in study["runs"][1:]]
    assert eight["fid_test"]["values"] == fids
    assert eight["fid_test"]["mean"] == pytest.approx(np.mean(fids))
    assert eight["fid_test"]["std"] == pytest.approx(np.std(fids, ddof=1))
    assert two["fid_test"]["std"] == 0.0
    closest = study["closest"]
    best = min(
        abs(row[f"fid_{ref}"]["mean"] - 8.04) for row in study["rows"] for ref in ("test", "train")
    )
    assert abs(closest["mean"] - 8.04) == pytest.approx(best)
    image = imread(tmp_path / "fid_latent_size.png")
    assert image.shape[1] > 800 and image.std() > 0.05
    table = results_table(results)
    assert f"{eight['fid_train']['mean']:.2f} ± {eight['fid_train']['std']:.2f}" in table
    assert "spread over seeds" in table


def test_the_kl_weight_study_measures_rate_distortion_and_active_units(tiny_runs, tmp_path):
    """The rate_distortion step on tiny runs (two weighted, three at beta 1): per run, the rate
    is the test codes' analytic mean KL and D + R the negative ELBO that evaluate reports; the
    active units are Burda et al.'s count of those codes; beta 1 summarised over its seeds; the
    figures; the README table with one row per beta."""
    from vae_keras import latent, samplers
    from vae_keras.report import ReportConfig, RunSpec, make_report, results_table

    root, data_dir, runs = tiny_runs
    mnist = load_dataset("mnist", data_dir)
    small = {"intermediate_dim": 16, "epochs": 1, "batch_size": 100, "latent_dim": 8}
    weighted = []
    for beta in (0.5, 784.0):
        run_dir = tmp_path / "runs" / f"mnist-latent8-beta{beta:g}"
        train(RunConfig(beta=beta, **small), mnist, run_dir, verbose=0, options=fixture_options())
        weighted.append(RunSpec(run_dir, f"train beta {beta:g}"))
    ones = ["mnist-latent8", "mnist-latent8-seed1", "mnist-latent8-seed2"]
    config = ReportConfig(
        mnist2=[], mnist8=[RunSpec(runs / n, f"train {n}") for n in ones], cifar=None,
        out_dir=tmp_path / "out", data_dir=str(data_dir), fid_samples=300,
        only=["rate_distortion"], quick=True, rate=weighted, log=lambda line: None,
    )  # fmt: skip
    results = make_report(config)
    study = results["rate_distortion"]
    assert [r["beta"] for r in study["runs"]] == [1.0, 1.0, 1.0, 0.5, 784.0]
    from vae_keras.runs import load_run

    for row in study["runs"]:
        codes, log_var = samplers.encode(load_run(row["run_dir"]), mnist.x_test)
        assert row["rate"] == pytest.approx(latent.average_kl(codes, log_var), rel=1e-4)
        assert row["active_units"] == latent.active_units(codes) and 0 <= row["active_units"] <= 8
        assert row["distortion"] > 0 and 0 <= row["precision"] <= 1 and row["fid"] > 0
    assert study["beta1"]["rate"]["n"] == 3
    assert study["beta1"]["rate"]["mean"] == pytest.approx(
        np.mean([r["rate"] for r in study["runs"][:3]])
    )
    for name in ("rate_distortion", "beta_samples"):
        assert imread(tmp_path / "out" / f"{name}.png").shape[0] > 300
    table = results_table(results)
    assert "| 0.5 | 1 |" in table and "| 784 | 1 |" in table and "| 1 (the slides) | 3 |" in table


def test_the_conditional_step_scores_the_digits_asked_for(tiny_runs, tmp_path):
    """The conditional step on tiny runs (one conditional, three unconditional): its samples'
    labels are the test set's, the accuracy is the classifier's on them (overall the
    frequency-weighted mean of the per-digit accuracies), the rate is the analytic mean KL of the
    codes encoded with their labels; the figure; the README table's two rows."""
    from vae_keras import evaluation, latent, samplers
    from vae_keras.conditioning import frequency_labels
    from vae_keras.features import ClassifierFeatures
    from vae_keras.report import ReportConfig, RunSpec, make_report, results_table
    from vae_keras.runs import load_run

    root, data_dir, runs = tiny_runs
    mnist = load_dataset("mnist", data_dir)
    run_dir = tmp_path / "runs" / "mnist-latent8-cond"
    small = {"intermediate_dim": 16, "epochs": 1, "batch_size": 100, "latent_dim": 8}
    train(RunConfig(conditional=True, **small), mnist, run_dir, verbose=0,
          options=fixture_options())  # fmt: skip
    ones = ["mnist-latent8", "mnist-latent8-seed1", "mnist-latent8-seed2"]
    n = 300
    config = ReportConfig(
        mnist2=[], mnist8=[RunSpec(runs / name, f"train {name}") for name in ones], cifar=None,
        out_dir=tmp_path / "out", data_dir=str(data_dir), fid_samples=n, only=["conditional"],
        quick=True, conditional=[RunSpec(run_dir, "train conditional")],
        classifier=RunSpec(runs / "mnist-classifier", "train classifier", "classifier.keras"),
        log=lambda line: None,
    )  # fmt: skip
    results = make_report(config)
    study = results["conditional"]
    rows = study["runs"]
    assert [r["conditional"] for r in rows] == [True, False, False, False]
    run = load_run(run_dir)
    labels = frequency_labels(mnist.y_test, n, config.fid_seed)
    assert np.array_equal(np.sort(labels[:200]), np.sort(mnist.y_test))  # the test labels
    samples = evaluation.sample_prior(run, n, config.fid_seed, labels=labels)
    classifier = ClassifierFeatures(runs / "mnist-classifier")
    predicted = classifier.classes(evaluation.as_images(samples, mnist.image_shape))
    first = rows[0]
    assert first["accuracy"] == pytest.approx(np.mean(predicted == labels))
    shares = np.bincount(labels, minlength=10) / n
    per_digit = np.array([0.0 if a is None else a for a in first["accuracy_per_digit"]])
    assert first["accuracy"] == pytest.approx(float(np.sum(shares * per_digit)))
    assert sum(first["drawn_per_digit"]) == n and "accuracy" not in rows[1]
    codes, log_var = samplers.encode(run, mnist.x_test, mnist.y_test)
    assert first["rate"] == pytest.approx(latent.average_kl(codes, log_var), rel=1e-4)
    assert study["summary"]["unconditional"]["fid"]["n"] == 3
    assert imread(tmp_path / "out" / "conditional_samples.png").shape[0] > 300
    table = results_table(results)
    assert "| conditional | 1 |" in table and "| unconditional | 3 | (none asked) |" in table


def test_naming_a_step_in_only_asks_for_its_figures_and_a_figure_for_itself():
    """--only sample_quality draws both of that step's figures; --only fid_sample_size, one;
    without --only nothing changes."""
    from vae_keras.report import STEPS, ReportConfig
    from vae_keras.report.pipeline import with_named_steps_figures

    def only(*names):
        config = ReportConfig(mnist2=[], mnist8=[], cifar=None, out_dir=Path("."), only=names)
        return with_named_steps_figures(config, STEPS).only

    assert only("sample_quality") == ["sample_quality", "fid_sample_size", "mnist_class_coverage"]
    assert only("fid_sample_size") == ["fid_sample_size"]
    assert only("prior_hole", "latent_hole") == ["prior_hole", "latent_hole", "mixture_samples"]
    none = ReportConfig(mnist2=[], mnist8=[], cifar=None, out_dir=Path("."))
    assert with_named_steps_figures(none, STEPS) is none
