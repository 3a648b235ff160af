#!/usr/bin/env python
"""Train the slides' VAE on MNIST (slide "Loss function & Train").

The same as ``vae-keras train`` (:mod:`vae_keras.commands.train_mnist`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("train_mnist"))
