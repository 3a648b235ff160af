#!/usr/bin/env python
"""Execute notebooks/slides.ipynb top to bottom in a fresh kernel and save it with its outputs.

The committed notebook is written by this command, so the outputs a reader sees on GitHub
are what its code produced. It uses the trained runs of `make reproduce` when they exist
and otherwise trains short ones (runs/notebook-latent2, runs/notebook-latent8).

Example: python scripts/run_notebook.py                  # executes and rewrites it in place
         python scripts/run_notebook.py --out /tmp/nb.ipynb
"""

import argparse
import sys
import time
from pathlib import Path

from vae_keras.cli import guarded

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "slides.ipynb"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebook", nargs="?", default=str(NOTEBOOK), help="the notebook to run")
    parser.add_argument("--out", default=None, help="where to save it (default: in place)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell at the most")
    args = parser.parse_args(argv)

    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as exc:
        print(
            f"error: {exc.name} is not installed; pip install -r requirements-test.txt "
            "(make test installs it into .venv)",
            file=sys.stderr,
        )
        return 2

    from vae_keras.atomic import write_text_atomic

    path = Path(args.notebook)
    if not path.is_file():
        print(f"error: no notebook at {path}", file=sys.stderr)
        return 2
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=args.timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:  # a failing cell is a bug: keep its traceback
        print(f"The notebook failed after {time.perf_counter() - start:.0f} s:", file=sys.stderr)
        raise exc
    seconds = time.perf_counter() - start
    out = Path(args.out) if args.out else path
    write_text_atomic(out, nbformat.writes(notebook) + "\n")
    cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    print(f"Executed {cells} code cells of {path} in {seconds:.0f} s; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(guarded(main))
