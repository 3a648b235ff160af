#!/usr/bin/env python
"""Train the slides' VAE on CIFAR-10 (slide "Try with CIFAR-10").

The same as ``vae-keras train-cifar10`` (:mod:`vae_keras.commands.train_cifar10`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("train_cifar10"))
