"""The ``vae-keras`` command: one verb per step of the README, each a module of this package.

``vae-keras train`` is ``python scripts/train_mnist.py`` (the scripts are thin wrappers of
these modules), so everything the README runs also runs from an installed package::

    pip install "vae-keras[jax]"          # or [tensorflow], [torch]; see docs/backends.md
    vae-keras train                       # runs/mnist-latent2
    vae-keras figures                     # figures/ and figures/results.json
    vae-keras train --help                # each verb's options

``python -m vae_keras`` is the same command; ``vae-keras --version`` names the installed
version. Every verb settles the Keras backend before Keras is imported
(:func:`vae_keras.backends.settle_backend`): ``KERAS_BACKEND``, else Keras's config file, else
the backend that is installed, so ``pip install "vae-keras[jax]"`` runs on JAX as it is.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

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
    "rate-distortion": ("rate_distortion", "the KL weight's study: beta 0.25 to 784, latent 8"),
    "conditional": ("conditional", "the conditional VAE: digits on request, latent 8"),
}


def script_of(verb: str) -> str:
    """``scripts/train_mnist.py``: the verb's script in a clone of the repository."""
    return f"scripts/{VERBS[verb][0]}.py"


def verb_of_script(script: str) -> str | None:
    """``train`` for ``scripts/train_mnist.py`` (the inverse of :func:`script_of`), else None."""
    return next((verb for verb in VERBS if script_of(verb) == script), None)


def command_here(command: str, cwd: str | Path = ".") -> str:
    """``command`` as a user can type it in ``cwd``: ``python scripts/train_mnist.py ARGS``
    where that script is there (a clone), else the installed verb ``vae-keras train ARGS``."""
    words = command.split(" ")
    if len(words) < 2 or words[0] != "python" or (Path(cwd) / words[1]).is_file():
        return command
    verb = verb_of_script(words[1])
    return command if verb is None else " ".join(("vae-keras", verb, *words[2:]))


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
            "The Keras backend: KERAS_BACKEND (tensorflow, jax or torch), else the one Keras's",
            "config file names, else the one installed (TensorFlow first, then JAX, then PyTorch).",
        ]
    )


def version() -> str:
    """``vae-keras 0.1.0``: the installed package's version, from its metadata."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return f"vae-keras {installed_version('vae-keras')}"
    except PackageNotFoundError:
        return "vae-keras (not installed: pip install -e . names its version)"


def run_module(module: str, argv: list[str] | None = None) -> int:
    """Run ``vae_keras.commands.<module>.main(argv)`` on the settled backend; its exit code.

    The backend is settled before the module (and Keras) is imported; a backend that is
    named but not installed, or none at all, is one line and exit code 2. Then the verb
    runs :func:`vae_keras.cli.guarded` (a user error in one line; a bug keeps its traceback).
    The scripts of a clone are this call: ``run_module("train_mnist")``.
    """
    from vae_keras.backends import BackendError, settle_backend

    try:
        settle_backend()
    except BackendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from vae_keras.cli import guarded

    verb = importlib.import_module(f"vae_keras.commands.{module}")
    return guarded(lambda: verb.main(argv))


def main(argv: list[str] | None = None) -> int:
    """Run ``vae-keras VERB ARGS``: the verb's module's ``main(ARGS)``; its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        print(version())
        return 0
    verb, rest = argv[0], argv[1:]
    if verb not in VERBS:
        print(
            f"error: vae-keras has no verb {verb!r}; choose one of {', '.join(VERBS)} "
            "(vae-keras --help)",
            file=sys.stderr,
        )
        return 2
    sys.argv[0] = f"vae-keras {verb}"  # argparse's prog: `usage: vae-keras train ...`
    return run_module(VERBS[verb][0], rest)
