"""The conv architecture and the Gaussian likelihood: built, trained, resumed, saved, scored.

Each variant trains on a small synthetic slice of MNIST-shaped (and CIFAR-shaped) images,
resumes to the bit, exports ``.keras`` files that load in Keras's safe mode, and is scored by
the same ELBO, importance-weighted bound and FID code as the slides' dense Bernoulli model.
"""

import json
import math

import keras
import numpy as np
import pytest
from conftest import run_script, stop_after, synthetic_images, write_npz
from matplotlib.image import imread

from vae_keras import architectures, evaluation, likelihood, losses
from vae_keras.data import Dataset, load_dataset, validate_split
from vae_keras.features import pixel_features
from vae_keras.fid import compute_statistics, frechet_distance
from vae_keras.model import LOSS_LAYERS, GaussianVAELossLayer, build_vae, loss_layer
from vae_keras.runs import RunConfig, load_run, read_config, read_state
from vae_keras.sources import source_statistics
from vae_keras.training import TrainOptions, train
from vae_keras.variants import LIKELIHOODS

EXACT = TrainOptions(jit_compile=False)
VARIANTS = [("conv", "bernoulli"), ("dense", "gaussian"), ("conv", "gaussian")]


def dataset(shape=(28, 28), name="mnist", n_train=256, n_test=64) -> Dataset:
    x_train, y_train = synthetic_images(n_train, shape, seed=1)
    x_test, y_test = synthetic_images(n_test, shape, seed=2)
    xtr, ytr = validate_split(x_train, y_train, shape)
    xte, yte = validate_split(x_test, y_test, shape)
    return Dataset(name, shape, xtr, ytr, xte, yte, "synthetic")


def config(architecture, likelihood_name, epochs=2, **kw) -> RunConfig:
    return RunConfig(
        intermediate_dim=32,
        latent_dim=2,
        epochs=epochs,
        batch_size=64,
        seed=3,
        architecture=architecture,
        likelihood=likelihood_name,
        **kw,
    )


@pytest.fixture(scope="module")
def mnist():
    return dataset()


@pytest.fixture(scope="module", params=VARIANTS, ids=lambda v: "-".join(v))
def trained(request, mnist, tmp_path_factory):
    cfg = config(*request.param)
    run_dir = tmp_path_factory.mktemp("-".join(request.param))
    history = train(cfg, mnist, run_dir, verbose=0, options=EXACT)
    return cfg, run_dir, history


def test_the_conv_architecture_is_the_keras_io_kind():
    models = build_vae(intermediate_dim=16, latent_dim=2, architecture="conv", image_shape=(28, 28))
    layers = models.vae.layers
    encoder = [c for c in layers if isinstance(c, keras.layers.Conv2D)]
    decoder = [c for c in layers if isinstance(c, keras.layers.Conv2DTranspose)]
    assert [c.strides for c in encoder] == [(2, 2), (2, 2)]
    assert [c.filters for c in encoder] == [
        architectures.CONV_FILTERS,
        2 * architectures.CONV_FILTERS,
    ]
    assert [c.strides for c in decoder] == [(2, 2), (2, 2), (1, 1)] and decoder[-1].filters == 1
    # flat vectors in and out, as the dense model: the same loss, FID and run directory code
    assert models.vae.input_shape == (None, 784) and models.vae.output_shape == (None, 784)
    assert models.generator.output_shape == (None, 784)
    assert isinstance(models.vae.get_layer("z"), keras.layers.Lambda)
    cifar = build_vae(3072, 16, 4, architecture="conv", image_shape=(32, 32, 3), compile=False)
    assert cifar.generator.output_shape == (None, 3072)
    with pytest.raises(ValueError, match="divisible by 4"):
        build_vae(30 * 30, architecture="conv", image_shape=(30, 30))
    with pytest.raises(ValueError, match="architecture must be one of dense, conv"):
        build_vae(architecture="resnet")
    with pytest.raises(ValueError, match="likelihood must be one of bernoulli, gaussian"):
        build_vae(likelihood="poisson")
    assert tuple(LOSS_LAYERS) == LIKELIHOODS  # every recorded name has its loss layer


@pytest.mark.parametrize("architecture", ["dense", "conv"])
def test_the_decoder_logits_give_the_generators_mean(architecture):
    models = build_vae(784, 16, 3, seed=0, architecture=architecture, image_shape=(28, 28))
    z = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")  # extra axis
    logits = keras.ops.convert_to_numpy(architectures.decoder_logits(models.generator, z))
    mean = models.generator.predict(z.reshape(10, 3), verbose=0).reshape(2, 5, 784)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), mean, rtol=1e-5, atol=1e-6)


