"""Does the audit of scores find the real noisy scores of GB1? (read counts it never sees)

GB1's fitness is a ratio of read counts (``count_selected / count_input``, relative to the
wild type), so a variant measured with few input reads has a noisier score. The audit of
scores never sees the counts: it learns the log10 fitness with out-of-fold LSTMs and flags the
scores that sit far from their prediction. If its flags on the *uncorrupted* file are real
measurement noise, they should gather among the variants with few input reads.

1. ``badlabels audit --dataset gb1 --data gb1_wu2016.csv.gz --task regression --out DIR``,
   with every default (LSTM, 5 folds, engine auto), on all 149,361 variants as published.
2. The flags and label-quality scores are joined to the file's ``count_input``: the share
   flagged per input-count bin, the median input count of flagged and other variants, and
   the Spearman correlation between input count and label quality.

    python benchmarks/gb1_score_audit_counts.py [--reuse]

``--reuse`` reads ``DIR/suspects.csv`` if an earlier run of step 1 left it.
Writes ``benchmarks/results/gb1_score_audit_counts.json`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
GB1 = ROOT.parent / "shared" / "data" / "gb1_wu2016.csv.gz"
OUT = ROOT / "benchmarks" / "runs" / "gb1_score_audit"
RESULT = ROOT / "benchmarks" / "results" / "gb1_score_audit_counts.json"
BINS = [10, 20, 50, 100, 1000, np.inf]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reuse", action="store_true", help="Reuse DIR/suspects.csv if present.")
    ap.add_argument("--out", type=Path, default=OUT, help="The audit's folder.")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from badlabels.evaluation.read_depth import read_depth_check

    seconds = None
    cmd = [sys.executable, "-m", "badlabels", "audit", "--dataset", "gb1", "--data", str(GB1),
           "--task", "regression", "--out", str(args.out), "-q"]  # fmt: skip
    if not (args.reuse and (args.out / "suspects.csv").is_file()):
        print("$ badlabels " + " ".join(cmd[3:]), flush=True)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT)
        seconds = time.perf_counter() - t0
    suspects = pd.read_csv(args.out / "suspects.csv")
    audit = json.loads((args.out / "audit.json").read_text())
    gb1 = pd.read_csv(GB1)
    m = gb1.merge(suspects, left_on="variant", right_on="sequence", validate="one_to_one")
    assert len(m) == len(gb1) == len(suspects)
    flag = m["flagged"].eq("yes").to_numpy()
    counts = m["count_input"].to_numpy()
    rows = []
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        sel = (counts >= lo) & (counts < hi)
        rows.append({"input_reads": f"{lo}-{hi - 1:.0f}" if np.isfinite(hi) else f">= {lo}",
                     "n": int(sel.sum()), "flagged": int(flag[sel].sum()),
                     "share_flagged": float(flag[sel].mean())})  # fmt: skip
    check = read_depth_check(counts, flag, m["quality"].to_numpy())  # what audit.json holds
    out = {
        "command": "python benchmarks/gb1_score_audit_counts.py",
        "audit_command": "badlabels " + " ".join(cmd[3:]),
        "audit_seconds": seconds if seconds is not None else audit.get("seconds"),
        "n": int(len(m)),
        "n_flagged": int(flag.sum()),
        "estimated_outlier_fraction": audit.get("estimated_outlier_fraction"),
        "oof_spearman": audit.get("oof_metrics_vs_given_scores", {}).get("spearman"),
        "median_input_reads_flagged": check["median_input_flagged"],
        "median_input_reads_other": check["median_input_other"],
        "zero_fitness_share_flagged": float((m["fitness"].to_numpy()[flag] == 0).mean()),
        "zero_fitness_share_other": float((m["fitness"].to_numpy()[~flag] == 0).mean()),
        "spearman_input_reads_vs_quality": check["spearman_input_quality"],
        "by_input_reads": rows,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(out, indent=2) + "\n")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(json.dumps({k: v for k, v in out.items() if k != "by_input_reads"}, indent=1))
    print(f"-> {RESULT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
