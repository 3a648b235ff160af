#!/usr/bin/env python
"""The KL weight's study: the slides' latent-8 model trained with beta 0.25, 0.5, 2, 4 and 784.

The same as ``vae-keras rate-distortion`` (:mod:`vae_keras.commands.rate_distortion`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("rate_distortion"))
