"""Provenance: the date, machine and package versions behind every number, and run summaries.

Imported by the report and by the benchmarks, whose JSON records carry the same header.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np

from vae_keras.machine import cpu_description, machine_line
from vae_keras.runs import LoadedRun


def utc_timestamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages behind every measurement."""
    import keras
    import matplotlib
    import scipy
    import tensorflow as tf

    versions = {
        "python": platform.python_version(),
        "keras_backend": keras.backend.backend(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
    }
    for other in ("jax", "torch"):  # the other backends, where installed and in use
        module = sys.modules.get(other)
        if module is not None:
            versions[other] = module.__version__
    return versions


def environment() -> dict[str, Any]:
    """Date, machine and package versions, for results.json."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return {
        "date": utc_timestamp(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_count": os.cpu_count(),
            "cpu": cpu_description(),
            "gpus": [g.name for g in gpus],
        },
        "versions": package_versions(),
    }


def benchmark_header() -> dict[str, Any]:
    """Date, the machine (one line, and the CPU's fields) and package versions, for the
    benchmarks' JSON: the CPU model and vector extensions set the speed ratios."""
    import tensorflow as tf

    gpu = "GPU" if tf.config.list_physical_devices("GPU") else "no GPU"
    cpu = cpu_description()
    return {
        "date": utc_timestamp(),
        "machine": machine_line(cpu, gpu),
        "cpu": cpu,
        "versions": package_versions(),
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
