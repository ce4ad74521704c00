"""How ``badlabels plan`` fits its curve: the screen on development data (issue 16).

Development data only (the acceptance benchmark, benchmarks/plan_validation.py, uses other
draws and informed no choice): peptide12 drawn with seed 1 and a GB1 subsample drawn with seed 1
(``plan_dev_curves.dev_data``), 16,000 rows each, 40 % symmetric flips (seed 0). ``plan`` runs
twice on each, with the noise response at half size (+0.1, +0.2, +0.3, the default) and at full
size (+0.05, +0.1, +0.2); then the curve is refitted to the same points four ways (steepness ``c``
and discount exponent ``gamma`` each fitted or held: ``c`` = 0.65 from the clean development
curves, ``gamma`` = 2 from the theory). Each is compared with the truths: the same LSTM trained
on the 16,000 clean labels (``plan_dev_curves.py``) and on the 16,000 noisy ones (2 seeds), and
the exchange rate read off the clean development curve.

    python benchmarks/plan_dev.py [--datasets peptide12,gb1]

Writes ``benchmarks/runs/plan_dev/`` and ``benchmarks/results/plan_dev.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

RUNS = ROOT / "benchmarks" / "runs" / "plan_dev"
DESIGNS = {"half": {"extra_noise": (0.1, 0.2, 0.3), "noise_fraction": 0.5},
           "full": {"extra_noise": (0.05, 0.1, 0.2), "noise_fraction": 1.0}}  # fmt: skip
VARIANTS = {"c, gamma fitted": (None, None), "c fitted, gamma = 2": (None, 2.0),
            "c = 0.65, gamma fitted": (0.65, None), "c = 0.65, gamma = 2": (0.65, 2.0)}  # fmt: skip


def exchange_truth(curve: dict, target: float) -> float | None:
    ms, aucs = curve["sizes"], curve["auroc"]
    for m1, a1, m2, a2 in zip(ms, aucs, ms[1:], aucs[1:], strict=False):
        if a1 <= target <= a2 and a2 > a1:
            return float(np.exp(np.log(m1) + (target - a1) / (a2 - a1) * np.log(m2 / m1)))
    return None


def main() -> None:
    from plan_dev_curves import dev_data
    from plan_validation import fit_jobs
    from sklearn.metrics import roc_auc_score

    from badlabels.evaluation.learning_curve import fit_curve
    from badlabels.noise import symmetric
    from badlabels.planner import plan

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", default="peptide12,gb1")
    args = ap.parse_args()
    curves = json.loads((ROOT / "benchmarks" / "results" / "plan_dev_curves.json").read_text())
    out = {}
    for name in args.datasets.split(","):
        train, test = dev_data(name)
        seqs = train["sequence"].to_numpy(object)
        y = symmetric(train["label"].to_numpy(np.int8), 0.4, seed=0).labels
        n = len(y)
        cache = RUNS / f"{name}_truth_now.json"
        if cache.exists():
            now_runs = json.loads(cache.read_text())
        else:
            probs = fit_jobs([(seqs, y, s) for s in (0, 1)], test["sequence"].to_numpy(object), None)
            now_runs = [float(roc_auc_score(test["label"].to_numpy(np.int8), p)) for p in probs]
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(now_runs))
        truth_now = float(np.mean(now_runs))
        truth_clean = float(curves[name]["auroc"][-1])  # the 16,000 clean labels
        truth_exchange = exchange_truth(curves[name], truth_now)
        res = {"truth": {"now": now_runs, "clean": truth_clean, "exchange": truth_exchange},
               "designs": {}}  # fmt: skip
        for tag, kw in DESIGNS.items():
            r = plan(seqs, y, out=RUNS / name, n_boot=20, **kw)
            pts = r.points
            m = np.array([p["m"] for p in pts])
            rho = np.array([p["rho"] for p in pts])
            auc = np.array([p["auroc"] for p in pts])
            rows = {}
            for label, (c, g) in VARIANTS.items():
                f = fit_curve(m, rho, auc, c=c, gamma=g)
                clean = float(f.predict(n, 1.0))
                now = float(f.predict(n, r.noise["rho"]))
                exch = float(n * r.noise["rho"] ** f.gamma)
                rows[label] = {"fit": f.to_dict(), "clean": clean, "clean_error": clean - truth_clean,
                               "now": now, "now_error": now - truth_now, "exchange": exch,
                               "exchange_ratio": None if truth_exchange is None else exch / truth_exchange}  # fmt: skip
                print(f"{name} {tag:4s} {label:24s} clean {clean:.3f} ({clean - truth_clean:+.3f}) "
                      f"now {now:.3f} ({now - truth_now:+.3f}) exchange {exch:.0f} "
                      f"(truth {truth_exchange or float('nan'):.0f})", flush=True)  # fmt: skip
            res["designs"][tag] = {"noise": r.noise, "points": pts, "variants": rows}
        out[name] = res
    path = ROOT / "benchmarks" / "results" / "plan_dev.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"-> {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
