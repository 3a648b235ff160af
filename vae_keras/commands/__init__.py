"""The ``vae-keras`` command: one verb per step of the README, each a module of this package.

``vae-keras train`` is ``python scripts/train_mnist.py`` (the scripts are thin wrappers of
these modules), so everything the README runs also runs from an installed package::

    pip install "vae-keras[jax]"          # or [tensorflow], [torch]; see docs/backends.md
    vae-keras train                       # runs/mnist-latent2
    vae-keras figures                     # figures/ and figures/results.json
    vae-keras train --help                # each verb's options

``python -m vae_keras`` is the same command.
"""

from __future__ import annotations

import importlib
import sys

#: verb: (module of vae_keras.commands, the script in a clone, what it does)
VERBS: dict[str, tuple[str, str]] = {
    "train": ("train_mnist", "train the slides' VAE on MNIST"),
    "train-cifar10": ("train_cifar10", "train the VAE on CIFAR-10"),
    "train-classifier": ("train_classifier", "train the digit classifier (FID features)"),
    "figures": ("make_figures", "draw every figure from trained runs; results.json"),
    "fid": ("compute_fid", "FID and other sample-quality metrics between two sources"),
    "explore": ("export_explorer", "write the latent explorer page of a trained run"),
    "export": ("export_run", "write a run's models as .keras files"),
    "reproduce": ("reproduce", "every training, then the figures (make reproduce)"),
    "fid-study": ("fid_latent_size", "the FID study: latent sizes 2-32, three seeds each"),
}


def script_of(verb: str) -> str:
    """``scripts/train_mnist.py``: the verb's script in a clone of the repository."""
    return f"scripts/{VERBS[verb][0]}.py"


def usage() -> str:
    width = max(map(len, VERBS))
    lines = [f"  {verb:<{width}}  {what} ({script_of(verb)})" for verb, (_, what) in VERBS.items()]
    return "\n".join(
        [
            "usage: vae-keras VERB [options]   (vae-keras VERB --help for its options)",
            "",
            "The slides' variational autoencoder in Keras 3. Verbs:",
            *lines,
            "",
            "The Keras backend is KERAS_BACKEND (tensorflow, jax or torch; default tensorflow).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Run ``vae-keras VERB ARGS``: the verb's module's ``main(ARGS)``; its exit code."""
    from vae_keras.cli import guarded

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    verb, rest = argv[0], argv[1:]
    if verb not in VERBS:
        print(
            f"error: vae-keras has no verb {verb!r}; choose one of {', '.join(VERBS)} "
            "(vae-keras --help)",
            file=sys.stderr,
        )
        return 2
    module = importlib.import_module(f"vae_keras.commands.{VERBS[verb][0]}")
    sys.argv[0] = f"vae-keras {verb}"  # argparse's prog: `usage: vae-keras train ...`
    return guarded(lambda: module.main(rest))
