#!/usr/bin/env python
"""Write a trained run's models as Keras files: vae.keras, encoder.keras, generator.keras.

The same as ``vae-keras export`` (:mod:`vae_keras.commands.export_run`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("export_run"))
