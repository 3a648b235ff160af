"""What a user watches while training runs: the progress bar and TensorBoard.

* :class:`BatchProgbar` is Keras's progress bar counting gradient steps
  (batches), where Keras would count the stacks of TensorFlow's fused path.
* :func:`tensorboard_callbacks` gives :class:`EpochScalars` (the three losses,
  train and validation, per epoch, named and laid out as Keras's own
  ``keras.callbacks.TensorBoard`` writes them) and :class:`PriorSamplesImage`
  (16 digits decoded from fixed prior latents, per epoch), writing under
  ``<run_dir>/tensorboard``. Both write with the ``tensorboard`` package's own
  event writer (:class:`EventWriter`), not TensorFlow's: Keras's callback needs
  TensorFlow, and a JAX or PyTorch install has none. One path on every backend.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import keras
import numpy as np

from vae_keras.conditioning import LATENT_INPUT, generator_inputs
from vae_keras.data import NUM_CLASSES
from vae_keras.plots import tile
from vae_keras.runs import TENSORBOARD_DIR
from vae_keras.samplers import prior_latents

PRIOR_SAMPLES = 16
PRIOR_SAMPLES_SEED = 2024


class BatchProgbar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, counting batches when each Keras step runs ``stack`` of them.

    TensorFlow's fused path (:func:`vae_keras.tf_speed.fuse_train_steps`) feeds
    Keras stacks of ``stack`` batches, the last batch of an epoch alone, so Keras
    counts stacks ("7/7" for an MNIST epoch). This bar shows batches
    ("235/235"): Keras's step ``s`` (0-based) has finished
    ``min((s + 1) * stack, batches)`` of them.
    """

    def __init__(self, stack: int, batches_per_epoch: int):
        super().__init__()
        self.stack = stack
        self.batches_per_epoch = batches_per_epoch

    def set_params(self, params):
        super().set_params({**params, "steps": self.batches_per_epoch})

    def on_train_batch_end(self, batch, logs=None):
        done = min((batch + 1) * self.stack, self.batches_per_epoch)
        super().on_train_batch_end(done - 1, logs)


class EventWriter:
    """TensorBoard event files in one folder, written by the ``tensorboard`` package alone.

    Scalars and images in the summary format of TensorFlow 2's ``tf.summary``
    (a scalar tensor for the "scalars" plugin; ``[width, height, png]`` strings for
    the "images" plugin), so TensorBoard shows them as it shows Keras's.
    """

    def __init__(self, log_dir: Path):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        Path(log_dir).mkdir(parents=True, exist_ok=True)
        self._writer = EventFileWriter(str(log_dir))

    def _add(self, summary, step: int) -> None:
        from tensorboard.compat.proto import event_pb2

        event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer.add_event(event)

    def scalar(self, tag: str, value: float, step: int) -> None:
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        self._add(scalar_pb(tag, float(value)), step)

    def image(self, tag: str, pixels: np.ndarray, step: int) -> None:
        """``pixels``: height x width (grey) or height x width x 3, values in [0, 1]."""
        import matplotlib.image
        from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2
        from tensorboard.plugins.image.metadata import create_summary_metadata

        png = io.BytesIO()
        pixels = np.clip(np.asarray(pixels, dtype=np.float32), 0.0, 1.0)
        matplotlib.image.imsave(png, pixels, cmap="gray" if pixels.ndim == 2 else None,
                                vmin=0.0, vmax=1.0, format="png")  # fmt: skip
        height, width = pixels.shape[:2]
        tensor = tensor_pb2.TensorProto(
            dtype="DT_STRING",
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=3)]
            ),
            string_val=[str(width).encode(), str(height).encode(), png.getvalue()],
        )
        value = summary_pb2.Summary.Value(
            tag=tag, tensor=tensor, metadata=create_summary_metadata(tag, "")
        )
        self._add(summary_pb2.Summary(value=[value]), step)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


class EpochScalars(keras.callbacks.Callback):
    """Each epoch's losses as TensorBoard scalars, as ``keras.callbacks.TensorBoard`` writes
    them: ``epoch_<name>`` in ``train/`` and (the ``val_`` logs) in ``validation/``, the step
    being Keras's epoch index (0, 1, ...)."""

    def __init__(self, log_dir: Path):
        super().__init__()
        self.log_dir = Path(log_dir)
        self._writers: dict[str, EventWriter] = {}

    def _writer(self, folder: str) -> EventWriter:
        if folder not in self._writers:
            self._writers[folder] = EventWriter(self.log_dir / folder)
        return self._writers[folder]

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            folder, name = ("validation", name[4:]) if name.startswith("val_") else ("train", name)
            self._writer(folder).scalar(f"epoch_{name}", value, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class PriorSamplesImage(keras.callbacks.Callback):
    """Per epoch, a TensorBoard image: digits decoded from 16 fixed ``z ~ N(0, I)``.

    The latents are drawn once (seed ``PRIOR_SAMPLES_SEED``), so the images of
    successive epochs show the same 16 points of the latent space as the
    decoder learns; the step is Keras's epoch index (0, 1, ...), as for the losses.
    A conditional generator (its inputs a dict) is asked for the digits 0, 1, ..., 9, 0, ...
    in reading order.
    """

    def __init__(self, log_dir: Path, generator: keras.Model, image_shape: tuple[int, ...]):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.generator = generator
        self.image_shape = tuple(image_shape)
        conditional = isinstance(generator.input, dict)
        latent = generator.input[LATENT_INPUT] if conditional else generator.input
        z = prior_latents(PRIOR_SAMPLES, latent.shape[-1], PRIOR_SAMPLES_SEED)
        labels = np.arange(PRIOR_SAMPLES) % NUM_CLASSES if conditional else None
        self.z = generator_inputs(z, labels, conditional)
        self._writer: EventWriter | None = None

    def on_epoch_end(self, epoch, logs=None):
        if self._writer is None:
            self._writer = EventWriter(self.log_dir / "samples")
        decoded = keras.ops.convert_to_numpy(self.generator(self.z, training=False))
        self._writer.image("prior_samples", tile(decoded, 4, 4, self.image_shape), epoch)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def tensorboard_callbacks(
    run_dir: Path, generator: keras.Model, image_shape: tuple[int, ...]
) -> list[keras.callbacks.Callback]:
    """The losses per epoch (:class:`EpochScalars`) and the prior-samples image.

    Both write under ``<run_dir>/tensorboard``; a resumed run adds event files
    whose steps continue the epochs, so TensorBoard shows one curve.
    """
    log_dir = Path(run_dir) / TENSORBOARD_DIR
    return [EpochScalars(log_dir), PriorSamplesImage(log_dir, generator, image_shape)]
