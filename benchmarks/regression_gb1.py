"""Continuous scores on GB1 (issue 17): the acceptance figures, measured.

GB1 (Wu et al. 2016, ``../shared/data/gb1_wu2016.csv.gz``), the full file (149,361 variants),
target = log10 fitness with floor 1e-4 (``--task regression``). One random split (seed 0,
80/10/10); test scores are never corrupted. Every model is the library's default recipe: the
Fit4Function LSTM regressor (LSTM(140) -> LSTM(20) -> Linear, Adam 1e-3, batch 500, at most 30
epochs, patience 5 on the noisy validation loss), ridge on one-hot with its penalty chosen by
leave-one-out on the (noisy) training scores. No hyper-parameter was chosen on clean scores.

Stages (each resumable: finished runs are kept under ``benchmarks/runs/regression_gb1/``):

- ``curve``: LSTM and ridge, ``mse``, outliers at 0, 0.2, 0.45 and gaussian at 0.5, 1 sd
  (seed 0): LSTM vs ridge at 0 %, and the share of its clean Spearman the LSTM keeps.
- ``losses``: LSTM with ``mse``, ``huber`` (delta 1) and ``student_t`` (nu 3, scale 1) at
  outliers(0.2), seeds 0-4 (same split and same replaced scores per seed): paired differences
  with 95 % t intervals. On a 30,000-variant random subsample (seed 0) of the file
  (``--losses-n``), to fit 15 LSTMs into a session on 2 CPU cores; ``losses_full`` repeats
  mse against huber on the whole file.
- ``losses_full``: ``mse`` against ``huber`` on the whole file (seeds 0-4, or ``--seed-list``
  to split them over processes), outliers(0.2).
- ``audit``: 20 % of all scores replaced (``outliers(0.2)``, seed 0); ``audit_scores`` with the
  LSTM (5 folds) flags suspects without the truth; precision / recall against the replaced
  scores that moved by more than one standard deviation of the clean scores.
- ``predict``: the final model trained in memory as ``badlabels train --task regression``
  trains it, saved, ``badlabels predict`` on the whole file, and the largest difference to the
  in-memory model's ``predict`` (and to the model loaded back).

    python benchmarks/regression_gb1.py [--stage curve,losses,audit,predict]

Writes ``benchmarks/results/regression_gb1_<stages>.json`` and prints the tables (stages may
run as separate processes, e.g. ``--threads 1`` each on 2 cores).
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

GB1 = ROOT.parent / "shared" / "data" / "gb1_wu2016.csv.gz"
RUNS = ROOT / "benchmarks" / "runs" / "regression_gb1"
RESULT = ROOT / "benchmarks" / "results" / "regression_gb1.json"
EPOCHS, PATIENCE = 30, 5


def load():
    from badlabels.data import load_data

    return load_data(GB1, dataset="gb1", task="regression", transform="log10", floor=1e-4)


def _grid(**kw):
    from badlabels.experiment import GridSpec

    return GridSpec(max_epochs=EPOCHS, patience=PATIENCE, **kw)


ENGINE = "plain"
"""The engine of every stage (``--engine``; the recorded figures are plain unless named)."""


def _run(ds, grid, out: Path) -> pd.DataFrame:
    from badlabels.experiment import run_experiment

    t0 = time.perf_counter()
    out = out if ENGINE == "plain" else out.with_name(f"{out.name}_{ENGINE}")
    res = run_experiment(ds, grid, out, engine=ENGINE, device="cpu")
    print(f"  {out.name}: {res.n_trained} trained, {res.n_skipped} reused, "
          f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
    return res.results


def stage_curve(ds) -> dict:
    cols = ["model", "method", "noise_type", "noise_rate", "seed", "spearman", "pearson", "r2",
            "ndcg", "top10_recall", "noisy_test_spearman", "epochs_run", "train_seconds"]  # fmt: skip
    out = _run(ds, _grid(models=["lstm", "ridge"], methods=["mse"], noise_type="outliers",
                         noise_rates=[0.0, 0.2, 0.45], seeds=[0]), RUNS / "outliers")  # fmt: skip
    gauss = _run(ds, _grid(models=["lstm", "ridge"], methods=["mse"], noise_type="gaussian",
                           noise_rates=[0.5, 1.0], seeds=[0]), RUNS / "gaussian")  # fmt: skip
    frame = pd.concat([out, gauss], ignore_index=True)[cols]
    print(frame.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    lstm0 = frame.query("model == 'lstm' and noise_type == 'outliers' and noise_rate == 0")
    ridge0 = frame.query("model == 'ridge' and noise_type == 'outliers' and noise_rate == 0")
    lstm45 = frame.query("model == 'lstm' and noise_type == 'outliers' and noise_rate == 0.45")
    s0, r0, s45 = (float(f["spearman"].iloc[0]) for f in (lstm0, ridge0, lstm45))
    summary = {
        "lstm_clean_spearman": s0,
        "ridge_clean_spearman": r0,
        "lstm_beats_ridge": s0 > r0,
        "lstm_outliers045_spearman": s45,
        "lstm_retained_at_outliers045": s45 / s0,
        "retention_met": s45 / s0 >= 0.85,
    }
    print(json.dumps(summary, indent=1))
    return {"runs": frame.to_dict(orient="records"), "summary": summary}


def subsample(ds, n: int, seed: int = 0):
    """``n`` rows of ``ds`` drawn at random (``seed``); the whole data when ``n`` >= its size."""
    if n >= len(ds):
        return ds
    rows = np.sort(np.random.default_rng(seed).choice(len(ds), n, replace=False))
    return ds.subset(rows)


def _paired(ds, frame: pd.DataFrame) -> dict:
    """Each seed's Spearman per method, and every method's paired difference to ``mse``."""
    from badlabels.report.regression import paired_differences

    table = frame.pivot_table(index="seed", columns="method", values="spearman")
    print(table.to_string(float_format=lambda x: f"{x:.4f}"))
    pairs = paired_differences(frame, "spearman", baseline="mse")
    print(pairs.to_string(index=False, float_format=lambda x: f"{x:+.4f}"))
    return {"n_sequences": len(ds), "n_train": int(frame["n_train"].iloc[0]),
            "spearman_by_seed": {str(k): v for k, v in table.to_dict().items()},
            "paired": pairs.to_dict(orient="records")}  # fmt: skip


def stage_losses(ds, seeds: list[int]) -> dict:
    frames = [
        _run(ds, _grid(models=["lstm"], methods=["mse", "huber"], noise_type="outliers",
                       noise_rates=[0.2], seeds=seeds), RUNS / "losses"),
        _run(ds, _grid(models=["lstm"], methods=["student_t"], noise_type="outliers",
                       noise_rates=[0.2], seeds=seeds), RUNS / "losses"),
    ]  # fmt: skip
    return _paired(ds, pd.concat(frames, ignore_index=True))


def stage_losses_full(ds, seeds: list[int]) -> dict:
    """``mse`` against ``huber`` on the whole file (the curve's split), outliers 0.2."""
    frame = _run(ds, _grid(models=["lstm"], methods=["mse", "huber"], noise_type="outliers",
                           noise_rates=[0.2], seeds=seeds), RUNS / "outliers")  # fmt: skip
    return _paired(ds, frame)


def stage_audit(ds, folds: int) -> dict:
    from badlabels.audit_scores import audit_scores
    from badlabels.noise import outliers

    noise = outliers(ds.targets, 0.2, seed=0)
    truth = noise.changed & (noise.moved > float(np.std(ds.targets)))
    t0 = time.perf_counter()
    res = audit_scores(ds.sequences, noise.scores, model="lstm", method="mse", n_folds=folds,
                       seed=0, model_params={"max_epochs": EPOCHS, "patience": PATIENCE},
                       truth=truth, engine=ENGINE)  # fmt: skip
    seconds = time.perf_counter() - t0
    flagged = np.asarray(res.flagged, dtype=bool)
    tp = int((flagged & truth).sum())
    summary = {
        "n": len(truth), "replaced": int(noise.changed.sum()),
        "moved_more_than_1sd": int(truth.sum()), "flagged": int(flagged.sum()),
        "estimated_fraction": float(res.outlier_fraction),
        "precision": tp / max(int(flagged.sum()), 1), "recall": tp / max(int(truth.sum()), 1),
        "seconds": seconds, "engine": res.settings["engine"],
    }  # fmt: skip
    summary["met"] = summary["precision"] >= 0.5 and summary["recall"] >= 0.5
    print(json.dumps(summary, indent=1))
    return summary


def stage_predict(ds) -> dict:
    """``train_final`` in memory (what ``badlabels train --task regression`` runs), saved; then
    ``badlabels predict`` on the whole file; the predicted column against the in-memory model's
    ``predict`` and against the model loaded back."""
    from badlabels.finalmodel import save_final, train_final
    from badlabels.models import load_model

    out = RUNS / "train_predict"
    out.mkdir(parents=True, exist_ok=True)
    model_dir, pred_csv = out / "model", out / "predictions.csv"
    t0 = time.perf_counter()
    est, meta = train_final(ds, "lstm", "mse", model_params={"max_epochs": EPOCHS,
                                                           "patience": PATIENCE})  # fmt: skip
    save_final(est, meta, model_dir)
    seconds = time.perf_counter() - t0
    predict = [sys.executable, "-m", "badlabels", "predict", str(model_dir), str(GB1),
               "--seq-col", "variant", "--out", str(pred_csv), "--quiet"]  # fmt: skip
    print("$ badlabels " + " ".join(predict[3:]), flush=True)
    subprocess.run(predict, check=True, cwd=ROOT)
    pred = pd.read_csv(pred_csv)
    seqs = pred["variant"].astype(str).to_numpy(object)
    written = pred["predicted_score"].to_numpy(float)
    in_memory = est.predict(seqs)
    loaded = load_model(model_dir, device="cpu").predict(seqs)
    summary = {
        "rows": len(pred), "train_seconds": seconds,
        "validation": meta["validation"]["metrics_on_noisy_scores"],
        "max_abs_difference_in_memory": float(np.max(np.abs(written - in_memory))),
        "max_abs_difference_loaded": float(np.max(np.abs(written - loaded))),
    }  # fmt: skip
    summary["met"] = max(summary["max_abs_difference_in_memory"],
                         summary["max_abs_difference_loaded"]) <= 1e-6  # fmt: skip
    print(json.dumps(summary, indent=1, default=float))
    return summary


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", default="curve,losses,audit,predict")
    ap.add_argument("--seeds", type=int, default=5, help="seeds of the losses stages")
    ap.add_argument("--seed-list", default=None,
                    help="losses_full: these seeds only (comma-separated; to split the work)")
    ap.add_argument("--folds", type=int, default=5, help="folds of the audit stage")
    ap.add_argument("--losses-n", type=int, default=30_000, help="variants of the losses stage")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--engine", default="plain", choices=["plain", "auto", "stacked"],
                    help="how the LSTMs train (default plain: the recorded figures)")
    args = ap.parse_args(argv)
    import torch

    global ENGINE
    ENGINE = args.engine

    torch.set_num_threads(args.threads)
    ds = load()
    tag = "_".join(args.stage.split(",")) + (f"_seeds{args.seed_list.replace(',', '')}"
                                             if args.seed_list else "")  # fmt: skip
    tag += "" if args.engine == "plain" else f"_{args.engine}"
    out = RESULT.with_name(f"regression_gb1_{tag}.json")
    result = json.loads(out.read_text()) if out.is_file() else {}
    result["command"] = "python benchmarks/regression_gb1.py --stage " + args.stage + (
        "" if args.engine == "plain" else f" --engine {args.engine}")
    stages = [s.strip() for s in args.stage.split(",") if s.strip()]
    for stage in stages:
        print(f"== {stage}", flush=True)
        t0 = time.perf_counter()
        if stage == "curve":
            result["curve"] = stage_curve(ds)
        elif stage == "losses":
            result["losses"] = stage_losses(subsample(ds, args.losses_n), list(range(args.seeds)))
        elif stage == "losses_full":
            seeds = ([int(x) for x in args.seed_list.split(",")] if args.seed_list
                     else list(range(args.seeds)))  # fmt: skip
            result["losses_full"] = stage_losses_full(ds, seeds)
        elif stage == "audit":
            result["audit"] = stage_audit(ds, args.folds)
        elif stage == "predict":
            result["predict"] = stage_predict(ds)
        else:
            raise SystemExit(f"unknown stage {stage!r}")
        result.setdefault("seconds", {})[stage] = time.perf_counter() - t0
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
