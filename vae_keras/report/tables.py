"""The README's tables of the studies beyond the slides: the FID study, the prior hole, the
KL weight and the conditional VAE (their sections of results.json), and the date a section was
measured."""

from __future__ import annotations

from typing import Any


def measured_on(results: dict[str, Any], step: str) -> str:
    """`` (measured 2026-11-23)`` for what an earlier report's ``step`` wrote, else ``""``."""
    dates = [s.get("date") for s in results.get("report_steps", []) if s["step"] == step]
    date = (dates[0] if dates and dates[0] else results["date"])[:10]
    return "" if date == results["date"][:10] else f" (measured {date})"


def mean_std_cell(value: dict[str, float], digits: int = 2, scale: float = 1.0) -> str:
    """``12.34 ± 0.56``: a mean ± std over seeds (records.mean_std's dict), times ``scale``."""
    return f"{scale * value['mean']:.{digits}f} ± {scale * value['std']:.{digits}f}"


def study_table(results: dict[str, Any]) -> list[str]:
    """The study's README table: one line per latent size."""
    study = results.get("fid_latent_size")
    if not study:
        return []
    closest = study["closest"]
    lines = [
        "",
        "FID study (`scripts/fid_latent_size.py`): the slides' model against its latent size, "
        "mean ± std over training seeds (the ± is the spread over seeds):",
        "",
        "| latent size | seeds | FID vs test | FID vs train (60,000) "
        "| ELBO, Bernoulli score | ELBO, continuous Bernoulli |",
        "|---|---|---|---|---|---|",
    ]

    for row in study["rows"]:
        lines.append(
            f"| {row['latent_dim']} | {len(row['seeds'])} | {mean_std_cell(row['fid_test'])} "
            f"| {mean_std_cell(row['fid_train'])} | {mean_std_cell(row['elbo'], 1)} "
            f"| {mean_std_cell(row['cb_elbo'], 1)} |"
        )
    lines += [
        "",
        f"Closest to the slides' {study['slides']}: latent {closest['latent_dim']} against the "
        f"{closest['reference']} set, {closest['mean']:.2f} ± {closest['std']:.2f}.",
    ]
    return lines


def grid_sentence(grid: dict[str, Any] | None) -> str:
    """How many of the manifold figure's grid points lie in the hole (or nothing)."""
    if not grid:
        return ""
    n = grid["grid_points_in_hole"]
    return (
        f" Of the manifold figure's {grid['grid_points']} grid points, {n} "
        f"{'lies' if n == 1 else 'lie'} where q(z) < p(z) / {grid['hole_ratio']:g} "
        f"({grid['run_dir']})."
    )


