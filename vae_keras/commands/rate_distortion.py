"""The KL weight's study: the slides' latent-8 model with the loss reconstruction + beta * KL.

Trains one run per beta of 0.25, 0.5, 2, 4 and 784 (python scripts/train_mnist.py
--latent-dim 8 --beta B, into runs/mnist-latent8-betaB; 784 is the per-pixel mean of the
cross-entropy next to the same KL), and make reproduce's three beta-1 seeds (a trained run
returns at once), then runs the report's rate_distortion step (python scripts/make_figures.py
--only rate_distortion): for every run, on the MNIST test set, the rate (mean KL) against the
distortion (mean -log p(x|z)) (Alemi et al. 2018), the active units (Burda et al. 2016) and the
pixel FID, precision and recall of 10,000 prior samples. It writes figures/rate_distortion.png,
figures/beta_samples.png, the "rate_distortion" entry of figures/results.json and the README's
table; the wall time of each step goes into results.json ("rate_study"). `make
rate-distortion` runs it.
"""


def main(argv=None) -> int:
    from vae_keras.chain import RATE_STEPS, study_main

    return study_main(argv, __doc__, RATE_STEPS, "rate_study")
