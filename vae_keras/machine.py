"""The machine behind a measurement: CPU model, vector extensions, cores, numpy's BLAS.

Standard library and numpy only (no TensorFlow), so every benchmark can name its CPU.
Speed ratios depend on these (XLA's kernels against numpy's BLAS differ from one CPU to
the next), so every benchmark record and table row carries them, and rows from different
CPUs are never read as one measurement.
"""

from __future__ import annotations

import os
import platform
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


def machine_line(cpu: dict[str, Any], gpu: str | None = None) -> str:
    """One line for a table: ``AMD EPYC (AVX2, AVX-512), 2 cores, no GPU, BLAS openblas 0.3``."""
    extensions = f" ({', '.join(cpu['extensions'])})" if cpu["extensions"] else ""
    parts = [f"{cpu['model']}{extensions}", f"{cpu['cores']} cores"]
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
