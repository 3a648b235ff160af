#!/usr/bin/env python
"""Run every step of `make reproduce` in order, timing each; print and record the step table.

The same as ``vae-keras reproduce`` (:mod:`vae_keras.commands.reproduce`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("reproduce"))
