"""Training behaviour: it learns, evaluation changes nothing, runs save, load and resume."""

import io
import json
import math
from dataclasses import replace

import keras
import numpy as np
import pytest
from conftest import fixture_options, stop_after

from vae_keras import runs
from vae_keras.batching import aligned_steps_per_execution, epoch_order, seeded_batches
from vae_keras.runs import RunConfig, RunError, load_run
from vae_keras.tf_speed import shuffled_batches, stacked_batches, validation_batches
from vae_keras.training import PLAIN, TrainOptions, train

CONFIG = RunConfig(intermediate_dim=64, latent_dim=2, epochs=4, batch_size=64, seed=7)
EXACT = TrainOptions(jit_compile=False)  # XLA draws other random numbers than plain TF


@pytest.fixture(scope="module")
def trained(tmp_path_factory, request):
    ds = request.getfixturevalue("tiny_dataset_module")
    run_dir = tmp_path_factory.mktemp("run")
    history = train(CONFIG, ds, run_dir, verbose=0)
    return run_dir, history, ds


@pytest.fixture(scope="module")
def tiny_dataset_module():
    from conftest import synthetic_images

    from vae_keras.data import Dataset, validate_split

    x_train, y_train = synthetic_images(512, seed=1)
    x_test, y_test = synthetic_images(128, seed=2)
    xtr, ytr = validate_split(x_train, y_train, (28, 28))
    xte, yte = validate_split(x_test, y_test, (28, 28))
    return Dataset("mnist", (28, 28), xtr, ytr, xte, yte, "synthetic")


def test_training_lowers_the_loss(trained):
    _, history, _ = trained
    losses = [row["loss"] for row in history]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:], strict=False))
    assert losses[-1] < 0.9 * losses[0]
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    for row in history:
        assert row["loss"] == pytest.approx(row["reconstruction_loss"] + row["kl_loss"], rel=1e-4)
        assert row["seconds"] > 0


def test_the_reported_validation_kl_is_the_analytic_kl_of_the_trained_encoder(trained):
    """Not the added loss minus the reconstruction by construction: computed apart, from
    ``losses.kl_divergence`` of the trained encoder's outputs on the validation set."""
    from test_model import analytic_kl

    run_dir, history, ds = trained
    vae = load_run(run_dir).models.vae
    assert history[-1]["val_kl_loss"] == pytest.approx(analytic_kl(vae, ds.x_test), rel=1e-4)


def test_run_directory_holds_every_promised_file(trained):
    run_dir, history, _ = trained
    files = sorted(p.name for p in run_dir.iterdir())
    assert files == sorted(
        [
            *runs.RUN_FILES_AFTER_EPOCH,
            runs.weights_file_name(CONFIG.epochs),
            runs.LOCK_FILE,
            *runs.KERAS_FILES.values(),
            runs.TIMING_FILE,
        ]
    )
    assert json.loads((run_dir / runs.HISTORY_JSON).read_text()) == history
    assert runs.read_state(run_dir).history == history
    csv_lines = (run_dir / runs.HISTORY_CSV).read_text().splitlines()
    assert len(csv_lines) == 1 + len(history)
    assert {"epoch", "loss", "val_loss", "reconstruction_loss", "kl_loss", "val_kl_loss"} <= set(
        csv_lines[0].split(",")
    )
    assert runs.read_config(run_dir) == CONFIG
    assert runs.read_state(run_dir).complete is True


def test_the_timing_record_adds_up_to_the_history(trained):
    """timing.json: the epochs this process trained, their seconds as the history has them,
    and the set-up and finish around them (each non-negative, the finish recorded)."""
    run_dir, history, _ = trained
    timing = json.loads((run_dir / runs.TIMING_FILE).read_text())
    assert timing["epochs_trained"] == [1, CONFIG.epochs]
    assert timing["epoch_seconds"] == pytest.approx(sum(r["seconds"] for r in history), abs=2e-3)
    assert timing["setup_seconds"] >= 0 and timing["finish_seconds"] >= 0
    assert timing["command"].startswith("python ")


