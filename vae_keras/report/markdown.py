"""The README's results block, written from ``results.json`` (between its marker lines)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vae_keras.atomic import write_text_atomic
from vae_keras.machine import gpu_phrase, machine_line
from vae_keras.progress import format_seconds
from vae_keras.report.tables import (
    conditional_table,
    hole_table,
    mean_std_cell,
    measured_on,
    rate_table,
    study_table,
)
from vae_keras.runs import RunError

README_START = "<!-- results:start (written by scripts/make_figures.py) -->"


README_END = "<!-- results:end -->"


def results_table(results: dict[str, Any]) -> str:
    """The README's results table (Markdown), from results.json's content: one function each
    for the training runs, the FID, the likelihood, sample quality, the architectures and the
    wall times."""
    lines = [
        *training_table(results),
        *fid_table(results),
        *likelihood_table(results),
        *study_table(results),
        *quality_table(results),
        *hole_table(results),
        *rate_table(results),
        *conditional_table(results),
        *architectures_table(results),
        *steps_table(results),
    ]
    return "\n".join(lines)


def report_machine(machine: dict[str, Any]) -> str:
    """The report's machine line: the CPU's model and extensions where the report named them
    (reports before that: the architecture alone), cores, GPU."""
    gpu = gpu_phrase(machine["gpus"]) if machine["gpus"] else "no GPU"
    if "cpu" in machine:
        return machine_line(machine["cpu"], gpu)
    return f"{machine['processor']} ({machine['cpu_count']} cores, {gpu})"


def report_backend(results: dict[str, Any]) -> str:
    """``"backend jax 0.11.2 on gpu:0"``: the backend that ran the report, and its devices
    (reports before backends were recorded ran TensorFlow on its CPU)."""
    versions = results["versions"]
    name = versions.get("keras_backend", "tensorflow")
    devices = results.get("backend_devices", {}).get("devices", ["cpu:0"])
    return f"backend {name} {versions.get(name, '')} on {', '.join(devices)}".replace("  ", " ")


def training_table(results: dict[str, Any]) -> list[str]:
    """Where and with what the report ran, then one row per trained run (its final losses)."""
    lines = [
        f"Last report {results['date'][:10]} (sections an earlier report measured carry their "
        f"date) on {report_machine(results['machine'])}, {report_backend(results)}, "
        f"Keras {results['versions']['keras']}"
        + (" — QUICK MODE (not the real protocol)" if results.get("quick") else "")
        + ".",
        "",
        "| run | latent | seed | epochs | final loss | final val_loss | val reconstruction "
        "| val KL | s/epoch | FID (pixels) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    fids = {r["run_dir"]: r["fid"] for r in results.get("fid", {}).get("runs", [])}
    # the studies' own runs are in their tables (and every run in results.json's "training")
    studied = {r["run_dir"] for r in results.get("fid_latent_size", {}).get("runs", [])}
    studied |= {r["run_dir"] for r in results.get("rate_distortion", {}).get("runs", [])}
    studied |= {r["run_dir"] for r in results.get("conditional", {}).get("runs", [])}
    for t in results["training"]:
        if t["run_dir"] in studied and t["run_dir"] not in fids:
            continue
        fid = fids.get(t["run_dir"])
        beta = t.get("beta", 1.0)  # the KL weight; older records: the slides' 1
        lines.append(
            f"| `{t['run_dir']}` | {t['latent_dim']}{'' if beta == 1.0 else f', beta {beta:g}'} "
            f"| {t['seed']} | {t['epochs']} "
            f"| {t['final_loss']:.2f} | {t['final_val_loss']:.2f} "
            f"| {t.get('final_val_reconstruction_loss', float('nan')):.2f} "
            f"| {t.get('final_val_kl_loss', float('nan')):.2f} | {t['seconds_per_epoch']:.2f} "
            f"| {'' if fid is None else f'{fid:.2f}'} |"
        )
    return lines


def fid_table(results: dict[str, Any]) -> list[str]:
    """The slides' FID against ours, mean and std over the training seeds."""
    summary = results.get("fid", {}).get("summary", {})
    if not summary:
        return []
    lines = [
        "",
        f"| FID, pixel space vs MNIST test{measured_on(results, 'fid')} | mean | std | runs |",
        "|---|---|---|---|",
        f"| slides | {results['fid']['slides']:.2f} | | |",
    ]
    for key, s in summary.items():
        lines.append(f"| ours, {key} | {s['mean']:.2f} | {s['std']:.2f} | {s['n']} |")
    return lines


