#!/usr/bin/env python
"""Train the small convolutional MNIST classifier behind the `classifier` feature space.

The same as ``vae-keras train-classifier`` (:mod:`vae_keras.commands.train_classifier`);
--help lists its options.
"""

import sys

from vae_keras.cli import guarded
from vae_keras.commands.train_classifier import main

if __name__ == "__main__":
    sys.exit(guarded(main))
