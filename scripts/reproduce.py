#!/usr/bin/env python
"""Run every step of `make reproduce` in order, timing each; print and record the step table.

The same as ``vae-keras reproduce`` (:mod:`vae_keras.commands.reproduce`);
--help lists its options.
"""

import sys

from vae_keras.cli import guarded
from vae_keras.commands.reproduce import main

if __name__ == "__main__":
    sys.exit(guarded(main))