def test_save_load_gives_identical_outputs(trained):
    run_dir, _, ds = trained
    a, b = load_run(run_dir), load_run(run_dir)
    z = np.random.default_rng(0).standard_normal((8, 2)).astype("float32")
    assert np.array_equal(
        a.models.generator.predict(z, verbose=0), b.models.generator.predict(z, verbose=0)
    )
    assert np.array_equal(
        a.models.encoder.predict(ds.x_test, verbose=0),
        b.models.encoder.predict(ds.x_test, verbose=0),
    )
    assert a.config == CONFIG and len(a.history) == CONFIG.epochs
    # the loaded weights are the trained ones, not a fresh initialisation
    fresh = runs.build_from_config(CONFIG)
    assert not np.allclose(
        fresh.generator.predict(z, verbose=0), a.models.generator.predict(z, verbose=0)
    )


def test_predict_and_evaluate_change_no_weight(trained):
    run_dir, _, ds = trained
    vae = load_run(run_dir).models.vae
    before = [w.copy() for w in vae.get_weights()]
    opt_before = [v.numpy().copy() for v in vae.optimizer.variables]
    vae.predict(ds.x_test, verbose=0)
    vae.evaluate(ds.x_test, verbose=0)
    for old, new in zip(before, vae.get_weights(), strict=True):
        assert np.array_equal(old, new)
    for old, new in zip(opt_before, vae.optimizer.variables, strict=True):
        assert np.array_equal(old, new.numpy())


def test_same_seed_same_history(trained, tmp_path):
    _, history, ds = trained
    again = train(CONFIG, ds, tmp_path / "again", verbose=0)
    assert [r["loss"] for r in again] == [r["loss"] for r in history]
    assert [r["val_loss"] for r in again] == [r["val_loss"] for r in history]
    other = train(RunConfig(**{**CONFIG.to_dict(), "seed": 8}), ds, tmp_path / "other", verbose=0)
    assert [r["loss"] for r in other] != [r["loss"] for r in history]


def test_resume_continues_exactly_where_it_stopped(trained, tmp_path):
    _, history, ds = trained
    run_dir = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train(CONFIG, ds, run_dir, verbose=0, callbacks=[stop_after(2)])
    assert runs.read_state(run_dir).epochs_done == 2
    assert len(runs.read_history(run_dir)) == 2
    assert not (run_dir / runs.TIMING_FILE).exists()  # written once the run is complete
    resumed = train(CONFIG, ds, run_dir, verbose=0)
    assert [r["epoch"] for r in resumed] == [1, 2, 3, 4]
    timing = json.loads((run_dir / runs.TIMING_FILE).read_text())
    assert timing["epochs_trained"] == [3, 4]  # what the resuming process trained
    assert timing["epoch_seconds"] == pytest.approx(
        sum(r["seconds"] for r in resumed[2:]), abs=2e-3
    )
    # the same batches, noise and optimizer state: the uninterrupted history, to the bit
    assert [r["loss"] for r in resumed] == [r["loss"] for r in history]
    assert [r["val_loss"] for r in resumed] == [r["val_loss"] for r in history]


def test_a_finished_run_is_not_retrained_and_can_be_extended(trained, tmp_path):
    _, history, ds = trained
    run_dir = tmp_path / "extend"
    short = RunConfig(**{**CONFIG.to_dict(), "epochs": 2})
    train(short, ds, run_dir, verbose=0)
    weights = run_dir / runs.weights_file_name(2)
    mtime = weights.stat().st_mtime_ns
    assert len(train(short, ds, run_dir, verbose=0)) == 2
    assert weights.stat().st_mtime_ns == mtime
    longer = train(CONFIG, ds, run_dir, verbose=0)
    assert [r["loss"] for r in longer] == [r["loss"] for r in history]


