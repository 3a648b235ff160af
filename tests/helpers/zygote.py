"""Training processes forked from one that has imported TensorFlow (or JAX) once.

A trainer's process spends about 4.5 s of CPU importing TensorFlow before it trains a
tiny run for a second; tests/test_crash_safety.py starts 40 of them. The zygote (Android's
name for the same trick) is a process that imports the training script's modules once,
then forks a child per request: the child is a process of its own, as ``python
tests/helpers/crash_at_commit.py N SCRIPT ARGS`` would be (its own pid, environment,
working folder, output files and ``os.replace`` counter), killed by a real SIGKILL at its
Nth commit, and the zygote reports how it ended. What the crash tests check (the files a
kill leaves, what the rerun makes of them) does not depend on which process imported
TensorFlow; a fresh interpreter is still what the tests that start trainers as a user does
use (two trainers at once, Ctrl-C).

Usage as a server (:class:`Zygote` starts it): ``python zygote.py``, then one JSON request
per line on stdin, ``{"argv", "env", "cwd", "crash_at", "out", "err", "timeout"}``; one JSON
answer per line on stdout, ``{"returncode"}`` (negative: the signal that ended the child;
``null``: killed at the timeout).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def serve() -> None:
    import keras  # noqa: F401  (the backend of this process's environment)

    import vae_keras.cli  # noqa: F401  (what scripts/train_mnist.py imports as it runs)
    import vae_keras.training  # noqa: F401

    sys.path.insert(0, str(HERE))
    import crash_at_commit

    answers = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: a trainer of its own, never back in this loop
            code = 1
            try:
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                for fd, path in ((1, request["out"]), (2, request["err"])):
                    os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
                sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
                sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
                os.environ.clear()
                os.environ.update(request["env"])
                os.chdir(request["cwd"])
                code = crash_at_commit.run(request["crash_at"], request["argv"])
            except BaseException:  # a bug: its traceback on the child's stderr, exit 1
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        deadline = time.monotonic() + request["timeout"]
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                code = None
                break
            time.sleep(0.02)
        answers.write(json.dumps({"returncode": code}) + "\n")
        answers.flush()


class Zygote:
    """A server process (:func:`serve`) in ``env``; :meth:`run` forks a trainer from it."""

    def __init__(self, env: dict[str, str], folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.log = self.folder / "zygote.err"
        self.process = subprocess.Popen(
            [sys.executable, __file__], env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log.open("w"),
        )  # fmt: skip

    def run(self, argv, env, cwd, crash_at=0, timeout=300) -> subprocess.CompletedProcess:
        """``python crash_at_commit.py crash_at *argv`` in ``cwd`` with ``env``, forked;
        as :func:`subprocess.run` returns it (``returncode`` -9 for a SIGKILL)."""
        self.count += 1
        out, err = (self.folder / f"{self.count}.{name}" for name in ("out", "err"))
        request = {"argv": [str(a) for a in argv], "env": dict(env), "cwd": str(cwd),
                   "crash_at": int(crash_at), "out": str(out), "err": str(err),
                   "timeout": timeout}  # fmt: skip
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the zygote ended: {self.log.read_text()[-3000:]}"
        code = json.loads(answer)["returncode"]
        assert code is not None, f"{argv} ran past its {timeout} s"
        return subprocess.CompletedProcess(argv, code, out.read_text(), err.read_text())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


if __name__ == "__main__":
    serve()
