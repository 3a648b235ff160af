"""The conditional VAE's labels: one-hot codes, the models' inputs, which labels to generate.

Sohn, Lee and Yan 2015, "Learning Structured Output Representation using Deep Conditional
Generative Models" (the CVAE): the label ``y`` joins the encoder's input and the latent code
before the decoder, so the model learns ``q(z | x, y)`` and ``p(x | z, y)`` with the prior
``p(z) = N(0, I)`` unchanged; the loss is the slides' loss, term for term:

    L(x, y) = -E_q(z|x,y)[log p(x | z, y)] + KL(q(z | x, y) || N(0, I))

A conditional run's three models take the one-hot label beside their usual input, by name
(:func:`encoder_inputs`, :func:`generator_inputs`): the VAE and the encoder
``{"encoder_input": x, "label_input": one_hot(y)}``, the generator
``{"decoder_input": z, "label_input": one_hot(y)}``. An unconditional run's models take
``x`` and ``z`` alone, as on the slides. NumPy only.
"""

from __future__ import annotations

import numpy as np

from vae_keras.data import NUM_CLASSES, Dataset
from vae_keras.errors import UserError

#: The names of the models' inputs (a conditional model takes a dict of them).
IMAGES_INPUT = "encoder_input"
LATENT_INPUT = "decoder_input"
LABEL_INPUT = "label_input"


class LabelError(UserError, ValueError):
    """Labels that a conditional model cannot take (or that an unconditional one was given)."""


def one_hot(labels, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """``labels`` (integers in ``0 .. num_classes - 1``, shape (N,)) as float32 one-hot rows."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not (labels.size == 0 or np.issubdtype(labels.dtype, np.integer)):
        raise LabelError(
            f"labels must be a 1-D array of integer classes, got dtype {labels.dtype} and shape "
            f"{labels.shape}."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise LabelError(
            f"label {bad} is out of range: a conditional run on {num_classes} classes takes "
            f"labels 0 to {num_classes - 1}."
        )
    return np.eye(num_classes, dtype=np.float32)[labels]


def _inputs(name: str, values, labels, conditional: bool):
    if not conditional:
        if labels is not None:
            raise LabelError("labels were given to an unconditional run; it takes none.")
        return values
    if labels is None:
        raise LabelError(
            "this run is conditional (trained with --conditional): say which class to use "
            "with labels."
        )
    labels = one_hot(labels)
    if len(labels) != len(values):
        raise LabelError(f"{len(labels)} labels for {len(values)} inputs; give one label each.")
    return {name: values, LABEL_INPUT: labels}


def encoder_inputs(x, labels=None, conditional: bool | None = None):
    """What the VAE and the encoder take: ``x``, or ``{x, one_hot(labels)}`` if conditional.

    ``conditional`` defaults to whether ``labels`` are given.
    """
    conditional = labels is not None if conditional is None else conditional
    return _inputs(IMAGES_INPUT, x, labels, conditional)


def generator_inputs(z, labels=None, conditional: bool | None = None):
    """What the generator takes: ``z``, or ``{z, one_hot(labels)}`` if conditional."""
    conditional = labels is not None if conditional is None else conditional
    return _inputs(LATENT_INPUT, z, labels, conditional)


def frequency_labels(reference: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` labels with the class frequencies of ``reference`` (e.g. the test set's labels).

    A seeded permutation of ``reference``, repeated to length ``n``: for ``n = len(reference)``
    exactly its labels, so conditional samples meet the test set's class frequencies in FID.
    The permutation's generator is seeded with ``(seed, 1)``: another stream than the latents
    that ``seed`` draws (:func:`vae_keras.samplers.prior_latents`).
    """
    reference = np.asarray(reference, dtype=np.int64)
    if reference.ndim != 1 or not len(reference):
        raise LabelError("the reference labels must be a non-empty 1-D array.")
    return np.resize(np.random.default_rng((seed, 1)).permutation(reference), n)


def digit_grid(z: np.ndarray, num_classes: int = NUM_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """The conditional figure's inputs: every column's ``z`` decoded as every class.

    ``z`` (columns, latent) gives ``(z_rows, labels)`` of ``num_classes * columns`` rows, row
    ``c * columns + j`` being ``(z[j], c)``: row ``c`` of the figure is class ``c``, and a
    column keeps one ``z`` (the style the label does not say) across the classes.
    """
    columns = len(z)
    return np.tile(z, (num_classes, 1)), np.repeat(np.arange(num_classes), columns)


def split_inputs(dataset: Dataset, split: str, conditional: bool):
    """What a run's VAE trains or validates on: ``dataset``'s images of ``split`` (``train`` or
    ``test``), with their one-hot labels if the run is ``conditional``."""
    x = getattr(dataset, f"x_{split}")
    return encoder_inputs(x, getattr(dataset, f"y_{split}") if conditional else None, conditional)