def test_a_different_config_in_the_same_directory_is_refused(trained, tmp_path):
    run_dir, _, ds = trained
    other = RunConfig(**{**CONFIG.to_dict(), "latent_dim": 3})
    with pytest.raises(RunError, match="(?s)different configuration.*--fresh"):
        train(other, ds, run_dir, verbose=0)
    fresh_dir = tmp_path / "fresh"  # about the run folder, not the path: fixture_options
    options = fixture_options()
    train(RunConfig(**{**CONFIG.to_dict(), "epochs": 1}), ds, fresh_dir, verbose=0, options=options)
    history = train(
        RunConfig(**{**other.to_dict(), "epochs": 1}), ds, fresh_dir, fresh=True, verbose=0,
        options=options,
    )  # fmt: skip
    assert len(history) == 1 and runs.read_config(fresh_dir).latent_dim == 3


def test_mismatched_input_size_is_refused(tiny_dataset_module, tmp_path):
    with pytest.raises(
        ValueError, match="784 inputs per example but the model expects original_dim=3072"
    ):
        cifar = RunConfig(dataset="cifar10", original_dim=3072)
        train(cifar, tiny_dataset_module, tmp_path / "r", verbose=0)
    with pytest.raises(ValueError, match="original_dim = 3072 does not match mnist's images"):
        RunConfig(original_dim=3072)


def test_missing_run_names_the_command(tmp_path):
    with pytest.raises(RunError, match="Train it first: python scripts/train_mnist.py"):
        load_run(tmp_path, hint="python scripts/train_mnist.py")


def test_seeded_batches_visit_every_example_once_per_epoch():
    x = np.arange(10, dtype="float32")[:, None]
    batches = [b[:, 0] for (b,) in seeded_batches(x, 4, seed=1, first_epoch=0, last_epoch=3)]
    assert [len(b) for b in batches] == [4, 4, 2] * 3
    epochs = [np.concatenate(batches[i : i + 3]) for i in (0, 3, 6)]
    for order in epochs:
        assert sorted(order) == list(range(10))
    assert not np.array_equal(epochs[0], epochs[1])
    # the order depends on (seed, epoch) only: starting at epoch 1 gives epoch 1's order
    late = [b[:, 0] for (b,) in seeded_batches(x, 4, seed=1, first_epoch=1, last_epoch=2)]
    assert np.array_equal(np.concatenate(late), epochs[1])
    assert np.array_equal(epoch_order(10, 1, 1), epochs[1])
    assert not np.array_equal(epoch_order(10, 2, 1), epochs[1])


def test_tensorflow_pipeline_gives_the_seeded_batches():
    x = np.arange(22, dtype="float32")[:, None]
    mine = [np.asarray(b) for b in shuffled_batches(x, 4, seed=3, first_epoch=1, last_epoch=3)]
    theirs = [b for (b,) in seeded_batches(x, 4, seed=3, first_epoch=1, last_epoch=3)]
    assert len(mine) == len(theirs) == 12
    for a, b in zip(mine, theirs, strict=True):
        assert np.array_equal(a, b)


