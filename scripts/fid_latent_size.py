#!/usr/bin/env python
"""The FID study: the slides' model with latent sizes 2, 4, 8, 16 and 32, three seeds each.

The same as ``vae-keras fid-study`` (:mod:`vae_keras.commands.fid_latent_size`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("fid_latent_size"))
