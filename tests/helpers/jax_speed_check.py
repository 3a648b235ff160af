"""Check JAX's fast path (vae_keras.jax_speed) in a process on the JAX backend; print JSON.

Run by tests/test_jax_speed.py (the backend is fixed when Keras is imported). On a tiny
synthetic set: the fused path (a stack of batches per compiled call, the images on the
device) trains as Keras's own loop of one step per batch (same number of gradient steps,
same history to float32 rounding, validation included), an interrupted fused run resumes
to the uninterrupted history exactly, the progress bar counts batches, only index stacks
come from the host, and a fused model still evaluates plain arrays.
"""

import io
import json
import math
import sys
import tempfile
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path

import jax
import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import stop_after, synthetic_dataset  # noqa: E402

from vae_keras import jax_speed  # noqa: E402
from vae_keras.runs import RunConfig, load_run  # noqa: E402
from vae_keras.training import TrainOptions, fast_path, train  # noqa: E402

assert keras.backend.backend() == "jax"
out = {"backend": "jax"}
ds = synthetic_dataset(520, 130)  # 8 full batches of 64 and one of 8; validation 2 + 1 of 2
# a KL weight of 2: the fast path trains the weighted loss and reports the unweighted terms
config = RunConfig(original_dim=784, intermediate_dim=32, latent_dim=2, epochs=3, batch_size=64,
                   beta=2.0)  # fmt: skip
fused, keras_loop = TrainOptions(steps_per_execution=4), TrainOptions(fuse_steps=False)
assert fast_path(fused) is jax_speed and fast_path(keras_loop) is None
assert fast_path(replace(fused, jit_compile=False)) is None  # Keras's eager step: its own loop

with tempfile.TemporaryDirectory() as tmp:
    histories, steps = {}, {}
    for name, options in (("fused", fused), ("keras", keras_loop)):
        histories[name] = train(config, ds, Path(tmp) / name, verbose=0, options=options)
        steps[name] = int(load_run(Path(tmp) / name).models.vae.optimizer.iterations)
    assert steps["fused"] == steps["keras"] == config.epochs * math.ceil(520 / 64), steps
    worst = 0.0
    for a, b in zip(histories["fused"], histories["keras"], strict=True):
        for key in a:
            if key != "seconds":
                worst = max(worst, abs(a[key] - b[key]) / abs(b[key]))
    assert worst < 1e-4, worst
    out["largest_relative_difference"] = worst
    for row in histories["fused"]:
        assert abs(row["loss"] - (row["reconstruction_loss"] + 2 * row["kl_loss"])) < 1e-3 * row[
            "loss"], row  # fmt: skip

    # an interrupted fused run resumes to the uninterrupted history, exactly
    try:
        train(config, ds, Path(tmp) / "resumed", verbose=0, options=fused,
              callbacks=[stop_after(1)])  # fmt: skip
        raise AssertionError("stop_after did not stop")
    except KeyboardInterrupt:
        pass
    resumed = train(config, ds, Path(tmp) / "resumed", verbose=0, options=fused)

    def without_seconds(history):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in history]

    assert without_seconds(resumed) == without_seconds(histories["fused"])

    # the progress bar counts batches (9 per epoch), not Keras's stacks (3)
    printed = io.StringIO()
    with redirect_stdout(printed):
        train(replace(config, epochs=1), ds, Path(tmp) / "bar", verbose=2, options=fused)
    bars = [line for line in printed.getvalue().splitlines() if " - loss" in line]
    assert len(bars) == 1 and bars[0].startswith("9/9 "), bars

    # a fused model evaluates plain arrays with Keras's own step
    models = jax_speed.build_fused(config, 520, 4, True)
    value = models.vae.evaluate(ds.x_test, batch_size=64, verbose=0, return_dict=True)
    assert np.isfinite(value["loss"])

# the images go to the device once; each step brings only its index stack from the host
arguments = jax_speed.fit_arguments(config, ds, 0, 4)
first, second = next(arguments["x"]), next(arguments["x"])
assert isinstance(first[0]["images"], jax.Array) and first[0]["images"] is second[0]["images"]
assert first[0]["order"].dtype == np.int32 and first[0]["order"].shape == (4, 64)
assert arguments["steps_per_epoch"] == 3 and len(arguments["validation_data"]) == 2
print(json.dumps(out))
