"""Real measurement noise on GB1: what shallower sequencing does to labels and to models.

For each fraction f of reads kept (1, 0.3, 0.1, 0.03, 0.01), ``badlabels.noise.read_depth``
thins the input and selected read counts of every GB1 variant binomially (as if the library
had been sequenced f times as deep), recomputes fitness relative to the (thinned) wild type
and re-derives the label ``fitness > median full-depth fitness``. Reported per fraction:

- the realised label flip rate against the full-depth labels over all 149,361 variants (mean
  over ``--seeds`` thinnings), and each way (P(shallow 0 | full 1), P(shallow 1 | full 0));
- for a random subsample (``--n``, default 30,000 variants) split 80/10/10 (one split for
  all fractions): an LSTM and a logistic regression trained on the shallow labels (train and
  validation parts; early stopping on the shallow validation loss), scored on the **full-depth**
  labels of the test part, next to what the shallow test labels would have reported.

Usage (about 5-15 minutes on 2 CPU cores, depending on load)::

    python benchmarks/gb1_read_depth.py
    python benchmarks/gb1_read_depth.py --n 10000 --epochs 8      # quicker

Writes ``docs/figures/gb1_read_depth.png`` and ``benchmarks/results/gb1_read_depth.csv``
and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from badlabels.data import load_gb1, split_indices
from badlabels.evaluation import binary_metrics
from badlabels.models import make_model
from badlabels.noise import apply_noise, transition_matrix

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gb1_wu2016.csv.gz"
FRACTIONS = (1.0, 0.3, 0.1, 0.03, 0.01)


def flip_table(ds, fractions, seeds) -> pd.DataFrame:
    """Realised flip rates of read-depth noise over the whole library."""
    rows = []
    for f in fractions:
        rates, p10, p01, lost = [], [], [], []
        for s in seeds:
            res = apply_noise(ds, "read_depth", f, seed=s)
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


def model_table(ds, fractions, *, n, epochs, patience, seed, threads) -> pd.DataFrame:
    """Train on shallow labels, score on full-depth test labels."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(ds), size=min(n, len(ds)), replace=False))
    split = split_indices(len(idx), (0.8, 0.1, 0.1), seed=seed)
    tr, va, te = (idx[p] for p in split)
    rows = []
    for f in fractions:
        # Thin the whole library (so the wild type and the library are thinned together),
        # then take the subsample's labels.
        noisy = apply_noise(ds, "read_depth", f, seed=seed).labels
        for model in ("lstm", "logreg"):
            params = {"random_state": seed}
            if model == "lstm":
                params.update(max_epochs=epochs, patience=patience, batch_size=500, device="cpu")
            est = make_model(model, **params)
            t0 = time.perf_counter()
            est.fit(ds.sequences[tr], noisy[tr], eval_set=(ds.sequences[va], noisy[va]))
            secs = time.perf_counter() - t0
            prob = est.predict_proba(ds.sequences[te])[:, 1]
            clean = binary_metrics(ds.labels[te], prob)
            shallow = binary_metrics(noisy[te], prob)
            rows.append(
                {
                    "fraction": f,
                    "model": model,
                    "train_flip_rate": float((noisy[tr] != ds.labels[tr]).mean()),
                    "auroc_full_depth_test": clean["auroc"],
                    "auroc_shallow_test": shallow["auroc"],
                    "accuracy_full_depth_test": clean["accuracy"],
                    "epochs_run": int(getattr(est, "epochs_run_", 1)),
                    "seconds": secs,
                }
            )
            print(
                f"  fraction {f:g} {model}: full-depth test AUROC {clean['auroc']:.3f} "
                f"(shallow test labels say {shallow['auroc']:.3f}), {secs:.0f}s",
                flush=True,
            )
    return pd.DataFrame(rows)


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
        "| reads kept | label flip rate | pos→neg | neg→pos | LSTM AUROC (full-depth test) "
        "| LSTM AUROC (shallow test) | logreg AUROC (full-depth test) | logreg AUROC (shallow test) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, r in flips.sort_values("fraction", ascending=False).iterrows():
        f = r["fraction"]
        m = wide.loc[f]
        lines.append(
            f"| {f:g} | {r['flip_rate']:.3f} | {r['pos_to_neg']:.3f} | {r['neg_to_pos']:.3f} "
            f"| {m[('auroc_full_depth_test', 'lstm')]:.3f} | {m[('auroc_shallow_test', 'lstm')]:.3f} "
            f"| {m[('auroc_full_depth_test', 'logreg')]:.3f} "
            f"| {m[('auroc_shallow_test', 'logreg')]:.3f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--n", type=int, default=30_000, help="variants in the model subsample")
    ap.add_argument("--epochs", type=int, default=15, help="LSTM maximum epochs")
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=3, help="thinnings averaged for the flip rates")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--figure", type=Path, default=ROOT / "docs" / "figures" / "gb1_read_depth.png")
    ap.add_argument("--csv", type=Path, default=ROOT / "benchmarks" / "results" / "gb1_read_depth.csv")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    ds = load_gb1(args.data)
    # Thin the wild type's own row (its index is kept in extra["wt_index"]): the whole library
    # is always thinned at once here.
    ds.extra["wt_counts"] = None
    print(f"GB1: {len(ds):,} variants, label = fitness > {ds.threshold:.5f} (median)", flush=True)
    flips = flip_table(ds, FRACTIONS, range(args.seeds))
    print(flips.to_string(index=False), flush=True)
    models = model_table(
        ds, FRACTIONS, n=args.n, epochs=args.epochs, patience=args.patience, seed=args.seed,
        threads=args.threads,
    )  # fmt: skip
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    flips.merge(models, on="fraction").to_csv(args.csv, index=False)
    plot(flips, models, args.figure)
    print()
    print(markdown(flips, models))
    print(f"\nfigure: {args.figure}\ntable: {args.csv}\n{time.perf_counter() - t0:.0f}s in all")


if __name__ == "__main__":
    main()