def test_stacked_batches_are_the_shuffled_batches_stacked():
    x = np.arange(22, dtype="float32")[:, None]  # 5 full batches of 4 and one of 2 per epoch
    batches = shuffled_batches(x, 4, seed=3, first_epoch=1, last_epoch=3)
    flat = [np.asarray(b)[:, 0] for b in batches]
    for k in (1, 5):
        stacks = [
            np.asarray(s)[..., 0]
            for s in stacked_batches(x, 4, seed=3, first_epoch=1, last_epoch=3, steps_per_stack=k)
        ]
        assert [s.shape for s in stacks] == ([(k, 4)] * (5 // k) + [(1, 2)]) * 2
        unstacked = [batch for stack in stacks for batch in stack]
        assert len(unstacked) == len(flat)
        for mine, theirs in zip(unstacked, flat, strict=True):
            assert np.array_equal(mine, theirs)
    with pytest.raises(ValueError, match="must divide the 5 full batches"):
        stacked_batches(x, 4, seed=3, first_epoch=0, last_epoch=1, steps_per_stack=2)


def test_fused_steps_train_exactly_as_one_step_per_call(tiny_dataset_module, tmp_path):
    """Same batches, same noise, same updates: the same history and number of steps; with a
    KL weight of 2, the loss is the weighted sum on both paths and the metrics unweighted."""
    full = tiny_dataset_module
    # 6 full batches of 64 and one of 36 per epoch: stacks of 3, 3 and the last batch alone
    ds = replace(full, x_train=full.x_train[:420], y_train=full.y_train[:420])
    results = {}
    for fused in (True, False):
        options = replace(EXACT, steps_per_execution=3, fuse_steps=fused)
        history = train(replace(CONFIG, beta=2.0), ds, tmp_path / str(fused), verbose=0,
                        options=options)  # fmt: skip
        iterations = int(load_run(tmp_path / str(fused)).models.vae.optimizer.iterations)
        results[fused] = history, iterations
    (fused, fused_steps), (plain, plain_steps) = results[True], results[False]
    assert fused_steps == plain_steps == CONFIG.epochs * math.ceil(len(ds.x_train) / 64)
    for key in ("loss", "reconstruction_loss", "kl_loss", "val_loss"):
        assert [r[key] for r in fused] == pytest.approx([r[key] for r in plain], rel=1e-5)
    for row in fused:
        weighted = row["reconstruction_loss"] + 2 * row["kl_loss"]
        assert row["loss"] == pytest.approx(weighted, rel=1e-4)


def test_no_training_pipeline_starts_the_autotuning_thread(tiny_dataset_module):
    """The tf.data datasets ``fit`` gets have autotuning off: its model thread, which
    TensorFlow 2.21 sometimes joins only when its timer expires, made three of four 50-epoch
    MNIST runs wait 26-36 s after their last epoch (tf_speed.without_autotune_thread)."""
    from vae_keras import tf_speed

    x = tiny_dataset_module.x_train
    made = [
        tf_speed.shuffled_batches(x, 64, 0, 0, 2),
        tf_speed.stacked_batches(x, 64, 0, 0, 2, 8),
        tf_speed.validation_batches(x, 64),
    ]
    for fused in (True, False):
        arguments = tf_speed.fit_arguments(CONFIG, tiny_dataset_module, 0, 8, fused=fused)
        made += [arguments["x"], arguments["validation_data"]]
    for dataset in made:
        assert dataset.options().autotune.enabled is False


def test_keras_own_array_pipeline_runs_without_the_thread_and_trains_the_same_weights():
    """fit, evaluate and predict on NumPy arrays (the classifier, the autoencoders) build
    Keras's own pipeline; after tf_speed.keras_arrays_without_autotune_thread (every command's
    start, and conftest's) it has autotuning off, installed once however often it is called,
    and the same seed trains the same weights as Keras's pipeline untouched."""
    import keras
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    from vae_keras import tf_speed

    def adapter_dataset():
        return ArrayDataAdapter(x, y, batch_size=32, shuffle=True).get_tf_dataset()

    def trained_weights():
        keras.utils.set_random_seed(0)
        inputs = keras.Input((8,))
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=32, shuffle=True, verbose=0)
        return [w.numpy() for w in model.weights]

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(100, 8)).astype("float32"), rng.integers(0, 3, 100)
    installed = ArrayDataAdapter.get_tf_dataset  # conftest's session fixture installed it
    assert getattr(installed, "without_autotune_thread", False)
    patched = trained_weights()
    assert adapter_dataset().options().autotune.enabled is False
    keras_own = installed.__wrapped__
    try:
        ArrayDataAdapter.get_tf_dataset = keras_own
        assert adapter_dataset().options().autotune.enabled is not False
        untouched = trained_weights()
        tf_speed.keras_arrays_without_autotune_thread()
        tf_speed.keras_arrays_without_autotune_thread()  # a second call wraps nothing again
        assert ArrayDataAdapter.get_tf_dataset.__wrapped__ is keras_own
    finally:
        ArrayDataAdapter.get_tf_dataset = installed
    for a, b in zip(patched, untouched, strict=True):
        np.testing.assert_array_equal(a, b)


def test_validation_batches_are_the_arrays_batches_in_order():
    x = np.arange(10, dtype="float32")[:, None]
    for _ in range(2):  # cached: every epoch sees the same batches
        batches = [np.asarray(b)[:, 0] for b in validation_batches(x, 4)]
        assert [len(b) for b in batches] == [4, 4, 2]
        assert np.array_equal(np.concatenate(batches), x[:, 0])


