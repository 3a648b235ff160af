"""The latent explorer: a static web page that decodes a trained run's latent space live.

:func:`export_explorer` writes ``index.html``, ``explorer.js`` (the page's code) and
``model.js`` (the run's data) into a folder. ``model.js`` holds the generator's
weights, layer by layer (the slides' ``Dense(256, relu)`` and ``Dense(784)`` then the
sigmoid), and the test set encoded by the run's encoder (``z_mean``, as in the slides'
latent-space figure) with its labels. The page computes the generator itself in
JavaScript from those weights, so it needs no server code and loads nothing from the
network: ``python -m http.server -d DIR`` serves it (a ``file://`` URL works too).

The page exposes ``window.decode(z)``: the ``z`` coordinates in (an array of
``latent_dim`` numbers), the decoded pixel values in [0, 1] out (an array of
``prod(image_shape)`` numbers, row-major like the flattened images); the tests
compare it with Keras's generator. A conditional run's page (``--conditional``) has a digit
choice, and ``window.decode(z, label)`` joins the label's one-hot code to ``z`` as the
generator's ``decoder_condition`` layer does; its plane shows each test digit encoded with its
own label.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vae_keras.atomic import atomic_path, write_text_atomic
from vae_keras.conditioning import encoder_inputs, one_hot
from vae_keras.data import NUM_CLASSES
from vae_keras.errors import UserError

#: The generator layers the page can compute, by Keras activation name.
ACTIVATIONS = ("relu", "sigmoid", "linear")
#: The files the page is made of; written in this order, index.html last.
PAGE_FILES = ("model.js", "explorer.js", "index.html")
ASSETS = Path(__file__).with_name("explorer_assets")


class ExplorerError(UserError, ValueError):
    """A run whose generator the page cannot compute, or a bad output folder."""


def _activation_name(layer: Any) -> str:
    name = getattr(layer.activation, "__name__", str(layer.activation))
    if name not in ACTIVATIONS:
        raise ExplorerError(
            f"The explorer computes Dense layers with {', '.join(ACTIVATIONS)} activations; "
            f"layer {layer.name!r} has {name!r}."
        )
    return name


def generator_layers(generator: Any) -> list[dict[str, Any]]:
    """The dense generator as a list of ``{"kernel", "bias", "activation"}`` steps.

    Each step computes ``activation(h @ kernel + bias)``; a Keras ``Activation``
    layer is folded into the Dense layer before it (``decoder_logits`` then the
    sigmoid ``decoder_mean`` is one step). Any other layer (the conv decoder's
    ``Reshape`` and ``Conv2DTranspose``) is an :class:`ExplorerError`.
    """
    import keras

    steps: list[dict[str, Any]] = []
    for layer in generator.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.Concatenate) and not steps:
            continue  # a conditional generator's [z, one_hot(label)]: the page joins the two
        if isinstance(layer, keras.layers.Dense):
            kernel, bias = (np.asarray(w, dtype=np.float32) for w in layer.get_weights())
            steps.append({"kernel": kernel, "bias": bias, "activation": _activation_name(layer)})
        elif isinstance(layer, keras.layers.Activation) and steps:
            if steps[-1]["activation"] != "linear":
                raise ExplorerError(
                    f"layer {layer.name!r} applies an activation after a non-linear one."
                )
            steps[-1]["activation"] = _activation_name(layer)
        else:
            raise ExplorerError(
                f"The explorer computes dense generators only (Dense and Activation layers); "
                f"this run's generator has {type(layer).__name__} layer {layer.name!r}. "
                "Export a run of the dense architecture (scripts/train_mnist.py)."
            )
    if not steps:
        raise ExplorerError("The generator has no Dense layer to compute.")
    return steps


def decode_numpy(
    steps: list[dict[str, Any]], z: np.ndarray, labels: np.ndarray | None = None
) -> np.ndarray:
    """What the page computes, in NumPy (float64): the steps of :func:`generator_layers`, on
    ``z`` joined to the one-hot ``labels`` for a conditional run."""
    h = np.atleast_2d(np.asarray(z, dtype=np.float64))
    if labels is not None:
        h = np.concatenate([h, one_hot(labels)], axis=1)
    for step in steps:
        h = h @ step["kernel"].astype(np.float64) + step["bias"]
        if step["activation"] == "relu":
            h = np.maximum(h, 0.0)
        elif step["activation"] == "sigmoid":
            h = 1.0 / (1.0 + np.exp(-h))
    return h


def _b64(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def model_data(
    steps: list[dict[str, Any]],
    points: np.ndarray,
    labels: np.ndarray,
    image_shape: tuple[int, ...],
    run: str,
    classes: int = 0,
) -> dict[str, Any]:
    """The JSON object of ``model.js``: arrays as base64 (little-endian float32, uint8).

    ``classes``: a conditional run's number of labels (the first layer takes ``z`` and their
    one-hot code), 0 for the slides' model."""
    points = np.asarray(points, dtype=np.float32)
    latent_dim = int(steps[0]["kernel"].shape[0]) - classes
    if points.ndim != 2 or points.shape[1] != latent_dim or len(points) != len(labels):
        raise ValueError(f"points {points.shape} and labels {len(labels)} do not match z.")
    return {
        "run": run,
        "latent_dim": latent_dim,
        "classes": classes,
        "image_shape": list(image_shape),
        "layers": [
            {
                "in": int(s["kernel"].shape[0]),
                "out": int(s["kernel"].shape[1]),
                "activation": s["activation"],
                "kernel": _b64(s["kernel"], "<f4"),
                "bias": _b64(s["bias"], "<f4"),
            }
            for s in steps
        ],
        "points": _b64(points, "<f4"),
        "labels": _b64(np.asarray(labels), "u1"),
        "n_points": len(points),
    }


