"""Load runs' .keras files in this (fresh) process, in Keras's default safe mode; print JSON.

Usage: ``python load_keras_files.py RUN_DIR EXPECTED_NPZ [RUN_DIR EXPECTED_NPZ ...]``.
Prints the backend and, per run directory, the largest difference between its files'
outputs and the run's own (EXPECTED_NPZ), the VAE's class and layers.
"""

import json
import sys

import keras
import numpy as np

import vae_keras.model  # noqa: F401  (registers the VAE's sampling function and layers)
from vae_keras.conditioning import encoder_inputs, generator_inputs


def call(model, inputs):
    """The model's outputs, called, not predict()ed: predict compiles a function per model (27
    models: 20 s on JAX), and a call computes the same outputs."""
    return keras.ops.convert_to_numpy(model(inputs, training=False))


out = {"backend": keras.backend.backend(), "runs": {}}
pairs = sys.argv[1:]
for run_dir, expected_file in zip(pairs[::2], pairs[1::2], strict=True):
    expected = np.load(expected_file)
    labels = expected["labels"] if "labels" in expected.files else None  # a conditional run
    x, z = encoder_inputs(expected["x"], labels), generator_inputs(expected["z"], labels)
    generator = keras.saving.load_model(f"{run_dir}/generator.keras")  # safe_mode=True
    encoder = keras.saving.load_model(f"{run_dir}/encoder.keras")
    vae = keras.saving.load_model(f"{run_dir}/vae.keras")
    decoded = call(vae, x)
    out["runs"][run_dir] = {
        "generator": float(np.abs(call(generator, z) - expected["generated"]).max()),
        "encoder": float(np.abs(call(encoder, x) - expected["encoded"]).max()),
        "vae_class": type(vae).__name__,
        "vae_jit_compile": vae.jit_compile,
        "vae_steps_per_execution": vae.steps_per_execution,
        "vae_layers": [layer.name for layer in vae.layers],
        "generator_inputs": sorted(generator.input) if isinstance(generator.input, dict) else [],
        "vae_output_in_unit_interval": bool(((decoded > 0) & (decoded < 1)).all()),
    }
print(json.dumps(out))
