"""Run a script as ``python SCRIPT ARGS...``, killed by SIGKILL at its Nth file commit.

Usage: ``python crash_at_commit.py N SCRIPT [ARGS...]``. Every ``os.replace``
(the rename that commits a file of a run) is counted; at the Nth the process
sends itself SIGKILL just before the rename (``CRASH_WHEN=before``, the default)
or just after it (``CRASH_WHEN=after``): what a power cut or the out-of-memory
killer does at that instant. ``CRASH_WHEN=pause`` instead waits after the Nth
rename (touching the file ``$CRASH_MARKER`` first), so that a test can act on a
process stopped at a known instant (Ctrl-C, a second trainer). ``N = 0`` never
stops and, at exit, prints the number of renames as ``COMMITS <n>`` on stderr.
"""

import atexit
import os
import runpy
import signal
import sys
import time
from pathlib import Path

# A test's SIGINT stands for Ctrl-C in a terminal, which raises KeyboardInterrupt. A process
# started in the background (``make test &``, some CI runners) inherits SIGINT ignored, and
# Python then installs no handler: the paused trainer would sleep through the signal.
signal.signal(signal.SIGINT, signal.default_int_handler)

crash_at = int(sys.argv[1])
when = os.environ.get("CRASH_WHEN", "before")
real_replace = os.replace
count = 0


def replace(src, dst, *args, **kwargs):
    global count
    count += 1
    if count == crash_at and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(src, dst, *args, **kwargs)
    if count == crash_at and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
    if count == crash_at and when == "pause":
        Path(os.environ["CRASH_MARKER"]).touch()
        time.sleep(300)


os.replace = replace
if crash_at == 0:
    atexit.register(lambda: print(f"COMMITS {count}", file=sys.stderr))
sys.argv = sys.argv[2:]
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
runpy.run_path(sys.argv[0], run_name="__main__")
