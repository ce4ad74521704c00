"""Real measurement noise on GB1: what shallower sequencing does to labels and to models.

For each fraction f of reads kept (1, 0.3, 0.1, 0.03, 0.01), read-depth noise
(``badlabels.noise.apply_noise(..., "read_depth", f)``) thins the input and selected read counts
of every GB1 variant binomially (as if the library had been sequenced f times as deep),
recomputes fitness relative to the (thinned) wild type and re-derives the label
``fitness > median full-depth fitness``. GB1 is read as a user's file would be
(``load_data(PATH, seq_col="variant", label_col="fitness", quantile=0.5)``, the ``--data`` path
of the command line): the normalisation is found from the file's own score
(:func:`badlabels.noise.resolve_count_normalisation`). Reported per fraction:

- the realised label flip rate against the full-depth labels over all 149,361 variants (mean
  over ``--seeds`` thinnings), and each way (P(shallow 0 | full 1), P(shallow 1 | full 0)),
  checked to be the same from the built-in GB1 loader;
- the experiment itself, exactly as ``badlabels experiment --data PATH --seq-col variant
  --label-col fitness --quantile 0.5 --noise-type read_depth --noise-rates 1,0.3,0.1,0.03,0.01
  --models lstm,logreg --seeds 0`` runs it (80/10/10 split, training and validation labels
  shallow, experiment defaults): the realised flip rate of the training part, the clean
  (full-depth) test AUROC and what the shallow test labels would have reported.
  ``--check-builtin`` runs the same grid on the built-in loader (``--dataset gb1``) and checks
  that every metric is the same.

Usage (about 10-20 minutes on 2 CPU cores; twice that with --check-builtin)::

    python benchmarks/gb1_read_depth.py
    python benchmarks/gb1_read_depth.py --check-builtin

Writes ``docs/figures/gb1_read_depth.png``, ``benchmarks/results/gb1_read_depth.csv`` and the
run folder(s) under ``--out``, and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from badlabels.data import load_data, load_gb1
from badlabels.experiment import GridSpec, run_experiment
from badlabels.noise import apply_noise, transition_matrix

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gb1_wu2016.csv.gz"
FRACTIONS = (1.0, 0.3, 0.1, 0.03, 0.01)
METRICS = ("realized_flip_rate", "val_flip_rate", "test_flip_rate", "auroc", "noisy_test_auroc",
           "epochs_run", "best_epoch")  # fmt: skip


def flip_table(ds, builtin, fractions, seeds) -> pd.DataFrame:
    """Realised flip rates of read-depth noise over the whole library (both loaders agree)."""
    rows = []
    for f in fractions:
        rates, p10, p01, lost = [], [], [], []
        for s in seeds:
            res = apply_noise(ds, "read_depth", f, seed=s)
            same = apply_noise(builtin, "read_depth", f, seed=s)
            if not np.array_equal(res.labels, same.labels):
                raise SystemExit(f"fraction {f:g}, seed {s}: --data and the built-in loader differ")
            t = transition_matrix(ds.labels, res.labels)
            rates.append(res.flip_rate)
            p10.append(t[1, 0])
            p01.append(t[0, 1])
            if f == 1.0:
                lost.append(0.0)
            else:
                thinned = np.random.default_rng(s).binomial(ds.counts["count_input"], f)
                lost.append(float((thinned == 0).mean()))
        rows.append(
            {
                "fraction": f,
                "flip_rate": float(np.mean(rates)),
                "flip_rate_sd": float(np.std(rates)),
                "pos_to_neg": float(np.mean(p10)),
                "neg_to_pos": float(np.mean(p01)),
                "no_input_read": float(np.mean(lost)),
            }
        )
    return pd.DataFrame(rows)


def model_table(ds, fractions, out: Path, *, seed: int, command: str) -> pd.DataFrame:
    """The experiment over ``fractions`` (its results.csv, one row per model and fraction)."""
    grid = GridSpec(
        models=["lstm", "logreg"], noise_type="read_depth", noise_rates=list(fractions),
        seeds=[seed],
    )  # fmt: skip
    res = run_experiment(ds, grid, out, device="cpu", command=command)
    frame = res.results.rename(columns={"noise_rate": "fraction"})
    frame = frame.assign(
        auroc_full_depth_test=frame["auroc"], auroc_shallow_test=frame["noisy_test_auroc"],
        train_flip_rate=frame["realized_flip_rate"],
    )  # fmt: skip
    return frame.sort_values(["fraction", "model"], ascending=[False, True]).reset_index(drop=True)


def plot(flips: pd.DataFrame, models: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    ax1.plot(flips["fraction"], flips["flip_rate"], "o-", color="tab:red", label="overall")
    ax1.plot(flips["fraction"], flips["pos_to_neg"], "s--", color="tab:orange",
             label="positive -> negative")  # fmt: skip
    ax1.plot(flips["fraction"], flips["neg_to_pos"], "^--", color="tab:purple",
             label="negative -> positive")  # fmt: skip
    ax1.set_xscale("log")
    ax1.invert_xaxis()
    ax1.set_xlabel("fraction of reads kept")
    ax1.set_ylabel("label flip rate vs full depth")
    ax1.set_title("GB1: label noise from shallow sequencing")
    ax1.grid(alpha=0.3)
    ax1.legend(frameon=False, fontsize=8)
    for model, sub in models.groupby("model"):
        (line,) = ax2.plot(sub["fraction"], sub["auroc_full_depth_test"], "o-",
                           label=f"{model}: full-depth test labels")  # fmt: skip
        ax2.plot(sub["fraction"], sub["auroc_shallow_test"], "o:", color=line.get_color(),
                 alpha=0.7, label=f"{model}: shallow test labels")  # fmt: skip
    ax2.axhline(0.5, color="0.4", ls="--", lw=1)
    ax2.set_xscale("log")
    ax2.invert_xaxis()
    ax2.set_xlabel("fraction of reads kept (training labels)")
    ax2.set_ylabel("test AUROC")
    ax2.set_title("Models trained on shallow labels")
    ax2.grid(alpha=0.3)
    ax2.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def markdown(flips: pd.DataFrame, models: pd.DataFrame) -> str:
    wide = models.pivot(index="fraction", columns="model")
    lines = [
        "| reads kept | label flip rate (library) | pos→neg | neg→pos | flip rate (training part) "
        "| LSTM AUROC (full-depth test) | LSTM AUROC (shallow test) "
        "| logreg AUROC (full-depth test) | logreg AUROC (shallow test) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in flips.sort_values("fraction", ascending=False).iterrows():
        f = r["fraction"]
        m = wide.loc[f]
        lines.append(
            f"| {f:g} | {r['flip_rate']:.3f} | {r['pos_to_neg']:.3f} | {r['neg_to_pos']:.3f} "
            f"| {m[('train_flip_rate', 'lstm')]:.3f} "
            f"| {m[('auroc_full_depth_test', 'lstm')]:.3f} | {m[('auroc_shallow_test', 'lstm')]:.3f} "
            f"| {m[('auroc_full_depth_test', 'logreg')]:.3f} "
            f"| {m[('auroc_shallow_test', 'logreg')]:.3f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seeds", type=int, default=3, help="thinnings averaged for the flip rates")
    ap.add_argument("--seed", type=int, default=0, help="the experiment's seed")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "gb1-read-depth")
    ap.add_argument("--check-builtin", action="store_true",
                    help="also run the grid on the built-in loader and compare every metric")  # fmt: skip
    ap.add_argument("--figure", type=Path, default=ROOT / "docs" / "figures" / "gb1_read_depth.png")
    ap.add_argument("--csv", type=Path, default=ROOT / "benchmarks" / "results" / "gb1_read_depth.csv")
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    ds = load_data(args.data, seq_col="variant", label_col="fitness", quantile=0.5)
    builtin = load_gb1(args.data)
    print(f"GB1: {len(ds):,} variants, label = fitness > {ds.threshold:.5f} (median)", flush=True)
    flips = flip_table(ds, builtin, FRACTIONS, range(args.seeds))
    print(flips.to_string(index=False), flush=True)
    rates = ",".join(f"{f:g}" for f in FRACTIONS)
    command = (
        f"badlabels experiment --data {args.data} --seq-col variant --label-col fitness "
        f"--quantile 0.5 --noise-type read_depth --noise-rates {rates} --models lstm,logreg "
        f"--seeds {args.seed} --device cpu"
    )
    models = model_table(ds, FRACTIONS, args.out / "data", seed=args.seed, command=command)
    if args.check_builtin:
        again = model_table(builtin, FRACTIONS, args.out / "builtin", seed=args.seed,
                            command=command.replace("--data", "--dataset gb1 --data"))  # fmt: skip
        diff = {c: bool((models[c].to_numpy() != again[c].to_numpy()).any()) for c in METRICS}
        print("built-in loader gives the same metrics:", not any(diff.values()), diff, flush=True)
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    keep = ["fraction", "model", "train_flip_rate", "auroc_full_depth_test", "auroc_shallow_test",
            "accuracy", "epochs_run", "best_epoch", "train_seconds"]  # fmt: skip
    flips.merge(models[keep], on="fraction").to_csv(args.csv, index=False)
    plot(flips, models, args.figure)
    print()
    print(markdown(flips, models))
    print(f"\nfigure: {args.figure}\ntable: {args.csv}\n{time.perf_counter() - t0:.0f}s in all")


if __name__ == "__main__":
    main()
