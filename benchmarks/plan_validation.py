"""Check ``badlabels plan``'s predictions where the truth is known (issue 16).

peptide12: one draw of 60,000 sequences (seed 0) is cut into the data (20,000), 20,000 more
variants (for the "collect" scenario) and a clean test set of 20,000. ``badlabels corrupt``
flips 40 % of the data's labels; ``badlabels plan`` sees only that noisy file. Then the truths
are measured by training the same model (the plan's default, one LSTM) on what each scenario
describes, with ``--seeds`` seeds each, scored on the clean test set:

- ``now``: the 20,000 noisy labels;
- ``clean``: the same 20,000 labels clean;
- ``remeasure:K``: the K most suspect labels (plan's ``remeasure.csv``) replaced by the clean ones;
- ``collect:1``: the 20,000 noisy labels plus 20,000 more variants at 40 % flips;
- the clean learning curve (nested clean subsets) and from it the exchange rate: the clean
  labels at which it reaches the ``now`` model's AUROC.

GB1 (``--dataset gb1``): the benchmark's 30,000-variant subsample (``benchmarks/robustness.py``:
drawn with seed 0), label = fitness above the file's median; 20,000 of the other variants are
the clean test set. Only ``now`` and ``clean`` are measured.

    python benchmarks/plan_validation.py --dataset peptide12 [--seeds 3]
    python benchmarks/plan_validation.py --dataset gb1

Writes ``benchmarks/runs/plan_validation/<dataset>/`` (the files, the plan's folder) and
``benchmarks/results/plan_validation_<dataset>.json``; prints the comparison table.
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
sys.path.insert(0, str(ROOT / "src"))

RUNS = ROOT / "benchmarks" / "runs" / "plan_validation"
RESULTS = ROOT / "benchmarks" / "results"


def _cli(*args: str) -> float:
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "badlabels", *args]
    print("$ badlabels " + " ".join(args), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - t0


def make_files(dataset: str, out: Path, rate: float, seed: int) -> dict:
    """The data file (clean labels), test and extra parts; returns paths and the frames."""
    out.mkdir(parents=True, exist_ok=True)
    if dataset == "peptide12":
        from badlabels.data.peptide12 import peptide12_frame

        pool = peptide12_frame(60_000, seed=0)[["sequence", "label"]]
        data, extra, test = pool.iloc[:20_000], pool.iloc[20_000:40_000], pool.iloc[40_000:]
    else:
        from badlabels.data import load_gb1

        full = load_gb1(ROOT.parent / "shared" / "data" / "gb1_wu2016.csv.gz", quantile=0.5)
        pool = pd.DataFrame({"sequence": full.sequences, "label": full.labels})
        # the benchmark's subsample (benchmarks/robustness.py): 30,000 rows drawn with seed 0
        idx = np.sort(np.random.default_rng(0).choice(len(full), 30_000, replace=False))
        rest = np.setdiff1d(np.arange(len(full)), idx)
        rest = rest[np.random.default_rng(1).permutation(len(rest))]
        data, test, extra = pool.iloc[idx], pool.iloc[rest[:20_000]], pool.iloc[rest[20_000:50_000]]
    data.to_csv(out / "data_clean.csv", index=False)
    return {"data": data.reset_index(drop=True), "extra": extra.reset_index(drop=True),
            "test": test.reset_index(drop=True)}  # fmt: skip


def fit_jobs(train_sets, test_seqs, seeds_of, label=""):
    """Train one LSTM (the plan's model) per (sequences, labels, seed) and score the test set.

    ``train_sets``: list of (sequences, labels, seed); jobs of one size train stacked.
    Returns the test P(label = 1) of each job.
    """
    from badlabels.methods.registry import build_estimator
    from badlabels.methods.stacked_folds import fit_predict_stacked

    out = [None] * len(train_sets)
    by_size: dict[int, list[int]] = {}
    for i, (s, _, _) in enumerate(train_sets):
        by_size.setdefault(len(s), []).append(i)
    for size, members in by_size.items():
        t0 = time.perf_counter()
        # each job gets its own block of rows, and all of them share the test rows
        labels, train_rows, held_rows, ests = [], [], [], []
        offset = 0
        all_seqs = []
        for i in members:
            all_seqs.append(np.asarray(train_sets[i][0], dtype=object))
        seqs = np.concatenate([*all_seqs, np.asarray(test_seqs, dtype=object)])
        n_test = len(test_seqs)
        test_rows = np.arange(len(seqs) - n_test, len(seqs))
        for i, block in zip(members, all_seqs, strict=True):
            _, y, seed = train_sets[i]
            lab = np.zeros(len(seqs), dtype=np.int8)
            lab[offset:offset + len(block)] = y
            labels.append(lab)
            train_rows.append(np.arange(offset, offset + len(block)))
            held_rows.append(test_rows)
            ests.append(build_estimator("lstm", "bce", model_params={"random_state": seed}))
            offset += len(block)
        res = fit_predict_stacked(seqs, labels, train_rows, held_rows, ests)
        for i, p1 in zip(members, res[0], strict=True):
            out[i] = p1
        print(f"  {label} size {size}: {len(members)} models in {time.perf_counter() - t0:.0f} s",
              flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=["peptide12", "gb1"], default="peptide12")
    ap.add_argument("--rate", type=float, default=0.4)
    ap.add_argument("--seeds", type=int, default=3, help="Seeds of each truth (default 3).")
    ap.add_argument("--skip-plan", action="store_true", help="Reuse the plan folder.")
    ap.add_argument("--plan-args", default="", help="Extra arguments for badlabels plan.")
    ap.add_argument("--remeasure", default="2000",
                    help="Re-measurement budgets whose truth is measured (default 2000).")
    args = ap.parse_args()
    from sklearn.metrics import roc_auc_score

    out = RUNS / args.dataset
    parts = make_files(args.dataset, out, args.rate, 0)
    data, extra, test = parts["data"], parts["extra"], parts["test"]
    n = len(data)
    noisy_path = out / "noisy.csv"
    _cli("corrupt", "--data", str(out / "data_clean.csv"), "--rate", str(args.rate),
         "--seed", "0", "--out", str(noisy_path))  # fmt: skip
    noisy = pd.read_csv(noisy_path)
    assert (noisy["sequence"].values == data["sequence"].values).all()
    plan_dir = out / "plan"
    plan_seconds = None
    if not args.skip_plan:
        plan_seconds = _cli("plan", "--data", str(noisy_path), "--label-col", "label_noisy",
                            "--out", str(plan_dir), *args.plan_args.split())  # fmt: skip
    plan = json.loads((plan_dir / "plan.json").read_text())
    scen = {s["key"]: s for s in plan["scenarios"]}

    y_clean = data["label"].to_numpy(np.int8)
    y_noisy = noisy["label_noisy"].to_numpy(np.int8)
    seqs = data["sequence"].to_numpy(object)
    seeds = list(range(args.seeds))
    sets, names = [], []
    for s in seeds:
        sets.append((seqs, y_noisy, s)); names.append(("now", s))  # noqa: E702
        sets.append((seqs, y_clean, s)); names.append(("clean", s))  # noqa: E702
    rem = pd.read_csv(plan_dir / "remeasure.csv")
    rem_keys = [f"remeasure:{k}" for k in args.remeasure.split(",") if f"remeasure:{k}" in scen]
    if args.dataset == "peptide12":
        pos = {q: i for i, q in enumerate(seqs)}
        for key in rem_keys:
            k = scen[key]["k"]
            rows = np.array([pos[q] for q in rem["sequence"].iloc[:k]])
            y_rem = y_noisy.copy()
            y_rem[rows] = y_clean[rows]
            for s in seeds:
                sets.append((seqs, y_rem, s)); names.append((key, s))  # noqa: E702
        from badlabels.noise import symmetric

        y_extra = symmetric(extra["label"].to_numpy(np.int8), args.rate, seed=1).labels
        seqs40 = np.concatenate([seqs, extra["sequence"].to_numpy(object)])
        y40 = np.concatenate([y_noisy, y_extra])
        for s in seeds:
            sets.append((seqs40, y40, s)); names.append(("collect:1", s))  # noqa: E702
        rng = np.random.default_rng(5)
        perm = rng.permutation(n)
        for m in (500, 1000, 2000, 4000, 8000):
            for s in seeds:
                idx = np.sort(perm[:m])
                sets.append((seqs[idx], y_clean[idx], s)); names.append((f"clean_m:{m}", s))  # noqa: E702
    t0 = time.perf_counter()
    probs = fit_jobs(sets, test["sequence"].to_numpy(object), seeds, label=args.dataset)
    truth_seconds = time.perf_counter() - t0
    y_test = test["label"].to_numpy(np.int8)
    per = {}
    for (key, _s), p in zip(names, probs, strict=True):
        per.setdefault(key, []).append(float(roc_auc_score(y_test, p)))
    truth = {k: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
                 "runs": v} for k, v in per.items()}  # fmt: skip

    rows = []
    for key in ("now", "clean", *rem_keys, "collect:1"):
        if key in truth and key in scen:
            sc = scen[key]
            err = sc["auroc"] - truth[key]["mean"]
            rows.append({"scenario": key, "predicted": sc["auroc"], "lo": sc["lo"], "hi": sc["hi"],
                         "measured": truth[key]["mean"], "measured_sd": truth[key]["sd"],
                         "error": err, "covered": bool(sc["lo"] <= truth[key]["mean"] <= sc["hi"])})  # fmt: skip
    naive = plan["settings"]["naive_clean_estimate"]
    exchange = None
    if any(k.startswith("clean_m:") for k in truth):
        ms = sorted(int(k.split(":")[1]) for k in truth if k.startswith("clean_m:"))
        curve = [(m, truth[f"clean_m:{m}"]["mean"]) for m in ms] + [(n, truth["clean"]["mean"])]
        target = truth["now"]["mean"]
        measured = None
        for (m1, a1), (m2, a2) in zip(curve, curve[1:], strict=False):
            if a1 <= target <= a2 and a2 > a1:
                t = (target - a1) / (a2 - a1)
                measured = float(np.exp(np.log(m1) + t * (np.log(m2) - np.log(m1))))
                break
        ex = plan["exchange"]
        exchange = {"predicted": ex["clean_labels"], "lo": ex["lo"], "hi": ex["hi"],
                    "measured": measured, "clean_curve": curve,
                    "ratio": None if measured is None else ex["clean_labels"] / measured,
                    "covered": None if measured is None else bool(ex["lo"] <= measured <= ex["hi"])}  # fmt: skip
    flipped = dict(zip(noisy["sequence"], noisy["is_flipped"].astype(int), strict=True))
    suspects = {k: {"k": scen[k]["k"], "wrong_estimated": scen[k]["flips_removed"],
                    "wrong_true": int(sum(flipped[q] for q in rem["sequence"].iloc[:scen[k]["k"]]))}
                for k in scen if k.startswith("remeasure:")}  # fmt: skip
    result = {
        "dataset": args.dataset, "suspects": suspects, "n": n, "rate": args.rate, "seeds": seeds,
        "plan_seconds": plan_seconds, "truth_seconds": truth_seconds,
        "noise": plan["noise"], "fit": plan["fit"], "theory": plan["theory"],
        "naive_clean_estimate": naive,
        "naive_error": None if "clean" not in truth else naive - truth["clean"]["mean"],
        "rows": rows, "exchange": exchange, "truth": truth,
        "recommendation": plan["recommendation"],
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"plan_validation_{args.dataset}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{args.dataset}: noise estimated {plan['noise']['flip_rate']:.3f} (true {args.rate}); "
          f"gamma {plan['fit']['gamma']:.2f}; plan {plan_seconds or 0:.0f} s")  # fmt: skip
    print(f"{'scenario':<18}{'predicted [95 %]':>26}{'measured':>16}{'error':>9}  covered")
    for r in rows:
        print(f"{r['scenario']:<18}{r['predicted']:>8.3f} [{r['lo']:.3f}, {r['hi']:.3f}]"
              f"{r['measured']:>10.3f} ± {r['measured_sd']:.3f}{r['error']:>+9.3f}  {r['covered']}")
    if "clean" in truth:
        print(f"naive (current model's corrected AUROC): {naive:.3f}, error "
              f"{naive - truth['clean']['mean']:+.3f}")
    if exchange:
        print(f"exchange rate: predicted {exchange['predicted']:.0f} [{exchange['lo']:.0f}, "
              f"{exchange['hi']:.0f}], measured {exchange['measured']}, ratio {exchange['ratio']}")
    for v in suspects.values():
        print(f"top {v['k']:,} suspects: {v['wrong_estimated']:.0f} wrong estimated, "
              f"{v['wrong_true']} truly flipped")
    print(f"-> {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