def export_explorer(
    run_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    max_points: int = 10_000,
) -> list[Path]:
    """Write the explorer page of the trained run ``run_dir`` into ``out_dir``.

    Parameters
    ----------
    run_dir
        A trained run of the dense architecture.
    out_dir
        The page's folder (created); its other files are left alone.
    data_dir
        Where the run's dataset is (see :func:`vae_keras.data.load_dataset`); the
        first ``max_points`` test images are encoded for the plane.
    """
    from vae_keras.data import load_dataset
    from vae_keras.runs import load_run

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExplorerError(f"{str(out)!r} is a file; --out takes a folder for the page.")
    if max_points < 1:
        raise ExplorerError(f"max_points must be at least 1, got {max_points}.")
    run = load_run(run_dir, hint="python scripts/train_mnist.py")
    steps = generator_layers(run.models.generator)
    dataset = load_dataset(run.config.dataset, data_dir, limit=max_points)
    conditional = run.config.conditional  # each test digit encoded with its own label
    inputs = encoder_inputs(dataset.x_test, dataset.y_test if conditional else None, conditional)
    points = run.models.encoder.predict(inputs, batch_size=1000, verbose=0)
    classes = NUM_CLASSES if conditional else 0
    data = model_data(steps, points, dataset.y_test, dataset.image_shape, str(run_dir), classes)
    texts = {
        "model.js": "window.EXPLORER_MODEL = " + json.dumps(data) + ";\n",
        "explorer.js": (ASSETS / "explorer.js").read_text(),
        "index.html": (ASSETS / "index.html").read_text(),
    }
    written = []
    for name in PAGE_FILES:  # each file atomically; index.html, which loads the others, last
        write_text_atomic(out / name, texts[name])
        written.append(out / name)
    return written


#: The Chromium that Playwright drives (its own browser download needs the network): Debian's,
#: or the executable named by this environment variable.
CHROMIUM_ENV = "VAE_KERAS_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def chromium() -> str:
    return os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM


#: Chromium without its background connections (refused on a closed network) and sandbox (root).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@contextlib.contextmanager
def serve(folder: str | os.PathLike) -> Iterator[str]:
    """Serve ``folder`` on a free 127.0.0.1 port in a thread; yield its URL, stop on exit."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def browser_problem() -> str | None:
    """Why the page cannot be driven here (no Playwright, no Chromium), or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright: a dependency of vae-keras)"
    if not Path(chromium()).is_file():
        return (
            f"no Chromium at {chromium()} (apt-get install chromium, which make test does as "
            f"root, or set {CHROMIUM_ENV} to a Chromium executable)"
        )
    return None


@contextlib.contextmanager
def open_page(folder: str | os.PathLike) -> Iterator[tuple[Any, list[str]]]:
    """The exported page in headless Chromium: yield ``(page, requested_urls)``."""
    from playwright.sync_api import sync_playwright

    problem = browser_problem()
    if problem:
        raise ExplorerError(f"Cannot open the page in a browser: {problem}.")
    with serve(folder) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 960, "height": 660})
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(url + "index.html")
            page.wait_for_function("window.explorerReady === true", timeout=60_000)
            yield page, requested
        finally:
            browser.close()


def screenshot(folder: str | os.PathLike, png: str | os.PathLike, z: list[float]) -> Path:
    """A PNG of the exported page with the mouse over ``z[:2]`` (written atomically)."""
    with open_page(folder) as (page, _):
        page.mouse.move(*plane_position(page, z))
        with atomic_path(png) as tmp:
            page.screenshot(path=str(tmp))
    return Path(png)


def plane_position(page: Any, z: list[float]) -> tuple[float, float]:
    """The page coordinates of ``z[:2]`` on the plane (the page's own inverse map)."""
    x, y = page.evaluate("(z) => window.planePosition(z)", list(map(float, z)))
    return float(x), float(y)
