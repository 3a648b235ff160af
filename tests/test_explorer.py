"""The latent explorer: the exported page computes the run's own generator (checked in NumPy
and in headless Chromium against Keras), follows the mouse, and loads nothing from outside."""

import base64
import json

import numpy as np
import pytest
from conftest import fixture_options, run_script, write_npz

from vae_keras import explorer
from vae_keras.data import load_dataset
from vae_keras.runs import RunConfig, build_from_config, load_run
from vae_keras.training import train

Z_POINTS = [[0.0, 0.0, 0.0], [1.5, -0.5, 0.3], [-2.0, 2.0, -1.0], [3.0, 3.0, 3.0], [0.1, -3, 2]]


@pytest.fixture(scope="module")
def page_dir(tmp_path_factory):
    """A 3-D run (one slider beside the plane) trained briefly, and its exported page."""
    folder = tmp_path_factory.mktemp("explorer")
    write_npz(folder, n_train=256, n_test=200)
    run_dir = folder / "run"
    train(
        RunConfig(intermediate_dim=32, latent_dim=3, epochs=3, batch_size=64),
        load_dataset("mnist", folder),
        run_dir,
        verbose=0,
        options=fixture_options(),
    )
    out = folder / "page"
    written = explorer.export_explorer(run_dir, out, data_dir=folder, max_points=150)
    assert [p.name for p in written] == list(explorer.PAGE_FILES)
    return out, load_run(run_dir), folder


def model_json(out):
    text = (out / "model.js").read_text()
    prefix = "window.EXPLORER_MODEL = "
    assert text.startswith(prefix) and text.rstrip().endswith(";")
    return json.loads(text[len(prefix) :].rstrip().rstrip(";"))


def floats(b64):
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def test_the_exported_data_is_the_runs_weights_and_its_encoded_test_set(page_dir):
    out, run, folder = page_dir
    data = model_json(out)
    assert data["latent_dim"] == 3 and data["image_shape"] == [28, 28] and data["n_points"] == 150
    dense = [layer for layer in run.models.generator.layers if layer.get_weights()]
    assert [s["activation"] for s in data["layers"]] == ["relu", "sigmoid"]
    for step, layer in zip(data["layers"], dense, strict=True):
        kernel, bias = layer.get_weights()
        assert np.array_equal(floats(step["kernel"]).reshape(step["in"], step["out"]), kernel)
        assert np.array_equal(floats(step["bias"]), bias)
    x_test = load_dataset("mnist", folder, limit=150).x_test
    z_mean = run.models.encoder.predict(x_test, verbose=0)
    assert np.allclose(floats(data["points"]).reshape(150, 3), z_mean, atol=1e-6)
    labels = np.frombuffer(base64.b64decode(data["labels"]), dtype=np.uint8)
    assert np.array_equal(labels, load_dataset("mnist", folder, limit=150).y_test)
    assert not list(out.glob(".tmp-*"))


def test_the_pages_computation_in_numpy_equals_the_keras_generator(page_dir):
    _, run, _ = page_dir
    steps = explorer.generator_layers(run.models.generator)
    z = np.array(Z_POINTS, dtype=np.float32)
    keras_out = run.models.generator.predict(z, verbose=0)
    assert np.abs(explorer.decode_numpy(steps, z) - keras_out).max() < 1e-5


def test_a_conv_generator_is_refused_with_the_reason():
    models = build_from_config(RunConfig(latent_dim=2, architecture="conv"), compile=False)
    with pytest.raises(explorer.ExplorerError, match="dense generators only.*Reshape layer"):
        explorer.generator_layers(models.generator)


