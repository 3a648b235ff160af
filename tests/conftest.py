"""Shared fixtures: small synthetic datasets so unit tests need no download."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import worker_threads  # noqa: F401  (each xdist worker's share of the cores, before NumPy)

# isort: split
import subprocess
import sys
from pathlib import Path

import cpu_log
import jax_cache
import numpy as np
import pytest
from hypothesis import settings

from vae_keras.data import Dataset, validate_split

# Under CI (CI=true), hypothesis draws the same examples on every run, so a failure seen
# there is reproduced by running the suite again; elsewhere it explores new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


ROOT = Path(__file__).resolve().parents[1]

#: The run's JAX compilation cache (tests/jax_cache.py), made by the process that configures
#: pytest first (xdist's controller, whose workers inherit its environment), None elsewhere.
JAX_CACHE_MADE = pytest.StashKey[str | None]()


def pytest_configure(config):
    config.stash[JAX_CACHE_MADE] = jax_cache.share(os.environ)
    if hasattr(config, "workerinput") and os.environ.get(cpu_log.VARIABLE):
        # an xdist worker of bench_tests.py's run: its CPU split; taken out of the environment
        # so that a pytest which a test starts (tests/test_backends.py's) writes no file of its own
        config.pluginmanager.register(cpu_log.CpuLog(os.environ.pop(cpu_log.VARIABLE)), "cpu_log")


def pytest_unconfigure(config):
    jax_cache.remove(config.stash.get(JAX_CACHE_MADE, None), os.environ)


def run_script(*args, env=None, timeout=600, cwd=ROOT, process=False):
    """Run ``python *args`` from the project's root (or ``cwd``) as a user would; the finished
    process (its ``returncode``, ``stdout``, ``stderr``).

    ``python scripts/<verb>.py ARGS`` on this process's backend runs *in this test process*
    (:func:`run_in_process`): the same ``run_module`` call as the script, its exit code and its
    output on descriptors 1 and 2, without a new interpreter importing TensorFlow again (about
    4.5 s of CPU each, a third of the suites' time). ``process=True``, a ``-c``/``-m`` command,
    another backend, a ``PYTHONPATH`` or a script that is no verb start a real process; so do
    the tests whose claim is about the process itself (start-up lines, a traceback, a kill).
    """
    if not process and in_process_ok(args, env):
        return run_in_process(*args, env=env, cwd=cwd)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


#: The environment variables a script may be given in this process (each read when the verb
#: runs, not when a module is imported: the data folder, the explorer's Chromium); any other
#: starts one.
IN_PROCESS_ENV = {"VAE_KERAS_DATA_DIR", "TF_CPP_MIN_LOG_LEVEL", "VAE_KERAS_CHROMIUM"}


def script_module(script) -> str | None:
    """``train_mnist`` for ``scripts/train_mnist.py`` (a verb's module), else None."""
    from vae_keras.commands import VERBS

    path = Path(str(script))
    modules = {module for module, _ in VERBS.values()}
    if path.suffix != ".py" or path.parent.name != "scripts" or path.stem not in modules:
        return None
    return path.stem


def in_process_ok(args, env) -> bool:
    """Whether ``python *args`` can run in this process: a verb's script, with no environment
    but :data:`IN_PROCESS_ENV`'s (the backend of this process is the one it would get)."""
    extra = set(env or {}) - IN_PROCESS_ENV
    return bool(args) and script_module(args[0]) is not None and not extra


def run_in_process(script, *args, env=None, cwd=ROOT) -> subprocess.CompletedProcess:
    """``python scripts/<verb>.py ARGS`` as :func:`vae_keras.commands.run_module` in this
    process (tests/captured.py): in ``cwd``, with ``env`` set, ``sys.argv[0]`` the script's,
    descriptors 1 and 2 captured, ``SystemExit`` (argparse) read as the exit code; everything
    restored after. An exception that escapes is a bug and fails the test, as its traceback
    would."""
    from captured import call_captured

    from vae_keras.commands import run_module

    module = script_module(script)
    argv = [str(script), *map(str, args)]
    return call_captured(lambda: run_module(module, argv[1:]), argv, env=env, cwd=cwd)


def load_benchmark(name: str):
    """``benchmarks/<name>.py`` imported as the module ``name`` (its functions and ``main``),
    as ``python benchmarks/<name>.py`` would run it, in this process."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def fixture_options():
    """How a fixture trains when its tests' claim is about what comes after training (figures,
    FID, likelihood, the explorer, a damaged run), not about the training path: the default
    :class:`~vae_keras.training.TrainOptions` without XLA. The same model, loss, optimizer,
    batches and fused steps; only the sampling noise differs (the options' docstring). On
    TensorFlow a tiny run's fixed cost is then about 1.5 s instead of 3.7 s (XLA compiling the
    train and eval steps; 2-core Xeon without AMX). The default compiled path keeps its own
    tests: tests/test_training.py, the backend checks, the fresh clone's training
    (tests/test_report.py) and the kill inside a default-path epoch (test_crash_safety.py)."""
    from vae_keras.training import TrainOptions

    return TrainOptions(jit_compile=False)


def synthetic_images(n: int, shape=(28, 28), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images: one of ten random prototype patterns per label, plus noise."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((10, *shape)) ** 3
    labels = rng.integers(0, 10, size=n)
    images = prototypes[labels] + 0.1 * rng.standard_normal((n, *shape))
    return (np.clip(images, 0, 1) * 255).astype(np.uint8), labels.astype(np.uint8)


def synthetic_dataset(n_train: int, n_test: int) -> Dataset:
    """A validated 28 x 28 :class:`Dataset` of :func:`synthetic_images` (seeds 1 and 2)."""
    x_train, y_train = synthetic_images(n_train, seed=1)
    x_test, y_test = synthetic_images(n_test, seed=2)
    xtr, ytr = validate_split(x_train, y_train, (28, 28), "synthetic", "train")
    xte, yte = validate_split(x_test, y_test, (28, 28), "synthetic", "test")
    return Dataset("mnist", (28, 28), xtr, ytr, xte, yte, "synthetic")


def write_npz(folder, name="mnist", n_train=300, n_test=100, shape=(28, 28), **overrides):
    x_train, y_train = synthetic_images(n_train, shape, seed=1)
    x_test, y_test = synthetic_images(n_test, shape, seed=2)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    path = os.path.join(folder, f"{name}.npz")
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="session", autouse=True)
def keras_arrays_as_every_command_feeds_them():
    """What every command's start does (vae_keras.startup.quiet_start calls the same
    function), done in each test process too, so that the library functions run as the
    commands run them: on TensorFlow, Keras's pipeline for NumPy arrays without tf.data's
    autotuning thread (the same batches and weights, without the stalls at epoch ends).
    """
    from vae_keras import startup

    startup.keras_arrays_without_autotune_thread()


@pytest.fixture
def tiny_dataset() -> Dataset:
    return synthetic_dataset(512, 128)


@pytest.fixture
def mnist_dir():
    """The real data folder from $VAE_KERAS_DATA_DIR, or a skip saying how to enable the test."""
    folder = os.environ.get("VAE_KERAS_DATA_DIR")
    if not folder or not os.path.isfile(os.path.join(folder, "mnist.npz")):
        pytest.skip(
            "needs the real MNIST: set VAE_KERAS_DATA_DIR to a folder holding mnist.npz "
            "(../shared/data on the project's machines)"
        )
    return folder


def stop_after(epochs: int):
    """A Keras callback that simulates an interruption (Ctrl-C) once ``epochs`` epochs are
    checkpointed (Keras is imported here, not when conftest is)."""
    import keras

    class StopAfter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == epochs:
                raise KeyboardInterrupt

    return StopAfter()


#: The longest test files, run first: `make test` gives each xdist worker whole files
#: (`--dist loadfile`; pyproject.toml keeps xdist from sorting them by their number of
#: tests), and a long file started last would run alone at the end. Any run but the slow
#: suite's takes this order (`make test-slow` takes :data:`SLOW_ORDER`; the slow files
#: here keep a run of every test in a sensible order). The fused JAX path's check comes
#: second, on the other worker, so that the JAX programs it compiles are in the run's cache
#: (tests/jax_cache.py) when the backend check reaches JAX, its last backend.
LONGEST_FIRST = (
    "test_backends.py",
    "test_jax_speed.py",
    "test_report.py",
    "test_installed_torch.py",
    "test_installed_jax.py",
    "test_classifier.py",
    "test_crash_safety.py",
    "test_notebook.py",
    "test_variants.py",
    "test_distribution.py",
    "test_explorer.py",
    "test_training.py",
    "test_scripts.py",
    "test_evaluation.py",
)


#: The slow suite's own order (``make test-slow``, ``-m slow``). xdist gives each worker its
#: first file and, while the worker holds two tests or fewer, the next one: a file of one
#: test (most of this suite's) has the following file queued behind it before it starts. The
#: classifier's 99 % test (one thread, the longest) gets a short file behind it, and the
#: installed user's two venvs go to the other worker; then the rest, longest first. In the
#: shared order the classifier held the PyTorch venv's test behind it, and the suite, with
#: the four tests moved from ``make test`` (e4d42d5), took 516 s on 831 s of CPU, its workers
#: 369 and 499 s (2-core Xeon without AMX).
SLOW_ORDER = (
    "test_classifier.py",
    "test_installed_jax.py",
    "test_scripts.py",
    "test_installed_torch.py",
    "test_crash_safety.py",
    "test_notebook.py",
    "test_distribution.py",
    "test_backends.py",
    "test_report.py",
    "test_benchmarks.py",
    "test_chain.py",
    "test_variants.py",
    "test_startup.py",
    "test_cli.py",
    "test_training.py",
    "test_explorer.py",
)


def pytest_collection_modifyitems(config, items):
    order = SLOW_ORDER if config.getoption("markexpr") == "slow" else LONGEST_FIRST
    rank = {name: i for i, name in enumerate(order)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order kept within
