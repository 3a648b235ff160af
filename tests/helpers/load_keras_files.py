"""Load a run's .keras files in this (fresh) process, in Keras's default safe mode; print JSON.

Usage: ``python load_keras_files.py RUN_DIR EXPECTED_NPZ``. Prints the backend and, per
file, the largest difference between its outputs and the run's own (EXPECTED_NPZ).
"""

import json
import sys

import keras
import numpy as np

run_dir, expected = sys.argv[1], np.load(sys.argv[2])
out = {"backend": keras.backend.backend()}
generator = keras.saving.load_model(f"{run_dir}/generator.keras")  # safe_mode=True
encoder = keras.saving.load_model(f"{run_dir}/encoder.keras")
out["generator"] = float(
    np.abs(generator.predict(expected["z"], verbose=0) - expected["generated"]).max()
)
out["encoder"] = float(
    np.abs(encoder.predict(expected["x"], verbose=0) - expected["encoded"]).max()
)
import vae_keras.model  # noqa: E402,F401  (registers the VAE's sampling function and layers)

vae = keras.saving.load_model(f"{run_dir}/vae.keras")
out["vae_class"] = type(vae).__name__
out["vae_layers"] = [layer.name for layer in vae.layers]
out["vae_output_in_unit_interval"] = bool(
    (
        (vae.predict(expected["x"], verbose=0) > 0) & (vae.predict(expected["x"], verbose=0) < 1)
    ).all()
)
print(json.dumps(out))
