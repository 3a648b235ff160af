"""The `make reproduce` chain: steps run in order and timed, a failure stops it, the table lands."""

import json
import sys
from pathlib import Path

import pytest
from conftest import run_script, write_npz

from vae_keras import chain
from vae_keras.report import README_END, README_START

ROOT = Path(__file__).resolve().parents[1]


def test_steps_run_in_order_and_a_failure_stops_the_chain():
    steps = (("scripts/train_mnist.py",), ("scripts/make_figures.py", "--x", "1"),
             ("scripts/export_run.py",))  # fmt: skip
    ran = []

    def runner(argv, step):
        # the project's Python runs every step as the package's verb: no clone needed
        assert argv[:3] == [sys.executable, "-m", "vae_keras"]
        ran.append((argv[3:], step))
        return 3 if argv[3] == "export" else 0

    lines = []
    with pytest.raises(chain.ChainFailed, match="export_run.py` exited with code 3") as failed:
        chain.run_chain(steps, log=lines.append, runner=runner)
    assert ran == [(["train"], "python scripts/train_mnist.py"),
                   (["figures", "--x", "1"], "python scripts/make_figures.py --x 1"),
                   (["export"], "python scripts/export_run.py")]  # fmt: skip
    assert failed.value.code == 3
    done = [t["command"] for t in failed.value.timings]
    assert done == ["python scripts/train_mnist.py", "python scripts/make_figures.py --x 1"]
    assert lines[0] == "== [1/3] python scripts/train_mnist.py" and "done in" in lines[1]
    with pytest.raises(ValueError, match="not a script"):
        chain.step_argv(("scripts/unknown.py",))


def test_a_training_step_shows_its_epochs_and_a_slow_finish_is_reported(tmp_path):
    """The chain reads the timing.json each training step writes: its epochs' seconds go
    into the step's record and table, and a finish over the limit is reported; a record
    older than the step (a run that had nothing left to train) is not taken."""
    import os

    steps = (("scripts/train_mnist.py", "--seed", "1"), ("scripts/train_mnist.py", "--seed", "2"))
    stale = tmp_path / "runs" / "old" / "timing.json"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"command": chain.shown(steps[1]), "epoch_seconds": 9.0}))
    os.utime(stale, (0, 0))

    def runner(argv, step):
        if argv[-1] == "1":
            record = {"setup_seconds": 1.0, "epoch_seconds": 44.0, "finish_seconds": 31.0,
                      "command": step}  # fmt: skip
            (tmp_path / "runs" / "one").mkdir()
            (tmp_path / "runs" / "one" / "timing.json").write_text(json.dumps(record))
        return 0

    lines = []
    timings = chain.run_chain(steps, cwd=tmp_path, log=lines.append, runner=runner)
    first, second = timings
    assert first["epoch_seconds"] == 44.0 and first["finish_seconds"] == 31.0
    assert "epoch_seconds" not in second  # only the stale record names it
    reports = [line for line in lines if "after its last epoch" in line]
    assert len(reports) == 1 and "--seed 1` spent 31.0 s" in reports[0]
    assert chain.slow_finish({**first, "finish_seconds": 0.1}) is None
    assert "(epochs 44 s" in chain.step_table(timings).splitlines()[0]


def test_step_env_turns_on_the_jax_cache_under_runs_and_a_users_own_wins(tmp_path, monkeypatch):
    """step_env turns JAX's persistent compilation cache on under cwd/runs; a user's own
    setting wins."""
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    env = chain.step_env(tmp_path, "python scripts/train_mnist.py")
    cache = tmp_path / "runs" / ".jax-compilation-cache"
    assert env["JAX_COMPILATION_CACHE_DIR"] == str(cache.resolve())
    assert env[chain.STEP_ENV] == "python scripts/train_mnist.py"
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/elsewhere")
    assert chain.step_env(tmp_path, "x")["JAX_COMPILATION_CACHE_DIR"] == "/elsewhere"


