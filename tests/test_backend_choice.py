"""Which backend runs (vae_keras.backends): the one named, else the one installed; a backend
named but missing is one line with the pip command. Also ``--version``, and where the
results tables go outside a clone (no README with markers: ``results.md``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

from vae_keras import backends
from vae_keras.backends import BackendChoice, BackendError, choose_backend
from vae_keras.commands import command_here
from vae_keras.commands import main as vae_keras_main
from vae_keras.report import (
    README_END,
    README_START,
    chosen_readme,
    write_results_tables,
)
from vae_keras.runs import RunError


def choose(installed, environ=None, config=None, tmp_path=None):
    path = tmp_path / "keras.json"
    path.unlink(missing_ok=True)
    if config is not None:
        path.write_text(json.dumps(config) if isinstance(config, dict) else config)
    return choose_backend(environ or {}, installed, path)


@pytest.mark.parametrize(
    "installed, picked, source",
    [
        (["tensorflow", "jax", "torch"], "tensorflow", "default"),  # Keras's own default
        (["jax", "torch"], "jax", "installed"),
        (["torch"], "torch", "installed"),
        (["tensorflow"], "tensorflow", "default"),
    ],
)
def test_with_nothing_named_the_installed_backend_is_picked_tensorflow_first(
    installed, picked, source, tmp_path
):
    assert choose(installed, tmp_path=tmp_path) == BackendChoice(picked, source)


def test_keras_json_naming_tensorflow_reads_as_kerass_default(tmp_path):
    """Keras writes ``"backend": "tensorflow"`` itself on first import: not a choice."""
    config = {"floatx": "float32", "backend": "tensorflow"}
    assert choose(["jax"], config=config, tmp_path=tmp_path) == BackendChoice("jax", "installed")
    assert choose(["tensorflow", "jax"], config=config, tmp_path=tmp_path).name == "tensorflow"
    # a damaged or odd config file names nothing
    for odd in ("{not json", "[1, 2]", json.dumps({"backend": ""})):
        assert choose(["torch"], config=odd, tmp_path=tmp_path) == BackendChoice(
            "torch", "installed"
        )


def test_a_backend_named_by_the_variable_or_the_config_file_wins(tmp_path):
    everything = ["tensorflow", "jax", "torch"]
    assert choose(everything, {"KERAS_BACKEND": "torch"}, tmp_path=tmp_path) == BackendChoice(
        "torch", "KERAS_BACKEND"
    )
    named = choose(everything, config={"backend": "jax"}, tmp_path=tmp_path)
    assert named == BackendChoice("jax", "keras.json")
    # the variable over the file, as in Keras
    both = choose(everything, {"KERAS_BACKEND": "torch"}, {"backend": "jax"}, tmp_path)
    assert both.name == "torch"


def test_a_named_backend_that_is_missing_is_one_line_with_the_fix(tmp_path):
    with pytest.raises(BackendError) as missing:
        choose(["jax"], {"KERAS_BACKEND": "tensorflow"}, tmp_path=tmp_path)
    assert str(missing.value) == (
        'KERAS_BACKEND=tensorflow, which is not installed: pip install "vae-keras[tensorflow]", '
        "or unset KERAS_BACKEND to use jax."
    )
    with pytest.raises(BackendError, match=r"keras.json names the backend 'torch', which is not "
                       r"installed: pip install \"vae-keras\[torch\]\", or edit .*keras.json to "
                       r"use jax\."):  # fmt: skip
        choose(["jax"], config={"backend": "torch"}, tmp_path=tmp_path)
    with pytest.raises(BackendError, match="does not train on: choose tensorflow, jax or torch"):
        choose(["jax"], {"KERAS_BACKEND": "numpy"}, tmp_path=tmp_path)
    with pytest.raises(BackendError, match=r"^no Keras backend is installed: pip install"):
        choose([], tmp_path=tmp_path)
    with pytest.raises(BackendError, match=r"which is not installed: pip install .*\[jax\]\"\.$"):
        choose([], {"KERAS_BACKEND": "jax"}, tmp_path=tmp_path)  # nothing else to suggest


def test_keras_config_path_follows_keras_home(tmp_path):
    assert backends.keras_config_path({"KERAS_HOME": str(tmp_path)}) == tmp_path / "keras.json"
    assert backends.keras_config_path({}).name == "keras.json"


def test_a_picked_backend_is_said_on_the_start_line_and_passed_to_children(monkeypatch):
    from vae_keras.distribution import describe_devices

    cpu = {"backend": "jax", "devices": ["cpu:0"], "gpus": []}
    monkeypatch.delenv(backends.PICKED_ENV, raising=False)
    assert describe_devices(cpu, smi_gpus=[]).startswith("Training with jax on the CPU")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv(backends.PICKED_ENV, "jax")
    line = describe_devices(cpu, smi_gpus=[])
    assert line.startswith("Training with jax (the backend installed here; KERAS_BACKEND=")
    assert choose_backend(installed=["jax"]) == BackendChoice("jax", "installed")
    monkeypatch.setenv("KERAS_BACKEND", "torch")  # the user's variable replaced the pick
    assert backends.picked_reason() == ""


def test_settle_backend_reports_kerass_backend_once_keras_is_imported(monkeypatch):
    import keras

    monkeypatch.setenv("KERAS_BACKEND", "no-such-backend")  # too late to matter: not read
    assert backends.settle_backend().name == keras.backend.backend()


def test_the_scripts_settle_the_backend_as_the_command_does(tmp_path):
    """``python scripts/train_mnist.py`` with a backend that vae-keras does not train on: one
    line, nothing created, Keras never imported (it would fail to load the backend)."""
    for argv in (
        [str(ROOT / "scripts" / "train_mnist.py")],
        ["-m", "vae_keras", "train"],
    ):
        result = subprocess.run(
            [sys.executable, *argv, "--out", str(tmp_path / "r")],
            env={**os.environ, "KERAS_BACKEND": "mxnet"}, capture_output=True, text=True,
            cwd=tmp_path, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2 and not (tmp_path / "r").exists()
        assert result.stderr.startswith("error: KERAS_BACKEND=mxnet, which vae-keras does not")
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_version_answers_from_the_package_metadata(capsys):
    from importlib.metadata import version

    assert vae_keras_main(["--version"]) == 0
    assert capsys.readouterr().out == f"vae-keras {version('vae-keras')}\n"


def test_the_results_tables_go_to_the_readme_block_or_beside_results_json(tmp_path):
    results = json.loads((ROOT / "figures" / "results.json").read_text())
    out = tmp_path / "figures"
    out.mkdir()
    said = write_results_tables(tmp_path / "README.md", results, out / "results.json")
    assert said.startswith("wrote the results tables to") and "results markers" in said
    tables = (out / "results.md").read_text()
    assert "| run | latent |" in tables and not (tmp_path / "README.md").exists()
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_START}\nstale table\n{README_END}\nend\n")
    assert write_results_tables(readme, results, out / "results.json").startswith("updated")
    assert "| run | latent |" in readme.read_text() and "stale table" not in readme.read_text()
    # a README without markers gets the file; a --readme that has none is refused up front
    plain = tmp_path / "notes.md"
    plain.write_text("no markers\n")
    with pytest.raises(RunError, match="no file with the results markers"):
        chosen_readme(str(plain))
    assert chosen_readme(str(readme)) == readme and chosen_readme(None).name == "README.md"


def test_a_command_is_shown_as_the_verb_where_no_script_is_at_hand(tmp_path):
    command = "python scripts/train_mnist.py --latent-dim 8 --seed 1"
    assert command_here(command, tmp_path) == "vae-keras train --latent-dim 8 --seed 1"
    assert command_here(command, ROOT) == command  # in a clone: the script
    assert command_here("python scripts/fid_latent_size.py", tmp_path) == "vae-keras fid-study"
    assert command_here("make reproduce", tmp_path) == "make reproduce"