def hole_table(results: dict[str, Any]) -> list[str]:
    """The prior hole: the ELBO surgery's terms per latent size, then prior against mixture
    samples in each feature space (mean ± std over training seeds)."""
    hole = results.get("prior_hole")
    if not hole:
        return []

    def pair(both, metric: str, digits: int = 2, scale: float = 1.0) -> str:
        return " → ".join(mean_std_cell(q[metric], digits, scale) for q in both)

    rows = hole["summary"]
    lines = [
        "",
        f"The prior hole{measured_on(results, 'prior_hole')}: the ELBO surgery (Hoffman & "
        "Johnson 2016) of the training codes, average KL = I(n; z) + KL(q(z) ‖ p(z)), where the "
        f"mutual information is at most log N = {rows[0]['log_n']:.2f} nats; and the held-out "
        "log-density of the test codes (nats per image) under the prior and under the mixture "
        "that EM fitted to the training codes (`vae_keras/samplers.py`). Mean ± std over "
        f"training seeds.{grid_sentence(hole.get('grid'))}",
        "",
        "| latent size | runs | average KL | I(n; z) | KL(q(z) ‖ p(z)) | mixture K "
        "| log p(test codes) | log q_K(test codes) | EM, all K (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        held = row["held_out_log_density"]
        lines.append(
            f"| {row['latent_dim']} | {row['runs']} | {mean_std_cell(row['average_kl'])} "
            f"| {mean_std_cell(row['mutual_information'])} | {mean_std_cell(row['marginal_kl'])} "
            f"| {', '.join(map(str, row['k']))} | {mean_std_cell(held['prior'])} "
            f"| {mean_std_cell(held['gmm'])} "
            f"| {mean_std_cell(row['mixture_seconds'], 0)} |"
        )
    lines += [
        "",
        "Decoding z from N(0, I) (the slides') → from the mixture, against the MNIST test set "
        "(mean ± std over training seeds; KID x 1000):",
        "",
        "| latent size | features | FID | KID x 1000 | precision | recall |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        for space in row["prior"]:
            both = (row["prior"][space], row["gmm"][space])
            lines.append(
                f"| {row['latent_dim']} | {space} | {pair(both, 'fid')} "
                f"| {pair(both, 'kid', 2, 1000)} | {pair(both, 'precision', 3)} "
                f"| {pair(both, 'recall', 3)} |"
            )
    return lines


def rate_table(results: dict[str, Any]) -> list[str]:
    """The KL weight's study: one row per beta (beta 1: mean ± std over its seeds)."""
    study = results.get("rate_distortion")
    if not study:
        return []
    lines = [
        "",
        f"The KL weight (`scripts/rate_distortion.py`){measured_on(results, 'rate_distortion')}: "
        "the latent-8 model trained with reconstruction + β KL, on the MNIST test set: rate R "
        "(mean KL), distortion D (mean -log p(x|z)), active units (Burda et al. 2016) and the "
        "pixel FID, precision and recall of 10,000 prior samples (β = 784: the per-pixel mean "
        "of the cross-entropy beside the same KL). β = 1: mean ± std over its seeds."
        + chain_time(results.get("rate_study"), "make rate-distortion"),
        "",
        "| β | runs | rate R | distortion D | D + R | active units | FID | precision | recall |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    one = study["beta1"]

    def cell(key: str, digits: int = 2) -> str:
        return mean_std_cell(one[key], digits)

    rows = sorted((r for r in study["runs"] if r["beta"] != 1.0), key=lambda r: r["beta"])
    below = [r for r in rows if r["beta"] < 1]
    above = [r for r in rows if r["beta"] > 1]
    for r in below:
        lines.append(rate_row(r))
    total = one["rate"]["mean"] + one["distortion"]["mean"]
    lines.append(
        f"| 1 (the slides) | {one['rate']['n']} | {cell('rate')} | {cell('distortion')} "
        f"| {total:.2f} | {cell('active_units', 1)} | {cell('fid')} | {cell('precision', 3)} "
        f"| {cell('recall', 3)} |"
    )
    lines += [rate_row(r) for r in above]
    return lines


def chain_time(chain: dict[str, Any] | None, command: str) -> str:
    """`` `command` took 12 min (date).`` from a chain's record in results.json, or nothing."""
    if not chain:
        return ""
    from vae_keras.progress import format_seconds

    return (
        f" The last `{command}` took {format_seconds(chain['total_seconds'])} "
        f"({chain['date'][:10]}, set-up excluded; a run it finds trained returns at once; "
        "each step in results.json)."
    )


def rate_row(r: dict[str, Any]) -> str:
    return (
        f"| {r['beta']:g} | 1 | {r['rate']:.2f} | {r['distortion']:.2f} "
        f"| {r['rate'] + r['distortion']:.2f} | {r['active_units']} | {r['fid']:.2f} "
        f"| {r['precision']:.3f} | {r['recall']:.3f} |"
    )


def conditional_table(results: dict[str, Any]) -> list[str]:
    """The conditional VAE beside the unconditional one: one row per kind, mean ± std over seeds."""
    study = results.get("conditional")
    if not study:
        return []
    lines = [
        "",
        f"The conditional VAE (`scripts/conditional.py`){measured_on(results, 'conditional')}: "
        "latent 8, z ~ N(0, I), labels asked for at the test set's class frequencies; the digit "
        "classifier's accuracy on the samples against the labels asked for, their FID "
        "(pixels, classifier features), precision and recall, and the test set's rate R, "
        "distortion D and active units. Mean ± std over training seeds."
        + chain_time(results.get("conditional_study"), "make conditional"),
        "",
        "| model | runs | accuracy | FID | FID, classifier | precision | recall | rate R "
        "| distortion D | active units |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, s in study["summary"].items():

        def cell(key: str, digits: int = 2, scale: float = 1.0, s=s) -> str:
            if key not in s:
                return "(none asked)"
            return mean_std_cell(s[key], digits, scale)

        accuracy = cell("accuracy", 2, 100.0)
        lines.append(
            f"| {kind} | {s['fid']['n']} | {accuracy}{'' if '(' in accuracy else ' %'} "
            f"| {cell('fid')} | {cell('classifier_fid', 1)} | {cell('precision', 3)} "
            f"| {cell('recall', 3)} | {cell('rate')} | {cell('distortion')} "
            f"| {cell('active_units', 1)} |"
        )
    return lines
