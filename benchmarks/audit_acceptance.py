"""Acceptance measurement of ``badlabels audit`` on peptide12 with known flips.

For each noise rate (default 20 % and 40 % symmetric flips of 20,000 peptide12 labels) it runs,
exactly as a user would::

    badlabels corrupt --dataset peptide12 --n-sequences 20000 --rate R --seed 0 --out DIR/noisy_R.csv
    badlabels audit --data DIR/noisy_R.csv --label-col label_noisy --truth-col is_flipped \\
        --folds K --out DIR/audit_R

and reports, from the files the audit wrote:

- detection precision and recall of the flagged labels against ``is_flipped``;
- the estimated flip rate (noise.json) against the true one;
- the noise-corrected AUROC of the out-of-fold predictions (from the noisy labels and the
  estimated noise matrix) against their AUROC on the clean labels (the ``label`` column).

Usage (LSTM, 5 folds, 3 repeats by default; the 15 fold models train stacked: 4-5 minutes
per rate on a quiet 2-core machine, one rate at a time)::

    python benchmarks/audit_acceptance.py --device cpu
    python benchmarks/audit_acceptance.py --rates 0.2 --engine plain --device cpu  # folds one by one
    python benchmarks/audit_acceptance.py --rates 0.2 --folds 3 --repeats 1       # quicker
    python benchmarks/audit_acceptance.py --device cuda          # on a GPU

Measured (seed 0): see ``docs/audit.md`` and ``benchmarks/results/audit_acceptance.csv``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]


def badlabels_exe() -> list[str]:
    exe = Path(sys.executable).with_name("badlabels")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from badlabels.cli import main; main()"]


def run(args: list[str]) -> str:
    cmd = badlabels_exe() + args
    shown = "badlabels " + " ".join(shlex.quote(a) for a in args)
    print(f"$ {shown}", flush=True)
    subprocess.run(cmd, check=True)
    return shown


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="0.2,0.4")
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--model", default="lstm")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=None, help="audit --repeats (default: the audit's own)")
    ap.add_argument("--device", default=None, help="audit --device (default: auto)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--engine", default=None, help="audit --engine (default: the audit's own, auto)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "audit_acceptance")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    rows = []
    for rate in [float(r) for r in args.rates.split(",")]:
        noisy = args.out / f"noisy_{rate:g}.csv"
        audit_dir = args.out / f"audit_{rate:g}"
        corrupt_cmd = run(
            ["corrupt", "--dataset", "peptide12", "--n-sequences", str(args.n), "--rate",
             f"{rate:g}", "--seed", str(args.seed), "--out", str(noisy)]
        )  # fmt: skip
        audit_args = [
            "audit", "--data", str(noisy), "--label-col", "label_noisy", "--truth-col",
            "is_flipped", "--model", args.model, "--folds", str(args.folds), "--epochs",
            str(args.epochs), "--patience", str(args.patience), "--seed", str(args.seed), "--out", str(audit_dir), "-q",
        ]  # fmt: skip
        if args.threads:
            audit_args += ["--threads", str(args.threads)]
        if args.repeats is not None:
            audit_args += ["--repeats", str(args.repeats)]
        if args.device:
            audit_args += ["--device", args.device]
        if args.engine:
            audit_args += ["--engine", args.engine]
        t0 = time.perf_counter()
        audit_cmd = run(audit_args)
        seconds = time.perf_counter() - t0
        noise = json.loads((audit_dir / "noise.json").read_text())
        sus = pd.read_csv(audit_dir / "suspects.csv")
        src = pd.read_csv(noisy)
        assert (sus["sequence"] == src["sequence"]).all()
        clean_auc = roc_auc_score(src["label"], sus["prob_positive_oof"])
        corr = noise["noise_corrected_oof"]
        det = noise["detection"]
        rows.append(
            {
                "rate": rate,
                "precision": det["precision"],
                "recall": det["recall"],
                "detection_auroc": det["auroc"],
                "true_flip_rate": det["true_flip_rate"],
                "estimated_flip_rate": noise["estimated_flip_rate"]["overall"],
                "noisy_oof_auroc": noise["oof_metrics_vs_given_labels"]["auroc"],
                "corrected_auroc": corr["auroc"],
                "corrected_lo": corr["auroc_lo"],
                "corrected_hi": corr["auroc_hi"],
                "clean_oof_auroc": clean_auc,
                "minutes": seconds / 60,
                "commands": f"{corrupt_cmd} && {audit_cmd}",
            }
        )
        r = rows[-1]
        print(
            f"rate {rate:g}: precision {r['precision']:.3f}, recall {r['recall']:.3f}, "
            f"estimated flip rate {r['estimated_flip_rate']:.3f} (true {r['true_flip_rate']:.3f}); "
            f"corrected AUROC {r['corrected_auroc']:.3f} [{r['corrected_lo']:.3f}, "
            f"{r['corrected_hi']:.3f}] vs clean {clean_auc:.3f} (noisy {r['noisy_oof_auroc']:.3f}); "
            f"{r['minutes']:.1f} min",
            flush=True,
        )
    df = pd.DataFrame(rows)
    df.to_csv(args.out / "acceptance.csv", index=False)
    print()
    print("| rate | precision | recall | est. flip rate | corrected AUROC [95 %] | clean AUROC | noisy AUROC |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['rate']:g} | {r['precision']:.3f} | {r['recall']:.3f} | "
            f"{r['estimated_flip_rate']:.3f} | {r['corrected_auroc']:.3f} "
            f"[{r['corrected_lo']:.3f}, {r['corrected_hi']:.3f}] | {r['clean_oof_auroc']:.3f} | "
            f"{r['noisy_oof_auroc']:.3f} |"
        )
    for r in rows:
        print(f"\nrate {r['rate']:g}: {r['commands']}")


if __name__ == "__main__":
    main()
