"""The conditional VAE (Sohn et al. 2015; ``--conditional``) beside the slides' unconditional one.

For each conditional latent-8 run and each of make reproduce's unconditional latent-8 runs
(:data:`vae_keras.variants.CONDITIONAL_LATENT`), on MNIST:

* ``fid_samples`` samples (seed ``fid_seed``): ``z ~ N(0, I)``, and for a conditional run the
  labels asked for at the test set's class frequencies
  (:func:`vae_keras.conditioning.frequency_labels`; for 10,000 samples exactly the test
  labels, reordered);
* "does it draw the digit asked for": the digit classifier's accuracy on the conditional
  samples against the labels asked for, overall and per digit; for an unconditional run, no
  label is asked for, and the classifier's classes only say which digits it drew;
* the FID, precision and recall of the samples against the MNIST test images, in pixels and
  in the classifier's features (:mod:`vae_keras.metrics`);
* the rate ``R = E KL(q(z | x, y) || p(z))``, the distortion ``D = E[-log p(x | z, y)]`` (the
  unweighted metrics of ``evaluate`` on the test set, each image with its own label) and the
  active units (Burda et al. 2016): the label carries the class, so ``z`` needs to carry less.

One figure: ten rows (the digits asked for) by eight columns that share one ``z`` each, so a
column keeps one style across the digits; beside it the accuracy per digit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from keras import ops

from vae_keras import evaluation, latent, latent_plots, samplers
from vae_keras.conditioning import digit_grid, encoder_inputs, frequency_labels, generator_inputs
from vae_keras.data import NUM_CLASSES
from vae_keras.features import pixel_features
from vae_keras.report.context import Report, wants
from vae_keras.report.quality import classifier_record
from vae_keras.report.records import mean_std

#: Columns of the figure (one ``z`` each), and the seed of their ``z``.
GRID_COLUMNS = 8
GRID_SEED = 7
#: The measurements summarised over the seeds of each kind of run.
KEYS = ("rate", "distortion", "active_units", "accuracy", "fid", "precision", "recall",
        "classifier_fid")  # fmt: skip


def measure(r: Report, run, labels, classifier, references) -> dict[str, Any]:
    """One run's samples scored by the classifier and both feature spaces; its R, D, units."""
    from vae_keras.metrics import sample_quality

    n, seed, mnist = r.config.fid_samples, r.config.fid_seed, r.mnist
    conditional = run.config.conditional
    flat = (
        evaluation.sample_prior(run, n, seed, labels=labels)
        if conditional
        else r.prior_samples(run)
    )
    images = evaluation.as_images(flat, mnist.image_shape)
    predicted = classifier.classes(images)
    test_labels = mnist.y_test if conditional else None
    inputs = encoder_inputs(mnist.x_test, test_labels, conditional)
    scores = run.models.vae.evaluate(inputs, batch_size=1000, verbose=0, return_dict=True)
    codes, _ = samplers.encode(run, mnist.x_test, test_labels)
    row: dict[str, Any] = {
        "run_dir": str(run.run_dir),
        "conditional": conditional,
        "seed": run.config.seed,
        "rate": float(scores["kl_loss"]),
        "distortion": float(scores["reconstruction_loss"]),
        "active_units": latent.active_units(codes),
        "drawn_per_digit": np.bincount(predicted, minlength=NUM_CLASSES).tolist(),
    }
    if conditional:
        right = predicted == labels
        row["accuracy"] = float(right.mean())
        row["accuracy_per_digit"] = [  # None: a digit never asked for (tiny test sets)
            float(right[labels == c].mean()) if np.any(labels == c) else None
            for c in range(NUM_CLASSES)
        ]
    for space, extractor in (("pixels", pixel_features), ("classifier", classifier)):
        features = np.asarray(extractor(images), np.float64)
        metrics = ("fid", "precision", "recall") if space == "pixels" else ("fid",)
        quality = sample_quality(features, references[space], metrics, seed=seed)
        prefix = "" if space == "pixels" else "classifier_"
        row.update({f"{prefix}{m}": quality[m] for m in metrics})
    return row


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean ± std over the seeds of each measurement the rows have."""
    return {k: mean_std([row[k] for row in rows]) for k in KEYS if all(k in row for row in rows)}


def conditional(r: Report) -> None:
    """The step: every conditional and unconditional latent-8 run measured; one figure."""
    from vae_keras.features import ClassifierFeatures
    from vae_keras.metrics import Reference

    config, mnist = r.config, r.mnist
    classifier = ClassifierFeatures(config.classifier.path)
    test = evaluation.as_images(mnist.x_test, mnist.image_shape)
    references = {
        "pixels": Reference(np.asarray(pixel_features(test), np.float64)),
        "classifier": Reference(np.asarray(classifier(test), np.float64)),
    }
    labels = frequency_labels(mnist.y_test, config.fid_samples, config.fid_seed)
    conditional_runs = [r.loaded[s.path] for s in config.conditional if s.path in r.loaded]
    rows = [
        measure(r, run, labels, classifier, references) for run in (*conditional_runs, *r.runs8)
    ]
    for row in rows:
        accuracy = f", accuracy {row['accuracy']:.4f}" if row["conditional"] else ""
        r.log(
            f"  {row['run_dir']}: R {row['rate']:.2f}, D {row['distortion']:.2f}, "
            f"{row['active_units']} active units, FID {row['fid']:.2f}{accuracy}"
        )
    kinds = {
        "conditional": [row for row in rows if row["conditional"]],
        "unconditional": [row for row in rows if not row["conditional"]],
    }
    if wants(config, "conditional_samples"):
        first = conditional_runs[0]
        z = samplers.prior_latents(GRID_COLUMNS, first.config.latent_dim, GRID_SEED)
        z_rows, grid_labels = digit_grid(z)
        grid = ops.convert_to_numpy(first.models.generator(generator_inputs(z_rows, grid_labels)))
        per_digit = np.array(
            [row["accuracy_per_digit"] for row in kinds["conditional"]], dtype=float
        )  # (None, a digit never asked for, is NaN)
        r.save(
            "conditional_samples",
            latent_plots.conditional_grid(
                grid,
                mnist.image_shape,
                per_digit,
                f"Conditional VAE (latent {first.config.latent_dim}): the digit asked for by "
                "row, one z per column",
                config.fid_samples,
            ),
            f"{first.run_dir}: digits 0-9 (rows) decoded from {GRID_COLUMNS} shared z "
            "(columns); the classifier's accuracy per digit asked for",
        )
    r.results["conditional"] = {
        "protocol": (
            f"the slides' model with latent {conditional_runs[0].config.latent_dim} trained "
            "with --conditional (the one-hot label joins the encoder's input and z; 50 epochs, "
            f"batch 256, RMSprop) beside the unconditional runs; {config.fid_samples} samples "
            f"(seed {config.fid_seed}) from z ~ N(0, I) with labels at the MNIST test set's "
            "class frequencies; the digit classifier's accuracy on them against the labels "
            "asked for; FID, precision and recall against the 10,000 test images in pixels, "
            "FID in the classifier's features; rate R and distortion D on the test set (each "
            f"image with its own label), active units (variance of z_mean > "
            f"{latent.ACTIVE_THRESHOLD})"
        ),
        "classifier": classifier_record(config.classifier.path),
        "runs": rows,
        "summary": {kind: summary(kind_rows) for kind, kind_rows in kinds.items() if kind_rows},
    }