def test_aligned_steps_per_execution_divides_the_epoch():
    assert aligned_steps_per_execution(32, 235) == 47
    assert aligned_steps_per_execution(32, 8) == 8
    assert aligned_steps_per_execution(3, 8) == 4
    assert aligned_steps_per_execution(1, 235) == 1
    for steps in (1, 7, 64, 196, 235):
        for requested in (1, 5, 32, 500):
            assert steps % aligned_steps_per_execution(requested, steps) == 0


def test_speed_options_do_not_change_what_is_trained(trained, tmp_path):
    """Several steps per execution: the same batches and steps, so the same history."""
    _, _, ds = trained
    histories = [
        train(
            CONFIG,
            ds,
            tmp_path / f"spe{spe}",
            verbose=0,
            options=replace(EXACT, steps_per_execution=spe),
        )
        for spe in (1, 3, 32)
    ]
    for other in histories[1:]:
        assert [r["loss"] for r in other] == pytest.approx(
            [r["loss"] for r in histories[0]], rel=1e-5
        )


def test_xla_and_the_plain_path_train_too(trained, tmp_path):
    """The default path (XLA: the ``trained`` fixture's run, ``TrainOptions()``) and the
    slides' plain ``fit`` both learn the same model. Only the plain run trains here: the
    fixture's run is already the default options' XLA run."""
    _, history, ds = trained
    plain = train(CONFIG, ds, tmp_path / "plain", verbose=0, options=PLAIN)
    for other in (history, plain):
        assert len(other) == CONFIG.epochs
        assert other[-1]["loss"] < 0.9 * other[0]["loss"]
    # a different random stream, the same model: the final losses agree loosely
    assert plain[-1]["val_loss"] == pytest.approx(history[-1]["val_loss"], rel=0.1)


def test_the_optimizer_is_built_before_the_train_step_is_traced(trained, tmp_path, monkeypatch):
    """RMSprop's variables are made before ``fit``, outside any traced function: made by its
    first update inside the traced step, they made TensorFlow trace that step twice."""
    import tensorflow as tf

    _, _, ds = trained
    inside = []
    build = keras.optimizers.RMSprop.build

    def recorded(self, variables):
        inside.append(tf.inside_function())
        return build(self, variables)

    monkeypatch.setattr(keras.optimizers.RMSprop, "build", recorded)
    train(replace(CONFIG, epochs=1), ds, tmp_path / "run", verbose=0)
    assert inside == [False]


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="pipeline must be"):
        TrainOptions(pipeline="torch")
    with pytest.raises(ValueError, match="steps_per_execution must be"):
        TrainOptions(steps_per_execution=0)
    with pytest.raises(ValueError, match="distribute must be one of"):
        TrainOptions(distribute="tpu")


@pytest.mark.slow  # make test-slow, with the two-worker cluster and JAX's data parallelism
def test_mirrored_strategy_on_two_logical_cpus_matches_one_device():
    import subprocess
    import sys
    from pathlib import Path

    helper = Path(__file__).parent / "helpers" / "mirrored_run.py"
    env = {**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, str(helper)], capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MirroredStrategy over 2 device(s)" in result.stdout
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(out["devices"]) == 2
    single, mirrored = out["single"], out["mirrored"]
    assert single["iterations"] == mirrored["iterations"] == 3 * 10  # 640 / 64 steps per epoch
    assert mirrored["loss"] == pytest.approx(single["loss"], rel=0.02)
    assert mirrored["val_loss"] == pytest.approx(single["val_loss"], rel=0.02)
    assert mirrored["loss"][-1] < mirrored["loss"][0]
    # the parts are reported unscaled by the number of replicas: they add up to the loss
    for run in (single, mirrored, out["multiworker"]):
        assert run["parts"] == pytest.approx(run["loss"], rel=1e-5)
        assert min(run["kl_loss"]) > 0
    # MultiWorkerMirroredStrategy without TF_CONFIG: one worker, the same training
    worker = out["multiworker"]
    assert worker["iterations"] == 30
    assert worker["loss"] == pytest.approx(single["loss"], rel=0.02)


