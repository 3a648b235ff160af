"""One JAX compilation cache for every process that a test run starts.

Keras builds new ``jax.jit`` functions for each model it trains, so a process finds none
of its earlier compiles in memory; JAX's persistent cache keys each program by its HLO and
finds them on disk, in this process and in the next. The test run's JAX processes (the
backend check, its ``.keras`` loader, the fused path's check, the two-device and loss
tests of ``make test-slow``) train the same small models: with one cache for the run they
compile each program once. The JAX backend check alone took 45 s with a cache of its own,
21 s after the fused path's check had filled the shared one (2-core Xeon without AMX, one
thread). The cache starts empty with each run (a folder made by the controller and removed
when it ends), as in CI; what it changes is the compile time, not the programs: a hit
loads the executable that the same HLO compiled to.

The tests whose claim is about a cache of their own set theirs (the chain's steps in
tests/test_chain.py, the killed trainers of tests/test_crash_safety.py); the installed
user's processes get none (tests/installed_user.py drops these variables).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import MutableMapping

#: What turns the cache on for every JAX process started with this environment:
#: the folder, every compile kept (not only those over 1 s), and a size bound, which makes
#: JAX take a file lock around each read and write (two workers share the folder).
VARIABLES = ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
             "JAX_COMPILATION_CACHE_MAX_SIZE")  # fmt: skip
MAX_BYTES = 2**31


def share(environ: MutableMapping[str, str]) -> str | None:
    """Point ``environ`` at a new, empty cache folder unless it names one already (a test
    run started by a test, or a user's own); the folder made, else None."""
    if environ.get("JAX_COMPILATION_CACHE_DIR"):
        return None
    folder = tempfile.mkdtemp(prefix="vae-keras-jax-cache-")
    environ.update(variables(folder))
    return folder


def variables(folder: str) -> dict[str, str]:
    """The :data:`VARIABLES` that keep every compile of a JAX process in ``folder``."""
    values = (folder, "0", str(MAX_BYTES))
    return dict(zip(VARIABLES, values, strict=True))


def remove(folder: str | None, environ: MutableMapping[str, str]) -> None:
    """Remove the folder :func:`share` made and its variables (nothing if it made none)."""
    if folder is None:
        return
    shutil.rmtree(folder, ignore_errors=True)
    for name in VARIABLES:
        environ.pop(name, None)
