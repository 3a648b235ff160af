"""Train the small convolutional MNIST classifier behind the `classifier` feature space.

Its 128-unit penultimate layer gives compute_fid.py's `--features classifier` (a feature
space that knows digits), and its softmax classifies generated digits. Seeded; writes
classifier.keras and result.json (test accuracy) into --out.

Example: python scripts/train_classifier.py    # -> runs/mnist-classifier/
"""

import argparse

from vae_keras.cli import positive_int


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="runs/mnist-classifier")
    parser.add_argument(
        "--epochs", type=positive_int, default=None, help="default: vae_keras.classifier.EPOCHS"
    )
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=positive_int, default=None, help="first N images per split")
    parser.add_argument("--data-dir", default=None, help="folder holding mnist.npz")
    args = parser.parse_args(argv)

    from vae_keras.data import load_dataset
    from vae_keras.startup import quiet_start

    quiet_start()

    dataset = load_dataset("mnist", args.data_dir, limit=args.limit)  # DataError: one line
    from vae_keras.classifier import EPOCHS, train_classifier

    epochs = args.epochs or EPOCHS  # one default for the script and the tests
    result = train_classifier(dataset, args.out, epochs, args.batch_size, args.seed)
    print(
        f"Test accuracy {100 * result['test_accuracy']:.2f} % after {result['epochs']} epochs "
        f"({result['train_seconds']:.0f} s); written to {args.out}"
    )
    return 0
