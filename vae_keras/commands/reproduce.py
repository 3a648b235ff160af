"""Run every step of `make reproduce` in order, timing each; print and record the step table.

The steps (vae_keras.chain.REPRODUCE_STEPS) are the six MNIST trainings, CIFAR-10,
the classifier and make_figures.py, each a command you can also run by itself.
At the end the wall time of each step goes into figures/results.json ("reproduce")
and the README's results table. Each training resumes where it stopped, so after
a failure or Ctrl-C the same command carries on. `make reproduce` runs this after
setting up .venv (the set-up's duration, which it records in .venv/.setup-seconds,
is reported apart). With --compare it runs `make compare` instead
(vae_keras.chain.COMPARE_STEPS: the conv MNIST and conv-Gaussian CIFAR-10 runs and
the report's architecture comparison), recorded as "compare".
"""

import argparse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="run the architecture comparison's steps (make compare) instead",
    )
    from vae_keras.chain import add_chain_options

    add_chain_options(parser)
    args = parser.parse_args(argv)

    from vae_keras.chain import COMPARE_STEPS, REPRODUCE_STEPS, list_or_run

    steps, key = (COMPARE_STEPS, "compare") if args.compare else (REPRODUCE_STEPS, "reproduce")
    return list_or_run(args, steps, key)
