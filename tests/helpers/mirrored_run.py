"""Train a tiny run on 2 logical CPU devices under MirroredStrategy and on one device; print JSON.

Run as a subprocess: logical devices must be configured before TensorFlow starts.
"""

import json
import sys
import tempfile
from pathlib import Path

import tensorflow as tf

# MirroredStrategy() takes every GPU when there is one: hide them, so that the strategy
# runs on the two logical CPU devices below on every machine.
tf.config.set_visible_devices([], "GPU")
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import synthetic_dataset  # noqa: E402

from vae_keras.runs import RunConfig, load_run  # noqa: E402
from vae_keras.training import TrainOptions, train  # noqa: E402

dataset = synthetic_dataset(640, 128)
config = RunConfig(intermediate_dim=64, latent_dim=2, epochs=3, batch_size=64, seed=3)
out = {"devices": [d.name for d in tf.config.list_logical_devices("CPU")]}
with tempfile.TemporaryDirectory() as tmp:
    for name, distribute in (
        ("single", None),
        ("mirrored", "mirrored"),
        ("multiworker", "multiworker"),
    ):
        options = TrainOptions(jit_compile=False, steps_per_execution=1, distribute=distribute)
        history = train(config, dataset, Path(tmp) / name, verbose=0, options=options)
        run = load_run(Path(tmp) / name)
        out[name] = {
            "loss": [r["loss"] for r in history],
            "parts": [r["reconstruction_loss"] + r["kl_loss"] for r in history],
            "kl_loss": [r["kl_loss"] for r in history],
            "val_loss": [r["val_loss"] for r in history],
            "iterations": int(run.models.vae.optimizer.iterations.numpy()),
        }
print(json.dumps(out))
