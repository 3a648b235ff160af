#!/usr/bin/env python
"""Where the CPU time of the default training path goes: a `perf` profile, summed by kind.

Trains the slides' VAE on the default path (``train`` with ``TrainOptions()``: tf.data, XLA,
fused steps, validation each epoch) for one warm-up epoch and --epochs measured epochs, and
samples every CPU with ``perf record`` during the measured epochs only, keeping this
process's samples. They are summed into kinds of work by the library and function they
fall in:

  matrix products     YNNPACK / Eigen / oneDNN matrix-multiply kernels (with their packing
                      and transposes), called by XLA for the Dense layers;
  XLA fused kernels   the element-wise code XLA compiles at run time (the cross-entropy from
                      the logits, relu, KL, RMSprop's update, reductions, products too small
                      for the matrix kernels): perf sees it as [JIT] code;
  threads waiting     thread-pool work stealing, futexes, the kernel's scheduler;
  memory              malloc/free and memcpy;
  TensorFlow runtime  the rest of TensorFlow (tf.data, the executor, Keras's loop ops);
  Python              the interpreter.

Needs Linux ``perf`` (Debian: ``apt install linux-perf``). Writes
benchmarks/results/profile_train_<config>.json and the table in docs/speed.md.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from profiling import add_model_arguments, model_config, write_record

from vae_keras.machine import recorded_machine
from vae_keras.startup import require_tensorflow

#: (kind, test on (library, symbol)); the first that matches wins.
KINDS = (
    (
        "matrix products (YNNPACK/Eigen/oneDNN kernels)",
        lambda dso, sym: re.search(
            r"ynn::(dot|interleave|transpose|pack)|gemm|Gemm|TensorContraction|dnnl|sgemm", sym
        ),
    ),
    ("XLA fused element-wise kernels (JIT code)", lambda dso, sym: dso.startswith("[JIT]")),
    (
        "threads waiting and scheduling",
        lambda dso, sym: (
            dso == "[kernel.kallsyms]"
            or re.search(r"ThreadPool|RunQueue|Steal|futex|pthread_cond|wait_for|Notif|sched", sym)
        ),
    ),
    (
        "memory allocation and copies",
        lambda dso, sym: re.search(
            r"malloc|free|_int_|unlink_chunk|memmove|memcpy|memset|Alloc", sym
        ),
    ),
    ("Python interpreter", lambda dso, sym: dso.startswith("libpython")),
    (
        "TensorFlow runtime (tf.data, executor, Keras loop ops)",
        lambda dso, sym: dso.startswith("libtensorflow") or dso.startswith("_pywrap"),
    ),
)
OTHER = "other"

LINE = re.compile(r"^\s*([\d.]+)%\s+(.+?)\s+\[([.k])\]\s+(.*)$")


def parse_report(text: str) -> list[tuple[float, str, str]]:
    """(percent, library, symbol) rows of ``perf report --sort dso,sym --stdio -g none``."""
    rows = []
    for line in text.splitlines():
        match = LINE.match(line)
        if match:
            percent, dso, _, sym = match.groups()
            rows.append((float(percent), dso, sym.strip()))
    return rows


def cpu_clock_seconds(report: str) -> float:
    """CPU time sampled, from the report's header (perf's cpu-clock event counts nanoseconds)."""
    match = re.search(r"Event count \(approx\.\): (\d+)", report)
    if match is None or "cpu-clock" not in report:
        raise ValueError("The perf report has no cpu-clock event count in its header.")
    return int(match.group(1)) / 1e9


def classify(rows) -> dict[str, float]:
    """Sum the rows' percentages by kind (see KINDS); ``other`` takes the rest."""
    totals = {kind: 0.0 for kind, _ in KINDS}
    totals[OTHER] = 0.0
    for percent, dso, sym in rows:
        kind = next((k for k, test in KINDS if test(dso, sym)), OTHER)
        totals[kind] += percent
    return totals


