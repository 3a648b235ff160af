"""Each pytest-xdist worker's share of the cores, set before NumPy or a backend is imported.

``make test`` runs ``pytest -n auto``: one worker per core. Each worker's own thread pools
(TensorFlow's, XLA's, OpenBLAS's, PyTorch's), and those of the processes it starts, would
size themselves to every core and contend with the other workers' for them; one thread
each (cores // workers) does the same work in less time (``make test`` in a fresh clone on a
2-core Xeon without AMX, back to back: 437 s, against 462 s with two threads a worker).
tests/conftest.py imports this module first; the variables are read once, when the
libraries load.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: The thread counts of OpenMP (PyTorch), OpenBLAS (NumPy, SciPy), MKL and TensorFlow.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")  # fmt: skip
#: XLA's CPU backend (JAX, TensorFlow's jit_compile) with one thread: no Eigen pool.
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def share_the_cores(environ: MutableMapping[str, str], cores: int | None = None) -> int:
    """Set ``environ``'s thread counts to ``cores // workers`` (at least 1) under xdist
    (``PYTEST_XDIST_WORKER_COUNT``); a variable already set is kept, and nothing is set
    outside xdist. Returns the threads per worker, 0 outside xdist."""
    if int(environ.get("PYTEST_XDIST_WORKER_COUNT", "0")) < 1:
        return 0
    threads = worker_cores(environ, cores)
    for name in THREAD_VARIABLES:
        environ.setdefault(name, str(threads))
    if threads == 1:
        environ.setdefault("XLA_FLAGS", XLA_ONE_THREAD)
    return threads


def worker_cores(environ: MutableMapping[str, str] = os.environ, cores: int | None = None) -> int:
    """How many processes a test may keep busy at once: its worker's share of the cores
    under xdist (``cores // workers``, at least 1), every core outside it. A test that starts
    more at once than its share (the crash tests' trainers) slows the other workers' tests
    and makes the whole suite longer."""
    cores = cores or os.cpu_count() or 1
    workers = int(environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    return max(1, cores // workers) if workers >= 1 else cores


share_the_cores(os.environ)