def likelihood_table(results: dict[str, Any]) -> list[str]:
    """Test-set ELBO and importance-weighted bound of each run the likelihood step scored."""
    like = results.get("likelihood")
    if not like:
        return []
    lines = [
        "",
        f"| MNIST test, nats/image{measured_on(results, 'likelihood')} "
        "| slides' Bernoulli score: ELBO | its IW bound "
        "| continuous Bernoulli log-likelihood: ELBO | its IW bound | k |",
        "|---|---|---|---|---|---|",
    ]
    for r in like:
        cb = f"{r['cb_elbo']:.2f} | {r['cb_iw_bound']:.2f}" if "cb_elbo" in r else "not measured | "
        lines.append(
            f"| `{r['run_dir']}` (latent {r['latent_dim']}) | {r['elbo']:.2f} "
            f"| {r['iw_bound']:.2f} | {cb} | {r['k']} |"
        )
    return lines


def quality_table(results: dict[str, Any]) -> list[str]:
    """FID, FID-infinity, KID, precision and recall in each feature space; the spread over
    training seeds and KID's within-run spread in columns of their own."""
    quality = results.get("sample_quality")
    if not quality:
        return []
    lines = [
        "",
        f"Sample quality against the MNIST test set{measured_on(results, 'sample_quality')} "
        f"({quality['n']} images per row; KID x 1000). Model rows: mean ± standard deviation "
        '**over the training seeds** (one run per seed). "KID within run": the standard '
        "deviation of KID over its subsets **inside one run** (for the model rows the mean of "
        "the runs' values, and its range); the reference row is one set of images, so it has "
        "no spread over seeds.",
        "",
        "| features | rows | FID | FID-infinity | KID x 1000 | KID within run x 1000 "
        "| precision | recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for space, rows in quality["rows"].items():
        ref = next(r for r in rows if r["name"].startswith("MNIST train"))
        lines.append(
            f"| {space} | MNIST train vs test | {ref['fid']:.2f} "
            f"| {ref['fid_infinity']['value']:.2f} | {1000 * ref['kid']['mean']:.2f} "
            f"| {1000 * ref['kid']['std']:.2f} | {ref['precision']:.3f} | {ref['recall']:.3f} |"
        )
        for latent in ("latent2", "latent8"):
            q = quality["summary"][f"{space} {latent}"]
            within = q.get("kid_within_run")

            def cell(m, scale=1.0, digits=2, q=q):
                return mean_std_cell(q[m], digits, scale)

            spread = (
                f"{1000 * within['mean']:.2f} ({1000 * within['min']:.2f}-"
                f"{1000 * within['max']:.2f})"
                if within
                else "not measured"
            )
            lines.append(
                f"| {space} | ours, {latent} ({q['fid']['n']} runs) | {cell('fid')} "
                f"| {cell('fid_infinity')} | {cell('kid', 1000)} | {spread} "
                f"| {cell('precision', 1, 3)} | {cell('recall', 1, 3)} |"
            )
    classifier = quality.get("classifier")
    if classifier and classifier.get("test_accuracy") is not None:
        lines += [
            "",
            f"The classifier features come from `{classifier['run_dir']}` "
            f"(`scripts/train_classifier.py`, seed {classifier['seed']}, "
            f"{classifier['epochs']} epochs): test accuracy "
            f"{100 * classifier['test_accuracy']:.2f} %.",
        ]
    return lines


def architectures_table(results: dict[str, Any]) -> list[str]:
    """The architecture comparison (MNIST conv vs dense; CIFAR-10 conv Gaussian vs dense)."""
    lines = []
    mnist = results.get("architectures_mnist")
    if mnist:
        lines += [
            "",
            f"MNIST, dense vs conv (both Bernoulli){measured_on(results, 'mnist_architectures')}: "
            f"{mnist['protocol']}.",
            "",
            "| run | model | parameters | epochs | ELBO | IW bound | FID (pixels) |",
            "|---|---|---|---|---|---|---|",
            *(
                f"| `{r['run_dir']}` | {r['architecture']}, {r['likelihood']}, latent "
                f"{r['latent_dim']} | {r['parameters']:,} | {r['epochs']} | {r['elbo']:.2f} "
                f"| {r['iw_bound']:.2f} | {r['fid']:.2f} |"
                for r in mnist["rows"]
            ),
        ]
    cifar = results.get("architectures_cifar10")
    if cifar:
        lines += [
            "",
            f"CIFAR-10, the slides' dense Bernoulli vs conv Gaussian"
            f"{measured_on(results, 'cifar10_architectures')}: {cifar['protocol']}.",
            "",
            "| run | model | parameters | epochs | reconstruction MSE | FID (pixels) |",
            "|---|---|---|---|---|---|",
            *(
                f"| `{r['run_dir']}` | {r['architecture']}, {r['likelihood']}, latent "
                f"{r['latent_dim']} | {r['parameters']:,} | {r['epochs']} "
                f"| {r['reconstruction_mse']:.4f} | {r['fid']:.2f} |"
                for r in cifar["rows"]
            ),
        ]
    return lines


def steps_table(results: dict[str, Any]) -> list[str]:
    """Wall time of each step of ``make reproduce`` and ``make compare`` (where recorded) and
    of the report's steps."""
    lines = []
    for key in ("reproduce", "compare"):
        chain = results.get(key)
        if not chain:
            continue
        setup = chain.get("setup_seconds")
        setup_text = "not recorded" if setup is None else f"{format_seconds(setup)} here"
        lines += [
            "",
            f"Wall time of `make {key}` on this machine ({chain['date'][:10]}; set-up "
            f"of the venv and installs excluded, {setup_text}):",
            "",
            "| step | wall time | of which epochs | after the last epoch |",
            "|---|---|---|---|",
            *(
                f"| `{s['command']}` | {format_seconds(s['seconds'])} | "
                + (
                    f"{format_seconds(s['epoch_seconds'])} | {s.get('finish_seconds', 0):.1f} s |"
                    if "epoch_seconds" in s
                    else "| |"
                )
                for s in chain["steps"]
            ),
            f"| **total** | **{format_seconds(chain['total_seconds'])}** | | |",
        ]
    steps = results.get("report_steps")
    if steps:

        def shown(s: dict[str, Any]) -> str:
            date = s.get("date", results["date"])[:10]
            when = "" if date == results["date"][:10] else f" ({date})"
            return f"{s['step']} {format_seconds(s['seconds'])}{when}"

        lines += [
            "",
            f"Steps of `scripts/make_figures.py` (run {results['date'][:10]} unless dated): "
            + ", ".join(map(shown, steps))
            + ".",
        ]
    return lines


def replace_block(path: str | os.PathLike, start: str, end: str, text: str) -> None:
    """Replace what stands between the marker lines ``start`` and ``end`` of a file (atomically)."""

    content = Path(path).read_text()
    if start not in content or end not in content:
        raise RunError(f"{path} has no markers {start} ... {end}.")
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    write_text_atomic(path, f"{head}{start}\n{text}\n{end}{tail}")


def update_readme(readme: Path, results: dict[str, Any]) -> None:
    """Rewrite the README's results table (between its results markers) from ``results``."""
    replace_block(readme, README_START, README_END, results_table(results))


#: Where the results tables go, beside results.json, when the folder has no README with the
#: results markers (an installed package's user runs the verbs in a folder of their own).
TABLES_FILE = "results.md"
DEFAULT_README = Path("README.md")


def has_results_markers(path: Path) -> bool:
    """Whether ``path`` is a file holding the results block's two marker lines."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError):
        return False
    return README_START in text and README_END in text


def chosen_readme(given: str | None) -> Path:
    """The README a command rewrites: ``given`` (``--readme``), which must hold the results
    markers (else a :class:`RunError` before any work), or ``README.md`` by default (where it
    has no markers, :func:`write_results_tables` writes ``results.md`` instead)."""
    if given is None:
        return DEFAULT_README
    if not has_results_markers(Path(given)):
        raise RunError(
            f"--readme {given}: no file with the results markers {README_START} ... "
            f"{README_END}; add them, or drop --readme (the tables then go to {TABLES_FILE} "
            "beside results.json)."
        )
    return Path(given)


def write_results_tables(readme: Path, results: dict[str, Any], results_path: Path) -> str:
    """Write the results tables: into ``readme``'s block where it has the markers (a clone of
    the project), else into :data:`TABLES_FILE` beside ``results_path``; say where, in words."""
    if has_results_markers(readme):
        update_readme(readme, results)
        return f"updated the results table in {readme}"
    tables = Path(results_path).parent / TABLES_FILE
    write_text_atomic(tables, f"# vae-keras results\n\n{results_table(results)}\n")
    return f"wrote the results tables to {tables} ({readme} has no results markers here)"
