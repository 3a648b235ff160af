#!/usr/bin/env python
"""Train the slides' VAE on MNIST (slide "Loss function & Train").

The same as ``vae-keras train`` (:mod:`vae_keras.commands.train_mnist`);
--help lists its options.
"""

import sys

from vae_keras.cli import guarded
from vae_keras.commands.train_mnist import main

if __name__ == "__main__":
    sys.exit(guarded(main))
