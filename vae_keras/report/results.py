"""``results.json``: read it, and merge a new report into what earlier reports measured."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def merge_previous(path: Path, results: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    """This report's results over the previous results.json: what this report did not
    measure (other steps' figures and numbers, other runs' training rows, the
    ``make reproduce`` timings) is kept, and ``report_steps`` dates every step (in
    ``order``, the report's step names)."""
    if not path.is_file():
        return results
    merged = load_results(path)
    previous_date = merged.get("date")
    ran = {s["step"] for s in results["report_steps"]}
    steps = {
        s["step"]: {"date": previous_date, **s}  # entries written before steps were dated
        for s in merged.get("report_steps", [])
        if s["step"] not in ran
    }
    steps.update({s["step"]: s for s in results["report_steps"]})
    figures = {**merged.get("figures", {}), **results["figures"]}
    background_numbers = {**merged.get("background", {}), **results.get("background", {})}
    training = {t["run_dir"]: t for t in (*merged.get("training", []), *results["training"])}
    merged.update(results)
    merged.update(
        figures=figures,
        background=background_numbers,
        training=list(training.values()),
        report_steps=[steps[name] for name in order if name in steps],
    )
    return merged


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    return json.loads(Path(path).read_text())
