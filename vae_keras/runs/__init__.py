"""A run directory: the one hand-off between training and everything after it.

Layout of ``runs/<name>/``::

    config.json               RunConfig the run was trained with
    state.json                the commit point: epochs done, complete or not, the name of
                              that epoch's weights file, the noise-generator state, the history
    vae-epoch0050.weights.h5  weights and RMSprop state after that epoch (named by state.json)
    history.json              copies of state.json's history, for people and spreadsheets
    history.csv
    vae.keras                 once the run is complete: the three models as Keras files,
    encoder.keras             which keras.saving.load_model loads in safe mode, on any
    generator.keras           backend (:func:`export_keras_models`)
    timing.json               where the process that finished the run spent its time
    tensorboard/              with --tensorboard: event files (losses, sample images)
    train.lock                locked by the one trainer working in the directory

How a run survives a crash at any instant
-----------------------------------------
:func:`commit_epoch` saves an epoch in this order:

1. the weights go to a file of their own, ``vae-epochNNNN.weights.h5`` (written
   under a temporary name, flushed to disk, renamed);
2. ``state.json`` is replaced the same way, and the folder is flushed: this
   rename is the **single commit point**. Before it the directory describes the
   previous epoch, after it the new one;
3. ``history.json``/``history.csv`` are rewritten from the state, and the older
   weights file and any temporary file are removed.

Everything that is read back (weights, optimizer and noise state, history) is
named by ``state.json``, so a process killed between any two of these steps
leaves one consistent epoch; files that ``state.json`` does not name are
leftovers, removed by :func:`start_run` at the next start. ``tests/
test_crash_safety.py`` kills a real training process at each of these renames
in turn and checks that the rerun ends with the uninterrupted history.

:func:`lock_run_dir` makes sure one trainer at a time works in a directory (an
``fcntl`` lock, released by the kernel when its process dies, even by
``kill -9``). :func:`load_run` rebuilds the models from ``config.json`` with
:func:`vae_keras.model.build_vae` and loads the weights: no ``safe_mode=False``
is needed for the ``Lambda`` layer.

The package, one job per module: :mod:`~vae_keras.runs.schema` (file names,
``config.json`` and ``state.json``), :mod:`~vae_keras.runs.lock` (one trainer per
directory), :mod:`~vae_keras.runs.checkpoint` (start, commit, restore) and
:mod:`~vae_keras.runs.loading` (rebuild, load, export ``.keras`` files); atomic
writes are :mod:`vae_keras.atomic`. Their public names are importable from here.
"""

from vae_keras.atomic import (
    TEMPORARY_PREFIX,
    atomic_path,
    write_json_atomic,
    write_text_atomic,
)
from vae_keras.errors import RunError
from vae_keras.runs.checkpoint import (
    check_free_space,
    commit_epoch,
    history_to_csv,
    remove_leftovers,
    remove_run_files,
    restore_checkpoint,
    start_run,
    write_history,
    write_timing,
)
from vae_keras.runs.loading import (
    LoadedRun,
    build_from_config,
    export_keras_models,
    keras_models_missing,
    load_run,
    load_weights,
)
from vae_keras.runs.lock import RunLockedError, lock_run_dir, writes_run_dir
from vae_keras.runs.schema import (
    CONFIG_FILE,
    FRESH_HINT,
    HISTORY_CSV,
    HISTORY_JSON,
    KERAS_FILES,
    LEGACY_WEIGHTS_FILE,
    LOCK_FILE,
    MIXTURE_FILE,
    RUN_FILES_AFTER_EPOCH,
    STATE_FILE,
    STEP_ENV,
    TENSORBOARD_DIR,
    TIMING_FILE,
    WEIGHTS_PATTERN,
    RunConfig,
    RunState,
    committed_weights,
    is_run_file,
    read_config,
    read_history,
    read_json,
    read_state,
    weights_file_name,
)

__all__ = [
    "RunError",
    "CONFIG_FILE",
    "FRESH_HINT",
    "HISTORY_CSV",
    "HISTORY_JSON",
    "KERAS_FILES",
    "LEGACY_WEIGHTS_FILE",
    "LOCK_FILE",
    "LoadedRun",
    "MIXTURE_FILE",
    "RUN_FILES_AFTER_EPOCH",
    "RunConfig",
    "RunLockedError",
    "RunState",
    "STATE_FILE",
    "TEMPORARY_PREFIX",
    "TENSORBOARD_DIR",
    "STEP_ENV",
    "TIMING_FILE",
    "WEIGHTS_PATTERN",
    "atomic_path",
    "build_from_config",
    "check_free_space",
    "commit_epoch",
    "committed_weights",
    "export_keras_models",
    "history_to_csv",
    "is_run_file",
    "keras_models_missing",
    "load_run",
    "load_weights",
    "lock_run_dir",
    "read_config",
    "read_history",
    "read_json",
    "read_state",
    "remove_leftovers",
    "remove_run_files",
    "restore_checkpoint",
    "start_run",
    "weights_file_name",
    "write_history",
    "write_timing",
    "write_json_atomic",
    "write_text_atomic",
    "writes_run_dir",
]
