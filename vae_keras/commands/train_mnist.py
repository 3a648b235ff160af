"""Train the slides' VAE on MNIST (slide "Loss function & Train").

Defaults are the slides' settings: 784-256-2, RMSprop, 50 epochs, batch 256,
validation on the 10,000 test images. Writes runs/mnist-latent{d}/; running it
again on the same directory resumes after the last finished epoch.
"""

from vae_keras.cli import run_training, training_parser
from vae_keras.runs import RunConfig

MNIST_DEFAULTS = RunConfig(dataset="mnist", original_dim=784, intermediate_dim=256, latent_dim=2)


def main(argv=None) -> int:
    parser = training_parser(__doc__, MNIST_DEFAULTS, "runs/mnist-latent{latent_dim}")
    return run_training(parser.parse_args(argv))
