"""The slides' VAE on every Keras backend: tests/helpers/backend_check.py, a process each.

TensorFlow (requirements.txt), JAX and PyTorch (requirements-test.txt, which
``make test`` installs: PyTorch's CPU build) are each checked in a process of
their own; a backend that is not installed fails with the command that installs it.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_script

HELPER = Path(__file__).parent / "helpers" / "backend_check.py"
MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


LOADER = Path(__file__).parent / "helpers" / "load_keras_files.py"


def installed(backend):
    if importlib.util.find_spec(MODULES[backend]) is None:
        pytest.fail(f"{backend} is not installed: pip install -r requirements-test.txt")


def run_on(backend, *args):
    """Run a helper script in a fresh process on ``backend``; return its JSON line.

    On JAX the process shares the test run's compilation cache (tests/jax_cache.py): the
    check's runs of one model (trained, interrupted, resumed) compile it once, and the
    ``.keras`` loader and the fused path's check load what it compiled."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["backend"] == backend
    return out


@pytest.fixture(scope="module", params=sorted(MODULES))
def report(request):
    """The checks of tests/helpers/backend_check.py on one backend (from ``every_report``)."""
    return request.getfixturevalue("every_report")[request.param]


def test_the_added_loss_is_784_bce_plus_kl_from_the_logits(report):
    """Same weights, batch and noise (200 outputs saturated): the float64 NumPy formula."""
    assert report["saturated"] == pytest.approx(20.0, abs=1e-3)
    assert report["added_terms"] == pytest.approx(report["numpy_terms"], rel=2e-6)
    assert report["compiled_loss"] == pytest.approx(sum(report["numpy_terms"]), rel=2e-6)
    assert report["passes_through"]
    # from the clipped probabilities, the saturated pixels would cost at most 16.1 nats
    assert report["clipped_reconstruction"] < report["numpy_terms"][0] - 100


def test_the_loss_is_the_same_on_every_backend(every_report):
    """TensorFlow, JAX and PyTorch add the same loss to float32 rounding (saturated outputs too)."""
    tf_terms = every_report["tensorflow"]["added_terms"]
    for backend in ("jax", "torch"):
        assert every_report[backend]["added_terms"] == pytest.approx(tf_terms, rel=2e-6)
        compiled = every_report[backend]["compiled_loss"]
        assert compiled == pytest.approx(every_report["tensorflow"]["compiled_loss"], rel=2e-6)


def test_the_sampling_noise_follows_its_distributions(report):
    noise = report["noise"]
    assert noise["normal_p"] > 1e-3 and noise["uniform_p"] > 1e-3
    assert noise["advances"] and noise["uniform_range"]


def test_training_lowers_the_loss_and_reports_both_parts(report):
    history = report["history"]
    losses = [row["loss"] for row in history]
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    for row in history:
        for prefix in ("", "val_"):
            parts = row[f"{prefix}reconstruction_loss"] + row[f"{prefix}kl_loss"]
            assert row[f"{prefix}loss"] == pytest.approx(parts, rel=1e-5)
            assert row[f"{prefix}kl_loss"] > 0
    # the reported validation KL is the analytic KL of the trained encoder on the test set
    assert history[-1]["val_kl_loss"] == pytest.approx(report["analytic_val_kl"], rel=1e-4)


def test_an_interrupted_run_resumes_to_the_uninterrupted_history(report):
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in report["history"]]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in report["resumed"]] == strip


def test_the_conv_gaussian_variant_trains_and_resumes_exactly_on_the_backend(report):
    history = report["variant_history"]
    assert history[-1]["loss"] < history[0]["loss"]
    for row in history:  # the Gaussian NLL (nats) and the KL add up to the loss
        assert row["reconstruction_loss"] + row["kl_loss"] == pytest.approx(row["loss"], rel=1e-5)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in history]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in report["variant_resumed"]] == (
        strip
    )
    assert report["variant_iw_k50"] > report["variant_elbo"]


def test_mixed_bfloat16_computes_in_bfloat16_where_the_policy_says_and_trains(report):
    """--precision mixed_bfloat16: the hidden layers' products in bfloat16, the heads, sampling,
    sigmoid and loss in float32, every weight float32; the outputs are those of the float32
    model with the same weights to bfloat16's precision (8 bits of mantissa), not exactly."""
    dtypes = report["mixed_compute_dtypes"]
    assert {dtypes[n] for n in ("encoder_h", "decoder_h", "decoder_logits")} == {"bfloat16"}
    assert {dtypes[n] for n in ("z_mean", "z", "decoder_mean", "vae_loss")} == {"float32"}
    assert report["mixed_variable_dtypes"] == ["float32"]
    assert report["mixed_output_dtypes"] == ["float32", "float32"]
    assert report["global_policy_after"] == "float32"  # building a mixed model changes no other
    difference = report["mixed_vs_float32_max_difference"]
    assert 1e-5 < difference["generated"] < 0.05  # pixels in [0, 1]
    assert 1e-5 < difference["encoded"] < 0.05 * max(1.0, difference["encoded_scale"])
    losses = [row["loss"] for row in report["mixed_history"]]
    assert losses[-1] < losses[0]
    for row in report["mixed_history"]:
        assert row["loss"] == pytest.approx(row["reconstruction_loss"] + row["kl_loss"], rel=1e-5)


