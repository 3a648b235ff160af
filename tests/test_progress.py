"""Progress lines: what is done, the elapsed time and an estimate from the rate so far."""

import pytest

from vae_keras import progress
from vae_keras.progress import Progress, format_seconds


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0 s"), (42.2, "42 s"), (75.3, "1:15"), (3600, "60:00")]
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_the_estimate_follows_the_rate_and_lines_are_spaced(monkeypatch):
    clock = iter([100.0, 110.0, 112.0, 130.0, 140.0])  # start, then one reading per update
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    lines = []
    bar = Progress("likelihood", 4000, "images", lines.append, every=10.0)
    bar.update(1000)  # 10 s for a quarter: 30 s left
    bar.update(1500)  # 2 s after the last line: silent
    bar.update(3000)  # 30 s for three quarters: 10 s left
    bar.update(4000)  # the end is always shown, without an estimate
    assert lines == [
        "    likelihood: 1,000/4,000 images, 10 s, about 30 s left",
        "    likelihood: 3,000/4,000 images, 30 s, about 10 s left",
        "    likelihood: 4,000/4,000 images, 40 s",
    ]
