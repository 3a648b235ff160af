"""A command's ``main`` run in this process as its own process would run it.

Descriptors 1 and 2 captured (TensorFlow's C++ side writes to them directly, not through
``sys.stdout``), ``sys.argv``, the environment and the working folder set for the call and
restored after it, ``SystemExit`` (argparse's usage errors and ``--help``) read as the exit
code. Two users: tests/conftest.py's ``run_in_process`` (a clone's ``scripts/<verb>.py`` in
the test's own process) and tests/helpers/installed_verbs.py (an installed venv's verbs in
one process of that venv). Standard library only: the installed venv has no pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path


def call_captured(
    main: Callable[[], int | None],
    argv: list[str],
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> subprocess.CompletedProcess:
    """``main()`` with ``sys.argv = argv``, ``env`` added to the environment and ``cwd`` the
    working folder; its exit code and what it wrote on descriptors 1 and 2. An exception
    other than ``SystemExit`` propagates (the caller says whether it is a test failure or a
    traceback on the captured stderr, as a process would print it)."""
    env = {k: str(v) for k, v in (env or {}).items()}
    saved_env = {k: os.environ.get(k) for k in env}
    saved_argv, saved_cwd = sys.argv[:], os.getcwd()
    saved_streams = sys.stdout, sys.stderr
    outputs, saved_fds = [], []
    sys.stdout.flush()
    sys.stderr.flush()
    for fd in (1, 2):
        captured = tempfile.TemporaryFile(mode="w+b")
        saved_fds.append(os.dup(fd))
        os.dup2(captured.fileno(), fd)
        outputs.append(captured)
    # Python's own streams onto descriptors 1 and 2 (pytest's capture points them elsewhere)
    sys.stdout = open(1, "w", closefd=False, buffering=1, errors="replace")  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False, buffering=1, errors="replace")  # noqa: SIM115
    try:
        os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        sys.argv = [str(a) for a in argv]
        try:
            code = main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved_streams
        for fd, saved in zip((1, 2), saved_fds, strict=True):
            os.dup2(saved, fd)
            os.close(saved)
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    texts = []
    for captured in outputs:
        captured.seek(0)
        texts.append(captured.read().decode(errors="replace"))
        captured.close()
    return subprocess.CompletedProcess(list(argv), 0 if code is None else code, *texts)
