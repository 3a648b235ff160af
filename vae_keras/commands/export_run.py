"""Write a trained run's models as Keras files: vae.keras, encoder.keras, generator.keras.

Training writes them itself when a run is complete; this command makes them for
runs trained before it did (or for an unfinished run, from its last committed
epoch). Each file loads with keras.saving.load_model(path) in Keras's default
safe mode, on any backend (vae.keras after `import vae_keras.model`, which
registers its sampling function and layers).

Example: python scripts/export_run.py runs/mnist-latent2
"""

import argparse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="trained run directories")
    args = parser.parse_args(argv)

    from vae_keras.startup import quiet_start

    quiet_start()
    from vae_keras.runs import export_keras_models, load_run, lock_run_dir

    for run_dir in args.run_dirs:
        run = load_run(run_dir)  # a RunError is one line (guarded)
        with lock_run_dir(run_dir):  # not while a trainer writes there
            written = export_keras_models(run.run_dir, run.models)
        print(f"{run_dir}: wrote " + ", ".join(p.name for p in written))
    return 0
