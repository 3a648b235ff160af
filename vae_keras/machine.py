"""The machine behind a measurement: CPU, numpy's BLAS, the Keras backend and its devices.

Standard library and numpy, plus the one Keras backend this process runs (never another:
a JAX install needs no TensorFlow), so every benchmark can name its CPU and GPU. Speed
ratios depend on these (XLA's kernels against numpy's BLAS differ from one CPU to the
next), so every benchmark record and table row carries them, and rows from different
machines are never read as one measurement.

:func:`backend_devices` asks the backend in use which devices it computes on (the GPU's
model, e.g. "NVIDIA H200"); :func:`nvidia_smi_gpus` asks the driver which GPUs the machine
has. Where the two disagree, :func:`gpu_unused_warning` is the start line that says so and
how to fix it.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

#: The vector extensions that matter for float32/bf16 products: ``/proc/cpuinfo`` flag, name.
VECTOR_EXTENSIONS = (
    ("avx2", "AVX2"),
    ("avx512f", "AVX-512"),
    ("avx512_bf16", "AVX512-BF16"),
    ("amx_bf16", "AMX-BF16"),
)
CPUINFO = Path("/proc/cpuinfo")


def read_cpuinfo() -> str:
    """``/proc/cpuinfo`` (Linux), or "" where there is none."""
    try:
        return CPUINFO.read_text()
    except OSError:
        return ""


def _field(cpuinfo: str, name: str) -> str | None:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def cpu_model(cpuinfo: str) -> str:
    """The first processor's ``model name`` (else ``platform.processor()``, else the arch)."""
    return _field(cpuinfo, "model name") or platform.processor() or platform.machine()


def vector_extensions(cpuinfo: str) -> list[str]:
    """The :data:`VECTOR_EXTENSIONS` the first processor's ``flags`` line lists, in order."""
    flags = set((_field(cpuinfo, "flags") or "").split())
    return [name for flag, name in VECTOR_EXTENSIONS if flag in flags]


