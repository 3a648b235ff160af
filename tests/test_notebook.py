"""notebooks/slides.ipynb: committed as executed top to bottom, and it runs again in a fresh
kernel from a folder without trained runs (it trains its own short ones)."""

import shutil

import nbformat
import pytest
from conftest import ROOT, run_script

NOTEBOOK = ROOT / "notebooks" / "slides.ipynb"


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_committed_notebook_is_executed_top_to_bottom_without_errors():
    cells = code_cells(nbformat.read(NOTEBOOK, as_version=4))
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    outputs = [o for cell in cells for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 12  # the slides' figures, each computed in the notebook


def test_every_slide_formula_cell_imports_the_project_instead_of_retyping_it():
    sources = "\n".join(cell.source for cell in code_cells(nbformat.read(NOTEBOOK, as_version=4)))
    for name in (
        "losses.kl_divergence",
        "reparameterize",
        "fid.frechet_distance",
        "elbo.elbo",
        "background.em_figure",
        "background.cavi_figure",
        "estimator_variance",
        "latent.elbo_surgery",
        "samplers.latent_mixture",
    ):
        assert name in sources, name  # fmt: skip
    assert "def kl" not in sources and "sqrtm" not in sources


@pytest.mark.slow
def test_the_notebook_runs_in_a_fresh_kernel_and_trains_its_own_short_runs(mnist_dir, tmp_path):
    (tmp_path / "notebooks").mkdir()
    copy = tmp_path / "notebooks" / "slides.ipynb"
    shutil.copy(NOTEBOOK, copy)
    out = tmp_path / "executed.ipynb"
    result = run_script("scripts/run_notebook.py", copy, "--out", out,
                        env={"VAE_KERAS_DATA_DIR": mnist_dir}, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    executed = nbformat.read(out, as_version=4)
    cells = code_cells(executed)
    assert all(cell.execution_count for cell in cells)
    text = "\n".join(o.get("text", "") for cell in cells for o in cell.outputs)
    assert "runs/notebook-latent2: 5 epochs" in text and "runs/notebook-latent8: 5 epochs" in text
    assert (tmp_path / "runs" / "notebook-latent8" / "state.json").is_file()
