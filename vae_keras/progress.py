"""Progress lines with an estimate of the time left, for the long evaluation steps.

``make reproduce`` runs for minutes; a step that stays silent for a minute looks
hung. :class:`Progress` prints a line at most every ``every`` seconds (and at
the end) with what is done, the elapsed time and, from the rate so far, the time
left. :func:`epoch_progress` does the same for a ``model.fit`` run with
``verbose=0``. The module imports no Keras until that callback is made, so that the
commands which only print (``vae-keras reproduce --list``) start without a backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def format_seconds(seconds: float) -> str:
    """``75.3 -> '1:15'``; under a minute ``'42 s'``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


class Progress:
    """``update(done)`` logs ``label: done/total unit, elapsed, ~left`` every ``every`` seconds."""

    def __init__(
        self,
        label: str,
        total: int,
        unit: str = "",
        log: Callable[[str], None] = print,
        every: float = 10.0,
    ):
        self.label, self.total, self.unit, self.log, self.every = label, total, unit, log, every
        self.start = time.perf_counter()
        self.last = self.start

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if done < self.total and now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.start
        line = f"    {self.label}: {done:,}/{self.total:,}{' ' + self.unit if self.unit else ''}"
        line += f", {format_seconds(elapsed)}"
        if 0 < done < self.total:
            line += f", about {format_seconds(elapsed * (self.total - done) / done)} left"
        self.log(line)


def epoch_progress(label: str, epochs: int, log: Callable[[str], None] = print) -> Any:
    """A Keras callback that logs a :class:`Progress` line per epoch of ``fit`` (for fits run
    with ``verbose=0``)."""
    import keras

    progress = Progress(label, epochs, "epochs", log, every=0.0)
    return keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: progress.update(epoch + 1)
    )
