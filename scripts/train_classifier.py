#!/usr/bin/env python
"""Train the small convolutional MNIST classifier behind the `classifier` feature space.

The same as ``vae-keras train-classifier`` (:mod:`vae_keras.commands.train_classifier`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("train_classifier"))
