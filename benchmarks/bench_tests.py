#!/usr/bin/env python
"""What each test file costs: a suite run with ``--durations=0``, each file's share, each
worker's load.

Runs one suite as ``make test`` (or ``make test-slow``) runs it, ``pytest -n auto --dist
loadfile`` in this checkout, with ``--durations=0 -v`` added, times it (wall clock), and sums
the durations that pytest reports (set-up, call, tear-down) per test file and per xdist worker;
it keeps the costliest tests too.
The wall time against the suite's budget (``make test``: 5 minutes, ``make test-slow``: 7, so
that ``.ci/run`` stays within 12 on a 2-core CPU) is the guard the next change reads; the
per-file shares say where to look; the per-worker loads say whether ``--dist loadfile`` keeps
both workers busy (a long file started last runs alone: tests/conftest.py's LONGEST_FIRST and
SLOW_ORDER).
The CPU seconds of the suite's processes (pytest, its workers and every process they started
and waited for) say whether any order could meet the budget at all: on 2 cores a 5-minute
suite has 600 s of CPU to spend, and a suite that needs more must do less work, not wait less.

Writes benchmarks/results/bench_tests_<suite>_<cpu>.json (the CPU: its model and vector
extensions) and, with the records of every CPU,
the table between the ``tests-time`` markers of docs/tests.md, and the list between its
``tests-files`` markers: every test file, what it proves (the first paragraph of its
docstring), the suite its tests run in and its seconds in the newest record of each suite
(``--table-only`` rewrites both alone). A suite that fails still writes its record, marked
failed, and exits 1.

``--load`` runs the suite with work beside it, to find the tests that fail only on a busy
machine (a timeout that assumes a quiet one): ``busy``, a Python busy loop (one core);
``pytest``, ``make test``'s suite on one worker, started again whenever it ends. Such a record
goes to its own file (``..._busy.json``, ``..._pytest.json``), its row in the table says so,
and the per-file list keeps the quiet records.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import cpu_log  # noqa: E402  (tests/cpu_log.py: the workers' CPU files, written and read)

from vae_keras.atomic import write_json_atomic
from vae_keras.machine import cpu_name, file_slug, recorded_machine
from vae_keras.report import benchmark_header, replace_block

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
START, END = "<!-- tests-time:start -->", "<!-- tests-time:end -->"
FILES_START, FILES_END = "<!-- tests-files:start -->", "<!-- tests-files:end -->"
#: suite: (pytest's -m expression, budget in seconds on a 2-core CPU)
SUITES = {"fast": ("not slow", 5 * 60), "slow": ("slow", 7 * 60)}
DURATION = re.compile(r"^\s*([0-9.]+)s (setup|call|teardown)\s+(\S+?)::(\S+)")
WORKER = re.compile(r"^\[(gw\d+)\].*?(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+?)::(\S+)")
SUMMARY = re.compile(r"(\d+) (passed|failed|errors?|skipped)")
#: How many of the costliest tests a record keeps.
SLOWEST = 15
#: --load: the work run beside the suite, and how the table names it.
LOADS = {
    "busy": ([sys.executable, "-c", "while True: pass"], "beside a busy loop"),
    "pytest": (
        ["bash", "-c", f"while true; do {sys.executable} -m pytest -q -p no:cacheprovider "
         "-m 'not slow' -x > /dev/null 2>&1; done"],
        "beside make test on one worker",
    ),
}  # fmt: skip


def parse(output: str) -> dict:
    """Per-file seconds, per-worker seconds and the counts, from pytest's ``-v --durations=0``
    output (the ``[gw0] PASSED file::test`` lines say which worker ran which test)."""
    per_test: dict[tuple[str, str], float] = defaultdict(float)
    worker_of: dict[tuple[str, str], str] = {}
    for line in output.splitlines():
        if match := DURATION.match(line):
            per_test[(match.group(3), match.group(4))] += float(match.group(1))
        elif match := WORKER.match(line):
            worker_of[(match.group(3), match.group(4))] = match.group(1)
    files: dict[str, float] = defaultdict(float)
    workers: dict[str, float] = defaultdict(float)
    for (file, test), seconds in per_test.items():
        files[file] += seconds
        workers[worker_of.get((file, test), "?")] += seconds
    slowest = sorted(per_test.items(), key=lambda kv: -kv[1])[:SLOWEST]
    summary_line = next(
        (line for line in reversed(output.splitlines()) if " in " in line and "passed" in line),
        "",
    )
    counts = {kind.rstrip("s"): int(n) for n, kind in SUMMARY.findall(summary_line)}
    return {
        "files": dict(sorted(files.items(), key=lambda kv: -kv[1])),
        "workers": dict(sorted(workers.items())),
        "slowest_tests": {f"{file}::{test}": round(t, 1) for (file, test), t in slowest},
        "counts": counts,
    }


def cpu_slug(cpu: dict) -> str:
    """A record's CPU in its file name: the model and its vector extensions, since one model
    name ("Intel(R) Xeon(R) Processor") covers CPUs that run the suite twice as fast as
    each other (with AMX and without)."""
    return file_slug(" ".join([cpu["model"], *cpu.get("extensions", [])]))


def run_suite(suite: str, load: str | None = None) -> tuple[float, float, dict, int, str]:
    """Run ``suite`` as the Makefile does, with the durations, and ``load``'s work beside it
    (:data:`LOADS`, stopped when the suite ends); (wall seconds, CPU seconds, each file's CPU
    (:func:`cpu_log.merged`), exit code, output). The CPU seconds are the suite's alone: the load
    is waited for only after they are read; a process that its parent never waited for (one
    left to run on) is missing."""
    marker, _ = SUITES[suite]
    command = [sys.executable, "-m", "pytest", "-n", "auto", "--dist", "loadfile", "-m",
               marker, "-v", "--durations=0", "-p", "no:cacheprovider"]  # fmt: skip
    beside = None
    if load:  # its own process group, so that stopping it stops its pytest too
        beside = subprocess.Popen(LOADS[load][0], cwd=ROOT, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="bench-tests-cpu-") as folder:
            env = {**os.environ, cpu_log.VARIABLE: folder}
            start, cpu = time.perf_counter(), cpu_log.cpu_seconds(resource.RUSAGE_CHILDREN)
            result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - start
            cpu = cpu_log.cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
            per_file = cpu_log.merged(folder)
        return wall, cpu, per_file, result.returncode, result.stdout + result.stderr
    finally:
        if beside is not None:
            os.killpg(beside.pid, signal.SIGKILL)
            beside.wait()


def shares(record: dict, top: int = 8) -> list[str]:
    """The record's lines: wall time against the budget, the workers, the costliest files."""
    total = sum(record["files"].values()) or 1.0
    wall, budget = record["wall_seconds"], record["budget_seconds"]
    lines = [
        f"{record['suite']}: {wall:.0f} s wall, {wall / budget:.2f} of its "
        f"{budget // 60}-minute budget; {record['counts']}",
        *cpu_line(record),
        "workers: " + ", ".join(f"{w} {s:.0f} s" for w, s in record["workers"].items()),
    ]
    split = record.get("cpu_by_file", {})
    for file, seconds in list(record["files"].items())[:top]:
        cpu = split.get(file)
        started = (f"  (CPU: {cpu['in_worker']:.0f} s in the worker, {cpu['started']:.0f} s in "
                   "processes it started)") if cpu else ""  # fmt: skip
        lines.append(f"  {seconds:7.1f} s  {seconds / total:5.1%}  {file}{started}")
    lines.append("slowest tests (set-up, call and tear-down):")
    for test, seconds in list(record.get("slowest_tests", {}).items())[:top]:
        lines.append(f"  {seconds:7.1f} s  {test}")
    return lines


