"""Which Keras backend runs: the one the user names, else the one that is installed.

Keras picks its backend from ``KERAS_BACKEND``, else from its config file
(``$KERAS_HOME/keras.json``, else ``~/.keras/keras.json``), else TensorFlow. A user who
installed ``vae-keras[jax]`` has no TensorFlow, and Keras's default then ends in
``ModuleNotFoundError: No module named 'tensorflow'``. :func:`settle_backend` fills that one
case, before Keras is imported:

1. ``KERAS_BACKEND`` set: that backend (it must be installed).
2. ``keras.json`` naming ``jax`` or ``torch``: that backend (it must be installed). A
   ``keras.json`` naming ``tensorflow`` is read as Keras's default, not as a choice: Keras
   writes that file itself, with ``"backend": "tensorflow"``, the first time it is imported.
3. Otherwise the backend that is installed: TensorFlow where it imports (Keras's default, so a
   default install changes nothing), else JAX, else PyTorch. ``KERAS_BACKEND`` is then set for
   this process and its children, and the start line says why the backend was picked.

A backend that is named but not installed, or no backend at all, is a
:class:`~vae_keras.errors.UserError` whose one line is the pip command that fixes it.
The ``vae-keras`` command and the scripts settle the backend first
(:func:`vae_keras.commands.run_module`); nothing here imports Keras or a backend.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vae_keras.errors import UserError

#: The backends vae-keras trains on, in the order :func:`settle_backend` looks for one.
BACKENDS = ("tensorflow", "jax", "torch")
#: The module whose presence means the backend is installed.
BACKEND_MODULE = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
#: The environment variable that says this process's backend was picked by
#: :func:`settle_backend` (so a child process started with it says the same).
PICKED_ENV = "VAE_KERAS_BACKEND_PICKED"


class BackendError(UserError):
    """The backend that is named is not installed, or none is."""


@dataclass(frozen=True)
class BackendChoice:
    """The backend Keras will load, and why: ``"KERAS_BACKEND"``, ``"keras.json"``,
    ``"default"`` (Keras's own default, TensorFlow, which is installed) or ``"installed"``
    (nothing named one and TensorFlow is missing: the backend installed was picked)."""

    name: str
    source: str

    def reason(self) -> str:
        """Why this backend, for the start line; empty unless it was picked as the one
        installed."""
        if self.source != "installed":
            return ""
        return "the backend installed here; KERAS_BACKEND=tensorflow|jax|torch chooses another"


def keras_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Keras's config file, as Keras finds it: ``$KERAS_HOME/keras.json``, else
    ``~/.keras/keras.json`` (``/tmp/.keras`` where the home folder is not writable)."""
    environ = os.environ if environ is None else environ
    if "KERAS_HOME" in environ:
        return Path(environ["KERAS_HOME"]) / "keras.json"
    home = os.path.expanduser("~")
    base = home if os.access(home, os.W_OK) else "/tmp"
    return Path(base) / ".keras" / "keras.json"


def configured_backend(path: Path) -> str | None:
    """The ``backend`` of Keras's config file at ``path``; None if the file is absent,
    unreadable, or names none."""
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    backend = config.get("backend") if isinstance(config, dict) else None
    return backend if isinstance(backend, str) and backend else None


def backend_installed(name: str) -> bool:
    """Whether the backend ``name`` can be imported here (its module is found)."""
    module = BACKEND_MODULE.get(name)
    if module is None:
        return False
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def installed_backends() -> list[str]:
    """The backends of :data:`BACKENDS` installed here, in that order."""
    return [name for name in BACKENDS if backend_installed(name)]


def install_command(name: str) -> str:
    """``pip install "vae-keras[jax]"``: what installs backend ``name``."""
    return f'pip install "vae-keras[{name}]"'


def choose_backend(
    environ: Mapping[str, str] | None = None,
    installed: list[str] | None = None,
    config_path: Path | None = None,
) -> BackendChoice:
    """The backend to run on (the rules in this module's docstring); raise
    :class:`BackendError` where the one named is not installed, or none is.

    ``environ``, ``installed`` (:func:`installed_backends`) and ``config_path``
    (:func:`keras_config_path`) are read from this process unless given.
    """
    environ = os.environ if environ is None else environ
    installed = installed_backends() if installed is None else installed
    config_path = keras_config_path(environ) if config_path is None else config_path
    named = environ.get("KERAS_BACKEND")
    if named:
        source = "installed" if environ.get(PICKED_ENV) == named else "KERAS_BACKEND"
        return checked(BackendChoice(named, source), "KERAS_BACKEND", installed)
    configured = configured_backend(config_path)
    if configured and configured != "tensorflow":
        return checked(BackendChoice(configured, "keras.json"), str(config_path), installed)
    if not installed:
        raise BackendError(
            f"no Keras backend is installed: {install_command('tensorflow')} "
            "(or [jax], or [torch]; docs/backends.md)."
        )
    if "tensorflow" in installed:
        return BackendChoice("tensorflow", "default")
    return BackendChoice(installed[0], "installed")


def checked(choice: BackendChoice, where: str, installed: list[str]) -> BackendChoice:
    """``choice`` if vae-keras trains on it and it is installed; else :class:`BackendError`."""
    if where == "KERAS_BACKEND":
        setting, undo = f"KERAS_BACKEND={choice.name}", "unset KERAS_BACKEND"
    else:
        setting, undo = f"{where} names the backend {choice.name!r}", f"edit {where}"
    if choice.name not in BACKENDS:
        here = f"; installed here: {', '.join(installed)}" if installed else ""
        raise BackendError(
            f"{setting}, which vae-keras does not train on: choose tensorflow, jax or torch{here}."
        )
    if choice.name not in installed:
        instead = f", or {undo} to use {installed[0]}" if installed else ""
        raise BackendError(
            f"{setting}, which is not installed: {install_command(choice.name)}{instead}."
        )
    return choice


def settle_backend() -> BackendChoice:
    """Choose the backend (:func:`choose_backend`) and make Keras load it: where nothing named
    one, set ``KERAS_BACKEND`` for this process and its children. Call it before Keras is
    imported; once Keras is, it reports Keras's own backend and changes nothing."""
    import sys

    if "keras" in sys.modules:
        import keras

        name = keras.backend.backend()
        if os.environ.get(PICKED_ENV) == name:
            return BackendChoice(name, "installed")
        return BackendChoice(
            name, "KERAS_BACKEND" if os.environ.get("KERAS_BACKEND") else "default"
        )
    choice = choose_backend()
    if choice.source == "installed":
        os.environ["KERAS_BACKEND"] = choice.name
        os.environ[PICKED_ENV] = choice.name
    return choice


def picked_reason() -> str:
    """The start line's note where :func:`settle_backend` picked the backend, else ``""``."""
    name = os.environ.get(PICKED_ENV)
    if not name or os.environ.get("KERAS_BACKEND") != name:
        return ""
    return BackendChoice(name, "installed").reason()
