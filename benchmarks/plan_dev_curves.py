"""Clean learning curves on development data: where ``badlabels plan``'s curve shape comes from.

The plan's fitted curve holds its steepness ``c`` (docs/plan.md) because the noisy points alone
cannot pin it. Its value was set here, on development data only: peptide12 drawn with seed 1
and a GB1 subsample drawn with seed 1 (the acceptance benchmark, benchmarks/plan_validation.py,
uses the seed-0 draws and never informed a choice). The LSTM (the plan's default model) is
trained on nested clean subsets and scored on a clean test set; the curve of
:mod:`badlabels.evaluation.learning_curve` is fitted with ``c`` free.

    python benchmarks/plan_dev_curves.py [--seeds 2]

Writes ``benchmarks/results/plan_dev_curves.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

SIZES = (250, 500, 1000, 2000, 4000, 8000, 16000)


def dev_data(name: str):
    if name == "peptide12":
        from badlabels.data.peptide12 import peptide12_frame

        pool = peptide12_frame(36_000, seed=1)
        return pool.iloc[:16_000], pool.iloc[16_000:]
    from badlabels.data import load_gb1

    full = load_gb1(ROOT.parent / "shared" / "data" / "gb1_wu2016.csv.gz", quantile=0.5)
    pool = pd.DataFrame({"sequence": full.sequences, "label": full.labels})
    order = np.random.default_rng(1).permutation(len(pool))
    return pool.iloc[order[:16_000]], pool.iloc[order[16_000:36_000]]


def main() -> None:
    from plan_validation import fit_jobs
    from sklearn.metrics import roc_auc_score

    from badlabels.evaluation.learning_curve import fit_curve

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--datasets", default="peptide12,gb1")
    args = ap.parse_args()
    out = {}
    for name in args.datasets.split(","):
        train, test = dev_data(name)
        perm = np.random.default_rng(2).permutation(len(train))
        sets, keys = [], []
        for m in SIZES:
            idx = np.sort(perm[:m])
            for s in range(args.seeds):
                sets.append((train["sequence"].to_numpy(object)[idx],
                             train["label"].to_numpy(np.int8)[idx], s))  # fmt: skip
                keys.append(m)
        probs = fit_jobs(sets, test["sequence"].to_numpy(object), None, label=name)
        y = test["label"].to_numpy(np.int8)
        by = {}
        for m, p in zip(keys, probs, strict=True):
            by.setdefault(m, []).append(float(roc_auc_score(y, p)))
        ms = np.array(sorted(by), dtype=float)
        mean = np.array([np.mean(by[m]) for m in sorted(by)])
        fit = fit_curve(ms, np.ones_like(ms), mean, gamma=1.0)
        out[name] = {"sizes": ms.tolist(), "auroc": mean.tolist(), "runs": by, "fit": fit.to_dict()}
        print(name, [f"{m:.0f}:{a:.3f}" for m, a in zip(ms, mean, strict=True)],
              f"a={fit.a:.3f} n0={fit.n0:.0f} c={fit.c:.2f} rmse={fit.rmse:.4f}", flush=True)
    path = ROOT / "benchmarks" / "results" / "plan_dev_curves.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"-> {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