@pytest.mark.slow  # two JAX trainings in processes of their own (make test-slow, which CI runs)
def test_the_chains_jax_processes_share_their_compiled_programs(tmp_path, monkeypatch):
    """With step_env's cache, a second training of the same shape compiles nothing new, it
    loads. (Two JAX processes, about 20 s: ``make test-slow``; ``make test`` checks the
    variables step_env sets.)"""
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    env = chain.step_env(tmp_path, "python scripts/train_mnist.py")
    cache = tmp_path / "runs" / ".jax-compilation-cache"
    write_npz(tmp_path, n_train=256, n_test=64)
    entries = []
    for seed in ("0", "1"):  # the same programs, other weights and batches
        done = run_script("-m", "vae_keras", "train", "--epochs", "1", "--seed", seed,
                          "--data-dir", tmp_path, "--out", tmp_path / "runs" / seed,
                          "--verbose", "0", env={**env, "KERAS_BACKEND": "jax",
                          "JAX_COMPILATION_CACHE_DIR": str(cache)})  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        entries.append(sorted(p.name for p in cache.iterdir()))
    assert entries[0], "the first training wrote its compiled programs"
    assert entries[1] == entries[0], "the second loaded them instead of compiling anew"


def minimal_results_and_readme(folder: Path) -> tuple[Path, Path]:
    """A results.json with a report's required keys and a README with the table's markers."""
    results = folder / "results.json"
    results.write_text(json.dumps({"date": "2026-11-23T00:00:00+00:00", "training": [],
                                   "machine": {"processor": "x86_64", "cpu_count": 2, "gpus": []},
                                   "versions": {"tensorflow": "2", "keras": "3"}}))  # fmt: skip
    readme = folder / "README.md"
    readme.write_text(f"intro\n{README_START}\nold\n{README_END}\n")
    return results, readme


def test_the_table_goes_to_results_json_and_the_readme(tmp_path):
    results, readme = minimal_results_and_readme(tmp_path)
    timings = [{"command": "python scripts/a.py", "seconds": 61.0},
               {"command": "python scripts/b.py", "seconds": 30.5, "epoch_seconds": 25.0,
                "finish_seconds": 0.1}]  # fmt: skip
    chain.record_chain(results, timings, setup_seconds=95.0, readme=readme)
    recorded = json.loads(results.read_text())["reproduce"]
    assert recorded["steps"] == timings and recorded["total_seconds"] == 91.5
    assert recorded["setup_seconds"] == 95.0
    text = readme.read_text()
    assert "| `python scripts/a.py` | 1:01 |" in text and "| **total** | **1:32** |" in text
    assert "1:35 here" in text  # the set-up, reported apart
    assert "| `python scripts/b.py` | 30 s | 25 s | 0.1 s |" in text
    table = chain.step_table(timings)
    assert table.splitlines()[-1].split() == ["total", "1:32"]


def test_list_prints_the_makefiles_chain():
    result = run_script("scripts/reproduce.py", "--list")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [chain.shown(s) for s in chain.REPRODUCE_STEPS]
    assert "$(PY) scripts/reproduce.py" in (ROOT / "Makefile").read_text()


def test_listing_the_steps_imports_no_keras():
    """``--list`` prints commands (``reproduce`` and the studies, :func:`chain.list_or_run`):
    a process that neither imports Keras nor a backend (it took 4-9 s on a 2-core Xeon when
    it did)."""
    program = ("import sys; from vae_keras.commands import run_module; "
               "codes = [run_module(m, ['--list']) for m in ('reproduce', 'fid_latent_size', "
               "'rate_distortion', 'conditional')]; "
               "print(codes, sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch', "
               "'matplotlib') if m in sys.modules))")  # fmt: skip
    result = run_script("-c", program)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "[0, 0, 0, 0] []"


def test_a_missing_set_up_time_is_recorded_as_unknown_and_never_crashes(tmp_path, monkeypatch):
    """reproduce.py with no .venv/.setup-seconds (a venv made before it existed, or run
    directly): the table says "not recorded", and later reports rewrite the README too. (The
    chain's steps are replaced by one timed step; the script runs in this process.)"""
    results, readme = minimal_results_and_readme(tmp_path)
    step = {"command": "python scripts/a.py", "seconds": 61.0}
    monkeypatch.setattr(chain, "run_chain", lambda steps: [step])
    result = run_script("scripts/reproduce.py", "--results", results, "--readme", readme,
                        "--setup-file", tmp_path / "absent")  # fmt: skip
    assert result.returncode == 0, result.stderr
    recorded = json.loads(results.read_text())
    assert recorded["reproduce"]["setup_seconds"] is None
    assert "set-up of the venv and installs excluded, not recorded" in readme.read_text()
    from vae_keras.report import update_readme

    update_readme(readme, recorded)  # what every later make_figures.py does
    assert "| **total** | **1:01** |" in readme.read_text()


