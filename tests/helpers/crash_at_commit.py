"""Run a script as ``python SCRIPT ARGS...``, killed by SIGKILL at its Nth file commit.

Usage: ``python crash_at_commit.py N SCRIPT [ARGS...]``. Every ``os.replace``
(the rename that commits a file of a run) is counted; at the Nth the process
sends itself SIGKILL just before the rename (``CRASH_WHEN=before``, the default)
or just after it (``CRASH_WHEN=after``): what a power cut or the out-of-memory
killer does at that instant. ``CRASH_WHEN=pause`` instead waits after the Nth
rename (touching the file ``$CRASH_MARKER`` first), so that a test can act on a
process stopped at a known instant (Ctrl-C, a second trainer). ``N = 0`` never
stops and, at exit, prints the number of renames as ``COMMITS <n>`` on stderr.

tests/helpers/zygote.py runs the same :func:`run` in processes it forks.
"""

import os
import runpy
import signal
import sys
import time
from pathlib import Path


def install(crash_at: int, when: str) -> list[int]:
    """Count this process's ``os.replace`` calls and act at the ``crash_at``-th; the count."""
    real_replace = os.replace
    count = [0]

    def replace(src, dst, *args, **kwargs):
        count[0] += 1
        if count[0] == crash_at and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst, *args, **kwargs)
        if count[0] == crash_at and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        if count[0] == crash_at and when == "pause":
            Path(os.environ["CRASH_MARKER"]).touch()
            time.sleep(300)

    os.replace = replace
    return count


def run(crash_at: int, argv: list[str]) -> int:
    """Run the script ``argv[0]`` with its arguments as ``__main__``; its exit code."""
    count = install(crash_at, os.environ.get("CRASH_WHEN", "before"))
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
    try:
        runpy.run_path(argv[0], run_name="__main__")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if crash_at == 0:
        print(f"COMMITS {count[0]}", file=sys.stderr)
    return code


if __name__ == "__main__":
    # A test's SIGINT stands for Ctrl-C in a terminal, which raises KeyboardInterrupt. A
    # process started in the background (``make test &``, some CI runners) inherits SIGINT
    # ignored, and Python then installs no handler: the paused trainer would sleep through it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(run(int(sys.argv[1]), sys.argv[2:]))
