"""The installed user on JAX alone: ``pip install "vae-keras[jax]"`` into a fresh venv,
every step of the README from an empty folder (tests/installed_user.py says what is checked)."""

import pytest
from installed_user import every_verb, user_venv, wheel  # noqa: F401  (wheel: a fixture)

pytestmark = pytest.mark.slow


def test_the_jax_extra_alone_runs_every_verb_from_an_empty_folder(wheel, tmp_path):  # noqa: F811
    every_verb(user_venv(wheel, "jax", tmp_path / "venv"), "jax", tmp_path)
