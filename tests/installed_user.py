"""The installed user's path, and one backend alone: ``pip install "vae-keras[jax]"`` (or
``[torch]``) into a fresh venv, then every step of the README from an empty folder, with
``KERAS_BACKEND`` unset and a ``HOME`` without Keras's config file.

The wheel is built once (pip's own build isolation: a fresh environment with the build backend
alone), then installed with one backend's extra into a venv of its own: nothing of this test's
environment is borrowed but pip itself (``pip --python``, so that the venvs need no pip of
their own: ``ensurepip`` took 4-5 s a venv), so TensorFlow is absent as on a user's machine
(``import tensorflow`` fails), and the verbs must find the backend that is there
(:mod:`vae_keras.backends`). The steps: every verb (the trainings of MNIST, CIFAR-10 and the
classifier, ``--tensorboard``, the figures, FID, the explorer, the ``.keras`` export, the
chain's listing) and the benchmarks that are not TensorFlow's by nature, run by the venv's
Python from the clone; those that are say so in one line and exit with 2. The console script's
own process starts the first training (its start line, Keras's config file), ``--help``,
``--version``, a mistyped verb, the chain's listing and a backend named but missing; the other
verbs and the two benchmarks run one after another in one process of the venv
(tests/helpers/installed_verbs.py: ``vae_keras.commands.main``, the console script's function,
each with its own output, exit code and environment), which spares importing Keras and the
backend again for each (the two tests side by side on a 2-core Xeon without AMX: JAX 168 -> 118
s, PyTorch 162 -> 107 s). Small synthetic data sets and one epoch each: what is checked is that
each step runs, exits 0 without a traceback, writes where a user expects and records the
backend that ran it, not what it measures. ``make test-slow`` (CI runs it):
tests/test_installed_jax.py and tests/test_installed_torch.py, one file each so that the two
run on two workers. They replace tests/test_one_backend.py, which ran the same steps as the
clone's scripts with TensorFlow blocked (JAX in ``make test``, PyTorch in ``make test-slow``):
the scripts are the same ``run_module`` call as the verbs (tests/test_backend_choice.py runs
both ways).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import jax_cache
import pytest
from conftest import ROOT, write_npz

#: This environment's pip, run on another venv's Python with ``--python``.
PIP = [sys.executable, "-m", "pip"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built by pip's build isolation (a fresh environment with the build
    backend alone) from a copy of what the wheel is made of (a build in the clone itself
    writes its build/ folder, which another build at the same time would trip on)."""
    folder = tmp_path_factory.mktemp("build")
    source = folder / "source"
    shutil.copytree(ROOT / "vae_keras", source / "vae_keras",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copy(ROOT / "pyproject.toml", source)
    built = subprocess.run(
        [*PIP, "wheel", "-q", "--no-deps", "-w", str(folder / "dist"), str(source)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    (path,) = (folder / "dist").glob("vae_keras-*.whl")
    return path


def installed_version(package: str) -> str:
    """This environment's version of ``package`` without its local tag (``2.13.0``), so that
    the fresh venv takes the same build (PyTorch's CPU wheel, not a CUDA one of several GB)."""
    from importlib.metadata import version

    return version(package).split("+")[0]


def user_venv(wheel: Path, extra: str, folder: Path) -> Path:
    """A fresh venv with ``wheel[extra]`` installed as a user installs it; its bin folder.

    ``--no-compile``: pip leaves the byte-compiling of the installed packages to the first
    import, as Python does for any module without a ``.pyc`` (:func:`user_env` lets it write
    them), so that only the modules the verbs import are compiled; what is installed is the
    same (PyTorch's install: 23 s instead of 57 s with the venv's own pip compiling every
    file, on a 2-core Xeon)."""
    venv.create(folder, with_pip=False)
    pins = {"jax": ["jax==" + installed_version("jax")], "torch": ["torch==" + installed_version(
        "torch")]}[extra]  # fmt: skip
    result = subprocess.run(
        [*PIP, "--python", str(folder / "bin" / "python"), "install", "-q", "--no-compile",
         f"{wheel}[{extra}]", *pins],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return folder / "bin"


def user_env(home: Path, data: Path, **extra: str) -> dict[str, str]:
    """A user's environment: no KERAS_BACKEND, no KERAS_HOME, no PYTHONPATH into the clone, an
    empty HOME (no ``~/.keras/keras.json``), the data folder, no JAX compilation cache (the
    test run's, tests/jax_cache.py), and no PYTHONDONTWRITEBYTECODE (set on the project's
    machines), so that the first verb writes the ``.pyc`` files that ``pip install
    --no-compile`` left to it and the next verbs read them."""
    drop = {"KERAS_BACKEND", "KERAS_HOME", "PYTHONPATH", "VIRTUAL_ENV", "VAE_KERAS_BACKEND_PICKED",
            "PYTHONDONTWRITEBYTECODE", *jax_cache.VARIABLES}  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "HOME": str(home), "VAE_KERAS_DATA_DIR": str(data), **extra}


#: tests/helpers/installed_verbs.py: a venv's verbs and benchmarks in one process of it.
IN_ONE_PROCESS = Path(__file__).parent / "helpers" / "installed_verbs.py"


def run_in_one_process(bin_dir: Path, work: Path, env: dict[str, str], steps: list[dict]) -> list:
    """``steps`` (tests/helpers/installed_verbs.py says how they are written) run one after
    another in one process of the venv's Python, in ``work``; each step's result, after
    checking that every step ran, exited 0 and printed no traceback."""
    plan, results = work.parent / "steps.json", work.parent / "results.json"
    plan.write_text(json.dumps(steps, default=str))
    done = subprocess.run(
        [str(bin_dir / "python"), str(IN_ONE_PROCESS), str(plan), str(results)], cwd=work,
        env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0 and results.is_file(), done.stderr[-3000:]
    ran = json.loads(results.read_text())
    for result in ran:
        failed = result["returncode"] != 0 or "Traceback" in result["stderr"]
        assert not failed, (result["args"], result["stdout"][-2000:], result["stderr"][-3000:])
    assert len(ran) == len(steps), done.stderr[-3000:]
    return ran


def every_verb(bin_dir: Path, backend: str, tmp_path: Path) -> None:
    """Each verb of the README from an empty folder on the one backend installed."""
    data, home, work = tmp_path / "data", tmp_path / "home", tmp_path / "work"
    for folder in (data, home, work):
        folder.mkdir()
    write_npz(data, "mnist", n_train=300, n_test=100)
    write_npz(data, "cifar10", n_train=300, n_test=100, shape=(32, 32, 3))
    env = user_env(home, data)
    assert not (home / ".keras").exists()

    def run(*args: str, ok: bool = True, **extra: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(bin_dir / "vae-keras"), *args], cwd=work, env={**env, **extra},
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert "Traceback" not in result.stderr, (args, result.stderr[-3000:])
        if ok:
            assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])
        return result

    check = subprocess.run(
        [str(bin_dir / "python"), "-c", "import importlib.util as u, vae_keras; "
         "print(vae_keras.__file__, u.find_spec('tensorflow'))"],
        env=env, cwd=work, capture_output=True, text=True,
    )  # fmt: skip
    where, tensorflow = check.stdout.split()
    assert where.startswith(str(bin_dir.parent)) and tensorflow == "None", check.stdout

    usage = run("--help")
    assert "train" in usage.stdout and "figures" in usage.stdout
    unknown = run("trian", ok=False)
    assert unknown.returncode == 2 and "no verb 'trian'" in unknown.stderr
    version = run("--version")
    assert version.stdout.strip() == f"vae-keras {installed_version('vae-keras')}"
    short = ("--epochs", "1", "--verbose", "0")
    trained = run("train", *short, "--tensorboard")
    device_line = trained.stdout.splitlines()[1]
    assert device_line.startswith(f"Training with {backend} (the backend installed here;")
    assert device_line.endswith(
        "on the CPU (2 cores); no GPU found".replace("2", str(os.cpu_count()))
    )
    assert json.loads((work / "runs" / "mnist-latent2" / "state.json").read_text())[
        "epochs_done"] == 1  # fmt: skip
    events = {p.parent.name for p in (work / "runs" / "mnist-latent2" / "tensorboard").rglob(
        "events.out.tfevents.*")}  # fmt: skip
    assert events == {"train", "validation", "samples"}
    # Keras wrote its config file on first import, naming TensorFlow: read as its default
    config = json.loads((home / ".keras" / "keras.json").read_text())
    assert config["backend"] == "tensorflow"
    # the other verbs and the benchmarks: one process of the venv (tests/helpers/installed_verbs.py)
    bench, benchmarks = work / "bench", ROOT / "benchmarks"
    steps = run_in_one_process(bin_dir, work, env, [
        {"verb": ["train", "--latent-dim", "8", *short]},
        {"verb": ["train-cifar10", *short]},
        {"verb": ["train-classifier", "--epochs", "1"]},
        {"verb": ["figures", "--fid-samples", "200"]},
        {"verb": ["fid", "runs/mnist-latent8", "mnist:test", "--n", "100", "--json", "fid.json"]},
        {"verb": ["fid", "runs/mnist-latent8", "mnist:test", "--n", "100", "--sampler", "gmm",
                  "--json", "gmm.json"]},
        {"verb": ["explore", "runs/mnist-latent2", "--out", "explorer"]},
        {"verb": ["export", "runs/mnist-latent2"]},
        # the benchmarks that are not TensorFlow's by nature, on the clone's files, with the
        # backend named as a developer names it (the benchmarks do not pick one)
        {"script": benchmarks / "bench_train.py", "env": {"KERAS_BACKEND": backend},
         "args": ["--backend", backend, "--epochs", "1", "--rounds", "1", "--no-readme",
                  "--out", bench / "train.json", "--data-dir", data]},
        {"script": benchmarks / "bench_likelihood.py", "env": {"KERAS_BACKEND": backend},
         "args": ["--run", "runs/mnist-latent2", "--k", "5", "--reference-n", "50",
                  "--out", bench / "likelihood.json"]},
    ])  # fmt: skip
    figures, fid, gmm = steps[3], steps[4], steps[5]
    assert json.loads((work / "runs" / "mnist-latent8" / "timing.json").read_text())[
        "backend"] == backend  # fmt: skip
    assert (work / "runs" / "cifar10-latent128" / "vae.keras").is_file()
    results = json.loads((work / "figures" / "results.json").read_text())
    assert results["versions"]["keras_backend"] == backend
    assert "tensorflow" not in results["versions"] and results["machine"]["gpus"] == []
    assert results["backend_devices"]["backend"] == backend
    assert results["backend_devices"]["devices"]
    assert (work / "figures" / "cifar10_reconstructions.png").is_file()
    assert (work / "figures" / "mnist_latent_space.png").is_file()
    assert "| run | latent |" in (work / "figures" / "results.md").read_text()
    assert not (work / "README.md").exists()
    assert "wrote the results tables to figures/results.md" in figures["stdout"]
    assert "vae-keras train --latent-dim 8 --seed 1" in figures["stdout"]  # what was skipped
    assert json.loads((work / "fid.json").read_text())["fid"] > 0, fid["stdout"]
    # the mixture sampler on this backend: fitted by the report's prior-hole step, cached
    assert [row["latent_dim"] for row in results["prior_hole"]["summary"]] == [2, 8]
    assert (work / "runs" / "mnist-latent8" / "latent_mixture.npz").is_file()
    record = json.loads((work / "gmm.json").read_text())
    assert record["sampler"] == "gmm" and record["fid"] > 0, gmm["stdout"]
    assert (work / "explorer" / "index.html").is_file()
    record = json.loads((bench / "train.json").read_text())
    assert record["backend_devices"]["backend"] == backend and "no GPU" in record["machine"]
    written = json.loads((bench / "likelihood.json").read_text())
    assert written["backend_devices"]["backend"] == backend
    listed = run("reproduce", "--list").stdout.splitlines()
    assert listed[0] == "vae-keras train --latent-dim 2 --verbose 2", listed

    def benchmark(name: str, *args: str) -> subprocess.CompletedProcess:
        """A benchmark of the clone in a process of the venv's Python, on ``backend``."""
        return subprocess.run(
            [str(bin_dir / "python"), str(benchmarks / name), *map(str, args)], cwd=work,
            env={**env, "KERAS_BACKEND": backend}, capture_output=True, text=True, timeout=900,
        )  # fmt: skip

    for tensorflow_only in (
        "bench_noise.py",
        "bench_epoch_ends.py",
        "profile_xla_ops.py",
        "profile_train.py",
    ):
        refused = benchmark(tensorflow_only)
        assert refused.returncode == 2, (tensorflow_only, refused.stderr[-2000:])
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "needs TensorFlow" in lines[0], refused.stderr

    # a backend named but not installed: one line with the pip command, nothing created
    missing = "tensorflow" if backend != "tensorflow" else "torch"
    named = run("train", "--out", "named", ok=False, KERAS_BACKEND=missing)
    assert named.returncode == 2 and not (work / "named").exists()
    assert named.stderr.strip() == (
        f'error: KERAS_BACKEND={missing}, which is not installed: pip install "vae-keras'
        f'[{missing}]", or unset KERAS_BACKEND to use {backend}.'
    )
