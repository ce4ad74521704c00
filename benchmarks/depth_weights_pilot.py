"""Pilot: does weighting GB1's scores by their read depth help the LSTM regressor?

GB1's log fitness is a ratio of read counts, so its sampling variance is about
``v = 1/(count_selected + 0.5) + 1/(count_input + 0.5)`` (Poisson, delta method).
Inverse-variance weights ``w = 1 / (tau2 + v)`` down-weight the thinly measured variants;
``tau2`` is fixed a priori at the median of ``v`` (so a median variant weighs half as much as
a perfectly counted one): :func:`badlabels.data.regression.depth_weights`, what
``badlabels train --weights depth`` uses. No noise is added: the noise is the data's own.

The 30,000-variant subsample of ``benchmarks/regression_gb1.py --stage losses`` (seed 0), its
80/10/10 split (split seed 0), one LSTMRegressor per seed (``mse``, 30 epochs at most, patience
5) with and without the weights, same seed, split and batches: a paired comparison. Scored by
Spearman on the whole test part and on its well-measured quarter (input reads at least the
data's 75th percentile), which the published scores measure best.

    python benchmarks/depth_weights_pilot.py [--seeds 5]

Writes ``benchmarks/results/depth_weights_pilot.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULT = ROOT / "benchmarks" / "results" / "depth_weights_pilot.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch
    from regression_gb1 import EPOCHS, PATIENCE, load, subsample
    from scipy.stats import spearmanr, t

    from badlabels.data.regression import depth_weights
    from badlabels.data.splits import split_indices
    from badlabels.methods.regression import build_regressor

    torch.set_num_threads(args.threads)
    ds = subsample(load(), 30_000)
    ci = np.asarray(ds.counts["count_input"], dtype=np.float64)
    w, tau2 = depth_weights(ds)  # what `badlabels train --weights depth` uses
    parts = split_indices(len(ds), (0.8, 0.1, 0.1), seed=0)
    train, val, test = parts.train, parts.val, parts.test
    fit_rows = np.concatenate([train, val])  # the estimator takes its own 10 % validation
    well = test[ci[test] >= np.quantile(ci, 0.75)]
    y = ds.targets
    runs = []
    for seed in range(args.seeds):
        row = {"seed": seed}
        for name, weights in (("plain", None), ("weighted", w[fit_rows])):
            t0 = time.perf_counter()
            est = build_regressor("lstm", "mse", model_params={
                "max_epochs": EPOCHS, "patience": PATIENCE, "random_state": seed, "device": "cpu"})
            est.fit(ds.sequences[fit_rows], y[fit_rows], sample_weight=weights)
            pred = est.predict(ds.sequences[test])
            row[name] = float(spearmanr(y[test], pred).statistic)
            row[name + "_well"] = float(spearmanr(y[well], pred[np.isin(test, well)]).statistic)
            row[name + "_seconds"] = time.perf_counter() - t0
        runs.append(row)
        print(row, flush=True)

    def paired(key):
        d = np.array([r["weighted" + key] - r["plain" + key] for r in runs])
        half = t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
        return {"mean": float(d.mean()), "lo": float(d.mean() - half), "hi": float(d.mean() + half),
                "wins": int((d > 0).sum()), "n": len(d)}  # fmt: skip

    out = {"command": "python benchmarks/depth_weights_pilot.py", "n": len(ds), "tau2": tau2,
           "n_test": int(len(test)), "n_test_well": int(len(well)), "runs": runs,
           "weighted_minus_plain": paired(""), "weighted_minus_plain_well": paired("_well")}  # fmt: skip
    RESULT.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: out[k] for k in ("weighted_minus_plain", "weighted_minus_plain_well")},
                     indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
