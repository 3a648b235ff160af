#!/usr/bin/env python
"""The conditional VAE: the slides' latent-8 model trained with --conditional, three seeds.

The same as ``vae-keras conditional`` (:mod:`vae_keras.commands.conditional`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("conditional"))