def test_the_keras_files_hold_the_runs_models(trained):
    run_dir, _, ds = trained
    run = load_run(run_dir)
    z = np.random.default_rng(1).standard_normal((8, 2)).astype("float32")
    generator = keras.saving.load_model(run_dir / "generator.keras")  # safe mode
    encoder = keras.saving.load_model(run_dir / "encoder.keras")
    assert np.allclose(
        generator.predict(z, verbose=0), run.models.generator.predict(z, verbose=0), atol=1e-6
    )
    assert np.allclose(
        encoder.predict(ds.x_test, verbose=0),
        run.models.encoder.predict(ds.x_test, verbose=0),
        atol=1e-6,
    )


@pytest.mark.parametrize("fused", [True, False])
def test_the_progress_bar_counts_batches(tiny_dataset_module, tmp_path, capsys, fused):
    ds = tiny_dataset_module  # 512 examples, batches of 64: 8 per epoch
    config = RunConfig(**{**CONFIG.to_dict(), "epochs": 2})
    options = replace(EXACT, steps_per_execution=4, fuse_steps=fused)
    train(config, ds, tmp_path / "run", verbose=2, options=options)
    lines = [line for line in capsys.readouterr().out.splitlines() if " - loss" in line]
    assert len(lines) == 2 and all(line.startswith("8/8 ") for line in lines), lines


def read_events(path):
    """The events of one event file, read by the ``tensorboard`` package (no TensorFlow)."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    return list(EventFileLoader(str(path)).Load())


def tensorboard_events(log_dir):
    """{(writer folder, tag): [steps]} of every event file under ``log_dir``."""
    found = {}
    for path in sorted(log_dir.rglob("events.out.tfevents.*")):
        for event in read_events(path):
            for value in event.summary.value:
                found.setdefault((path.parent.name, value.tag), []).append(event.step)
    return found


def test_tensorboard_writes_losses_and_samples_and_a_resume_appends(tiny_dataset_module, tmp_path):
    run_dir = tmp_path / "run"  # about the event files, not the path: fixture_options
    short = RunConfig(**{**CONFIG.to_dict(), "epochs": 2})
    options = fixture_options()
    train(short, tiny_dataset_module, run_dir, verbose=0, tensorboard=True, options=options)
    longer = RunConfig(**{**CONFIG.to_dict(), "epochs": 3})
    train(longer, tiny_dataset_module, run_dir, verbose=0, tensorboard=True, options=options)
    found = tensorboard_events(run_dir / runs.TENSORBOARD_DIR)
    for folder in ("train", "validation"):
        for name in ("loss", "reconstruction_loss", "kl_loss"):
            assert sorted(found[(folder, f"epoch_{name}")]) == [0, 1, 2], (folder, name)
    assert sorted(found[("samples", "prior_samples")]) == [0, 1, 2]
    # the image is a 4 x 4 grid of 28 x 28 digits: 112 x 112 pixels, a PNG of that size
    import matplotlib.image

    sizes, last = set(), None
    for path in sorted((run_dir / runs.TENSORBOARD_DIR / "samples").glob("events.out.*")):
        for event in read_events(path):
            for value in event.summary.value:
                width, height, png = value.tensor.string_val[:3]
                sizes.add((int(width), int(height)))
                assert value.metadata.plugin_data.plugin_name == "images"
                last = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert sizes == {(112, 112)} and last.shape[:2] == (112, 112)
    # the losses are the history's (validation scalars included), as floats
    history = json.loads((run_dir / "history.json").read_text())
    written = {}
    for path in (run_dir / runs.TENSORBOARD_DIR / "validation").glob("events.out.*"):
        for event in read_events(path):
            for value in event.summary.value:
                if value.tag == "epoch_loss":
                    written[event.step] = value.tensor.float_val[0]
    assert written == pytest.approx({i: row["val_loss"] for i, row in enumerate(history)}, rel=1e-6)
