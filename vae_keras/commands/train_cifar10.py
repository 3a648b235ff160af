"""Train the slides' VAE on CIFAR-10 (slide "Try with CIFAR-10").

The same builder and training function as train_mnist.py, on flattened 32x32x3
images in [0, 1] (3072 inputs). Defaults: a 512-unit hidden layer and a
128-dimensional latent space (the slide's "reconstruction = 128"), RMSprop,
batch 256, 50 epochs as on the slides (about 10 minutes on a 2-core CPU). Writes
runs/cifar10-latent{d}/; running it again resumes.
"""

from vae_keras.cli import run_training, training_parser
from vae_keras.runs import RunConfig

CIFAR10_DEFAULTS = RunConfig(
    dataset="cifar10", original_dim=3072, intermediate_dim=512, latent_dim=128, epochs=50
)


def main(argv=None) -> int:
    parser = training_parser(__doc__, CIFAR10_DEFAULTS, "runs/cifar10-latent{latent_dim}")
    return run_training(parser.parse_args(argv))
