#!/usr/bin/env python
"""Seconds per training epoch: the slides' plain fit, the project's default, the matmul bound.

In one run, on this machine:
  (1) the slides' code: vae.fit on numpy arrays (TrainOptions PLAIN: Keras's default
      compilation, one step per call);
  (2) the project's default training path (TrainOptions(); on TensorFlow tf.data, XLA and
      fused steps, on JAX XLA and steps_per_execution);
  (3) the bound: the epoch's matrix products (forward and backward of every Dense layer, and
      the validation forward pass) timed with numpy float32 matmuls of the same shapes.
Each is the median of --epochs epochs after one warm-up epoch (which compiles); the two
paths alternate for --rounds rounds (the machine is shared and noisy) and the medians over
rounds are reported. Prints the ratios (2)/(1) and (2)/(3) and the time to generate FID
samples and their statistics.
With --ablation, also times each speed option on its own, the validation pass alone, the
default path without validation, a hand-written reference that runs each epoch as one
XLA-compiled loop (no Keras loop), and the matmul bound of training alone (where the
seconds go). With --quality-seeds, also trains both paths for --quality-epochs
epochs per seed and compares the final val_loss (the equal-quality check).
--backend jax (or torch) measures (1) to (3) on that Keras backend; --precision
mixed_bfloat16 trains (1) and (2) with Keras's mixed precision and times the float32
default path in the same rounds (the bound stays numpy's float32 products, so that the two
precisions' rows share their yardstick). Writes
benchmarks/results/.
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from vae_keras.machine import recorded_machine
from vae_keras.variants import PRECISIONS

RESULTS = Path(__file__).resolve().parent / "results"


def dense_shapes(original_dim, intermediate_dim, latent_dim):
    """(in, out) of every Dense layer of the slides' VAE, in order."""
    return [
        (original_dim, intermediate_dim),  # encoder_h
        (intermediate_dim, latent_dim),  # z_mean
        (intermediate_dim, latent_dim),  # z_log_var
        (latent_dim, intermediate_dim),  # decoder_h
        (intermediate_dim, original_dim),  # decoder_mean
    ]