def numpy_blas() -> str:
    """numpy's BLAS library and version, from its build configuration ("unknown" if unsaid)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # numpy < 1.26 has no dict mode; the name is then unknown
        return "unknown"
    return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()


def cpu_description(cpuinfo: str | None = None) -> dict[str, Any]:
    """``{"model", "extensions", "cores", "blas"}`` of this machine (or of ``cpuinfo``'s text)."""
    text = read_cpuinfo() if cpuinfo is None else cpuinfo
    return {
        "model": cpu_model(text),
        "extensions": vector_extensions(text),
        "cores": os.cpu_count(),
        "blas": numpy_blas(),
    }


def cpu_name(cpu: dict[str, Any]) -> str:
    """``AMD EPYC (AVX2, AVX-512)``: the model and its vector extensions (none recorded: the
    model alone)."""
    extensions = cpu.get("extensions") or []
    return cpu["model"] + (f" ({', '.join(extensions)})" if extensions else "")


def machine_line(cpu: dict[str, Any], gpu: str | None = None) -> str:
    """One line for a table: ``AMD EPYC (AVX2, AVX-512), 2 cores, no GPU, BLAS openblas 0.3``."""
    parts = [cpu_name(cpu), f"{cpu['cores']} cores"]
    if gpu is not None:
        parts.append(gpu)
    parts.append(f"BLAS {cpu['blas']}")
    return ", ".join(parts)


def recorded_machine(record: dict[str, Any]) -> str:
    """A benchmark record's machine line; a record written before CPUs were named says so,
    so that its ratios are not read as this CPU's."""
    if "cpu" in record:
        return str(record["machine"])
    return f"{record['machine']} (CPU model not recorded)"


#: What installs a CUDA build of each backend (pyproject.toml's extras; see docs/backends.md).
CUDA_INSTALL = {
    "tensorflow": 'pip install "vae-keras[tensorflow-cuda]" (TensorFlow with its CUDA libraries)',
    "jax": 'pip install "vae-keras[jax-cuda]" (JAX with its CUDA 12 plugin)',
    "torch": "pip install --force-reinstall torch (PyPI's Linux wheel carries CUDA)",
}


def nvidia_smi_gpus(timeout: float = 10.0) -> list[str]:
    """The NVIDIA GPUs the driver reports (``nvidia-smi``), by model; ``[]`` without one.

    No driver, no ``nvidia-smi`` on ``PATH``, or one that fails: no GPU.
    """
    program = shutil.which("nvidia-smi")
    if program is None:
        return []
    try:
        result = subprocess.run(
            [program, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if result.returncode != 0:
        return []
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def backend_devices(backend: str | None = None) -> dict[str, Any]:
    """``{"backend", "devices", "gpus"}``: where the Keras backend in use computes.

    ``devices`` as the backend names them (``"cpu:0"``, ``"gpu:0"``, ``"cuda:0"``);
    ``gpus`` the models of its GPUs (``["NVIDIA H200"]``, ``[]`` on a CPU), asked of
    that backend alone: JAX's ``device_kind``, PyTorch's ``get_device_name``,
    TensorFlow's device details.
    """
    if backend is None:
        import keras

        backend = keras.backend.backend()
    if backend == "jax":
        import jax

        found = jax.devices()
        devices = [f"{d.platform}:{d.id}" for d in found]
        gpus = [d.device_kind for d in found if d.platform == "gpu"]
    elif backend == "torch":
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        devices = ["cpu:0", *(f"cuda:{i}" for i in range(count))]
        gpus = [torch.cuda.get_device_name(i) for i in range(count)]
    elif backend == "tensorflow":
        import tensorflow as tf

        physical = tf.config.list_physical_devices("GPU")
        devices = ["cpu:0", *(f"gpu:{i}" for i in range(len(physical)))]
        gpus = [tf.config.experimental.get_device_details(d).get("device_name", d.name)
                for d in physical]  # fmt: skip
    else:  # another backend (numpy, openvino): Keras computes on the CPU
        devices, gpus = ["cpu:0"], []
    return {"backend": backend, "devices": devices, "gpus": gpus}


def file_slug(name: str) -> str:
    """A device's name as part of a record's file name: ``"NVIDIA H200"`` -> ``"nvidia-h200"``."""
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def device_slug(header: dict[str, Any]) -> str:
    """The :func:`file_slug` of where a benchmark ran: its first GPU, else its CPU's model
    (``header`` as :func:`vae_keras.report.benchmark_header` writes it)."""
    gpus = header["backend_devices"]["gpus"]
    return file_slug(gpus[0] if gpus else header["cpu"]["model"])


def gpu_phrase(gpus: list[str]) -> str:
    """``"no GPU"``, ``"1 GPU (NVIDIA H200)"``, ``"2 GPUs (NVIDIA H200 x 2)"``."""
    if not gpus:
        return "no GPU"
    names = sorted(set(gpus))
    listed = ", ".join(f"{n} x {gpus.count(n)}" if gpus.count(n) > 1 else n for n in names)
    return f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''} ({listed})"


def gpu_unused_warning(backend: str, backend_gpus: list[str], smi_gpus: list[str]) -> str | None:
    """One line where ``nvidia-smi`` sees a GPU that ``backend`` will not use, else None.

    It names the GPU, the backend, and the command that installs the backend's
    CUDA build (:data:`CUDA_INSTALL`).
    """
    if not smi_gpus or backend_gpus:
        return None
    fix = CUDA_INSTALL.get(backend, "install a CUDA build of the backend")
    return (
        f"warning: nvidia-smi sees {gpu_phrase(smi_gpus)} but {backend} will compute on the CPU: "
        f"its installed build has no CUDA support. Fix: {fix}; or make reproduce BACKEND=jax."
    )
