#!/usr/bin/env python
"""Draw every figure of the slides from trained runs; write results.json and the README table.

The same as ``vae-keras figures`` (:mod:`vae_keras.commands.make_figures`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("make_figures"))