def matmul_bound(shapes, batch, train_examples, val_examples, repeats=5):
    """Seconds for one epoch's matrix products with numpy float32, and the GFLOP/s reached.

    Per training step and layer (in, out): forward x @ W (batch x in x out), weight gradient
    x^T @ g, input gradient g @ W^T (not for the first layer); validation: forward only.
    """
    rng = np.random.default_rng(0)
    products = []  # (a_shape, b_shape, count per epoch)
    steps = -(-train_examples // batch)
    val_steps = -(-val_examples // batch)
    for i, (n_in, n_out) in enumerate(shapes):
        products.append(((batch, n_in), (n_in, n_out), steps + val_steps))  # forward
        products.append(((n_in, batch), (batch, n_out), steps))  # dW = x^T g
        if i > 0:
            products.append(((batch, n_out), (n_out, n_in), steps))  # dx = g W^T
    seconds, flops = 0.0, 0.0
    for a_shape, b_shape, count in products:
        a = rng.standard_normal(a_shape).astype(np.float32)
        b = rng.standard_normal(b_shape).astype(np.float32)
        inner = 50
        best = min(_time_matmul(a, b, inner) for _ in range(repeats)) / inner
        seconds += best * count
        flops += 2.0 * a_shape[0] * a_shape[1] * b_shape[1] * count
    return seconds, flops / seconds / 1e9, flops


def _time_matmul(a, b, inner):
    start = time.perf_counter()
    for _ in range(inner):
        a @ b
    return time.perf_counter() - start


def median_epoch_seconds(history):
    return statistics.median(row["seconds"] for row in history[1:])


def default_without_validation_seconds(config, dataset):
    """Median s/epoch of the default path's ``fit`` with no validation pass.

    ``config.epochs`` epochs, the first a warm-up (it compiles).
    """
    import keras

    from vae_keras.training import TrainOptions, build_for_training, fit_arguments

    keras.utils.set_random_seed(config.seed)
    options = TrainOptions()
    vae = build_for_training(config, len(dataset.x_train), options).vae
    data = fit_arguments(config, dataset, 0, options)
    del data["validation_data"]
    seconds = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    vae.fit(**data, epochs=config.epochs, callbacks=[Timer()], verbose=0)
    return statistics.median(seconds[1:])


def compiled_epoch_seconds(config, dataset):
    """Median s/epoch of a hand-written reference: each epoch one XLA-compiled ``while`` loop.

    ``config.epochs`` epochs, the first a warm-up (it compiles).
    The same model (``build_from_config``), loss (``vae.losses``), RMSprop and batches as the
    default path, but no Keras training loop, no input pipeline and no validation pass:
    what is left is the compiled train step's own work, matrix products, element-wise
    kernels and the optimizer's update. The last, smaller batch runs in a second compiled
    function. For the benchmark only; training always goes through ``fit``.
    """
    import keras
    import tensorflow as tf

    from vae_keras.runs import build_from_config

    keras.utils.set_random_seed(config.seed)
    vae = build_from_config(config, compile=False).vae
    optimizer = keras.optimizers.get(config.optimizer)
    weights = vae.trainable_variables
    optimizer.build(weights)
    x = tf.constant(dataset.x_train)
    n, batch = len(dataset.x_train), config.batch_size
    full = n // batch

    def step(indices):
        with tf.GradientTape() as tape:
            vae(tf.gather(x, indices), training=True)
            loss = tf.add_n(vae.losses)
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
        return loss

    @tf.function(jit_compile=True)
    def full_batches(order):
        batches = tf.reshape(order[: full * batch], (full, batch))

        def body(i, total):
            return i + 1, total + step(batches[i])

        return tf.while_loop(lambda i, _: i < full, body, (0, 0.0))[1]

    last_batch = tf.function(step, jit_compile=True)
    seconds = []
    for epoch in range(config.epochs):
        start = time.perf_counter()
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n, dtype=tf.int64), seed=[config.seed, epoch]
        )
        total = full_batches(order)
        if n % batch:
            total += last_batch(order[full * batch :])
        float(total)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds[1:])