def test_the_script_reports_a_bad_out_folder_or_run_in_one_line(page_dir, tmp_path):
    out, run, folder = page_dir
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    result = run_script("scripts/export_explorer.py", run.run_dir, "--out", a_file)
    assert result.returncode == 2 and "is a file" in result.stderr
    assert "Traceback" not in result.stderr and a_file.read_text() == "x"
    result = run_script("scripts/export_explorer.py", tmp_path / "nothing", "--out", tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "train_mnist.py" in result.stderr and not (tmp_path / "index.html").exists()


@pytest.fixture(scope="module")
def browser_page(page_dir):
    problem = explorer.browser_problem()
    if problem:
        pytest.skip(f"no browser to drive the explorer: {problem}")
    out, _, _ = page_dir
    with explorer.open_page(out) as (page, requested):
        yield page, requested


def shown_digit(page):
    """The digit canvas's RGBA bytes (280 x 280 x 4), as floats. The page packs them into one
    string of char codes 0-255: Playwright checks every element of an array it returns in
    Python, and the 313,600 numbers of an ``Array`` took seconds a call."""
    packed = page.evaluate(
        "() => { const c = document.getElementById('digit');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let s = ''; for (let i = 0; i < d.length; i += 8192)"
        " s += String.fromCharCode.apply(null, d.subarray(i, i + 8192)); return s; }"
    )
    return np.frombuffer(packed.encode("latin-1"), dtype=np.uint8).astype(float)


def test_window_decode_in_chromium_equals_the_keras_generator(browser_page, page_dir):
    page, _ = browser_page
    _, run, _ = page_dir
    keras_out = run.models.generator.predict(np.array(Z_POINTS, dtype=np.float32), verbose=0)
    page_out = np.array([page.evaluate("(z) => window.decode(z)", z) for z in Z_POINTS])
    assert page_out.shape == keras_out.shape
    assert np.abs(page_out - keras_out).max() < 1e-3


def test_moving_the_mouse_over_the_plane_changes_the_digit_and_the_slider_sets_z2(
    browser_page, page_dir
):
    page, _ = browser_page
    points = floats(model_json(page_dir[0])["points"]).reshape(-1, 3)
    low, high = np.percentile(points[:, :2], [5, 95], axis=0)  # two corners inside the plane
    page.mouse.move(*explorer.plane_position(page, low))
    first = shown_digit(page)
    page.mouse.move(*explorer.plane_position(page, high))
    second = shown_digit(page)
    assert np.abs(first - second).max() >= 1  # grey levels 0-255
    shown_z = [float(v) for v in page.inner_text("#z").strip("z =[]").split(",")]
    assert np.allclose(shown_z[:2], high, atol=0.05) and shown_z[2] == 0
    page.fill("#z2", "2.5")  # the slider of the third coordinate
    page.dispatch_event("#z2", "input")
    assert np.abs(shown_digit(page) - second).max() > 0
    assert page.inner_text("#z").endswith("2.50]")


@pytest.fixture(scope="module")
def conditional_page(page_dir):
    """A conditional 2-D run (--conditional) trained briefly, its page exported into the
    ``conditional/`` folder of the first page (so that one browser serves both)."""
    _, _, folder = page_dir
    run_dir = folder / "conditional-run"
    config = RunConfig(intermediate_dim=32, latent_dim=2, epochs=2, batch_size=64, conditional=True)
    train(config, load_dataset("mnist", folder), run_dir, verbose=0, options=fixture_options())
    out = page_dir[0] / "conditional"
    explorer.export_explorer(run_dir, out, data_dir=folder, max_points=100)
    return out, load_run(run_dir), folder


def test_a_conditional_page_decodes_z_with_the_digit_asked_for(conditional_page, request):
    """NumPy's page computation and, in Chromium, window.decode(z, label) and the digit choice,
    against Keras's generator(z, label); the plane holds each digit encoded with its label."""
    from vae_keras.conditioning import encoder_inputs, generator_inputs

    out, run, folder = conditional_page
    data = model_json(out)
    assert data["latent_dim"] == 2 and data["classes"] == 10
    test = load_dataset("mnist", folder, limit=100)
    codes = run.models.encoder.predict(encoder_inputs(test.x_test, test.y_test), verbose=0)
    assert np.allclose(floats(data["points"]).reshape(100, 2), codes, atol=1e-6)
    z = np.array([p[:2] for p in Z_POINTS], dtype=np.float32)
    labels = np.array([0, 3, 5, 7, 9])
    keras_out = run.models.generator.predict(generator_inputs(z, labels), verbose=0)
    steps = explorer.generator_layers(run.models.generator)
    assert np.abs(explorer.decode_numpy(steps, z, labels) - keras_out).max() < 1e-5
    page, _ = request.getfixturevalue("browser_page")  # skips without a browser
    first = page.url
    page.goto(first.rsplit("/", 1)[0] + "/conditional/index.html")
    try:
        page.wait_for_function("window.explorerReady === true", timeout=60_000)
        decoded = [page.evaluate("([z, y]) => window.decode(z, y)", [list(map(float, zz)), int(y)])
                   for zz, y in zip(z, labels, strict=True)]  # fmt: skip
        assert np.abs(np.array(decoded) - keras_out).max() < 1e-3
        page.mouse.move(*explorer.plane_position(page, z[1]))
        asked = {}
        for digit in ("3", "8"):
            page.select_option("#label-choice", digit)
            asked[digit] = shown_digit(page)
        assert np.abs(asked["3"] - asked["8"]).max() >= 1  # the same z, another digit
    finally:  # the other tests' page again
        page.goto(first)
        page.wait_for_function("window.explorerReady === true", timeout=60_000)


def test_the_page_loads_nothing_from_outside(browser_page):
    page, requested = browser_page
    origin = page.url.rsplit("/", 1)[0] + "/"
    assert origin.startswith("http://127.0.0.1:")
    assert {url.rsplit("/", 1)[1] for url in requested} >= {"index.html", "model.js", "explorer.js"}
    assert all(url.startswith(origin) for url in requested), requested


@pytest.mark.slow  # a new interpreter and a Chromium of its own (make test-slow, which CI runs)
def test_the_script_exports_the_page_and_its_screenshot(page_dir, tmp_path):
    """The script in a process of its own, its screenshot taken by its own Chromium. ``make
    test`` keeps the page driven in Chromium (the tests above) and the script without a
    browser (below)."""
    if explorer.browser_problem():
        pytest.skip(f"no browser: {explorer.browser_problem()}")
    _, run, folder = page_dir
    out, png = tmp_path / "page", tmp_path / "explorer.png"
    result = run_script(
        "scripts/export_explorer.py",
        run.run_dir,
        "--out",
        out,
        "--data-dir",
        folder,
        "--points",
        50,
        "--screenshot",
        png,
        process=True,
    )  # fmt: skip  (a process: Playwright's sync API refuses to run beside pytest's event loop)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "http.server" in result.stdout and model_json(out)["n_points"] == 50
    from matplotlib.image import imread

    image = imread(png)
    assert image.shape[:2] == (660, 960) and image[..., :3].std() > 0.05
    assert not list(tmp_path.glob(".tmp-*"))


def test_without_a_browser_the_page_is_written_and_the_screenshot_skipped_with_a_note(
    page_dir, tmp_path
):
    _, run, folder = page_dir
    out, png = tmp_path / "page", tmp_path / "explorer.png"
    result = run_script(
        "scripts/export_explorer.py", run.run_dir, "--out", out, "--data-dir", folder,
        "--points", 20, "--screenshot", png,
        env={explorer.CHROMIUM_ENV: str(tmp_path / "no-chromium")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "No screenshot" in result.stderr and "no-chromium" in result.stderr
    assert (out / "index.html").is_file() and not png.exists()
