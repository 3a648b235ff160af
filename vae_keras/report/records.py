"""Provenance: the date, machine and package versions behind every number, and run summaries.

Imported by the report and by the benchmarks, whose JSON records carry the same header.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from vae_keras.machine import backend_devices, cpu_description, gpu_phrase, machine_line
from vae_keras.runs import LoadedRun


def utc_timestamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages behind every measurement.

    The backends (TensorFlow, JAX, PyTorch) where this process imported them: a
    JAX run on a machine without TensorFlow names no TensorFlow.
    """
    import keras
    import matplotlib
    import scipy

    versions = {
        "python": platform.python_version(),
        "keras_backend": keras.backend.backend(),
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
    }
    for backend in ("tensorflow", "jax", "torch"):
        module = sys.modules.get(backend)
        if module is not None:
            versions[backend] = module.__version__
    return versions


#: The checkout this package runs from, where it runs from a clone.
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def code_version(root: Path = SOURCE_ROOT) -> str | None:
    """The commit of the code measured: ``git``'s short hash of ``root``'s checkout, with
    ``-dirty`` where tracked files differ from it; ``None`` outside a git checkout (an
    installed wheel) or without ``git``. Two records of one day tell their code apart by it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != Path(root).resolve():
            return None  # the package sits inside some other repository
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("-dirty" if dirty else "")


def environment() -> dict[str, Any]:
    """Date, machine (CPU, the backend's GPUs by model), backend and versions, for results.json."""
    devices = backend_devices()
    return {
        "date": utc_timestamp(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_count": os.cpu_count(),
            "cpu": cpu_description(),
            "gpus": devices["gpus"],
        },
        "backend_devices": devices,
        "versions": package_versions(),
        "commit": code_version(),
    }


def benchmark_header() -> dict[str, Any]:
    """Date, the machine (one line, and the CPU's fields), the backend with its devices and
    the package versions, for the benchmarks' JSON: the CPU model and vector extensions (or
    the GPU) set the speed ratios."""
    devices = backend_devices()
    cpu = cpu_description()
    return {
        "date": utc_timestamp(),
        "machine": machine_line(cpu, gpu_phrase(devices["gpus"])),
        "cpu": cpu,
        "backend_devices": devices,
        "versions": package_versions(),
        "commit": code_version(),
    }


def training_summary(run: LoadedRun) -> dict[str, Any]:
    """Final losses and the median seconds per epoch (first epoch, which compiles, left out)."""
    last = run.history[-1]
    seconds = [row["seconds"] for row in run.history[1:]] or [run.history[0]["seconds"]]
    keys = (
        "loss",
        "val_loss",
        "reconstruction_loss",
        "kl_loss",
        "val_reconstruction_loss",
        "val_kl_loss",
    )
    return {
        "run_dir": str(run.run_dir),
        "dataset": run.config.dataset,
        "architecture": run.config.architecture,
        "likelihood": run.config.likelihood,
        "beta": run.config.beta,
        "conditional": run.config.conditional,
        "latent_dim": run.config.latent_dim,
        "intermediate_dim": run.config.intermediate_dim,
        "seed": run.config.seed,
        "epochs": last["epoch"],
        "batch_size": run.config.batch_size,
        "limit": run.config.limit,
        **{f"final_{k}": round(last[k], 3) for k in keys if k in last},
        "seconds_per_epoch": round(statistics.median(seconds), 3),
    }


def mean_std(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
        "n": len(values),
    }
