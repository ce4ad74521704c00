"""What the ``robust`` recipe (an ensemble of 5 LSTMs) costs against one plain ``bce`` LSTM.

Runs, one cell after another in this process (``--engine plain``: no stacking across cells, so
each cell's ``train_seconds`` is its own), on peptide12 (default 20,000 sequences) at 45 %
symmetric flips, seed 0::

    badlabels experiment --dataset peptide12 --n-sequences N --noise-rates 0.45 --seeds 0 \\
        --models lstm --methods bce,robust --engine plain --no-report
    badlabels experiment ... --methods robust --method-param robust.stacked=false

and prints each cell's training time, ``robust / bce`` (the issue's "at most 3x") and
``robust / (its 5 members trained one after another)`` (``stacked=false``: the same five
members, same encoding and seeds, trained plain; "less than K plain fits").

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

    def run(out: Path, methods: str, *extra: str) -> pd.DataFrame:
        cmd = [
            sys.executable, "-m", "badlabels", "experiment", "--dataset", "peptide12",
            "--n-sequences", str(args.n), "--noise-rates", "0.45", "--seeds", "0",
            "--models", "lstm", "--methods", methods, *extra, "--engine", "plain",
            "--no-report", "--device", args.device, "--out", str(out), "--quiet",
        ]  # fmt: skip
        if args.force:
            cmd.append("--force")
        print("$ " + " ".join(cmd[2:]), flush=True)
        subprocess.run(cmd, check=True)
        return pd.read_csv(out / "results.csv")

    t0 = time.perf_counter()
    first = run(args.out, "bce,robust")
    # the same five members (same encoding, seeds, schedule) trained one after another
    plain = run(args.out / "members_plain", "robust", "--method-param", "robust.stacked=false")
    plain["method"] = "robust, 5 plain fits"
    frame = pd.concat([first, plain]).set_index("method")
    secs = frame["train_seconds"]
    print(f"wall {time.perf_counter() - t0:.0f} s")
    for method in frame.index:
        r = frame.loc[method]
        print(f"  {method:22s} {secs[method]:7.1f} s  {int(r['epochs_run']):3d} epochs  "
              f"AUROC {r['auroc']:.3f}")  # fmt: skip
    print(f"robust / bce = {secs['robust'] / secs['bce']:.2f}x")
    print(f"robust (stacked) / 5 members one after another = "
          f"{secs['robust'] / secs['robust, 5 plain fits']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
