#!/usr/bin/env python
"""Frechet distance (slide "FID Score") and other sample-quality metrics between two sources.

The same as ``vae-keras fid`` (:mod:`vae_keras.commands.compute_fid`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("compute_fid"))
