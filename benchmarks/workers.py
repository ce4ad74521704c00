"""Benchmark: wall time of an 8-cell grid with ``--workers 1`` and ``--workers 2``.

Runs the same ``badlabels experiment`` command twice, each time into a fresh folder, and prints
both wall times, the speed-up, the largest metric difference between the two runs (it should be
0: a cell's result does not depend on the number of workers) and the exact commands.

    python benchmarks/workers.py                 # 8 LSTM cells, peptide12, 2,000 sequences
    python benchmarks/workers.py --n-sequences 4000 --epochs 4 --workers 1 2 4

A benchmark, not a test: the figures depend on the machine and on what else runs on it
(the load average is printed with them).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def command(out: Path, workers: int, args, threads: int | None = None) -> list[str]:
    exe = shutil.which("badlabels") or str(Path(sys.executable).with_name("badlabels"))
    extra = ["--threads", str(threads)] if threads else []
    return [
        exe, "experiment", "--dataset", "peptide12", "--n-sequences", str(args.n_sequences),
        "--models", "lstm", "--noise-rates", "0,0.1,0.2,0.3", "--seeds", "0,1",
        "--batch-sizes", str(args.batch_size), "--epochs", str(args.epochs), "--patience",
        str(args.epochs), "--device", "cpu", "--workers", str(workers), "--out", str(out),
        "--no-report", "-q", *extra,
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sequences", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--single-thread-baseline", action="store_true",
        help="Also time --workers 1 --threads 1 (serial without intra-op threads).",
    )  # fmt: skip
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="Run every setting this many times, interleaved; the median time is compared.",
    )  # fmt: skip
    args = parser.parse_args()
    runs = [(w, None) for w in args.workers]
    if args.single_thread_baseline:
        runs.insert(1, (1, 1))

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cores available: {cores}; load average before: {os.getloadavg()[0]:.2f}")
    samples, frames, commands = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="badlabels-bench-") as tmp:
        for rep in range(args.repeat):
            for w, threads in runs:
                key = f"--workers {w}" + (f" --threads {threads}" if threads else "")
                out = Path(tmp) / f"w{w}t{threads}r{rep}"
                cmd = command(out, w, args, threads)
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                samples.setdefault(key, []).append(time.perf_counter() - t0)
                frames[key] = pd.read_csv(out / "results.csv").set_index("cell_id").sort_index()
                commands[key] = " ".join(shlex.quote(c) for c in cmd).replace(str(out), "OUT")
                print(f"{key}: {samples[key][-1]:7.1f} s  ({len(frames[key])} cells)", flush=True)
    times = {k: statistics.median(v) for k, v in samples.items()}
    for key, cmd in commands.items():
        runs_txt = ", ".join(f"{t:.1f}" for t in samples[key])
        print(f"{key}: median {times[key]:.1f} s over [{runs_txt}]\n   $ {cmd}")
    base = next(iter(times))
    metrics = ["auroc", "auprc", "noisy_test_auroc", "corrected_test_auroc"]
    for key in list(times)[1:]:
        diff = (frames[key][metrics] - frames[base][metrics]).abs().max().max()
        print(f"speed-up {key} vs {base}: {times[base] / times[key]:.2f}x; "
              f"largest metric difference: {diff:.2e}")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
