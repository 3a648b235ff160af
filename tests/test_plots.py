"""Each figure function draws a PNG of the expected size from synthetic arrays."""

import numpy as np
import pytest
from matplotlib.image import imread

from vae_keras import evaluation, plots

RNG = np.random.default_rng(0)


def png_size(fig, tmp_path, name="f.png"):
    path = tmp_path / name
    plots.save_figure(fig, path, dpi=100)
    image = imread(path)
    return image.shape[1], image.shape[0]  # width, height in pixels


def test_tile_is_row_major():
    images = np.arange(6)[:, None, None] * np.ones((6, 2, 3))
    mosaic = plots.tile(images.reshape(6, -1), 2, 3, (2, 3))
    assert mosaic.shape == (4, 9)
    assert mosaic[0, 0] == 0 and mosaic[0, 3] == 1 and mosaic[2, 0] == 3 and mosaic[3, 8] == 5
    with pytest.raises(ValueError, match="rows \\* cols = 6"):
        plots.tile(images.reshape(6, -1)[:5], 2, 3, (2, 3))


def test_manifold_latents_are_normal_quantiles():
    from scipy.stats import norm

    grid_x, grid_y, z = evaluation.manifold_latents(15)
    assert np.allclose(norm.cdf(grid_x), np.linspace(0.05, 0.95, 15))
    assert np.allclose(grid_x, -grid_x[::-1])  # symmetric around 0
    assert z.shape == (225, 2)
    assert np.allclose(z[3], [grid_x[3], grid_y[0]]) and np.allclose(
        z[15 + 4], [grid_x[4], grid_y[1]]
    )


@pytest.mark.parametrize(
    ("make", "size"),
    [
        (
            lambda: plots.latent_scatter(
                RNG.standard_normal((100, 2)), RNG.integers(0, 10, 100), "t"
            ),
            (700, 600),
        ),
        (lambda: plots.image_grid(RNG.random((64, 784)), 8, 8, (28, 28), "t"), (690, 720)),
        (lambda: plots.image_grid(RNG.random((64, 3072)), 8, 8, (32, 32, 3), "t"), (690, 720)),
        (
            lambda: plots.reconstructions(
                RNG.random((20, 784)), RNG.random((20, 784)), (28, 28), "t"
            ),
            (850, 460),
        ),
        (lambda: plots.mean_variance(*RNG.random((4, 784)), (28, 28)), (800, 750)),
        (lambda: plots.differences(*RNG.random((4, 784)), (28, 28)), (900, 440)),
    ],
)
def test_figures_have_the_expected_pixel_size(make, size, tmp_path):
    assert png_size(make(), tmp_path) == size


def test_manifold_figure_places_the_largest_z1_on_top(tmp_path):
    grid_x, grid_y, z = evaluation.manifold_latents(5)
    # images whose brightness is z[1]'s rank: the top row must be the brightest
    images = np.repeat((z[:, 1:2] - z[:, 1].min()) / np.ptp(z[:, 1]), 784, axis=1)
    fig = plots.manifold(images, grid_x, grid_y, (28, 28), "t")
    mosaic = fig.axes[0].images[0].get_array()
    assert mosaic[0, 0] == pytest.approx(1.0) and mosaic[-1, 0] == pytest.approx(0.0)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert float(labels[0]) == pytest.approx(grid_y[-1], abs=0.01)
    assert png_size(fig, tmp_path) == (800, 800)


def test_training_curves_have_a_legend_and_all_parts(tmp_path):
    history = [
        {
            "epoch": e,
            "loss": 200 / e,
            "val_loss": 210 / e,
            "reconstruction_loss": 180 / e,
            "val_reconstruction_loss": 190 / e,
            "kl_loss": 20.0,
            "val_kl_loss": 20.0,
        }
        for e in range(1, 6)
    ]
    fig = plots.training_curves({"latent 2": history, "latent 8": history}, "t")
    assert len(fig.axes) == 3
    assert fig.axes[0].get_legend() is not None
    assert [ax.get_xlabel() for ax in fig.axes] == ["epoch"] * 3
    assert png_size(fig, tmp_path) == (1500, 420)


def test_save_figure_leaves_no_partial_file(tmp_path):
    fig = plots.image_grid(RNG.random((4, 784)), 2, 2, (28, 28), "t")
    fig.savefig = lambda *a, **k: (_ for _ in ()).throw(OSError("disk full"))
    with pytest.raises(OSError, match="disk full"):
        plots.save_figure(fig, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_the_prior_hole_figures_draw_their_panels(tmp_path):
    """latent_plots: the 2 x 2 log-density panels (one of them the diverging log ratio) and
    the samples-and-components figure, at the sizes make_figures draws them."""
    from vae_keras import latent_plots

    plane = RNG.normal(size=(31, 31))
    fig = latent_plots.prior_hole(
        4.0, {"a": plane - 5, "b": plane - 6, "c": plane - 7}, RNG.normal(size=(225, 2)), "t",
        log_ratio=("ratio", plane),
    )  # fmt: skip
    assert len([ax for ax in fig.axes if ax.get_title()]) == 4
    assert png_size(fig, tmp_path) == (1120, 1030)
    images = RNG.random((64, 784))
    fig = latent_plots.mixture_samples(
        images, images, (28, 28), ("prior", "mixture"), RNG.normal(size=(100, 2)),
        RNG.integers(0, 10, 100), RNG.normal(size=(3, 2)), np.stack([np.eye(2)] * 3), "codes", "t",
    )  # fmt: skip
    assert png_size(fig, tmp_path, "g.png") == (1700, 580)