def test_the_gaussian_layer_adds_the_exact_gaussian_nll_plus_kl():
    rng = np.random.default_rng(1)
    x, mean = rng.random((4, 10)).astype("float32"), rng.random((4, 10)).astype("float32")
    z_mean, z_log_var = rng.standard_normal((2, 4, 3)).astype("float32")
    layer = GaussianVAELossLayer(name="vae_loss")
    layer.x_log_var.assign(-1.3)
    out = layer([x, mean, z_mean, z_log_var])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), mean)  # passes the mean on
    var = math.exp(-1.3)
    nll = 0.5 * np.sum(np.log(2 * np.pi * var) + (x - mean) ** 2 / var, axis=1)
    kl = 0.5 * np.sum(z_mean**2 + np.exp(z_log_var) - 1 - z_log_var, axis=1)
    added = [float(keras.ops.convert_to_numpy(t)) for t in layer.losses]
    assert added == pytest.approx([float(np.mean(nll)), float(np.mean(kl))], rel=1e-5)
    assert [w.name for w in layer.trainable_weights] == ["x_log_var"]


def test_training_lowers_the_loss_and_the_metrics_add_up(trained):
    _, _, history = trained
    loss = [row["loss"] for row in history]
    assert loss[-1] < loss[0] and history[-1]["val_loss"] < history[0]["val_loss"]
    for row in history:  # the reported parts are the run's own likelihood's and the KL
        assert row["reconstruction_loss"] + row["kl_loss"] == pytest.approx(row["loss"], rel=1e-4)


def test_a_resumed_run_repeats_the_uninterrupted_one_and_the_config_names_the_variant(
    trained, mnist, tmp_path
):
    cfg, run_dir, history = trained
    saved = json.loads((run_dir / "config.json").read_text())
    assert (saved["architecture"], saved["likelihood"]) == (cfg.architecture, cfg.likelihood)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, mnist, tmp_path / "r", verbose=0, options=EXACT, callbacks=[stop_after(1)])
    assert read_state(tmp_path / "r").epochs_done == 1
    resumed = train(cfg, mnist, tmp_path / "r", verbose=0, options=EXACT)
    assert [r["loss"] for r in resumed] == [r["loss"] for r in history]
    assert [r["val_loss"] for r in resumed] == [r["val_loss"] for r in history]


def test_the_keras_files_load_in_safe_mode_and_are_the_run(trained):
    cfg, run_dir, _ = trained
    run = load_run(run_dir)
    assert read_config(run_dir) == cfg
    z = np.random.default_rng(2).standard_normal((8, 2)).astype("float32")
    generator = keras.saving.load_model(run_dir / "generator.keras")  # safe_mode=True
    np.testing.assert_allclose(
        generator.predict(z, verbose=0), run.models.generator.predict(z, verbose=0), rtol=1e-6
    )
    vae = keras.saving.load_model(run_dir / "vae.keras")
    assert type(loss_layer(vae)) is type(loss_layer(run.models.vae))
    if cfg.likelihood == "gaussian":
        assert float(loss_layer(vae).x_log_var.numpy()) == pytest.approx(
            float(loss_layer(run.models.vae).x_log_var.numpy())
        )
        assert float(loss_layer(vae).x_log_var.numpy()) < 0  # learned: below its start, 0


