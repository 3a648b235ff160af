"""``python -m vae_keras VERB``: the ``vae-keras`` command (:mod:`vae_keras.commands`)."""

import sys

from vae_keras.commands import main

if __name__ == "__main__":
    sys.exit(main())
