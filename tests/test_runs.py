"""The run directory: validation of its files, leftovers of a crash, --fresh, the lock."""

import fcntl
import json
import os
import time

import pytest

from vae_keras import runs
from vae_keras.runs import RunConfig, RunError, RunLockedError, RunState

CONFIG = RunConfig(intermediate_dim=16, epochs=3, batch_size=100)


def state_dict(epochs_done=2, **changes):
    history = [{"epoch": e, "loss": 10.0 - e} for e in range(1, epochs_done + 1)]
    data = {
        "epochs_done": epochs_done,
        "complete": False,
        "weights": runs.weights_file_name(epochs_done),
        "seed_generator_state": [0, 14],
        "history": history,
    }
    data.update(changes)
    return data


def committed_dir(tmp_path, epochs_done=2):
    """A run directory as commit_epoch leaves it (weights files are stand-ins)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    runs.write_json_atomic(run_dir / runs.CONFIG_FILE, CONFIG.to_dict())
    state = state_dict(epochs_done)
    (run_dir / state["weights"]).write_bytes(b"weights")
    runs.write_json_atomic(run_dir / runs.STATE_FILE, state)
    runs.write_history(run_dir, state["history"])
    return run_dir


@pytest.mark.parametrize(
    "change, message",
    [
        ({"latent_dim": None}, "latent_dim = None is not valid"),
        ({"epochs": 0}, "epochs = 0 is not valid"),
        ({"batch_size": True}, "batch_size = True is not valid"),
        ({"limit": -5}, "limit = -5 is not valid"),
        ({"colour": "red"}, "unknown keys ['colour']"),
        ({"architecture": "resnet"}, "architecture = 'resnet' is not valid"),
        ({"likelihood": None}, "likelihood = None is not valid"),
        ({"original_dim": 3072}, "does not match mnist's images (28, 28)"),
    ],
)
def test_config_with_bad_values_or_keys_is_refused(change, message):
    with pytest.raises(RunError, match=r"^config\.json: .*--fresh") as info:
        RunConfig.from_dict({**CONFIG.to_dict(), **change}, "config.json")
    assert message in str(info.value)


def test_config_missing_a_key_is_refused_not_defaulted():
    data = CONFIG.to_dict()
    del data["seed"]
    with pytest.raises(RunError, match=r"missing keys \['seed'\]"):
        RunConfig.from_dict(data)
    with pytest.raises(RunError, match="expected a JSON object, found list"):
        RunConfig.from_dict([1, 2])
    assert RunConfig.from_dict(CONFIG.to_dict()) == CONFIG


def test_a_config_written_before_the_variants_is_the_dense_bernoulli_model(tmp_path):
    old = {k: v for k, v in CONFIG.to_dict().items() if k not in ("architecture", "likelihood")}
    runs.write_json_atomic(tmp_path / runs.CONFIG_FILE, old)
    config = runs.read_config(tmp_path)
    assert (config.architecture, config.likelihood) == ("dense", "bernoulli")
    assert config == CONFIG and config.image_shape == (28, 28)
    conv = RunConfig(**{**CONFIG.to_dict(), "architecture": "conv", "likelihood": "gaussian"})
    assert RunConfig.from_dict(conv.to_dict()) == conv and not conv.same_model_and_data(CONFIG)


@pytest.mark.parametrize(
    "data, message",
    [
        ({k: v for k, v in state_dict().items() if k != "epochs_done"}, "missing keys"),
        (state_dict(epochs_done=0), "epochs_done = 0 is not a positive integer"),
        (state_dict(weights="../other.h5"), "is not a weights file name"),
        (state_dict(history=[{"epoch": 1}]), "history does not hold epochs 1 to 2"),
        (state_dict(seed_generator_state="x"), "seed_generator_state is not a list"),
        (state_dict(complete="yes"), "complete = 'yes' is not true or false"),
    ],
)
def test_damaged_state_is_refused(data, message):
    with pytest.raises(RunError, match="--fresh") as info:
        RunState.from_dict(data, "state.json")
    assert message in str(info.value)


def test_invalid_json_names_the_file(tmp_path):
    run_dir = committed_dir(tmp_path)
    (run_dir / runs.STATE_FILE).write_text('{"epochs_done": 2,')
    with pytest.raises(RunError, match=r"state\.json is not valid JSON .*--fresh"):
        runs.read_state(run_dir)
    with pytest.raises(RunError, match="not valid JSON"):  # the trainer reads it before writing
        runs.start_run(run_dir, CONFIG, fresh=False)
    assert (run_dir / runs.weights_file_name(2)).is_file()  # and removes nothing


def test_start_run_removes_what_a_crash_left_and_restores_the_history_copies(tmp_path):
    run_dir = committed_dir(tmp_path)
    newer = run_dir / runs.weights_file_name(3)  # written, then killed before state.json
    newer.write_bytes(b"newer")
    temporary = run_dir / ".tmp-state-abc.json"
    temporary.write_text("{")
    (run_dir / runs.HISTORY_JSON).write_text("[]")  # killed before the copies were rewritten
    state = runs.start_run(run_dir, CONFIG, fresh=False)
    assert state.epochs_done == 2
    assert not newer.exists() and not temporary.exists()
    assert (run_dir / runs.weights_file_name(2)).is_file()
    assert json.loads((run_dir / runs.HISTORY_JSON).read_text()) == state.history
    assert runs.read_history(run_dir) == state.history


def test_a_missing_weights_file_is_named(tmp_path):
    run_dir = committed_dir(tmp_path)
    (run_dir / runs.weights_file_name(2)).unlink()
    with pytest.raises(RunError, match=r"names vae-epoch0002\.weights\.h5, which is missing"):
        runs.start_run(run_dir, CONFIG, fresh=False)
    with pytest.raises(RunError, match="which is missing"):
        runs.load_run(run_dir)


def test_fresh_clears_a_damaged_run_and_nothing_else(tmp_path):
    run_dir = committed_dir(tmp_path)
    (run_dir / runs.STATE_FILE).write_text("garbage")
    (run_dir / runs.CONFIG_FILE).write_text("{}")
    (run_dir / "notes.txt").write_text("mine")
    assert runs.start_run(run_dir, CONFIG, fresh=True) is None
    assert sorted(p.name for p in run_dir.iterdir()) == [runs.CONFIG_FILE, "notes.txt"]
    assert runs.read_config(run_dir) == CONFIG


def test_a_different_configuration_is_refused(tmp_path):
    run_dir = committed_dir(tmp_path)
    other = RunConfig(**{**CONFIG.to_dict(), "latent_dim": 3})
    with pytest.raises(RunError, match="different configuration"):
        runs.start_run(run_dir, other, fresh=False)
    longer = RunConfig(**{**CONFIG.to_dict(), "epochs": 9})
    assert runs.start_run(run_dir, longer, fresh=False).epochs_done == 2


def test_the_earlier_layout_is_still_read(tmp_path):
    run_dir = tmp_path / "old"
    run_dir.mkdir()
    history = state_dict()["history"]
    runs.write_json_atomic(run_dir / runs.HISTORY_JSON, history)
    old_state = {"epochs_done": 2, "complete": False, "seed_generator_state": [0, 4]}
    runs.write_json_atomic(run_dir / runs.STATE_FILE, old_state)
    state = runs.read_state(run_dir)
    assert state.weights == runs.LEGACY_WEIGHTS_FILE and state.history == history


def test_the_lock_is_exclusive_between_holders_and_reentrant_in_one(tmp_path):
    run_dir = tmp_path / "run"
    with runs.lock_run_dir(run_dir):
        assert (run_dir / runs.LOCK_FILE).read_text() == f"{os.getpid()}\n"
        with runs.lock_run_dir(run_dir):  # the command line, then train()
            pass
    # another open file description holding the lock stands for another process
    fd = os.open(run_dir / runs.LOCK_FILE, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RunLockedError, match=f"process {os.getpid()}"):
            with runs.lock_run_dir(run_dir):
                pass
    finally:
        os.close(fd)  # closing releases it, as the end of a process does
    with runs.lock_run_dir(run_dir):
        pass


def test_a_refused_trainer_waits_for_the_holders_id_instead_of_reporting_a_wrong_one(tmp_path):
    """The holder writes its id just after taking the lock; a trainer refused in between reads
    an empty file, or the id of an earlier holder that crashed: it waits for the living one
    (this window, hit on a busy machine, once made the two-trainers test report 'unknown')."""
    import subprocess
    import threading

    from vae_keras.runs import lock

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    ended = subprocess.Popen(["true"])
    ended.wait()  # its process id now names no process
    (run_dir / runs.LOCK_FILE).write_text(f"{ended.pid}\n")  # left by a crashed holder
    fd = os.open(run_dir / runs.LOCK_FILE, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the new holder, before its write

        def write_late():
            os.ftruncate(fd, 0)
            time.sleep(0.3)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)

        writer = threading.Thread(target=write_late)
        writer.start()
        with pytest.raises(RunLockedError, match=f"process {os.getpid()}\\)"):
            with runs.lock_run_dir(run_dir):
                pass
        writer.join()
        os.ftruncate(fd, 0)  # a holder that never writes: "unknown", after the wait
        reader = os.open(run_dir / runs.LOCK_FILE, os.O_RDONLY)
        try:
            assert lock.lock_holder(reader, wait=0.1) == "unknown"
        finally:
            os.close(reader)
    finally:
        os.close(fd)


def test_atomic_path_leaves_the_old_file_on_error(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="writer failed"):
        with runs.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
