"""How precisely can noisy labels alone know a model's clean AUROC? (issue 16's limits)

``badlabels plan`` scores its models against the noisy labels and corrects each score for the
noise: ``A = 1/2 + (Ã − 1/2) / ρ`` with ``ρ = 1 − e0 − e1``. At 40 % symmetric flips ``ρ = 0.2``,
so every error in the noisy AUROC ``Ã`` is multiplied by 5, and every error in the noise rate
moves ``A`` by ``(A − 1/2) / ρ`` per unit of ``ρ``. This script measures both on the issue's
benchmark data, with one fixed model, so that nothing else varies:

1. One draw of 60,000 peptide12 sequences (seed 0), cut as ``benchmarks/plan_validation.py``
   cuts it: the data (20,000) and a clean test set (20,000). ``noise.symmetric`` flips 40 % of
   the data's labels (seed 0), and one LSTM (the plan's model, seed 0) is trained on them: the
   scenario "now".
2. Its clean-test AUROC is the truth. Then ``--draws`` new sets of 40 % flips are drawn on the
   test labels, and for each the corrected AUROC is computed with the *true* noise rates: the
   spread of that estimate is the label-sampling error alone, with a perfect noise estimate and
   20,000 held-out labels (as many as ``plan`` has in all, out of fold).
3. The sensitivity of the corrected AUROC to the noise-rate estimate, ``dA/dp``.
4. From the clean learning curve measured by ``plan_validation.py``, the AUROC precision that a
   ±30 % exchange rate needs, and how often an unbiased estimate with the spread of (2) lands
   within each acceptance tolerance.

    python benchmarks/plan_limits.py [--draws 2000]

Writes ``benchmarks/results/plan_limits.json`` and prints the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

RESULTS = ROOT / "benchmarks" / "results"


def _within(sd: float, tol: float) -> float:
    """P(|N(0, sd²)| <= tol): how often an unbiased estimate lands within ``tol``."""
    return math.erf(tol / (sd * math.sqrt(2.0)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=2000, help="New flip draws on the test labels.")
    ap.add_argument("--rate", type=float, default=0.4)
    args = ap.parse_args()
    from plan_validation import fit_jobs
    from sklearn.metrics import roc_auc_score

    from badlabels.data.peptide12 import peptide12_frame
    from badlabels.evaluation.correction import corrected_auroc_from
    from badlabels.noise import symmetric

    p = args.rate
    pool = peptide12_frame(60_000, seed=0)[["sequence", "label"]]
    data, test = pool.iloc[:20_000], pool.iloc[40_000:]
    y_data = data["label"].to_numpy(np.int8)
    y_noisy = symmetric(y_data, p, seed=0).labels
    y_test = test["label"].to_numpy(np.int8)
    t0 = time.perf_counter()
    # two seeds: one job alone does not train stacked; the first is the model studied
    score, _ = fit_jobs([(data["sequence"].to_numpy(object), y_noisy, s) for s in (0, 1)],
                        test["sequence"].to_numpy(object), [0, 1], label="now")  # fmt: skip
    train_s = time.perf_counter() - t0
    truth = float(roc_auc_score(y_test, score))
    matrix = np.array([[1 - p, p], [p, 1 - p]])
    prior = float(y_test.mean())

    def corrected(y):
        return corrected_auroc_from(roc_auc_score(y, score), float(y.mean()), matrix, prior)

    est_full, est_fold = [], []
    folds = np.array_split(np.random.default_rng(0).permutation(len(y_test)), 5)
    for d in range(args.draws):
        y = symmetric(y_test, p, seed=1000 + d).labels
        est_full.append(corrected(y))
        if d < args.draws // 4:  # five folds of 4,000 scored one by one, as plan does
            fold_est = [corrected_auroc_from(roc_auc_score(y[f], score[f]), float(y[f].mean()),
                                             matrix, prior) for f in folds]  # fmt: skip
            est_fold.append(float(np.mean(fold_est)))
    est_full, est_fold = np.asarray(est_full), np.asarray(est_fold)
    sd_full, sd_fold = float(est_full.std(ddof=1)), float(est_fold.std(ddof=1))
    rho = 1 - 2 * p
    # A = 1/2 + (Ã − 1/2)/ρ, ρ = 1 − 2p: dA/dp = 2(A − 1/2)/ρ
    dA_dp = 2 * (truth - 0.5) / rho

    val = json.loads((RESULTS / "plan_validation_peptide12.json").read_text())
    curve = dict((int(m), a) for m, a in val["exchange"]["clean_curve"])
    slope = (curve[2000] - curve[1000]) / 1.0  # AUROC per doubling where the exchange rate lies
    tol_up, tol_down = slope * math.log2(1.3), slope * math.log2(1 / 0.7)
    out = {
        "data": "peptide12 60,000 seed 0: data rows 0-19,999, test rows 40,000-59,999",
        "rate": p, "draws": args.draws, "train_seconds": train_s,
        "truth_clean_test_auroc": truth,
        "corrected_20000": {"mean": float(est_full.mean()), "sd": sd_full,
                            "q025": float(np.quantile(est_full, 0.025)),
                            "q975": float(np.quantile(est_full, 0.975)),
                            "share_within_0.02": float(np.mean(np.abs(est_full - truth) <= 0.02))},
        "corrected_5x4000": {"mean": float(est_fold.mean()), "sd": sd_fold,
                             "share_within_0.02": float(np.mean(np.abs(est_fold - truth) <= 0.02))},
        "dA_dflip_rate": dA_dp,
        "flip_rate_error_for_0.02": 0.02 / dA_dp,
        "exchange": {"clean_auroc_per_doubling_1000_2000": slope,
                     "auroc_tolerance_for_+30%": tol_up, "auroc_tolerance_for_-30%": tol_down,
                     "p_within_30%_if_unbiased": _within(sd_full, min(tol_up, tol_down))},
        "p_within_0.02_if_unbiased": _within(sd_full, 0.02),
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "plan_limits.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
