"""The FID study: where does the slides' 8.04 come from? FID and ELBO against the latent size.

The slides report a pixel-space Frechet distance of "about 8.04" without its
configuration; the project's reading is the latent-8 model of the repository
the deck cites. The study trains the slides' model (784-256-d, 50 epochs, batch
256, RMSprop) with ``d`` in :data:`vae_keras.variants.STUDY_LATENTS` and three training
seeds each,
and measures per run:

- the FID of 10,000 decoded prior samples (the report's own samples, seed 1234)
  in pixel space against the MNIST test set (the main protocol) and against all
  60,000 training images;
- the test-set ELBO (10 samples of ``z`` per image), under the slides' Bernoulli
  term and the continuous Bernoulli density: the trend of Kingma & Welling
  (2014), Figure 2 (the bound improves with the latent size and levels off).

It is a step of the report (``make_figures.py --only fid_latent_size``) whose
15 runs ``scripts/fid_latent_size.py`` trains first; the main protocol's runs
(latent 2 and 8) are among them.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from vae_keras import evaluation
from vae_keras.fid import compute_statistics, fid_from_statistics
from vae_keras.progress import Progress
from vae_keras.report.context import SLIDES_FID, Report
from vae_keras.report.records import mean_std
from vae_keras.variants import STUDY_LATENTS, STUDY_SEEDS

#: The reference sets the FID is measured against, as results.json names them.
REFERENCES = ("test", "train")
ELBOS = ("elbo", "cb_elbo")


def measure_run(r: Report, run, references: dict[str, Any]) -> dict[str, Any]:
    """One run's FIDs against each reference and its two test-set ELBOs."""
    from vae_keras import likelihood

    generated = compute_statistics(r.prior_samples(run))
    x = r.mnist.x_test[:500] if r.config.quick else r.mnist.x_test
    row: dict[str, Any] = {
        "run_dir": str(run.run_dir),
        "latent_dim": run.config.latent_dim,
        "seed": run.config.seed,
        **{f"fid_{name}": fid_from_statistics(generated, ref) for name, ref in references.items()},
        "elbo": float(likelihood.elbo(run.models, x, samples=10, seed=0).mean()),
        "cb_elbo": float(
            likelihood.elbo(
                run.models, x, samples=10, seed=0, density="continuous_bernoulli"
            ).mean()
        ),
    }
    return row


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per latent size: its seeds, each measurement per seed, their mean and std."""
    out = []
    for latent in sorted({row["latent_dim"] for row in rows}):
        mine = sorted((row for row in rows if row["latent_dim"] == latent), key=lambda r: r["seed"])
        summary: dict[str, Any] = {"latent_dim": latent, "seeds": [row["seed"] for row in mine]}
        for key in (*(f"fid_{name}" for name in REFERENCES), *ELBOS):
            values = [row[key] for row in mine]
            summary[key] = {"values": values, **mean_std(values)}
        out.append(summary)
    return out


def closest_to_slides(summary: list[dict[str, Any]]) -> dict[str, Any]:
    """The latent size and reference whose mean FID is nearest the slides' 8.04."""
    best = min(
        ((row, ref) for row in summary for ref in REFERENCES),
        key=lambda pair: abs(pair[0][f"fid_{pair[1]}"]["mean"] - SLIDES_FID),
    )
    row, ref = best
    return {"latent_dim": row["latent_dim"], "reference": ref, **row[f"fid_{ref}"]}


def figure(summary: list[dict[str, Any]], n_test: int, n_train: int, n_samples: int) -> Figure:
    """FID (both references) and the two ELBOs against the latent size, mean +/- std over
    training seeds; the ELBOs on axes of their own (they differ by some 1,700 nats)."""
    from matplotlib.ticker import ScalarFormatter

    latents = [row["latent_dim"] for row in summary]
    fig, (ax_fid, ax_elbo, ax_cb) = plt.subplots(1, 3, figsize=(15, 4.4))
    labels = {"test": f"vs MNIST test ({n_test})", "train": f"vs MNIST train ({n_train})"}
    for offset, ref in zip((-0.03, 0.03), REFERENCES, strict=True):
        ax_fid.errorbar(
            [d * (1 + offset) for d in latents],
            [row[f"fid_{ref}"]["mean"] for row in summary],
            yerr=[row[f"fid_{ref}"]["std"] for row in summary],
            marker="o",
            capsize=4,
            label=labels[ref],
        )
    ax_fid.axhline(SLIDES_FID, color="k", linestyle=":", label=f"slides ({SLIDES_FID})")
    ax_fid.set_yscale("log")
    ax_fid.yaxis.set_major_formatter(ScalarFormatter())
    ax_fid.yaxis.set_minor_formatter(ScalarFormatter())
    ax_fid.set_title(f"pixel FID of {n_samples} prior samples")
    ax_fid.set_ylabel("FID (pixel space, log scale)")
    panels = (
        (ax_elbo, "elbo", "slides' Bernoulli score", "C0"),
        (ax_cb, "cb_elbo", "continuous Bernoulli log-likelihood", "C2"),
    )
    for ax, key, name, color in panels:
        ax.errorbar(
            latents,
            [row[key]["mean"] for row in summary],
            yerr=[row[key]["std"] for row in summary],
            marker="o",
            capsize=4,
            color=color,
            label=name,
        )
        ax.set_title(f"test-set ELBO: {name}")
        ax.set_ylabel("ELBO (nats per image)")
    for ax in (ax_fid, ax_elbo, ax_cb):
        ax.set_xscale("log", base=2)
        ax.set_xticks(latents, [str(d) for d in latents])
        ax.set_xlabel("latent size d")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, title="error bars: std over training seeds", title_fontsize=8)
    fig.suptitle("The slides' VAE (784-256-d, 50 epochs) against its latent size")
    fig.tight_layout()
    return fig


def fid_latent_size(r: Report) -> None:
    """The study's step: every study run measured, summarised per latent size, drawn."""
    shape = r.mnist.image_shape
    x_train = r.mnist.x_train
    references = {
        "test": r.mnist_reference(),
        "train": evaluation.dataset_statistics(x_train, shape),
    }
    runs = [r.loaded[spec.path] for spec in r.config.study]
    progress = Progress("FID study", len(runs), "runs", r.log, every=0.0)
    rows = []
    for i, run in enumerate(runs, 1):
        rows.append(measure_run(r, run, references))
        row = rows[-1]
        r.log(
            f"  {run.run_dir}: FID {row['fid_test']:.2f} (test), {row['fid_train']:.2f} (train); "
            f"ELBO {row['elbo']:.2f}"
        )
        progress.update(i)
    summary = summarize(rows)
    n = r.config.fid_samples
    r.save(
        "fid_latent_size",
        figure(summary, references["test"].n, references["train"].n, n),
        "pixel FID (vs MNIST test and train) and test ELBO against the latent size, "
        "mean and std over training seeds",
    )
    r.results["fid_latent_size"] = {
        "protocol": (
            f"the slides' model (784-256-d, 50 epochs, batch 256, RMSprop), d in "
            f"{list(STUDY_LATENTS)}, training seeds {list(STUDY_SEEDS)}; {n} prior samples "
            f"(sample seed {r.config.fid_seed}); pixel FID against the {references['test'].n} "
            f"test images and the {references['train'].n} training images; test-set ELBO "
            "with 10 samples of z per image (Bernoulli score and continuous Bernoulli)"
        ),
        "slides": SLIDES_FID,
        "runs": rows,
        "rows": summary,
        "closest": closest_to_slides(summary),
    }
