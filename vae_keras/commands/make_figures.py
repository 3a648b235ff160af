"""Draw every figure of the slides from trained runs; write results.json and the README table.

Draws every figure whose runs exist (the background figures need none) and skips
the others, ending with the command that trains each missing run:
  python scripts/train_mnist.py                                (latent space, manifold, curves)
  python scripts/train_mnist.py --latent-dim 8 [--seed 1, 2]   (samples, reconstructions, FID)
  python scripts/train_cifar10.py                              (CIFAR-10 reconstructions)
  python scripts/train_classifier.py                           (digit-aware features)
  python scripts/train_mnist.py --architecture conv            (MNIST: conv vs dense)
  python scripts/train_cifar10.py --architecture conv --likelihood gaussian
                                                               (CIFAR-10: conv Gaussian vs dense)
  python scripts/fid_latent_size.py                            (the FID study: 15 runs, d = 2..32)
  python scripts/rate_distortion.py                            (the KL weight: beta 0.25 to 784)
  python scripts/conditional.py                                (the conditional VAE, latent 8)

--only draws just the named figures or steps (a step: every figure it draws) and needs
only their runs (a missing one is then an error, before anything is written).
results.json keeps what earlier reports measured in the steps that did not run now, each
step dated. --quick draws
the same files with fewer samples into runs/figures-quick/ (a fast check: it never
touches figures/, its results.json or the README).
"""

import argparse
from itertools import product
from pathlib import Path

from vae_keras.cli import int_at_least

