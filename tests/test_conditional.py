"""The conditional VAE (--conditional, Sohn et al. 2015): the labels' one-hot codes and checks, the
models' named inputs, the labels sampled at the test set's frequencies, the figure's digit grid;
the two-input graph and its unconditional twin; training from the command line into
``-cond``, a record that says so, and ``fid`` on the run; bad input as one line that creates
nothing. (On TensorFlow, JAX and PyTorch, both training paths, the label changing the image,
and the .keras files in safe mode: tests/test_backends.py.)"""

import json

import keras
import numpy as np
import pytest
from conftest import run_script, synthetic_dataset, write_npz
from hypothesis import given, settings
from hypothesis import strategies as st

from vae_keras.cli import default_run_dir
from vae_keras.conditioning import (
    LABEL_INPUT,
    LabelError,
    digit_grid,
    encoder_inputs,
    frequency_labels,
    generator_inputs,
    one_hot,
    split_inputs,
)
from vae_keras.model import build_vae
from vae_keras.runs import RunConfig


def test_one_hot_codes_each_label_and_names_a_bad_one():
    codes = one_hot(np.array([3, 0, 9]))
    assert codes.dtype == np.float32 and codes.shape == (3, 10)
    assert np.array_equal(codes.argmax(1), [3, 0, 9]) and np.array_equal(codes.sum(1), [1, 1, 1])
    with pytest.raises(LabelError, match="label 12 is out of range: .* labels 0 to 9"):
        one_hot(np.array([1, 12]))
    with pytest.raises(LabelError, match="label -1 is out of range"):
        one_hot(np.array([-1]))
    with pytest.raises(LabelError, match="1-D array of integer classes"):
        one_hot(np.array([0.5, 1.0]))
    with pytest.raises(LabelError, match="1-D array"):
        one_hot(np.zeros((2, 2), dtype=int))


def test_inputs_are_named_and_each_kind_of_run_refuses_the_other_kind():
    x, labels = np.zeros((4, 784), np.float32), np.array([0, 1, 2, 3])
    both = encoder_inputs(x, labels)
    assert set(both) == {"encoder_input", LABEL_INPUT} and both["encoder_input"] is x
    assert set(generator_inputs(np.zeros((4, 2)), labels)) == {"decoder_input", LABEL_INPUT}
    assert encoder_inputs(x, None, conditional=False) is x  # the slides' model: x alone
    with pytest.raises(LabelError, match="this run is conditional .* labels"):
        encoder_inputs(x, None, conditional=True)
    with pytest.raises(LabelError, match="unconditional run; it takes none"):
        generator_inputs(x, labels, conditional=False)
    with pytest.raises(LabelError, match="3 labels for 4 inputs"):
        encoder_inputs(x, labels[:3])


def test_split_inputs_pair_each_image_with_its_own_label():
    data = synthetic_dataset(32, 16)
    inputs = split_inputs(data, "test", conditional=True)
    assert np.array_equal(inputs["encoder_input"], data.x_test)
    assert np.array_equal(inputs[LABEL_INPUT].argmax(1), data.y_test)
    assert split_inputs(data, "train", conditional=False) is data.x_train


@settings(max_examples=30, deadline=None)
@given(
    counts=st.lists(st.integers(0, 40), min_size=10, max_size=10).filter(lambda c: sum(c) > 0),
    seed=st.integers(0, 2**31),
)
def test_frequency_labels_meet_the_references_class_frequencies(counts, seed):
    """n = len(reference): exactly the reference's labels, reordered; any n: each class within
    one of n times its share (a permutation repeated)."""
    reference = np.repeat(np.arange(10), counts)
    drawn = frequency_labels(reference, len(reference), seed)
    assert np.array_equal(np.bincount(drawn, minlength=10), counts)
    n = 3 * len(reference) + 7
    more = np.bincount(frequency_labels(reference, n, seed), minlength=10)
    assert np.all(np.abs(more - n * np.array(counts) / len(reference)) <= len(reference))
    # seeded: the same labels again
    again = frequency_labels(reference, 50, seed)
    assert np.array_equal(frequency_labels(reference, 50, seed), again)


def test_the_digit_grid_keeps_one_z_per_column_and_one_class_per_row():
    z = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    rows, labels = digit_grid(z)
    assert rows.shape == (80, 3) and labels.shape == (80,)
    table = rows.reshape(10, 8, 3)
    assert all(np.array_equal(table[c], z) for c in range(10))  # each row: the same 8 z
    assert np.array_equal(labels.reshape(10, 8), np.repeat(np.arange(10)[:, None], 8, 1))


@pytest.mark.parametrize("architecture", ["dense", "conv"])
def test_the_conditional_graph_adds_the_label_to_encoder_and_decoder_only(architecture):
    """The label adds 10 input rows to ``encoder_h`` and to ``decoder_h``'s kernels; nothing else
    changes, and the unconditional model keeps the slides' one input."""
    plain = build_vae(latent_dim=3, seed=0, architecture=architecture, image_shape=(28, 28))
    cond = build_vae(latent_dim=3, seed=0, architecture=architecture, image_shape=(28, 28),
                     conditional=True)  # fmt: skip
    assert not isinstance(plain.vae.input, dict)
    assert sorted(cond.vae.input) == ["encoder_input", LABEL_INPUT]
    assert sorted(cond.generator.input) == ["decoder_input", LABEL_INPUT]
    for name in ("encoder_h", "decoder_h"):
        rows = [m.vae.get_layer(name).kernel.shape[0] for m in (plain, cond)]
        assert rows[1] == rows[0] + 10, name
    assert cond.vae.count_params() - plain.vae.count_params() == 10 * (
        plain.vae.get_layer("encoder_h").units + plain.vae.get_layer("decoder_h").units
    )


