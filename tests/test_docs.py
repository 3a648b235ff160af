"""The README is a learner's first page; engineering detail is one link away in docs/, and the
blocks the benchmarks write are where their default --readme points."""

import re
import subprocess
import sys

from conftest import ROOT

LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def markdown_files():
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_is_short_with_a_figure_early_and_every_docs_page_linked():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 300
    first_figure = next(i for i, line in enumerate(lines) if "](figures/" in line and "![" in line)
    assert first_figure < 80
    readme = "\n".join(lines)
    for page in (ROOT / "docs").glob("*.md"):
        assert f"](docs/{page.name})" in readme, page.name


def test_every_relative_link_and_image_of_the_readme_and_docs_exists():
    for md in markdown_files():
        for target, _ in LINK.findall(md.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            assert (md.parent / target).exists(), f"{md.name}: {target}"


def test_each_benchmark_writes_its_block_into_the_page_that_holds_it():
    blocks = {
        "bench_train.py": ("docs/speed.md", "bench"),
        "bench_noise.py": ("docs/speed.md", "noise"),
        "bench_precision.py": ("docs/speed.md", "precision"),
        "profile_train.py": ("docs/speed.md", "profile"),
        "profile_xla_ops.py": ("docs/speed.md", "xla-ops"),
        "bench_fid.py": ("docs/fid.md", "bench-fid"),
    }
    for script, (page, marker) in blocks.items():
        text = (ROOT / page).read_text()
        assert f"<!-- {marker}:start -->" in text and f"<!-- {marker}:end -->" in text, script
        assert f"<!-- {marker}:start -->" not in (ROOT / "README.md").read_text()
        source = (ROOT / "benchmarks" / script).read_text()
        if script.startswith("profile_"):
            source = (ROOT / "benchmarks" / "profiling.py").read_text()
        assert f'default="{page}"' in source, script
    help_text = subprocess.run(
        [sys.executable, "benchmarks/bench_fid.py", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert "docs/fid.md" in help_text
