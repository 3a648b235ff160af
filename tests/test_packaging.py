"""`pip install .`: the wheel holds every module of the tree and declares what it needs."""

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def normalised(requirement: str) -> tuple[str, frozenset[str]]:
    """``("numpy", {">=1.26", "<3"})``: a requirement's name and its set of version clauses."""
    name, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", requirement).groups()
    return name.lower().replace("_", "-"), frozenset(c.strip() for c in spec.split(",") if c)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (path,) = out.glob("vae_keras-*.whl")
    return path


def test_the_wheel_holds_every_module_of_the_tree(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "vae_keras").rglob("*.py")}
    assert {"vae_keras/background/figures.py", "vae_keras/report/figures.py"} <= modules
    assert modules - names == set()
    folder = ROOT / "vae_keras" / "explorer_assets"
    assets = {p.relative_to(ROOT).as_posix() for p in folder.iterdir()}
    assert {"vae_keras/explorer_assets/index.html"} < assets and assets - names == set()


def test_the_wheel_declares_requirements_txt_as_its_dependencies(wheel):
    metadata = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    declared = {
        normalised(line.split(":", 1)[1].strip())
        for line in text.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    expected = {normalised(r) for r in requirement_lines(ROOT / "requirements.txt")}
    assert {name for name, _ in expected} >= {"tensorflow", "keras", "numpy", "scipy", "matplotlib"}
    assert declared == expected


def test_the_installed_wheel_imports_every_module(wheel, tmp_path):
    """Installed from the wheel alone (not the source tree), every module imports."""
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site)]
        + [str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "vae_keras").rglob("*.py")
    )
    code = (
        "import importlib, sys, vae_keras\n"
        f"assert vae_keras.__file__.startswith({str(site)!r}), vae_keras.__file__\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('ok', len(sys.argv))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok")
