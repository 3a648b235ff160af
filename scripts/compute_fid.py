#!/usr/bin/env python
"""Frechet distance (slide "FID Score") and other sample-quality metrics between two sources.

The same as ``vae-keras fid`` (:mod:`vae_keras.commands.compute_fid`);
--help lists its options.
"""

import sys

from vae_keras.cli import guarded
from vae_keras.commands.compute_fid import main

if __name__ == "__main__":
    sys.exit(guarded(main))
