"""The FID study: the slides' model with latent sizes 2, 4, 8, 16 and 32, three seeds each.

Trains the 15 runs (python scripts/train_mnist.py --latent-dim D --seed S, each into its
default directory runs/mnist-latentD[-seedS]; a trained run returns at once, so the runs
of `make reproduce` are reused and an interrupted study resumes), then runs the report's
fid_latent_size step (python scripts/make_figures.py --only fid_latent_size): for every
run, the pixel FID of 10,000 prior samples against the MNIST test set and against all
60,000 training images, and the test-set ELBO. It writes figures/fid_latent_size.png,
the "fid_latent_size" entry of figures/results.json (one row per latent size: the seeds,
each FID and ELBO per seed, their mean and std) and the README's table; the wall time of
each step goes into results.json ("fid_study"). About 25 minutes on 2 CPU cores beyond
the runs `make reproduce` trains; `make fid-study` runs it.
"""


def main(argv=None) -> int:
    from vae_keras.chain import STUDY_STEPS, study_main

    return study_main(argv, __doc__, STUDY_STEPS, "fid_study")