def test_evaluation_runs_on_the_backend(report):
    assert report["reconstructions_repeat"] and report["reconstructions_in_unit_interval"]
    assert 0 < report["fid"] < 1e4
    # the importance-weighted bound grows with k, and k = 1 is the ELBO up to Monte Carlo noise
    assert report["iw_k100"] > report["iw_k1"]
    assert report["iw_k1"] == pytest.approx(report["elbo"], rel=0.05)
    assert report["figure_axes"] >= 1
    # the ELBO surgery: its two estimates add up to the analytic KL (within 4 standard errors),
    # the information below log N; the mixture fitted to the codes beats the prior on held-out
    s = report["surgery"]
    se = (s["mutual_information_se"] ** 2 + s["marginal_kl_se"] ** 2) ** 0.5
    assert abs(s["mutual_information"] + s["marginal_kl"] - s["average_kl"]) < 4 * se + 1e-6
    assert s["mutual_information"] <= s["log_n"] + 1e-6
    assert report["mixture_held_out"] > report["mixture_prior_held_out"]
    # the KL weight: loss = reconstruction + 3 KL, the KL metric unweighted (the same as at 1;
    # the reconstruction term differs by the sampling noise of the two models' seeds)
    weighted, plain = report["beta3"], report["beta1"]
    assert weighted["loss"] == pytest.approx(
        weighted["reconstruction_loss"] + 3 * weighted["kl_loss"], rel=1e-5
    )
    assert weighted["kl_loss"] == pytest.approx(plain["kl_loss"], rel=1e-5)


@pytest.fixture(scope="module")
def every_report(tmp_path_factory):
    """The trained runs of all three backends (the ``report`` fixture's, computed once each)."""
    reports = {}
    # JAX last: the fused path's check (tests/test_jax_speed.py, started on the other worker
    # at the same time) has by then put the dense model's programs in the run's JAX cache
    for backend in ("tensorflow", "torch", "jax"):
        installed(backend)
        folder = tmp_path_factory.mktemp(f"written-{backend}")
        reports[backend] = {**run_on(backend, HELPER, folder), "folder": folder}
    return reports


@pytest.mark.parametrize("loader", sorted(MODULES))
def test_keras_files_load_in_safe_mode_in_a_fresh_process(every_report, loader):
    """Every backend's .keras files, loaded by keras.saving.load_model alone in a fresh process
    of ``loader``, decode as their run does."""
    installed(loader)
    args = [
        p
        for r in every_report.values()
        for run, expected in (
            ("full", "expected.npz"),
            ("variant", "expected-variant.npz"),
            ("conditional", "expected-conditional.npz"),
        )
        for p in (r["folder"] / run, r["folder"] / expected)
    ]
    out = run_on(loader, LOADER, *args)
    assert len(out["runs"]) == 3 * len(MODULES)  # dense Bernoulli, conv Gaussian, conditional
    for written, run in out["runs"].items():
        assert run["generator"] < 1e-5 and run["encoder"] < 1e-5, written  # float32 rounding
        assert run["vae_class"] == "VAE"
        # compiled as the loading backend's default (not as the writer resolved "auto")
        assert run["vae_steps_per_execution"] == 1
        if loader == "torch":
            assert run["vae_jit_compile"] is False, written
        assert {"z", "vae_loss", "decoder_mean"} <= set(run["vae_layers"])
        assert run["vae_output_in_unit_interval"]
        if written.endswith("conditional"):  # its generator takes (z, label) by name
            assert run["generator_inputs"] == ["decoder_input", "label_input"], written


def test_a_conditional_vae_trains_alike_on_both_paths_and_depends_on_its_label(report):
    """--conditional: the fast path (fused steps on TensorFlow and JAX) and Keras's loop give
    the same history, and so does a run interrupted after its first epoch and resumed; the
    loss falls and is its two parts; every one of 16 decoded images changes when its label
    does (by more than float32 rounding), and so do the codes."""
    fast, loop = report["conditional_history"], report["conditional_loop_history"]
    assert [
        {k: v for k, v in r.items() if k != "seconds"} for r in report["conditional_resumed"]
    ] == [{k: v for k, v in r.items() if k != "seconds"} for r in fast]
    for a, b in zip(fast, loop, strict=True):
        for key in ("loss", "val_loss", "reconstruction_loss", "kl_loss"):
            assert a[key] == pytest.approx(b[key], rel=1e-4), key
    assert fast[-1]["loss"] < fast[0]["loss"]
    for row in fast:
        assert row["loss"] == pytest.approx(row["reconstruction_loss"] + row["kl_loss"], rel=1e-4)
    assert report["conditional_label_changes_image"] > 1e-6
    assert report["conditional_label_changes_code"] > 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_the_loss_formulas_hold_on_the_backend(backend):
    """tests/test_losses.py (closed forms, quadrature, Monte Carlo, the autodiff gradients),
    which ``make test`` runs on TensorFlow, run whole in a pytest process on ``backend``."""
    installed(backend)
    losses_tests = Path(__file__).parent / "test_losses.py"
    result = run_script("-m", "pytest", "-q", "-p", "no:cacheprovider", losses_tests,
                        env={"KERAS_BACKEND": backend})  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-500:]
