"""The conditional VAE (Sohn et al. 2015): the slides' latent-8 model told which digit to draw.

Trains three conditional runs (python scripts/train_mnist.py --latent-dim 8 --conditional
[--seed 1, 2], into runs/mnist-latent8-cond[-seedN]: the one-hot label joins the encoder's
input and z before the decoder) and make reproduce's three unconditional latent-8 runs (a
trained run returns at once), then runs the report's conditional step (python
scripts/make_figures.py --only conditional), which also needs make reproduce's digit classifier
(python scripts/train_classifier.py): for every run, 10,000 samples from z ~ N(0, I) with labels
at the MNIST test set's class frequencies, the classifier's accuracy on them against the labels
asked for, their FID, precision and recall, and the rate, distortion and active units on the
test set. It writes figures/conditional_samples.png, the "conditional" entry of
figures/results.json and the README's table; the wall time of each step goes into results.json
("conditional_study"). `make conditional` runs it.
"""


def main(argv=None) -> int:
    from vae_keras.chain import CONDITIONAL_STEPS, study_main

    return study_main(argv, __doc__, CONDITIONAL_STEPS, "conditional_study")