#: The committed figures (make_figures' default --out, in the folder it runs from), which
#: --quick never overwrites.
COMMITTED_FIGURES = Path("figures")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs-dir", default="runs", help="where the default run directories are")
    parser.add_argument(
        "--mnist2",
        nargs="+",
        default=None,
        help="latent-2 run directories (default: RUNS/mnist-latent2 and its -seed1, -seed2 if "
        "present); the first draws the latent figures",
    )
    parser.add_argument(
        "--mnist8",
        nargs="+",
        default=None,
        help="latent-8 run directories, one per training seed (default: RUNS/mnist-latent8, "
        "-seed1, -seed2); the first draws samples, reconstructions and the FID maps",
    )
    parser.add_argument(
        "--cifar", default=None, help="CIFAR-10 run (default RUNS/cifar10-latent128)"
    )
    parser.add_argument(
        "--mnist-conv",
        default=None,
        help="conv latent-2 MNIST run compared with the first latent-2 run "
        "(default RUNS/mnist-latent2-conv)",
    )
    parser.add_argument(
        "--cifar-conv",
        default=None,
        help="conv-Gaussian CIFAR-10 run compared with --cifar "
        "(default RUNS/cifar10-latent128-conv-gaussian)",
    )
    parser.add_argument(
        "--no-cifar", action="store_true", help="skip the CIFAR-10 figures (no CIFAR-10 needed)"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output directory (default figures, or with --quick RUNS/figures-quick)",
    )
    parser.add_argument(
        "--readme",
        default=None,
        help="README whose results table to rewrite (default README.md where it has the results "
        "markers, else OUT/results.md; none with --quick)",
    )
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        help="run only these steps: figure names, or step names (a step draws all its figures): "
        "fid, fid_maps, sample_quality, likelihood, prior_hole, mnist_architectures, "
        "fid_latent_size",
    )
    parser.add_argument("--data-dir", default=None, help="folder holding mnist.npz and cifar10.npz")
    parser.add_argument(
        "--classifier",
        default=None,
        help="MNIST classifier run (default RUNS/mnist-classifier, from train_classifier.py)",
    )
    parser.add_argument("--fid-samples", type=int_at_least(2), default=10_000)
    parser.add_argument(
        "--manifold-n", type=int_at_least(2), default=15, help="grid size (the slides: 15 or 30)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1,000 FID samples, 5x5 grid: a fast check, not results",
    )
    args = parser.parse_args(argv)
    runs = Path(args.runs_dir)
    if args.quick:
        if args.readme is not None:
            parser.error(
                "--quick never rewrites a README (its numbers are not results); drop --readme"
            )
        args.out = args.out or str(runs / "figures-quick")
        if Path(args.out).resolve() == COMMITTED_FIGURES.resolve():
            parser.error(
                f"--quick never writes into {COMMITTED_FIGURES} (the committed figures); "
                "choose another --out or drop it"
            )
    out = Path(args.out or "figures")

    from vae_keras.startup import quiet_start

    quiet_start()
    from vae_keras.classifier import MODEL_FILE
    from vae_keras.report import (
        CIFAR_FIGURES,
        FIGURES,
        STEP_NAMES,
        ReportConfig,
        RunSpec,
        chosen_readme,
        make_report,
    )

    # a --readme without the results markers is refused now, not after the work
    readme = None if args.no_readme or args.quick else chosen_readme(args.readme)

    if args.only:
        choices = [*FIGURES, *(s for s in STEP_NAMES if s not in FIGURES)]
        unknown = sorted(set(args.only) - set(choices))
        if unknown:
            parser.error(f"unknown figure(s) or step(s) {unknown}; choose from {choices}")
        if args.no_cifar and set(args.only) & set(CIFAR_FIGURES):
            parser.error("--only names a CIFAR-10 figure and --no-cifar skips it; drop one")

    def command(script: str, path: Path, default: str | None, *options: str) -> str:
        """The command that trains ``path`` (``--out`` unless it is the script's default)."""
        out = () if default is not None and path == Path(default) else ("--out", str(path))
        return " ".join(("python", f"scripts/{script}", *options, *out))

    def specs(paths, latent):
        latent_option = () if latent == 2 else ("--latent-dim", str(latent))
        if paths:
            return [
                RunSpec(Path(p), command("train_mnist.py", Path(p), None, *latent_option))
                for p in paths
            ]
        found = []
        for seed in (0, 1, 2):
            name = f"mnist-latent{latent}" + (f"-seed{seed}" if seed else "")
            path, seed_option = runs / name, ("--seed", str(seed)) if seed else ()
            if seed == 0 or path.exists() or latent == 8:
                made_by = command(
                    "train_mnist.py", path, f"runs/{name}", *latent_option, *seed_option
                )
                found.append(RunSpec(path, made_by))
        return found

    def variant(script: str, given: str | None, name: str, *options: str) -> RunSpec:
        path = Path(given) if given else runs / name
        return RunSpec(path, command(script, path, f"runs/{name}", *options))

    cifar = cifar_conv = None
    if not args.no_cifar:
        cifar = variant("train_cifar10.py", args.cifar, "cifar10-latent128")
        cifar_conv = variant(
            "train_cifar10.py",
            args.cifar_conv,
            "cifar10-latent128-conv-gaussian",
            "--architecture",
            "conv",
            "--likelihood",
            "gaussian",
        )
    mnist_conv = variant(
        "train_mnist.py", args.mnist_conv, "mnist-latent2-conv", "--architecture", "conv"
    )
    from vae_keras.variants import (
        HOLE_STUDY_LATENT,
        RATE_BETAS,
        RATE_LATENT,
        STUDY_LATENTS,
        STUDY_SEEDS,
        conditional_run_name,
        conditional_train_options,
        rate_train_options,
        study_run_name,
        study_train_options,
    )

    study = [
        variant("train_mnist.py", None, study_run_name(d, s), *study_train_options(d, s))
        for d in STUDY_LATENTS
        for s in STUDY_SEEDS
    ]
    rate = [
        variant(
            "train_mnist.py", None, f"mnist-latent{RATE_LATENT}-beta{b:g}", *rate_train_options(b)
        )
        for b in RATE_BETAS
    ]
    conditional = [
        variant("train_mnist.py", None, conditional_run_name(s), *conditional_train_options(s))
        for s in STUDY_SEEDS
    ]
    latents = [d for d, _ in product(STUDY_LATENTS, STUDY_SEEDS)]  # study's order
    hole = [spec for spec, d in zip(study, latents, strict=True) if d == HOLE_STUDY_LATENT]
    classifier = Path(args.classifier) if args.classifier else runs / "mnist-classifier"
    config = ReportConfig(
        mnist2=specs(args.mnist2, 2),
        mnist8=specs(args.mnist8, 8),
        cifar=cifar,
        mnist_conv=mnist_conv,
        cifar_conv=cifar_conv,
        study=study,
        hole=hole,
        rate=rate,
        conditional=conditional,
        out_dir=out,
        data_dir=args.data_dir,
        fid_samples=1000 if args.quick else args.fid_samples,
        manifold_n=5 if args.quick else args.manifold_n,
        only=args.only,
        readme=readme,
        quick=args.quick,
        classifier=RunSpec(
            classifier,
            command("train_classifier.py", classifier, "runs/mnist-classifier"),
            MODEL_FILE,
        ),
    )
    make_report(config)  # a missing data set, a damaged run: one line (guarded), nothing written
    return 0
