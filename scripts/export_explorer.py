#!/usr/bin/env python
"""Write the latent explorer of a trained run: a static page that decodes z live in the browser.

The same as ``vae-keras explore`` (:mod:`vae_keras.commands.export_explorer`);
--help lists its options.
"""

import sys

from vae_keras.commands import run_module

if __name__ == "__main__":
    sys.exit(run_module("export_explorer"))
