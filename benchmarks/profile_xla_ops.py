#!/usr/bin/env python
"""Which compiled operations the default training path spends its time in, by name.

``benchmarks/profile_train.py`` samples the CPU with ``perf``, which cannot name the code
XLA generates at run time (it shows as ``[JIT]`` addresses). This script asks XLA itself:
with ``--xla_cpu_enable_xprof_traceme=true``, XLA's CPU runtime marks every operation
("thunk") of the compiled training step in the profiler's trace (TensorFlow's, or with
``--backend jax`` JAX's, read from its Perfetto JSON). It trains the
slides' VAE on the default path (``TrainOptions()``) for one warm-up epoch and --epochs
traced epochs, sums the time of each operation over the traced epochs, and looks each
name up in XLA's optimized HLO (dumped in the same run) for its kind and shape:

  dot                         a matrix product (XLA calls a library matrix kernel);
  ynn_fusion(dot_general)     the same through YNNPACK, which newer XLA (JAX's) uses for most
                              products (other YNNPACK fusions: a reduction, element-wise);
  fusion                      element-wise work XLA compiled into one loop (its name says
                              what it starts with);
  rng / bitcast_concatenate   random bits (the noise ``epsilon``).

The times are each operation's own wall time as XLA marks it; operations can run side by
side on the CPU's threads, so their sum need not equal the epoch's. A name can stand for
instructions of several compiled modules (the training step, the validation step, a last
smaller batch): the table lists each shape it has. Writes
``benchmarks/results/profile_xla_ops_<config>[-jax].json``, prints the table and rewrites the
tables of docs/speed.md (every configuration traced so far).
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import tempfile
from pathlib import Path

from profiling import add_model_arguments, model_config, write_record

from vae_keras.machine import recorded_machine
from vae_keras.startup import require_tensorflow

#: ``%name = f32[256,512]{1,0} dot(...`` in XLA's optimized HLO text
HLO_LINE = re.compile(r"^\s*(?:ROOT\s+)?%([\w.\-]+) = (\S+?)(?:\{[\d,]*\})? ([\w\-]+)\(")
#: the last part of an instruction's ``op_name`` (``.../dot_general``)
OP_NAME = re.compile(r'op_name="(?:[^"]*/)?([^"/]+)"')


def hlo_ops(text: str) -> dict[str, str]:
    """``{op name: "kind shape"}`` for the instructions of an optimized HLO module's text; a
    YNNPACK fusion's kind names the operation it computes (``ynn_fusion(dot_general)``)."""
    ops = {}
    for line in text.splitlines():
        match = HLO_LINE.match(line)
        if match:
            name, shape, kind = match.groups()
            op_name = OP_NAME.search(line)
            if kind == "fusion" and "__ynn_fusion" in line and op_name:
                kind = f"ynn_fusion({op_name.group(1)})"
            ops[name] = f"{kind} {shape}"
    return ops


def thunk_seconds(xspace_bytes: bytes, names) -> tuple[dict[str, float], dict[str, int]]:
    """Total seconds and count of the trace events whose name is one of ``names``."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(xspace_bytes)
    seconds, counts = collections.Counter(), collections.Counter()
    for plane in space.planes:
        metadata = plane.event_metadata
        for line in plane.lines:
            for event in line.events:
                name = metadata[event.metadata_id].name
                if name in names:
                    seconds[name] += event.duration_ps / 1e12
                    counts[name] += 1
    return dict(seconds), dict(counts)


def perfetto_seconds(trace_json_gz: bytes, names) -> tuple[dict[str, float], dict[str, int]]:
    """The same from JAX's Perfetto trace (complete events, durations in microseconds)."""
    events = json.loads(gzip.decompress(trace_json_gz))["traceEvents"]
    seconds, counts = collections.Counter(), collections.Counter()
    for event in events:
        if event.get("ph") == "X" and event.get("name") in names:
            seconds[event["name"]] += event.get("dur", 0) / 1e6
            counts[event["name"]] += 1
    return dict(seconds), dict(counts)