def profile_table(record: dict) -> str:
    c = record["config"]
    lines = [
        f"CPU profile of the default path ({c['dataset']} {c['original_dim']}-"
        f"{c['intermediate_dim']}-{c['latent_dim']}, {record['date'][:10]}, "
        f"{recorded_machine(record)}, "
        f"TF {record['versions']['tensorflow']}; `perf` over {record['epochs']} epochs, "
        f"{record['seconds_per_epoch']:.2f} s/epoch, {record['busy_cores']:.2f} of "
        f"{record['cores']} cores busy on average):",
        "",
        "| kind of work | share of CPU samples | CPU s/epoch |",
        "|---|---|---|",
    ]
    cpu = record["cpu_seconds_per_epoch"]
    for kind, percent in sorted(record["shares_percent"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {kind} | {percent:.1f} % | {cpu * percent / 100:.2f} |")
    lines += [
        "",
        "Hottest functions:",
        "",
        "| share | library | function |",
        "|---|---|---|",
    ]
    for percent, dso, sym in record["top"]:
        lines.append(f"| {percent:.1f} % | {dso} | `{sym[:90]}` |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_model_arguments(parser)
    parser.add_argument("--epochs", type=int, default=8, help="profiled epochs after a warm-up")
    parser.add_argument("--frequency", type=int, default=499, help="perf samples per second")
    args = parser.parse_args(argv)
    require_tensorflow("profile_train.py samples the CPU time of TensorFlow's libraries")

    perf = shutil.which("perf")
    if perf is None:
        raise SystemExit(
            "profile_train.py needs Linux perf, which is not on PATH. "
            "Install it (Debian: apt install linux-perf) and run again."
        )

    import keras

    from vae_keras.data import load_dataset
    from vae_keras.report import benchmark_header
    from vae_keras.training import TrainOptions, train

    dataset = load_dataset(args.dataset, args.data_dir)
    config = model_config(args, dataset, epochs=args.epochs + 1)

    with tempfile.TemporaryDirectory() as tmp:
        data_file = Path(tmp) / "perf.data"
        recorder = {}

        class Profile(keras.callbacks.Callback):
            """Runs perf record from the end of the warm-up epoch to the end of training.

            It samples every CPU (``-a``): ``-p`` undercounts the CPU time of a process
            whose threads come and go. The report keeps this process's samples only.
            """

            def on_epoch_end(self, epoch, logs=None):
                if epoch == 0:
                    recorder["process"] = subprocess.Popen(
                        [
                            perf,
                            "record",
                            "-q",
                            "-e",
                            "cpu-clock",
                            "-F",
                            str(args.frequency),
                            "-a",
                            "-o",
                            str(data_file),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                    )
                    time.sleep(0.5)  # let perf attach
                    recorder["start"] = time.perf_counter()

            def on_train_end(self, logs=None):
                recorder["wall"] = time.perf_counter() - recorder["start"]
                recorder["process"].send_signal(signal.SIGINT)
                recorder["process"].wait(timeout=120)

        history = train(
            config,
            dataset,
            Path(tmp) / "run",
            verbose=0,
            callbacks=[Profile()],
            options=TrainOptions(),
        )
        if recorder["process"].returncode not in (0, -signal.SIGINT) or not data_file.exists():
            raise SystemExit(
                f"perf record failed: {recorder['process'].stderr.read().decode()[-500:]}\n"
                "On a machine that forbids profiling, try: sysctl kernel.perf_event_paranoid=1"
            )
        report = subprocess.run(
            [
                perf,
                "report",
                "-i",
                str(data_file),
                "--pid",
                str(os.getpid()),
                "--no-children",
                "--sort",
                "dso,sym",
                "--stdio",
                "-g",
                "none",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    rows = parse_report(report)  # percentages of all CPUs' samples, this process's rows only
    process_percent = sum(row[0] for row in rows)
    cpu_seconds = cpu_clock_seconds(report) * process_percent / 100
    rows = [(percent * 100 / process_percent, dso, sym) for percent, dso, sym in rows]
    measured = history[1:]
    record = {
        **benchmark_header(),
        "cores": os.cpu_count(),
        "config": config.to_dict(),
        "epochs": len(measured),
        "seconds_per_epoch": sum(r["seconds"] for r in measured) / len(measured),
        "cpu_seconds_per_epoch": cpu_seconds / len(measured),
        "busy_cores": cpu_seconds / recorder["wall"],
        "shares_percent": classify(rows),
        "top": rows[:12],
    }
    for kind, percent in sorted(record["shares_percent"].items(), key=lambda kv: -kv[1]):
        print(f"{percent:5.1f} %  {kind}")
    write_record(
        record,
        "profile_train",
        args,
        profile_table,
        ("<!-- profile:start -->", "<!-- profile:end -->"),
    )


if __name__ == "__main__":
    main()