def cpu_line(record: dict) -> list[str]:
    """The record's CPU seconds against what its cores can give in its wall time and in its
    budget (none for a record from before they were measured)."""
    cpu, cores = record.get("cpu_seconds"), record.get("cpu", {}).get("cores")
    if cpu is None or not cores:
        return []
    return [
        f"CPU: {cpu:.0f} s, {cpu / (record['wall_seconds'] * cores):.0%} of {cores} cores over "
        f"the wall time; the budget gives {record['budget_seconds'] * cores} s"
    ]


def table(records: list[dict]) -> str:
    """The Markdown table of every record: one row per suite and CPU, its costliest files."""
    rows = [
        "| suite | date, commit | machine | wall | of budget | CPU (s) | workers (s) "
        "| costliest files (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(records, key=lambda r: (r["suite"], r["date"])):
        workers = ", ".join(f"{s:.0f}" for s in r["workers"].values())
        costly = ", ".join(
            f"{Path(f).stem.removeprefix('test_')} {s:.0f}" for f, s in list(r["files"].items())[:4]
        )
        cpu = f"{r['cpu_seconds']:.0f}" if r.get("cpu_seconds") is not None else "?"
        if r.get("cpu_by_file"):  # the share of the processes that the tests started
            cpu += f" ({sum(c['started'] for c in r['cpu_by_file'].values()):.0f} started)"
        state = "" if r["returncode"] == 0 else " (failed)"
        if r.get("load"):
            state += f" {LOADS[r['load']][1]}"
        rows.append(
            f"| `make test{'-slow' if r['suite'] == 'slow' else ''}`{state} | {r['date'][:10]}, "
            f"{r.get('commit') or '?'} | {recorded_machine(r)} | {r['wall_seconds']:.0f} s "
            f"| {r['wall_seconds'] / r['budget_seconds']:.2f} | {cpu} | {workers} | {costly} |"
        )
    return "\n".join(rows)


def what_it_proves(path: Path) -> str:
    """The first paragraph of a test file's docstring, on one line."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or "(no docstring)"
    return " ".join(doc.split("\n\n")[0].split()).replace("|", "\\|")


def file_table(records: list[dict], tests: Path = ROOT / "tests") -> str:
    """Every test file: what it proves, and its seconds in the newest record of each suite
    (the suite it runs in: a file can have tests in both; blank where it has none)."""
    newest = {}
    for r in sorted(records, key=lambda r: r["date"]):
        if not r.get("load"):  # the quiet records: a loaded one's seconds are the load's too
            newest[r["suite"]] = r
    suites = [s for s in SUITES if s in newest]
    head = " | ".join(
        f"`make test{'-slow' if s == 'slow' else ''}` (s; {newest[s]['date'][:10]}, "
        f"{cpu_name(newest[s]['cpu'])})"
        for s in suites
    )
    rows = [f"| file | what it proves | {head} |", "|---|---|" + "---|" * len(suites)]
    for path in sorted(tests.glob("test_*.py")):
        name = f"tests/{path.name}"
        seconds = " | ".join(
            f"{newest[s]['files'][name]:.0f}" if name in newest[s]["files"] else "" for s in suites
        )
        rows.append(f"| `{path.name}` | {what_it_proves(path)} | {seconds} |")
    return "\n".join(rows)


def write_table(page: Path) -> None:
    records = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("bench_tests_*.json"))]
    replace_block(page, START, END, table(records))
    replace_block(page, FILES_START, FILES_END, file_table(records))
    print(f"Tables of {len(records)} record(s) written to {page}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", choices=sorted(SUITES), default="fast")
    parser.add_argument("--page", default="docs/tests.md", help="page whose table to rewrite")
    parser.add_argument("--table-only", action="store_true", help="rewrite the table and exit")
    parser.add_argument(
        "--load", choices=sorted(LOADS), default=None, help="run the suite with this beside it"
    )
    args = parser.parse_args(argv)
    page = ROOT / args.page
    if args.table_only:
        write_table(page)
        return 0
    wall, cpu, per_file, code, output = run_suite(args.suite, args.load)
    header = benchmark_header()
    record = {
        **header,
        "suite": args.suite,
        "command": f"pytest -n auto --dist loadfile -m '{SUITES[args.suite][0]}'",
        "budget_seconds": SUITES[args.suite][1],
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "cpu_by_file": per_file,
        "returncode": code,
        "load": args.load,
        **parse(output),
    }
    record["files"] = {f: round(s, 1) for f, s in record["files"].items()}
    record["workers"] = {w: round(s, 1) for w, s in record["workers"].items()}
    RESULTS.mkdir(exist_ok=True)
    loaded = f"_{args.load}" if args.load else ""
    out = RESULTS / f"bench_tests_{args.suite}_{cpu_slug(header['cpu'])}{loaded}.json"
    write_json_atomic(out, record)
    print("\n".join(shares(record)))
    print(f"Record written to {out}")
    write_table(page)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
