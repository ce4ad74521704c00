"""What the ``robust`` recipe (an ensemble of 5 LSTMs) costs against one plain ``bce`` LSTM.

Runs, one cell after another in this process (``--engine plain``: no stacking across cells, so
each cell's ``train_seconds`` is its own), on peptide12 (default 20,000 sequences) at 45 %
symmetric flips, seed 0::

    badlabels experiment --dataset peptide12 --n-sequences N --noise-rates 0.45 --seeds 0 \\
        --models lstm --methods bce,robust,ensemble --method-param ensemble.stacked=false \\
        --engine plain --no-report

and prints each cell's training time, ``robust / bce`` (the issue's "at most 3x") and
``robust / (5 x bce-member fits one after another)`` (``ensemble`` with ``stacked=false``: the
same five members trained plain; "less than K plain fits").

Usage (quiet machine: nothing else on the cores)::

    python benchmarks/ensemble_cost.py --device cpu
    python benchmarks/ensemble_cost.py --n 5000          # quicker
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "runs" / "ensemble_cost")
    ap.add_argument("--force", action="store_true", help="retrain cells already in the store")
    args = ap.parse_args(argv)
    cmd = [
        sys.executable, "-m", "badlabels", "experiment", "--dataset", "peptide12",
        "--n-sequences", str(args.n), "--noise-rates", "0.45", "--seeds", "0",
        "--models", "lstm", "--methods", "bce,robust,ensemble",
        "--method-param", "ensemble.stacked=false", "--engine", "plain", "--no-report",
        "--device", args.device, "--out", str(args.out), "--quiet",
    ]  # fmt: skip
    if args.force:
        cmd.append("--force")
    print("$ " + " ".join(cmd[2:]), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    frame = pd.read_csv(args.out / "results.csv").set_index("method")
    secs = frame["train_seconds"]
    print(f"wall {time.perf_counter() - t0:.0f} s")
    for method in ("bce", "robust", "ensemble"):
        r = frame.loc[method]
        print(f"  {method:9s} {secs[method]:7.1f} s  {int(r['epochs_run']):3d} epochs  "
              f"AUROC {r['auroc']:.3f}  engine {r['engine']}")  # fmt: skip
    print(f"robust / bce = {secs['robust'] / secs['bce']:.2f}x")
    print(f"robust (stacked) / 5 members one after another = "
          f"{secs['robust'] / secs['ensemble']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
