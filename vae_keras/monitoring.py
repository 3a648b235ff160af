"""What a user watches while training runs: the progress bar and TensorBoard.

* :class:`BatchProgbar` is Keras's progress bar counting gradient steps
  (batches), where Keras would count the stacks of TensorFlow's fused path.
* :func:`tensorboard_callbacks` gives ``keras.callbacks.TensorBoard`` (the
  three losses, train and validation, per epoch) and :class:`PriorSamplesImage`
  (16 digits decoded from fixed prior latents, per epoch), writing under
  ``<run_dir>/tensorboard``. The event files need TensorFlow's summary writer,
  which is installed with the project whatever the Keras backend.
"""

from __future__ import annotations

from pathlib import Path

import keras

from vae_keras.evaluation import prior_latents
from vae_keras.plots import tile
from vae_keras.runs import TENSORBOARD_DIR

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


class PriorSamplesImage(keras.callbacks.Callback):
    """Per epoch, a TensorBoard image: digits decoded from 16 fixed ``z ~ N(0, I)``.

    The latents are drawn once (seed ``PRIOR_SAMPLES_SEED``), so the images of
    successive epochs show the same 16 points of the latent space as the
    decoder learns; the step is Keras's epoch index (0, 1, ...), as for the losses.
    """

    def __init__(self, log_dir: Path, generator: keras.Model, image_shape: tuple[int, ...]):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.generator = generator
        self.image_shape = tuple(image_shape)
        self.z = prior_latents(PRIOR_SAMPLES, generator.input_shape[-1], PRIOR_SAMPLES_SEED)
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir / "samples"))
        decoded = keras.ops.convert_to_numpy(self.generator(self.z, training=False))
        grid = tile(decoded, 4, 4, self.image_shape)
        if grid.ndim == 2:
            grid = grid[..., None]
        with self._writer.as_default():
            tf.summary.image("prior_samples", grid[None], step=epoch)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()


def tensorboard_callbacks(
    run_dir: Path, generator: keras.Model, image_shape: tuple[int, ...]
) -> list[keras.callbacks.Callback]:
    """Keras's TensorBoard callback (losses per epoch) and the prior-samples image.

    Both write under ``<run_dir>/tensorboard``; a resumed run adds event files
    whose steps continue the epochs, so TensorBoard shows one curve.
    """
    log_dir = Path(run_dir) / TENSORBOARD_DIR
    return [
        keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False),
        PriorSamplesImage(log_dir, generator, image_shape),
    ]
