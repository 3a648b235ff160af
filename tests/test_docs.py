"""The README is a learner's first page; engineering detail is one link away in docs/, and the
blocks the benchmarks write are where their default --readme points."""

import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, load_benchmark

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
        "bench_epoch_ends.py": ("docs/speed.md", "epoch-ends"),
        "bench_precision.py": ("docs/speed.md", "precision"),
        "profile_train.py": ("docs/speed.md", "profile"),
        "profile_xla_ops.py": ("docs/speed.md", "xla-ops"),
        "bench_fid.py": ("docs/fid.md", "bench-fid"),
        "bench_chain_here.py": ("docs/backends.md", "chain"),
        "bench_jax_epoch.py": ("docs/speed.md", "jax-epoch"),
        "bench_backends.py": ("docs/backends.md", "backends-epoch"),
        "bench_tests.py": ("docs/tests.md", "tests-time"),
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


def test_every_module_script_and_benchmark_is_named_in_the_module_map():
    """docs/modules.md says where everything is: each module of the package (or its
    package folder), each script and each benchmark is named there."""
    text = (ROOT / "docs" / "modules.md").read_text()
    missing = []
    for path in sorted((ROOT / "vae_keras").glob("*.py")):
        if (
            path.name not in ("__init__.py", "__main__.py")
            and f"`vae_keras/{path.name}`" not in text
        ):
            missing.append(path.name)
    for folder in sorted(
        p for p in (ROOT / "vae_keras").iterdir() if (p / "__init__.py").is_file()
    ):
        if f"`vae_keras/{folder.name}/`" not in text:
            missing.append(folder.name + "/")
    for kind in ("scripts", "benchmarks"):
        for path in sorted((ROOT / kind).glob("*.py")) + sorted((ROOT / kind).glob("*.sh")):
            if f"`{kind}/{path.name}`" not in text:
                missing.append(f"{kind}/{path.name}")
    assert missing == []


def test_the_chain_table_on_the_backends_page_is_the_one_its_records_give(tmp_path):
    """docs/backends.md's GPU chain block is what bench_chain_here.py writes from the records
    in benchmarks/results/ (no number typed by hand)."""
    import shutil

    page = tmp_path / "backends.md"
    shutil.copy(ROOT / "docs" / "backends.md", page)
    # its main in this process (a fresh interpreter would spend its time importing TensorFlow)
    assert load_benchmark("bench_chain_here").main(["--table-only", "--readme", str(page)]) == 0
    assert page.read_text() == (ROOT / "docs" / "backends.md").read_text()
    assert "NVIDIA H200" in page.read_text()


def test_ci_runs_both_suites_and_times_them_apart_from_the_set_up(tmp_path):
    """``.ci/run`` (docs/tests.md): the set-up, ``make test``, ``make test-slow``, in that order,
    with the offline data exported; its last line gives each part's seconds and the CPU. Run
    here with a ``make`` that records what it is asked and does nothing."""
    fake = tmp_path / "bin"
    fake.mkdir()
    calls = tmp_path / "calls"
    (fake / "make").write_text(f'#!/bin/sh\necho "$*|$VAE_KERAS_DATA_DIR" >> {calls}\n')
    (fake / "make").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(ROOT / ".ci" / "run")], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    asked = [line.split("|") for line in calls.read_text().splitlines()]
    assert [a for a, _ in asked] == [".venv/.installed-test browser", "test", "test-slow"]
    data = ROOT.parent / "shared" / "data"  # ../shared may be a link: compare where it leads
    for _, exported in asked:
        assert (Path(exported).resolve() == data.resolve()) if data.is_dir() else not exported
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        r"\.ci/run: set-up \d+ s; make test \d+ s and make test-slow \d+ s, \d+ s of the 720 s "
        r"budget \(.+, \d+ cores\)",
        last,
    ), last
