"""Where training runs: the devices, data-parallel training on one or several machines, and
where compiling with XLA pays (:func:`xla_pays`).

``--distribute mirrored`` splits each batch over the local devices
(``tf.distribute.MirroredStrategy`` on TensorFlow, Keras 3's
``keras.distribution.DataParallel`` on JAX); ``--distribute multiworker``
trains across the machines named in ``TF_CONFIG``
(``tf.distribute.MultiWorkerMirroredStrategy``, TensorFlow only). The TensorFlow
side lives in :mod:`vae_keras.tf_speed`; which process writes the run directory
is :func:`vae_keras.runs.writes_run_dir`.
"""

from __future__ import annotations

import contextlib
import os

import keras

from vae_keras.backends import picked_reason
from vae_keras.errors import ConfigError
from vae_keras.machine import backend_devices, gpu_phrase, gpu_unused_warning, nvidia_smi_gpus

DISTRIBUTE = (None, "mirrored", "multiworker")
#: (backend, --distribute) pairs with a distribution path
DISTRIBUTION_PATHS = {
    ("tensorflow", "mirrored"),
    ("tensorflow", "multiworker"),
    ("jax", "mirrored"),
}


def on_tensorflow() -> bool:
    return keras.backend.backend() == "tensorflow"


def check_distribution(distribute: str | None) -> None:
    """Raise ``ConfigError`` if ``distribute`` has no path on this process's backend."""
    if distribute not in DISTRIBUTE:
        raise ConfigError(f"distribute must be one of {DISTRIBUTE}, got {distribute!r}.")
    backend = keras.backend.backend()
    if distribute and (backend, distribute) not in DISTRIBUTION_PATHS:
        raise ConfigError(
            f"--distribute {distribute} is not available on the {backend} backend: "
            "mirrored runs on TensorFlow and JAX, multiworker on TensorFlow "
            "(set KERAS_BACKEND=tensorflow or jax)."
        )


def describe_devices(devices: dict | None = None, smi_gpus: list[str] | None = None) -> str:
    """Where Keras will train, in one true line (saying so where the backend was picked as the
    one installed, :func:`vae_keras.backends.settle_backend`); a second line where a GPU goes
    unused.

    ``devices`` is :func:`vae_keras.machine.backend_devices` (asked of the backend in
    use), ``smi_gpus`` what ``nvidia-smi`` reports; both are read from this machine
    unless given. A GPU that the driver sees and the backend does not adds the
    warning of :func:`vae_keras.machine.gpu_unused_warning` (the command that fixes it).
    """
    devices = backend_devices() if devices is None else devices
    smi_gpus = nvidia_smi_gpus() if smi_gpus is None else smi_gpus
    backend, gpus = devices["backend"], devices["gpus"]
    accelerators = [d for d in devices["devices"] if not d.lower().startswith("cpu")]
    if gpus:
        where = f"{gpu_phrase(gpus)}: {', '.join(accelerators)}"
    else:
        where = f"the CPU ({os.cpu_count()} cores); no GPU found"
    picked = picked_reason()
    line = f"Training with {backend}{f' ({picked})' if picked else ''} on {where}"
    warning = gpu_unused_warning(backend, gpus, smi_gpus)
    return line if warning is None else f"{line}\n{warning}"


def local_devices() -> list[str]:
    """This process's devices as Keras names them (``"cpu:0"``, ``"gpu:0"``, ``"cuda:0"``).

    Keras's ``keras.distribution.list_devices`` has no PyTorch implementation;
    there the devices are the CPU and what ``torch.cuda`` sees.
    """
    if keras.backend.backend() == "torch":
        import torch

        return ["cpu:0", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]
    return keras.distribution.list_devices()


def has_gpu() -> bool:
    """Whether Keras sees a GPU (or another accelerator) in this process."""
    return any(not d.lower().startswith("cpu") for d in local_devices())


def xla_pays(convolutional: bool) -> bool:
    """Whether a model is compiled with XLA in this process where it may be: on TensorFlow and
    JAX, but not a convolutional model on TensorFlow without a GPU, and never on PyTorch.

    XLA's CPU (transposed) convolutions made the conv VAE's epochs and its likelihood bound
    several times slower than TensorFlow's own (oneDNN) kernels
    (``benchmarks/bench_conv_xla.py``, docs/architectures.md). On PyTorch, Keras's
    ``jit_compile=True`` wraps the step in ``torch.compile``, which made no epoch faster and
    spent half a minute compiling (``benchmarks/bench_backends.py``, docs/backends.md).
    """
    if keras.backend.backend() == "torch":
        return False
    return not (convolutional and on_tensorflow() and not has_gpu())


def distribution_scopes(distribute: str | None) -> tuple:
    """``(scope to build the model in, scope to fit it in)`` for ``distribute``.

    TensorFlow: the strategy's scope to build in (``fit`` enters it by itself;
    outside it, saving a checkpoint reads each worker's own variables).
    JAX, ``"mirrored"``: Keras 3's own ``keras.distribution.DataParallel`` over
    the local devices (each batch split along its first axis), for both.
    """
    if on_tensorflow():
        from vae_keras import tf_speed

        return tf_speed.distribution_scope(distribute), contextlib.nullcontext()
    if distribute == "mirrored":
        devices = keras.distribution.list_devices()
        print(f"DataParallel over {len(devices)} device(s): {', '.join(devices)}")
        distribution = keras.distribution.DataParallel(devices=devices)
        return distribution.scope(), distribution.scope()
    return contextlib.nullcontext(), contextlib.nullcontext()
