"""A quiet start: TensorFlow's C++ start-up lines hidden, anything else it prints kept.

On a machine without a GPU, importing TensorFlow prints lines such as::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 ... port.cc:153] oneDNN custom operations are on. ...
    I0000 ... cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
    E0000 ... cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: ...

They come from C++ before absl's logging starts, so ``TF_CPP_MIN_LOG_LEVEL``
does not stop them, and a user's one-line error would read as one line among
eight. :func:`import_quietly` imports TensorFlow (and Keras) with the process's
standard error sent to a temporary file, then writes back every line that is
not one of the known start-up lines (:data:`STARTUP_NOISE`): a real error stays
visible. The scripts then say themselves which device they train on.
``VAE_KERAS_TF_LOGS=1`` shows everything, as TensorFlow prints it.

Two of those lines say why a GPU goes unused ("Cannot dlopen some GPU libraries",
"Skipping registering GPU devices"); they are hidden only where the machine has no
NVIDIA GPU (:func:`vae_keras.machine.nvidia_smi_gpus`). On JAX or PyTorch, TensorFlow
is imported only where it is installed (Keras's ``set_random_seed`` imports it then,
start-up lines and all), and its devices are never probed.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

#: Set to 1 to see TensorFlow's start-up lines (and its INFO logs) as it prints them.
LOGS_ENV = "VAE_KERAS_TF_LOGS"

#: The lines TensorFlow prints at start-up on a CPU-only machine, none of them an error of ours.
STARTUP_NOISE = tuple(
    re.compile(pattern)
    for pattern in (
        r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
        r"oneDNN custom operations are on",
        r"Could not find cuda drivers on your machine",
        r"failed call to cuInit",
        r"cpu_feature_guard\.cc",
        r"^To enable the following instructions: .* rebuild TensorFlow",
        r"Unable to register cu(DNN|FFT|BLAS) factory",
        r"computation placer already registered",
        r"TF-TRT Warning: Could not find TensorRT",
    )
)

#: The lines that say why TensorFlow will not use a GPU: hidden only on a machine without one.
GPU_REASONS = tuple(
    re.compile(pattern)
    for pattern in (r"Skipping registering GPU devices", r"Cannot dlopen some GPU libraries")
)


def is_startup_noise(line: str, gpu_present: bool = False) -> bool:
    """Whether ``line`` is one of TensorFlow's known start-up lines (:data:`STARTUP_NOISE`;
    also :data:`GPU_REASONS` where the machine has no GPU)."""
    hidden = STARTUP_NOISE if gpu_present else STARTUP_NOISE + GPU_REASONS
    return any(p.search(line) for p in hidden)


def without_startup_noise(text: str, gpu_present: bool = False) -> str:
    """``text`` without TensorFlow's start-up lines; every other line kept, in order."""
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not is_startup_noise(line, gpu_present))


@contextlib.contextmanager
def stderr_filtered(gpu_present: bool = False) -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block; write back what is not noise.

    The C++ side of TensorFlow writes to the descriptor directly, past
    ``sys.stderr``; both are caught. What the block printed is written back
    even if it raises.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = without_startup_noise(captured.read().decode(errors="replace"), gpu_present)
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def quiet_start() -> None:
    """A command's start: Keras imported without TensorFlow's start-up lines
    (:func:`import_quietly`), then :func:`keras_arrays_without_autotune_thread`."""
    import_quietly()
    keras_arrays_without_autotune_thread()


def keras_arrays_without_autotune_thread() -> None:
    """On TensorFlow, Keras's pipeline for NumPy arrays without tf.data's autotuning thread,
    whose timer stalled epoch ends
    (:func:`vae_keras.tf_speed.keras_arrays_without_autotune_thread`); on the other
    backends nothing (they have no tf.data pipeline, and no TensorFlow to import)."""
    import keras

    if keras.backend.backend() == "tensorflow":
        from vae_keras import tf_speed

        tf_speed.keras_arrays_without_autotune_thread()


def import_quietly() -> None:
    """Import Keras (and TensorFlow, where it is the backend or installed) without
    TensorFlow's start-up lines.

    Also sets ``TF_CPP_MIN_LOG_LEVEL=2`` (unless set) so that TensorFlow's
    INFO and WARNING logs stay hidden later; errors still show. Does nothing
    with ``VAE_KERAS_TF_LOGS=1``, or once TensorFlow is imported. On the
    TensorFlow backend its GPUs are probed here, so that CUDA's complaints come
    now, filtered; the other backends import no TensorFlow that is not installed
    and probe none of its devices.
    """
    if os.environ.get(LOGS_ENV) == "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    from vae_keras.machine import nvidia_smi_gpus

    backend = keras_backend_name()
    with stderr_filtered(gpu_present=bool(nvidia_smi_gpus())):
        # Keras imports TensorFlow on its default backend, and on the others its
        # set_random_seed does where TensorFlow is installed
        if tensorflow_installed():
            import tensorflow as tf

            if backend == "tensorflow":  # the CUDA probe runs at the first device query
                tf.config.list_physical_devices("GPU")
        import keras  # noqa: F401


def keras_backend_name() -> str:
    """The backend Keras will load (``KERAS_BACKEND``, else its config file, else TensorFlow),
    read without importing Keras; after :func:`vae_keras.backends.settle_backend`, the
    settled one."""
    from vae_keras.backends import configured_backend, keras_config_path

    return (
        os.environ.get("KERAS_BACKEND") or configured_backend(keras_config_path()) or "tensorflow"
    )


def tensorflow_installed() -> bool:
    """Whether ``import tensorflow`` can succeed (False where it is missing or blocked)."""
    from vae_keras.backends import backend_installed

    return backend_installed("tensorflow")


def require_tensorflow(what: str) -> None:
    """Exit with code 2 and one line unless Keras runs on an installed TensorFlow.

    For the benchmarks that are TensorFlow's by nature (its random-number kernels,
    its XLA profiler, its library's CPU samples): ``what`` says what they measure.
    """
    backend = keras_backend_name()
    if backend == "tensorflow" and tensorflow_installed():
        return
    why = f"KERAS_BACKEND is {backend}" if backend != "tensorflow" else "it is not installed"
    print(
        f"error: {what}, so it needs TensorFlow; {why}. Run it with KERAS_BACKEND=tensorflow "
        'after pip install "vae-keras[tensorflow]".',
        file=sys.stderr,
    )
    raise SystemExit(2)
