"""Write the latent explorer of a trained run: a static page that decodes z live in the browser.

The page (DIR/index.html, explorer.js, model.js) shows the test digits' z_mean on the
latent plane, coloured by label; moving the mouse over it decodes that z with the run's
own generator, computed in JavaScript from the exported weights, and shows the digit
large beside the plane; sliders set the other coordinates of a latent size above 2.
No server code and no network: view it with

    python -m http.server -d DIR     (then open http://127.0.0.1:8000/)

Example: python scripts/export_explorer.py runs/mnist-latent2 --out explorer
"""

import argparse
import sys

from vae_keras.cli import int_at_least


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a trained run (dense architecture)")
    parser.add_argument("--out", default="explorer", help="the page's folder (default: explorer)")
    parser.add_argument("--data-dir", default=None, help="folder holding <dataset>.npz")
    parser.add_argument(
        "--points", type=int_at_least(1), default=10_000, help="test images on the plane"
    )
    parser.add_argument(
        "--screenshot",
        default=None,
        metavar="PNG",
        help="also save a screenshot of the page in headless Chromium, the mouse at z = (1, 1) "
        "(needs Playwright and /usr/bin/chromium or $VAE_KERAS_CHROMIUM; where there is no "
        "browser the page is still written and the screenshot skipped with a note)",
    )
    args = parser.parse_args(argv)

    from vae_keras.startup import quiet_start

    quiet_start()
    from vae_keras import explorer

    written = explorer.export_explorer(args.run_dir, args.out, args.data_dir, args.points)
    print(f"Wrote {', '.join(str(p) for p in written)}")
    print(f"View it: python -m http.server -d {args.out}  (then open http://127.0.0.1:8000/)")
    if args.screenshot:
        problem = explorer.browser_problem()
        if problem:
            print(f"No screenshot: {problem}. The page is written.", file=sys.stderr)
            return 0
        print(f"Wrote {explorer.screenshot(args.out, args.screenshot, [1.0, 1.0])}")
    return 0