def test_a_conditional_decoder_is_the_same_function_of_z_and_the_one_hot_label():
    """generator(z, y) computed by hand from its layers: dense(relu(concat(z, one_hot(y))))."""
    models = build_vae(latent_dim=2, intermediate_dim=16, seed=1, conditional=True)
    z = np.random.default_rng(1).standard_normal((5, 2)).astype(np.float32)
    labels = np.array([0, 3, 3, 7, 9])
    mean = keras.ops.convert_to_numpy(models.generator(generator_inputs(z, labels)))
    (w1, b1), (w2, b2) = (
        [np.asarray(v, np.float64) for v in models.generator.get_layer(n).get_weights()]
        for n in ("decoder_h", "decoder_logits")
    )
    h = np.maximum(np.concatenate([z, one_hot(labels)], axis=1) @ w1 + b1, 0)
    assert np.allclose(mean, 1 / (1 + np.exp(-(h @ w2 + b2))), atol=1e-6)


def test_conditional_names_the_run_directory_and_old_configs_are_unconditional():
    template = "runs/mnist-latent{latent_dim}"
    assert default_run_dir(template, 8, 0, conditional=True) == "runs/mnist-latent8-cond"
    assert default_run_dir(template, 8, 2, conditional=True) == "runs/mnist-latent8-cond-seed2"
    old = {k: v for k, v in RunConfig().to_dict().items() if k != "conditional"}
    assert RunConfig.from_dict(old).conditional is False
    assert not RunConfig(conditional=True).same_model_and_data(RunConfig())  # no cross-resume


@pytest.mark.filterwarnings("ignore::vae_keras.fid.SingularCovarianceWarning")  # 64 samples
def test_train_conditional_then_fid_on_its_samples(tmp_path):
    """The command line trains into runs/mnist-latent2-cond, records it, and ``fid`` decodes the
    run's samples with labels at the test set's frequencies, from the prior and the mixture
    (``--no-jit``: about the run and its samples, not the path; conftest.fixture_options)."""
    write_npz(tmp_path, n_train=256, n_test=64)
    env = {"VAE_KERAS_DATA_DIR": str(tmp_path)}
    args = ("--conditional", "--epochs", "2", "--batch-size", "64", "--intermediate-dim", "16",
            "--tensorboard", "--no-jit")  # fmt: skip
    done = run_script("scripts/train_mnist.py", *args, "--verbose", "0", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    run = tmp_path / "runs" / "mnist-latent2-cond"
    assert json.loads((run / "config.json").read_text())["conditional"] is True
    history = json.loads((run / "history.json").read_text())
    assert history[-1]["loss"] < history[0]["loss"]
    assert list((run / "tensorboard" / "samples").glob("events.*"))  # digits 0-9 asked for
    fid = run_script("scripts/compute_fid.py", str(run), "mnist:test", "--n", "64",
                     "--json", str(tmp_path / "fid.json"), cwd=tmp_path, env=env)  # fmt: skip
    assert fid.returncode == 0, fid.stderr
    assert json.loads((tmp_path / "fid.json").read_text())["fid"] > 0
    # the mixture sampler: fitted to codes each encoded with its own label, then decoded
    gmm = ("--sampler", "gmm", "--json", str(tmp_path / "gmm.json"))
    fid = run_script("scripts/compute_fid.py", str(run), "mnist:test", "--n", "64", *gmm,
                     cwd=tmp_path, env=env)  # fmt: skip
    assert fid.returncode == 0, fid.stderr
    assert json.loads((tmp_path / "gmm.json").read_text())["sampler"] == "gmm"
    assert (run / "latent_mixture.npz").is_file()


def test_cifar10_trains_conditionally_on_its_ten_classes(tmp_path):
    """The CIFAR-10 command with --conditional records a conditional run of 3,072 inputs
    (``--no-jit``: about the run, not the path; conftest.fixture_options)."""
    write_npz(tmp_path, "cifar10", n_train=128, n_test=32, shape=(32, 32, 3))
    done = run_script("scripts/train_cifar10.py", "--conditional", "--epochs", "1", "--no-jit",
                      "--intermediate-dim", "16", "--latent-dim", "4", "--verbose", "0",
                      cwd=tmp_path, env={"VAE_KERAS_DATA_DIR": str(tmp_path)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "runs" / "cifar10-latent4-cond" / "config.json").read_text())
    assert config["conditional"] is True and config["original_dim"] == 3072


def test_the_likelihood_bounds_refuse_a_conditional_run_in_one_line():
    from vae_keras import likelihood

    models = build_vae(latent_dim=2, intermediate_dim=8, seed=0, conditional=True)
    x = np.zeros((2, 784), np.float32)
    for bound in (likelihood.elbo, likelihood.importance_weighted_log_likelihood):
        with pytest.raises(LabelError, match="conditional .* log p\\(x \\| y\\)"):
            bound(models, x)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"y_train": None}, "lacks the array(s) ['y_train']"),
        ({"y_test": np.full(64, 12)}, "y_test has labels in [12, 12]; expected 0..9"),
    ],
)
def test_conditional_on_data_without_good_labels_is_one_line_and_creates_nothing(
    tmp_path, overrides, message
):
    write_npz(tmp_path, n_train=128, n_test=64, **overrides)
    done = run_script("scripts/train_mnist.py", "--conditional", "--epochs", "1", cwd=tmp_path,
                      env={"VAE_KERAS_DATA_DIR": str(tmp_path)})  # fmt: skip
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()