@pytest.mark.filterwarnings("ignore::vae_keras.fid.SingularCovarianceWarning")
def test_the_elbo_iw_bound_and_fid_score_every_variant(trained, mnist):
    cfg, run_dir, _ = trained
    run = load_run(run_dir)
    x = mnist.x_test[:32]
    elbo = likelihood.elbo(run.models, x, samples=20, seed=0)
    iw = likelihood.importance_weighted_log_likelihood(run.models, x, k=64, seed=0)
    assert np.all(np.isfinite(elbo)) and np.all(np.isfinite(iw))
    assert iw.mean() > elbo.mean()  # the k = 64 bound is tighter than the ELBO
    # the IW weights use the run's own likelihood: their mean over draws is the ELBO
    model = likelihood.log_weights_model(run.models, 200, (cfg.likelihood,))
    epsilon = likelihood.example_noise(5, range(len(x)), 200, 2).transpose(1, 0, 2)
    log_w = np.asarray(model.predict_on_batch([x, epsilon.astype("float32")]), np.float64)
    assert abs(log_w.mean() - elbo.mean()) < 0.02 * abs(elbo.mean()) + 1.0
    if cfg.likelihood == "gaussian":  # the ELBO's term is the Gaussian density, by hand
        recon = -elbo - keras.ops.convert_to_numpy(
            losses.kl_divergence(*likelihood.posterior_model(run.models)(x))
        )
        log_var = float(loss_layer(run.models.vae).x_log_var.numpy())
        floor = 0.5 * 784 * (math.log(2 * math.pi) + log_var)  # the NLL of a perfect mean
        assert np.all(recon > floor)
    samples = evaluation.sample_prior(run, 200, seed=0)
    assert samples.shape == (200, 784) and samples.min() >= 0 and samples.max() <= 1
    a, b = compute_statistics(samples), compute_statistics(mnist.x_test)
    assert frechet_distance(a.mu, a.sigma, b.mu, b.sigma) > 0
    # compute_fid.py's sources read the run's own image shape: the same samples
    from_source = source_statistics(str(run_dir), pixel_features, n=200, seed=0)
    np.testing.assert_allclose(from_source.mu, a.mu, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A folder with small synthetic mnist.npz and cifar10.npz (Keras's layout)."""
    folder = tmp_path_factory.mktemp("data")
    write_npz(folder, "mnist", n_train=256, n_test=64)
    write_npz(folder, "cifar10", n_train=128, n_test=64, shape=(32, 32, 3))
    return folder


@pytest.fixture(scope="module")
def cifar_runs(data_dir, tmp_path_factory):
    """The slides' dense Bernoulli CIFAR-10 model (trained here) and the conv Gaussian one
    (trained by the script, as a user would)."""
    out = tmp_path_factory.mktemp("cifar")
    conv = out / "conv-gaussian"
    result = run_script(
        "scripts/train_cifar10.py", "--architecture", "conv", "--likelihood", "gaussian",
        "--epochs", "1", "--limit", "128", "--latent-dim", "8", "--intermediate-dim", "32",
        "--data-dir", data_dir, "--out", conv, "--verbose", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    dense = out / "dense-bernoulli"
    cifar = load_dataset("cifar10", data_dir, limit=128)
    cfg = RunConfig(dataset="cifar10", original_dim=3072, intermediate_dim=32, latent_dim=8,
                    epochs=1, limit=128)  # fmt: skip
    train(cfg, cifar, dense, verbose=0, options=EXACT)
    return {("dense", "bernoulli"): dense, ("conv", "gaussian"): conv}


@pytest.mark.slow  # with the comparison below: make test-slow (CI); make test keeps the rest
def test_both_cifar10_models_train_the_conv_gaussian_from_the_script(cifar_runs):
    """The CIFAR-10 conv Gaussian model from the script, beside the dense Bernoulli one. With
    the comparison below it runs in ``make test-slow`` (about 21 s of one worker on a 2-core
    Xeon without AMX); ``make test`` keeps every variant built, trained, resumed, saved and
    scored on MNIST here."""
    for (architecture, likelihood_name), run_dir in cifar_runs.items():
        saved = read_config(run_dir)
        assert (saved.architecture, saved.likelihood, saved.image_shape) == (
            architecture,
            likelihood_name,
            (32, 32, 3),
        )
        run = load_run(run_dir)
        assert run.models.vae.predict(np.zeros((2, 3072), "float32"), verbose=0).shape == (2, 3072)
        assert np.isfinite(run.history[-1]["val_loss"])


@pytest.mark.slow  # the report's architecture step on four tiny runs (make test-slow, CI)
@pytest.mark.filterwarnings("ignore::vae_keras.fid.SingularCovarianceWarning")
def test_the_report_compares_the_architectures(cifar_runs, data_dir, tmp_path):
    """The report's two architecture steps: rows, bounds, FID, the CIFAR-10 figure, the table."""
    from vae_keras.report import ReportConfig, RunSpec, make_report, results_table

    mnist = load_dataset("mnist", data_dir)
    dense_dir, conv_dir = tmp_path / "dense", tmp_path / "conv"
    train(config("dense", "bernoulli", epochs=2), mnist, dense_dir, verbose=0, options=EXACT)
    train(config("conv", "bernoulli", epochs=2), mnist, conv_dir, verbose=0, options=EXACT)
    report = ReportConfig(
        mnist2=[RunSpec(dense_dir, "train dense")],
        mnist8=[],
        cifar=RunSpec(cifar_runs["dense", "bernoulli"], "train cifar dense"),
        mnist_conv=RunSpec(conv_dir, "train conv"),
        cifar_conv=RunSpec(cifar_runs["conv", "gaussian"], "train cifar conv"),
        out_dir=tmp_path / "figures",
        data_dir=str(data_dir),
        fid_samples=100,
        only=["mnist_architectures", "cifar10_architectures"],
        quick=True,
        log=lambda line: None,
    )
    results = make_report(report)
    mnist_rows = results["architectures_mnist"]["rows"]
    assert [(r["architecture"], r["likelihood"]) for r in mnist_rows] == [
        ("dense", "bernoulli"),
        ("conv", "bernoulli"),
    ]
    for row in mnist_rows:
        assert row["iw_bound"] > row["elbo"] and row["fid"] > 0
    cifar_rows = results["architectures_cifar10"]["rows"]
    assert [r["likelihood"] for r in cifar_rows] == ["bernoulli", "gaussian"]
    assert all(0 < r["reconstruction_mse"] < 1 and r["fid"] > 0 for r in cifar_rows)
    image = imread(tmp_path / "figures" / "cifar10_architectures.png")
    assert image.shape[0] > 200 and image.std() > 0.05  # three labelled rows of images
    table = results_table(results)
    assert "conv, gaussian" in table and f"{mnist_rows[1]['iw_bound']:.2f}" in table


def test_the_default_run_directory_names_the_variant():
    from vae_keras.cli import default_run_dir

    assert default_run_dir("runs/mnist-latent{latent_dim}", 2, 0) == "runs/mnist-latent2"
    assert default_run_dir("runs/mnist-latent{latent_dim}", 2, 0, "conv") == (
        "runs/mnist-latent2-conv"
    )
    assert default_run_dir("runs/c-latent{latent_dim}", 128, 1, "conv", "gaussian") == (
        "runs/c-latent128-conv-gaussian-seed1"
    )
    assert default_run_dir("runs/mnist-latent{latent_dim}", 8, 1, precision="mixed_bfloat16") == (
        "runs/mnist-latent8-bf16-seed1"
    )


def test_the_precision_is_recorded_checked_and_absent_means_float32():
    from vae_keras.runs import RunError

    mixed = RunConfig(precision="mixed_bfloat16")
    assert RunConfig.from_dict(mixed.to_dict()) == mixed
    old = RunConfig().to_dict()
    del old["precision"]  # a config.json written before the option
    assert RunConfig.from_dict(old).precision == "float32"
    with pytest.raises(RunError, match="precision = 'float16' is not valid"):
        RunConfig.from_dict({**old, "precision": "float16"})
    assert not mixed.same_model_and_data(RunConfig())  # a resume cannot switch precision


def test_a_mixed_model_puts_bfloat16_where_its_docstring_says_and_saves_it(tmp_path):
    """The policy is scoped to the build (the global one is unchanged, also after an error);
    the .keras file keeps each layer's policy; float32 keeps every layer float32."""
    from vae_keras.model import dtype_policy

    mixed = build_vae(latent_dim=2, seed=0, precision="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"
    computes = {layer.name: layer.compute_dtype for layer in mixed.vae.layers}
    assert computes["encoder_h"] == computes["decoder_logits"] == "bfloat16"
    assert computes["z_mean"] == computes["z_log_var"] == computes["z"] == "float32"
    assert computes["decoder_mean"] == computes["vae_loss"] == "float32"
    assert {v.dtype for v in mixed.vae.weights} == {"float32"}
    plain = build_vae(latent_dim=2, seed=0)
    assert {layer.compute_dtype for layer in plain.vae.layers} == {"float32"}
    mixed.generator.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")
    assert loaded.get_layer("decoder_logits").compute_dtype == "bfloat16"
    z = np.random.default_rng(0).standard_normal((5, 2)).astype("float32")
    assert np.array_equal(np.asarray(loaded(z)), np.asarray(mixed.generator(z)))
    with pytest.raises(ValueError, match="precision must be one of float32, mixed_bfloat16"):
        with dtype_policy("float16"):
            pass
    with pytest.raises(RuntimeError), dtype_policy("mixed_bfloat16"):
        raise RuntimeError
    assert keras.config.dtype_policy().name == "float32"


def test_conv_trains_without_xla_on_a_cpu_and_dense_keeps_it():
    """The train step and the likelihood bound's log-weights model follow one rule
    (distribution.xla_pays): no XLA for conv on TensorFlow without a GPU."""
    from vae_keras.architectures import is_convolutional
    from vae_keras.distribution import has_gpu
    from vae_keras.likelihood import log_weights_model
    from vae_keras.runs import build_from_config
    from vae_keras.training import xla_for

    options = TrainOptions()  # jit_compile=True, the default
    assert xla_for(config("conv", "bernoulli"), options) is has_gpu()  # with a GPU, XLA too
    assert xla_for(config("dense", "gaussian"), options) is True
    assert xla_for(config("dense", "bernoulli"), TrainOptions(jit_compile=False)) is False
    for architecture, xla in (("conv", has_gpu()), ("dense", True)):
        models = build_from_config(config(architecture, "bernoulli"))
        assert is_convolutional(models.encoder) is (architecture == "conv")
        assert log_weights_model(models, 2, ("bernoulli",)).jit_compile is xla, architecture
