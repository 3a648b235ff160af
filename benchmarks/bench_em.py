#!/usr/bin/env python
"""Time the latent mixture's EM (vae_keras.background.em) against the EM it replaced, in one run.

The prior-hole step fits mixtures of K = 1, 5, 10 and 20 full-covariance Gaussians to the
60,000 training codes of each run (vae_keras.samplers.fit_latent_mixture). Each EM iteration
evaluates K Gaussian log-densities of every code (E step) and K weighted covariances (M step);
this benchmark fits the same mixtures, on the same codes (60,000 draws from a 10-cluster
mixture in 8 dimensions, like the latent-8 codes), from the same start, with the package's
fit_gmm and with the EM it replaced: E step with scipy's solve_triangular for L^{-1}, an (n, d)
copy of x - mu, np.stack of the columns, scipy's logsumexp, then exp; M step with one product
of a centred copy of x per component. It prints each K's seconds, the speed-up, the iterations
(the same on both) and the largest relative difference of the log-likelihood histories, and
writes benchmarks/results/bench_em_<cpu>.json and the table between the bench-em markers of
docs/latent.md.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import scipy
from scipy.linalg import solve_triangular
from scipy.special import logsumexp

from vae_keras.background import em
from vae_keras.machine import file_slug, recorded_machine
from vae_keras.report import benchmark_header
from vae_keras.samplers import MIXTURE_COMPONENTS, MIXTURE_ITERATIONS, MIXTURE_REG, MIXTURE_TOL

RESULTS = Path(__file__).resolve().parent / "results"
MARKERS = ("<!-- bench-em:start -->", "<!-- bench-em:end -->")


def previous_gaussian_log_pdf(x, mu, sigma):
    """The E step's density before this benchmark: scipy's triangular solve, x - mu copied."""
    d = x.shape[1]
    lower = np.linalg.cholesky(sigma)
    whiten = solve_triangular(lower, np.eye(d), lower=True).T
    solved = (x - mu) @ whiten
    log_det = 2.0 * np.log(np.diag(lower)).sum()
    return -0.5 * (d * np.log(2 * np.pi) + log_det + np.einsum("ij,ij->i", solved, solved))


def previous_e_step(x, params):
    """The E step before this benchmark: the columns stacked, scipy's logsumexp, then exp."""
    joint = np.stack(
        [
            np.log(t) + previous_gaussian_log_pdf(x, m, s)
            for t, m, s in zip(params.tau, params.mu, params.sigma, strict=True)
        ],
        axis=1,
    )
    norm = logsumexp(joint, axis=1, keepdims=True)
    return np.exp(joint - norm), float(norm.sum())


def previous_m_step(x, resp, reg=0.0):
    """The M step before this benchmark: a centred copy of x and a product per component."""
    counts = resp.sum(axis=0)
    mu = (resp.T @ x) / counts[:, None]
    d = x.shape[1]
    sigma = np.empty((len(counts), d, d))
    for k in range(len(counts)):
        centred = x - mu[k]
        sigma[k] = (resp[:, k, None] * centred).T @ centred / counts[k] + reg * np.eye(d)
    return em.GMM(counts / x.shape[0], mu, sigma)


def previous_fit_gmm(x, k, n_iter, tol, seed, reg):
    """fit_gmm before this benchmark: the same loop and stopping rule, on x as it is."""
    params = em.initial_params(x, k, seed)
    resp, ll = previous_e_step(x, params)
    history = [ll]
    for _ in range(n_iter):
        params = previous_m_step(x, resp, reg)
        resp, ll = previous_e_step(x, params)
        history.append(ll)
        if ll - history[-2] < tol * abs(ll):
            break
    return history


def codes(n: int, seed: int = 0) -> np.ndarray:
    """``n`` 8-dimensional points from 10 Gaussian clusters (the latent-8 codes' shape)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.5, (10, 8))
    return centres[rng.integers(0, 10, n)] + rng.normal(0.0, 0.5, (n, 8))


def fit(x: np.ndarray, k: int, previous: bool = False) -> tuple[float, list[float]]:
    """Seconds and log-likelihood history of the protocol's EM (seed 0) with K = ``k``."""
    start = time.perf_counter()
    if previous:
        history = previous_fit_gmm(x, k, MIXTURE_ITERATIONS, MIXTURE_TOL, 0, MIXTURE_REG)
    else:
        history = em.fit_gmm(x, k, MIXTURE_ITERATIONS, MIXTURE_TOL, 0, reg=MIXTURE_REG)
        history = history.log_likelihoods
    return time.perf_counter() - start, history


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=60_000, help="codes (60,000: MNIST's train set)")
    parser.add_argument("--page", default="docs/latent.md", help="page whose table to rewrite")
    parser.add_argument("--no-page", action="store_true")
    args = parser.parse_args(argv)

    x = codes(args.n)
    rows = []
    for k in MIXTURE_COMPONENTS:
        now, history = fit(x, k)
        before, previous = fit(x, k, previous=True)
        difference = max(abs(a - b) / abs(b) for a, b in zip(history, previous, strict=False))
        row = {
            "k": k,
            "iterations": len(history) - 1,
            "previous_iterations": len(previous) - 1,
            "seconds": round(now, 3),
            "previous_seconds": round(before, 3),
            "speedup": round(before / now, 2),
            "max_relative_difference": difference,
        }
        rows.append(row)
        print(
            f"K={k:2d}: {row['iterations']} iterations ({row['previous_iterations']} before) | "
            f"{now:.2f} s, before {before:.2f} s | speed-up {before / now:.1f}x | "
            f"log-likelihoods agree to {difference:.1e}"
        )
    total_now = sum(r["seconds"] for r in rows)
    total_before = sum(r["previous_seconds"] for r in rows)
    print(f"all K: {total_now:.2f} s, before {total_before:.2f} s: {total_before / total_now:.1f}x")
    record = {**benchmark_header(), "n": args.n, "results": rows}
    from vae_keras.atomic import write_json_atomic

    out = RESULTS / f"bench_em_{file_slug(record['cpu']['model'])}.json"
    write_json_atomic(out, record)
    print(f"Written to {out}")
    if not args.no_page:
        from vae_keras.report import replace_block

        lines = [
            f"Measured {record['date'][:10]} on {recorded_machine(record)}, numpy "
            f"{np.__version__}, scipy {scipy.__version__}: EM on {args.n:,} 8-dimensional "
            "codes, each K from the same start (`python benchmarks/bench_em.py`).",
            "",
            "| K | iterations | EM now: s | the EM it replaced: s | speed-up "
            "| log-likelihoods agree to |",
            "|---|---|---|---|---|---|",
            *(
                f"| {r['k']} | {r['iterations']} | {r['seconds']:.2f} | "
                f"{r['previous_seconds']:.2f} | {r['speedup']:.1f}x | "
                f"{r['max_relative_difference']:.0e} |"
                for r in rows
            ),
            f"| all | | {total_now:.2f} | {total_before:.2f} | {total_before / total_now:.1f}x | |",
        ]
        replace_block(args.page, *MARKERS, "\n".join(lines))
        print(f"Updated the EM table in {args.page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