def bench_table(paths) -> str:
    """Markdown table of every benchmarks/results/bench_train_*.json."""
    lines = [
        "| model | backend | date (commit) | machine | (1) plain fit s/epoch | (2) default s/epoch "
        "| (3) matmul bound s/epoch | (2)/(1) | (2)/(3) | 10k FID samples + statistics s "
        "| final val_loss plain / default: mean ± std over training seeds (seeds, epochs) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for path in paths:
        r = json.loads(Path(path).read_text())
        c, t = r["config"], r["seconds_per_epoch"]
        q = r.get("quality")
        quality = (
            f"{q['plain_fit_mean']:.2f} ± {q['plain_fit_std']:.2f} / "
            f"{q['default_mean']:.2f} ± {q['default_std']:.2f} "
            f"({len(q['default'])}, {q['epochs']} ep.)"
            if q
            else ""
        )
        backend = r.get("backend", "tensorflow")
        version = r["versions"].get(backend, "")
        precision = c.get("precision", "float32")
        shown_precision = "" if precision == "float32" else f" {precision}"
        if "ratio_default_over_float32_default" in r:
            shown_precision += (
                f" ((2) = {r['ratio_default_over_float32_default']:.2f}x the float32 default, "
                f"{t['default_float32']:.2f} s/epoch in the same rounds)"
            )
        when = r["date"][:10] + (f" ({r['commit']})" if r.get("commit") else "")  # the code
        lines.append(
            f"| {c['dataset']} {c['original_dim']}-{c['intermediate_dim']}-{c['latent_dim']}"
            f"{shown_precision} "
            f"| {backend} {version}, Keras {r['versions']['keras']} "
            f"| {when} | {recorded_machine(r)} "
            f"| {t['plain_fit']:.2f} | {t['default']:.2f} | {t['matmul_bound']:.2f} "
            f"| {r['ratio_default_over_plain']:.2f} | {r['ratio_default_over_bound']:.2f} "
            f"| {r['fid_generation_seconds_10000'] + r['fid_statistics_seconds_10000']:.2f} "
            f"| {quality} |"
        )
    for path in paths:
        r = json.loads(Path(path).read_text())
        if "ablation" in r:
            c = r["config"]
            lines += [
                "",
                f"Where the seconds go ({c['dataset']} {c['original_dim']}-{c['intermediate_dim']}-"
                f"{c['latent_dim']}, same run, each option on its own):",
                "",
                "| training path | s/epoch |",
                "|---|---|",
            ]
            lines += [f"| {name} | {seconds:.2f} |" for name, seconds in r["ablation"].items()]
            lines.append(
                "| matmul bound, training and validation "
                f"| {r['seconds_per_epoch']['matmul_bound']:.2f} |"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "cifar10"))
    parser.add_argument(
        "--intermediate-dim", type=int, default=None, help="default: 256 (MNIST), 512 (CIFAR-10)"
    )
    parser.add_argument(
        "--latent-dim", type=int, default=None, help="default: 2 (MNIST), 128 (CIFAR-10)"
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=5, help="measured epochs after the warm-up")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternate the two paths this many times"
    )
    parser.add_argument(
        "--ablation", action="store_true", help="also time each speed option on its own"
    )
    parser.add_argument("--quality-seeds", type=int, nargs="*", default=[])
    parser.add_argument("--quality-epochs", type=int, default=50)
    parser.add_argument(
        "--readme",
        default="docs/speed.md",
        help="Markdown page whose table to rewrite (default: %(default)s)",
    )
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--out",
        default=None,
        help="JSON file (default benchmarks/results/bench_train_<config>.json)",
    )
    parser.add_argument(
        "--backend",
        default="tensorflow",
        choices=("tensorflow", "jax", "torch"),
        help="Keras backend to measure (plain fit and default path; --ablation is TensorFlow's)",
    )
    parser.add_argument(
        "--precision",
        default="float32",
        choices=PRECISIONS,
        help="the runs' Keras dtype policy (RunConfig.precision; default: %(default)s)",
    )
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="measure nothing: rewrite --readme's table from the records in benchmarks/results/",
    )
    args = parser.parse_args(argv)
    if args.table_only:
        write_table(args.readme)
        return
    if args.ablation and args.backend != "tensorflow":
        parser.error(
            "--ablation times TensorFlow's speed options; use it with --backend tensorflow"
        )
    os.environ["KERAS_BACKEND"] = args.backend  # before Keras is imported

    from vae_keras import evaluation
    from vae_keras.atomic import write_json_atomic
    from vae_keras.data import load_dataset
    from vae_keras.report import benchmark_header
    from vae_keras.runs import RunConfig, load_run
    from vae_keras.training import (
        PLAIN,
        TrainOptions,
        build_for_training,
        train,
    )

    mnist = args.dataset == "mnist"
    intermediate = args.intermediate_dim or (256 if mnist else 512)
    latent = args.latent_dim or (2 if mnist else 128)
    dataset = load_dataset(args.dataset, args.data_dir)
    config = RunConfig(
        dataset=args.dataset,
        original_dim=dataset.original_dim,
        intermediate_dim=intermediate,
        latent_dim=latent,
        epochs=args.epochs + 1,
        batch_size=args.batch_size,
        precision=args.precision,
    )
    tag = f"{args.dataset}-{dataset.original_dim}-{intermediate}-{latent}"
    if args.backend != "tensorflow":
        tag += f"-{args.backend}"
    if args.precision != "float32":
        tag += "-bf16"
    print(
        f"Benchmark {tag}: {len(dataset.x_train)} training images, batch {args.batch_size}, "
        f"median of {args.epochs} epochs after a warm-up"
    )

    record = {
        **benchmark_header(),
        "backend": args.backend,
        "config": config.to_dict(),
        "default_options": TrainOptions().__dict__,
    }
    shapes = dense_shapes(dataset.original_dim, intermediate, latent)
    rounds = []  # the machine is shared: alternate the paths and take medians over rounds
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            plain = train(config, dataset, Path(tmp) / f"plain{i}", verbose=0, options=PLAIN)
            fast = train(config, dataset, Path(tmp) / f"fast{i}", verbose=0, options=TrainOptions())
            if args.precision != "float32":  # the same path in float32, in the same round
                as_float32 = replace(config, precision="float32")
                float32 = train(as_float32, dataset, Path(tmp) / f"f32-{i}", verbose=0)
            bound, gflops, flops = matmul_bound(
                shapes, args.batch_size, len(dataset.x_train), len(dataset.x_test)
            )
            rounds.append(
                {
                    "plain_fit": median_epoch_seconds(plain),
                    "default": median_epoch_seconds(fast),
                    "matmul_bound": bound,
                    "gflops": gflops,
                }
            )
            if args.precision != "float32":
                rounds[-1]["default_float32"] = median_epoch_seconds(float32)
                print(f"round {i + 1}: default in float32 {rounds[-1]['default_float32']:.3f}")
            print(
                f"round {i + 1}: plain {rounds[-1]['plain_fit']:.3f}, default "
                f"{rounds[-1]['default']:.3f}, bound {bound:.3f} s/epoch"
            )
        run = load_run(Path(tmp) / "fast0")
        start = time.perf_counter()
        samples = evaluation.sample_prior(run, 10_000, seed=0)
        generate_seconds = time.perf_counter() - start
        start = time.perf_counter()
        evaluation.dataset_statistics(samples, dataset.image_shape)
        statistics_seconds = time.perf_counter() - start

    def med(key):
        return statistics.median(r[key] for r in rounds)

    t_plain, t_fast, t_bound, gflops = (
        med("plain_fit"),
        med("default"),
        med("matmul_bound"),
        med("gflops"),
    )
    ratio_plain = statistics.median(r["default"] / r["plain_fit"] for r in rounds)
    ratio_bound = statistics.median(r["default"] / r["matmul_bound"] for r in rounds)
    record.update(
        {
            "rounds": rounds,
            "seconds_per_epoch": {"plain_fit": t_plain, "default": t_fast, "matmul_bound": t_bound},
            "matmul_gflops_per_second": gflops,
            "gflop_per_epoch": flops / 1e9,
            "ratio_default_over_plain": ratio_plain,
            "ratio_default_over_bound": ratio_bound,
            "fid_generation_seconds_10000": generate_seconds,
            "fid_statistics_seconds_10000": statistics_seconds,
        }
    )
    print(f"(1) slides' plain fit      {t_plain:7.3f} s/epoch")
    print(f"(2) default training path  {t_fast:7.3f} s/epoch")
    print(
        f"(3) matmul bound           {t_bound:7.3f} s/epoch "
        f"({flops / 1e9:.1f} GFLOP at {gflops:.0f} GFLOP/s)"
    )
    print(f"(2)/(1) = {ratio_plain:.2f}   (2)/(3) = {ratio_bound:.2f}   (medians over rounds)")
    if args.precision != "float32":
        ratio = statistics.median(r["default"] / r["default_float32"] for r in rounds)
        record["seconds_per_epoch"]["default_float32"] = med("default_float32")
        record["ratio_default_over_float32_default"] = ratio
        print(
            f"(2) in float32             {med('default_float32'):7.3f} s/epoch; "
            f"{args.precision} / float32 = {ratio:.2f}"
        )
    print(
        f"FID: 10,000 prior samples in {generate_seconds:.2f} s, "
        f"their statistics in {statistics_seconds:.2f} s"
    )

    if args.ablation:
        # where the seconds go: switch the speed options on one at a time, and time the
        # validation pass alone (it is inside every epoch above)
        steps = (
            ("numpy arrays (plain)", PLAIN),
            ("tf.data", TrainOptions(jit_compile=False, steps_per_execution=1, fuse_steps=False)),
            ("tf.data + XLA", TrainOptions(steps_per_execution=1, fuse_steps=False)),
            ("tf.data + steps_per_execution", TrainOptions(jit_compile=False, fuse_steps=False)),
            ("tf.data + XLA + steps_per_execution", TrainOptions(fuse_steps=False)),
            ("tf.data + XLA + fused steps (default)", TrainOptions()),
        )
        from vae_keras.tf_speed import validation_batches

        ablation = {}
        with tempfile.TemporaryDirectory() as tmp:
            for i, (name, options) in enumerate(steps):
                history = train(config, dataset, Path(tmp) / str(i), verbose=0, options=options)
                ablation[name] = median_epoch_seconds(history)
            # compiled as the default path compiles it (trained weights do not change the time)
            vae = build_for_training(config, len(dataset.x_train), TrainOptions()).vae
            validation = validation_batches(dataset.x_test, args.batch_size)
            vae.evaluate(validation, verbose=0)
            start = time.perf_counter()
            vae.evaluate(validation, verbose=0)
            ablation["validation pass alone"] = time.perf_counter() - start
        ablation["default, training only (no validation pass)"] = (
            default_without_validation_seconds(config, dataset)
        )
        ablation["one compiled XLA loop per epoch, training only (hand-written reference)"] = (
            compiled_epoch_seconds(config, dataset)
        )
        ablation["matmul bound, training only"] = matmul_bound(
            shapes, args.batch_size, len(dataset.x_train), 0
        )[0]
        width = max(map(len, ablation))
        for name, seconds in ablation.items():
            print(f"ablation: {name:{width}s} {seconds:6.3f} s/epoch")
        record["ablation"] = ablation

    if args.quality_seeds:
        quality = {"epochs": args.quality_epochs, "plain_fit": {}, "default": {}}
        with tempfile.TemporaryDirectory() as tmp:
            for seed in args.quality_seeds:
                long = RunConfig(
                    **{**config.to_dict(), "epochs": args.quality_epochs, "seed": seed}
                )
                for name, options in (("plain_fit", PLAIN), ("default", TrainOptions())):
                    history = train(
                        long, dataset, Path(tmp) / f"{name}{seed}", verbose=0, options=options
                    )
                    quality[name][seed] = history[-1]["val_loss"]
                    print(
                        f"quality: {name:9s} seed {seed}: "
                        f"final val_loss {history[-1]['val_loss']:.2f}"
                    )
        for name in ("plain_fit", "default"):
            values = list(quality[name].values())
            quality[f"{name}_mean"] = float(np.mean(values))
            quality[f"{name}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
            print(
                f"quality: {name:9s} mean {quality[f'{name}_mean']:.2f} "
                f"+/- {quality[f'{name}_std']:.2f}"
            )
        quality["date"] = record["date"]
        record["quality"] = quality

    out = Path(args.out) if args.out else RESULTS / f"bench_train_{tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if "quality" not in record and out.is_file():
        # the equal-quality check takes long: keep an earlier one (it carries its own date)
        earlier = json.loads(out.read_text()).get("quality")
        if earlier is not None:
            earlier.setdefault("date", json.loads(out.read_text())["date"])
            record["quality"] = earlier
    write_json_atomic(out, record)
    print(f"Written to {out}")
    if not args.no_readme:
        write_table(args.readme)


def write_table(page: str) -> None:
    """Rewrite the bench block of ``page`` from every record in benchmarks/results/."""
    from vae_keras.report import replace_block

    tables = sorted(RESULTS.glob("bench_train_*.json"))
    replace_block(page, "<!-- bench:start -->", "<!-- bench:end -->", bench_table(tables))
    print(f"Updated the benchmark table in {page}")


if __name__ == "__main__":
    main()
