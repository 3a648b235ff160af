"""Rebuild a run's models from ``config.json``, load its weights, export ``.keras`` files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from vae_keras.atomic import atomic_path
from vae_keras.errors import RunError
from vae_keras.runs.schema import (
    CONFIG_FILE,
    FRESH_HINT,
    KERAS_FILES,
    STATE_FILE,
    RunConfig,
    committed_weights,
    read_config,
    read_state,
)

if TYPE_CHECKING:  # the model module imports Keras; keep this module importable without it
    from vae_keras.model import VAEModels


class LoadedRun(NamedTuple):
    models: VAEModels
    config: RunConfig
    history: list[dict[str, float]]
    run_dir: Path


def export_keras_models(run_dir: Path, models: VAEModels) -> list[Path]:
    """Write ``vae.keras``, ``encoder.keras`` and ``generator.keras`` (atomically) into ``run_dir``.

    Every layer and function in them is a Keras one or registered by name
    (:func:`vae_keras.model.sampling`, :class:`vae_keras.model.VAELossLayer`,
    :class:`vae_keras.model.VAE`), so ``keras.saving.load_model(path)`` loads them
    in its default safe mode, on any backend. ``vae.keras`` needs
    ``import vae_keras.model`` first (it registers those names; Keras imports
    only its own modules by itself); the encoder and the generator hold Keras
    layers only and need nothing.

    The files carry Keras's default compile settings (``jit_compile="auto"``, one
    step per execution: :meth:`vae_keras.model.VAE.get_compile_config`), not the
    training's speed settings, which are not valid or not fast on every backend.
    """
    written = []
    for name, filename in KERAS_FILES.items():
        with atomic_path(run_dir / filename) as tmp:
            getattr(models, name).save(tmp)
        written.append(run_dir / filename)
    return written


def keras_models_missing(run_dir: Path) -> bool:
    return not all((run_dir / name).is_file() for name in KERAS_FILES.values())


def build_from_config(config: RunConfig, compile: bool = True, **compile_options) -> VAEModels:
    """Build the models a run was trained with (untrained weights).

    ``compile_options`` go to ``vae.compile`` (``jit_compile``, ``steps_per_execution``).
    """
    from vae_keras.model import build_vae

    return build_vae(
        original_dim=config.original_dim,
        intermediate_dim=config.intermediate_dim,
        latent_dim=config.latent_dim,
        seed=config.seed,
        optimizer=config.optimizer,
        compile=compile,
        architecture=config.architecture,
        likelihood=config.likelihood,
        image_shape=config.image_shape,
        precision=config.precision,
        beta=config.beta,
        conditional=config.conditional,
        **compile_options,
    )


def load_weights(models: VAEModels, path: str | os.PathLike) -> None:
    """Load a ``.weights.h5`` file into ``models.vae``, optimizer state included.

    The optimizer is built first, so Keras restores its variables instead of
    skipping them with a warning. A truncated or foreign file is a
    :class:`RunError` naming it.
    """
    vae = models.vae
    if vae.optimizer is not None:
        vae.optimizer.build(vae.trainable_variables)
    try:
        vae.load_weights(path)
    except (OSError, ValueError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunError(
            f"{path} is damaged or does not belong to this model ({reason}). {FRESH_HINT}"
        ) from exc


def load_run(run_dir: str | os.PathLike, hint: str | None = None) -> LoadedRun:
    """Rebuild a trained run's models from its config and load its committed weights.

    Parameters
    ----------
    run_dir
        A directory written by :func:`vae_keras.training.train`.
    hint
        The command that creates the run, quoted in the error when it is missing.
    """
    run_dir = Path(run_dir)
    how = f" Train it first: {hint}" if hint else ""
    state = read_state(run_dir) if run_dir.is_dir() else None
    if state is None or not (run_dir / CONFIG_FILE).is_file():
        raise RunError(f"No trained run in {run_dir} ({STATE_FILE} or {CONFIG_FILE} missing).{how}")
    config = read_config(run_dir)
    weights = committed_weights(run_dir, state)
    models = build_from_config(config)
    load_weights(models, weights)
    return LoadedRun(models, config, state.history, run_dir)