def ops_table(record: dict) -> str:
    c = record["config"]
    backend = record.get("backend", "tensorflow")
    backend_name = {"tensorflow": "TF", "jax": "JAX"}[backend]
    lines = [
        f"XLA operations of the default path ({c['dataset']} {c['original_dim']}-"
        f"{c['intermediate_dim']}-{c['latent_dim']}, {record['date'][:10]}, "
        f"{recorded_machine(record)}, "
        f"{backend_name} {record['versions'][backend]}; traced over {record['epochs']} epochs, "
        f"{record['seconds_per_epoch']:.2f} s/epoch; by kind, then the slowest):",
        "",
        "| kind | s/epoch | share |",
        "|---|---|---|",
    ]
    total = sum(record["kinds"].values())
    for kind, seconds in sorted(record["kinds"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {kind} | {seconds:.2f} | {100 * seconds / total:.1f} % |")
    lines += ["", "| operation | HLO | s/epoch | calls/epoch |", "|---|---|---|---|"]
    for row in record["top"]:
        lines.append(
            f"| `{row['name']}` | `{row['hlo']}` | {row['seconds_per_epoch']:.3f} | "
            f"{row['calls_per_epoch']:.0f} |"
        )
    return "\n".join(lines)


def kind_of(hlo: str) -> str:
    op = hlo.split(" ")[0]
    if op == "dot" or op.startswith("ynn_fusion(dot"):
        return "matrix products (dot)"
    if op in ("rng-bit-generator", "rng") or hlo.startswith("fusion u32"):
        return "random bits"
    if op == "fusion":
        return "element-wise fusions"
    return f"other ({op})"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_model_arguments(parser)
    parser.add_argument("--epochs", type=int, default=2, help="traced epochs after a warm-up")
    parser.add_argument("--top", type=int, default=12, help="operations listed by name")
    parser.add_argument("--backend", default="tensorflow", choices=("tensorflow", "jax"))
    args = parser.parse_args(argv)
    on_jax = args.backend == "jax"
    if not on_jax:
        require_tensorflow("profile_xla_ops.py reads TensorFlow's XLA profiler trace")
    os.environ["KERAS_BACKEND"] = args.backend  # before Keras is imported

    with tempfile.TemporaryDirectory() as tmp:
        dump, trace = Path(tmp) / "hlo", Path(tmp) / "trace"
        # before TensorFlow starts: XLA reads its flags once
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "")
            + " --xla_cpu_enable_xprof_traceme=true"
            + f" --xla_dump_to={dump} --xla_dump_hlo_as_text"
            + " --xla_dump_hlo_pass_re=^$"  # the optimized module only, no per-pass dumps
        )
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras

        from vae_keras.data import load_dataset
        from vae_keras.report import benchmark_header
        from vae_keras.training import TrainOptions, train

        dataset = load_dataset(args.dataset, args.data_dir)
        config = model_config(args, dataset, epochs=args.epochs + 1)

        if on_jax:
            import jax

            def start():
                jax.profiler.start_trace(str(trace), create_perfetto_trace=True)

            stop = jax.profiler.stop_trace
        else:
            import tensorflow as tf

            def start():
                tf.profiler.experimental.start(str(trace))

            stop = tf.profiler.experimental.stop

        class Trace(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 0:
                    start()

            def on_train_end(self, logs=None):
                stop()

        history = train(
            config,
            dataset,
            Path(tmp) / "run",
            verbose=0,
            callbacks=[Trace()],
            options=TrainOptions(),
        )
        # names repeat across modules (the training step, the validation step, the last
        # smaller batch): keep every distinct description of a name
        described = collections.defaultdict(set)
        for path in glob.glob(str(dump / "*cpu_after_optimizations.txt")):
            for name, hlo in hlo_ops(Path(path).read_text()).items():
                described[name].add(hlo)
        ops = {name: " or ".join(sorted(hlos)) for name, hlos in described.items()}
        profiles = trace / "plugins" / "profile" / "*"
        if on_jax:
            (perfetto,) = glob.glob(str(profiles / "*.trace.json.gz"))
            seconds, counts = perfetto_seconds(Path(perfetto).read_bytes(), set(ops))
        else:
            (xspace,) = glob.glob(str(profiles / "*.xplane.pb"))
            seconds, counts = thunk_seconds(Path(xspace).read_bytes(), set(ops))

    epochs = len(history) - 1
    kinds = collections.Counter()
    for name, total in seconds.items():
        kinds[kind_of(ops[name])] += total / epochs
    top = sorted(seconds, key=lambda n: -seconds[n])[: args.top]
    record = {
        **benchmark_header(),
        "backend": args.backend,
        "config": config.to_dict(),
        "epochs": epochs,
        "seconds_per_epoch": sum(r["seconds"] for r in history[1:]) / epochs,
        "kinds": dict(kinds),
        "top": [
            {
                "name": name,
                "hlo": ops[name],
                "seconds_per_epoch": seconds[name] / epochs,
                "calls_per_epoch": counts[name] / epochs,
            }
            for name in top
        ],
    }
    print(ops_table(record))
    write_record(
        record,
        "profile_xla_ops",
        args,
        ops_table,
        ("<!-- xla-ops:start -->", "<!-- xla-ops:end -->"),
        suffix="-jax" if on_jax else "",
    )


if __name__ == "__main__":
    main()
