"""What each test file costs in CPU: in its xdist worker, and in the processes it started.

``benchmarks/bench_tests.py`` sets :data:`VARIABLE` to a folder; ``conftest.py`` then
registers :class:`CpuLog` in every xdist worker (and takes the variable out of the worker's
environment, so that a pytest started by a test adds no file). It reads ``getrusage`` around
each test (its set-up, call and tear-down, so that a module's fixtures count for its file)
and writes one JSON file per worker when the session ends: per test file, the worker's own
CPU seconds and those of the processes that the file's tests started and waited for (a fresh
interpreter, the backend checks, pip, Chromium). A process left running, or killed and never
waited for, is not counted. :func:`merged` sums the workers' files for bench_tests.
"""

from __future__ import annotations

import json
import os
import resource
from collections import defaultdict
from pathlib import Path

import pytest

#: The folder that bench_tests.py gives the suite for the workers' files.
VARIABLE = "VAE_KERAS_TEST_CPU_LOG"


def cpu_seconds(who: int) -> float:
    """User and system CPU seconds of ``resource.RUSAGE_SELF`` or ``RUSAGE_CHILDREN``."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class CpuLog:
    """Per test file: ``[CPU seconds in this process, CPU seconds of the processes started]``."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.files: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        own, started = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
        yield
        row = self.files[item.nodeid.split("::")[0]]
        row[0] += cpu_seconds(resource.RUSAGE_SELF) - own
        row[1] += cpu_seconds(resource.RUSAGE_CHILDREN) - started

    def pytest_sessionfinish(self, session):
        if self.files:  # a worker's (xdist's controller runs no test)
            rows = {file: [round(own, 2), round(started, 2)] for file, (own, started) in
                    self.files.items()}  # fmt: skip
            (self.folder / f"cpu-{os.getpid()}.json").write_text(json.dumps(rows))


def merged(folder: str | os.PathLike) -> dict[str, dict[str, float]]:
    """The workers' files in ``folder``, summed per test file:
    ``{file: {"in_worker": s, "started": s}}``, the costliest (both together) first."""
    total: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for path in Path(folder).glob("cpu-*.json"):
        for file, (own, started) in json.loads(path.read_text()).items():
            total[file][0] += own
            total[file][1] += started
    ranked = sorted(total.items(), key=lambda kv: -sum(kv[1]))
    return {f: {"in_worker": round(a, 1), "started": round(b, 1)} for f, (a, b) in ranked}
