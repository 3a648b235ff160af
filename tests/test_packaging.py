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


def wheel_metadata(wheel: Path) -> str:
    names = zipfile.ZipFile(wheel).namelist()
    return zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()


def test_the_wheel_needs_no_backend_and_offers_each_as_an_extra(wheel):
    """TensorFlow, JAX and PyTorch come only with an extra, so a JAX user installs no TensorFlow;
    requirements.txt (make reproduce's install) is the package with the TensorFlow extra."""
    text = wheel_metadata(wheel)
    requires = [line.split(":", 1)[1].strip() for line in text.splitlines()
                if line.startswith("Requires-Dist:")]  # fmt: skip
    plain = {normalised(r)[0] for r in requires if "extra ==" not in r}
    assert {"keras", "numpy", "scipy", "matplotlib", "tensorboard"} <= plain
    assert plain.isdisjoint({"tensorflow", "jax", "torch", "jaxlib"})
    extras = {}
    for r in requires:
        if "extra ==" in r:
            requirement, extra = r.split(";")
            extras.setdefault(extra.split("==")[1].strip().strip("'\""), set()).add(
                normalised(requirement.split("[")[0])[0]
            )
    assert extras == {
        "tensorflow": {"tensorflow"}, "tensorflow-cuda": {"tensorflow"},
        "jax": {"jax"}, "jax-cuda": {"jax"}, "torch": {"torch"}, "torch-cuda": {"torch"},
    }  # fmt: skip
    assert any("and-cuda" in r and "tensorflow-cuda" in r for r in requires)
    assert any("cuda12" in r and "jax-cuda" in r for r in requires)
    assert (
        requirement_lines(ROOT / "requirements.txt") == []
        and "-e .[tensorflow]" in (ROOT / "requirements.txt").read_text()
    )
    entry_points = next(
        n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("entry_points.txt")
    )
    assert (
        "vae-keras = vae_keras.commands:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    )


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


def make_dry_run(*args: str, gpu: bool, tmp_path: Path) -> str:
    """What ``make -n ARGS`` would run, with or without an ``nvidia-smi`` that sees a GPU."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    smi = fake / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H200'\n" if gpu else "#!/bin/sh\nexit 9\n")
    smi.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["make", "-n", *args, "VENV=" + str(tmp_path / "venv")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_reproduce_installs_the_backends_cuda_build_where_a_gpu_is_seen(tmp_path):
    on_gpu = make_dry_run("reproduce", "BACKEND=jax", gpu=True, tmp_path=tmp_path)
    assert '-e ".[jax-cuda]"' in on_gpu and "KERAS_BACKEND=jax" in on_gpu
    on_cpu = make_dry_run("reproduce", "BACKEND=jax", gpu=False, tmp_path=tmp_path)
    assert '-e ".[jax]"' in on_cpu and "cuda" not in on_cpu
    default = make_dry_run("reproduce", gpu=False, tmp_path=tmp_path)
    assert '-e ".[tensorflow]"' in default and "KERAS_BACKEND=tensorflow" in default
    forced = make_dry_run("reproduce", "GPU=no", gpu=True, tmp_path=tmp_path)
    assert '-e ".[tensorflow]"' in forced
