"""Atomic file writes: a temporary file beside the target, flushed, renamed onto it.

A leaf module (standard library only) that every other module may import: the
run directory's checkpoints, the figures, results.json, the classifier and the
FID statistics are all written this way, so a crash at any instant leaves
either the old file or the new one, never a partial one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Temporary files start with this; a run directory's leftovers are recognised by it.
TEMPORARY_PREFIX = ".tmp-"


def fsync_path(path: str | os.PathLike, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; flush it to disk and rename it onto ``path``.

    The temporary name starts with ``.tmp-`` and keeps the file's suffixes
    (Keras checks for ``.weights.h5``). After the rename the folder is flushed
    too, so the new name survives a power loss. On an exception the temporary
    file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TEMPORARY_PREFIX}{path.name.split('.')[0]}-", suffix=suffix, dir=path.parent
    )
    os.close(fd)
    os.unlink(tmp)  # writers such as h5py want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        fsync_path(tmp_path)
        os.replace(tmp_path, path)
        fsync_path(path.parent, directory=True)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