def test_make_compare_trains_the_runs_that_the_comparison_steps_read(tmp_path):
    """`make compare` (reproduce.py --compare): its trainings write the default run directories
    that make_figures.py's comparison steps look for, and its report step names those steps."""
    from vae_keras.cli import default_run_dir
    from vae_keras.report import STEP_NAMES

    result = run_script("scripts/reproduce.py", "--compare", "--list")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [chain.shown(s) for s in chain.COMPARE_STEPS]
    assert "$(PY) scripts/reproduce.py --compare" in (ROOT / "Makefile").read_text()

    def option(step, name, default):
        return step[step.index(name) + 1] if name in step else default

    trained = set()
    for step in chain.COMPARE_STEPS[:-1]:
        mnist = step[0] == "scripts/train_mnist.py"
        template = "runs/mnist-latent{latent_dim}" if mnist else "runs/cifar10-latent{latent_dim}"
        latent = int(option(step, "--latent-dim", 2 if mnist else 128))
        trained.add(default_run_dir(template, latent, 0, option(step, "--architecture", "dense"),
                                    option(step, "--likelihood", "bernoulli")))  # fmt: skip
    assert trained == {"runs/mnist-latent2", "runs/mnist-latent2-conv", "runs/cifar10-latent128",
                       "runs/cifar10-latent128-conv-gaussian"}  # fmt: skip
    figures = chain.COMPARE_STEPS[-1]
    only = figures[figures.index("--only") + 1 :]
    assert set(only) == {"mnist_architectures", "cifar10_architectures"} <= set(STEP_NAMES)
    # make_figures.py --only ... with none of these runs: one error naming each command
    (tmp_path / "runs").mkdir()
    missing = run_script("scripts/make_figures.py", "--only", *only, "--runs-dir",
                         tmp_path / "runs", "--out", tmp_path / "out", "--no-readme")  # fmt: skip
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "python scripts/train_mnist.py --architecture conv" in missing.stderr
    assert "--architecture conv --likelihood gaussian" in missing.stderr
    assert not (tmp_path / "out").exists()


def test_make_fid_study_trains_every_study_run_that_its_report_step_reads(tmp_path):
    """`make fid-study` (fid_latent_size.py): 15 trainings into the default run directories that
    make_figures.py's fid_latent_size step reads (the main protocol's six among them), then
    that step; listed by --list, recorded as "fid_study"."""
    from vae_keras import variants
    from vae_keras.cli import default_run_dir
    from vae_keras.report import STEP_NAMES

    result = run_script("scripts/fid_latent_size.py", "--list")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [chain.shown(s) for s in chain.STUDY_STEPS]
    assert "$(PY) scripts/fid_latent_size.py" in (ROOT / "Makefile").read_text()

    def run_of(step):
        latent = int(step[step.index("--latent-dim") + 1]) if "--latent-dim" in step else 2
        seed = int(step[step.index("--seed") + 1]) if "--seed" in step else 0
        return latent, seed

    trained = []
    for step in chain.STUDY_STEPS[:-1]:
        assert step[0] == "scripts/train_mnist.py"
        latent, seed = run_of(step)
        assert default_run_dir("runs/mnist-latent{latent_dim}", latent, seed) == (
            f"runs/{variants.study_run_name(latent, seed)}"
        )
        trained.append((latent, seed))
    assert trained == [(d, s) for d in (2, 4, 8, 16, 32) for s in (0, 1, 2)]
    main = {run_of(s) for s in chain.REPRODUCE_STEPS if s[0] == "scripts/train_mnist.py"}
    assert len(main) == 6 and main <= set(trained)  # make reproduce's runs are reused
    assert chain.STUDY_STEPS[-1][-2:] == ("fid_latent_size", "prior_hole")
    assert {"fid_latent_size", "prior_hole"} <= set(STEP_NAMES)
    # its report step with none of the runs: one error naming each run's command, nothing written
    (tmp_path / "runs").mkdir()
    missing = run_script("scripts/make_figures.py", "--only", "fid_latent_size", "--runs-dir",
                         tmp_path / "runs", "--out", tmp_path / "out", "--no-readme")  # fmt: skip
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "--latent-dim 32 --seed 2" in missing.stderr
    assert not (tmp_path / "out").exists()
