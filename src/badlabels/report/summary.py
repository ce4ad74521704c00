"""The Markdown summary of an experiment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from badlabels.report.figures import curve_table


def _fmt(mean: float, sd: float, n: int) -> str:
    if not np.isfinite(mean):
        return "n/a"
    return f"{mean:.3f} ± {sd:.3f}" if n > 1 and np.isfinite(sd) else f"{mean:.3f}"


def curve_markdown(df: pd.DataFrame, metric: str = "auroc") -> str:
    """A Markdown table: one row per noise level, one column per model / method / batch size."""
    if not len(df):
        return "_no finished runs_\n"
    t = curve_table(df, metric)
    cols = [k for k in ("model", "method", "batch_size") if k in t.columns]
    t["series"] = t[cols].astype(str).agg(" / ".join, axis=1)
    t["cell"] = [_fmt(m, s, n) for m, s, n in zip(t["mean"], t["std"], t["count"], strict=True)]
    wide = t.pivot(index="noise_rate", columns="series", values="cell").fillna("")
    header = "| noise level | " + " | ".join(wide.columns) + " |"
    lines = [header, "|" + "---|" * (len(wide.columns) + 1)]
    for rate, row in wide.iterrows():
        lines.append(f"| {rate:g} | " + " | ".join(row.tolist()) + " |")
    return "\n".join(lines) + "\n"


def write_summary(
    df: pd.DataFrame,
    path: str | Path,
    *,
    dataset=None,
    ceiling: float | None = None,
    command: str | None = None,
    notes: list[str] | None = None,
) -> Path:
    """Write ``summary.md``: what was run, the curve as a table, and the reading of it."""
    path = Path(path)
    lines = ["# badlabels experiment", ""]
    if command:
        lines += ["```", command, "```", ""]
    if dataset is not None:
        lines.append(
            f"Data: **{dataset.name}**, {len(dataset):,} sequences, "
            f"{dataset.positive_fraction:.1%} positive, fingerprint `{dataset.fingerprint()}`."
        )
        lines += data_facts(dataset.extra)
        if dataset.extra.get("synthetic"):
            lines.append(
                "peptide12 is a synthetic stand-in for the seed experiment's private data."
            )
    if len(df):
        lines.append(
            f"Runs: {len(df)}; noise type `{df['noise_type'].iloc[0]}`; "
            f"train/val/test = {int(df['n_train'].iloc[0]):,}/{int(df['n_val'].iloc[0]):,}/"
            f"{int(df['n_test'].iloc[0]):,}; training and validation labels corrupted, "
            "test labels clean."
        )
        lines.append(f"Split: {split_text(df)}.")
    if ceiling is not None and np.isfinite(ceiling):
        lines.append(
            f"Ceiling (AUROC of the noise-free fitness against the clean test labels): {ceiling:.3f}."
        )
    for note in notes or []:
        lines.append(note)
    lines += ["", "## Clean-test AUROC (mean ± sd over seeds)", "", curve_markdown(df)]
    if len(df) and "noisy_test_auroc" in df:
        lines += [
            "## What a noisy test set would have reported",
            "",
            "The same models scored against test labels corrupted like the training labels "
            "(noisy-test AUROC):",
            "",
            curve_markdown(df, "noisy_test_auroc"),
        ]
        if (
            "corrected_test_auroc" in df
            and pd.to_numeric(df["corrected_test_auroc"], errors="coerce").notna().any()
        ):
            lines += [
                "That figure corrected for the noise of the test labels (the transition "
                "matrix of their flips, known here; `n/a` where it is undefined). The "
                "correction divides by 1 minus the two flip rates, so towards 50 % flips it "
                "is noise whatever it shows; where it works it comes close to the clean-test "
                "table above:",
                "",
                curve_markdown(df, "corrected_test_auroc"),
            ]
    if len(df) and "spearman" in df and pd.to_numeric(df["spearman"], errors="coerce").notna().any():
        lines += [
            "## Against the measured score (clean test rows)",
            "",
            "Spearman correlation between the model's P(fit) and the continuous score the "
            "labels were binarised from (ProteinGym's headline metric); NDCG and top-10 % "
            "recall are in `results.csv`.",
            "",
            curve_markdown(df, "spearman"),
        ]
    lines += ["![resilience curve](curve.png)", ""]
    lines += _reading(df)
    path.write_text("\n".join(lines) + "\n")
    return path


def data_facts(extra: dict) -> list[str]:
    """Lines saying how a file was read: its layout, columns, positions and features."""
    out = []
    if extra.get("layout"):
        how = "recognised from its columns" if extra.get("layout_detected") else "as asked"
        cols = ", ".join(
            f"{what} `{extra[k]}`"
            for what, k in (("sequence", "seq_col"), ("label", "label_col"), ("score", "score_col"))
            if extra.get(k)
        )
        out.append(f"Layout: {extra['layout']} ({how}){'; ' + cols if cols else ''}.")
    if extra.get("sequence_source"):
        out.append(f"Sequences: {extra['sequence_source']}.")
    if extra.get("binarization"):
        out.append(f"Labels: {extra['binarization']}.")
    if extra.get("bin_disagreements"):
        out.append(f"{int(extra['bin_disagreements']):,} shipped bin(s) disagreed with the cutoff.")
    if extra.get("positions") is not None and extra.get("full_length"):
        pos = [int(p) + 1 for p in extra["positions"]]
        shown = ", ".join(map(str, pos[:12])) + (", ..." if len(pos) > 12 else "")
        out.append(
            f"Positions: the models read the {len(pos)} of {int(extra['full_length'])} positions "
            f"that vary ({shown}; `--positions all` reads whole sequences)."
        )
    if extra.get("n_features"):
        out.append(f"Features: {int(extra['n_features'])} per row from `{extra.get('features')}` "
                   "(read by mlp and logreg).")  # fmt: skip
    return out


def split_text(df: pd.DataFrame) -> str:
    """Where the train/validation/test split of ``df``'s runs came from."""
    if "split_source" in df:
        sources = [str(s) for s in df["split_source"].dropna().unique()]
        if sources and sources != ["random"]:
            return "given with the data, " + "; ".join(sources)
    seed = df["split_seed"].iloc[0] if "split_seed" in df else 0
    return f"random (seed {int(seed)})"


def _reading(df: pd.DataFrame) -> list[str]:
    """Plain-language sentences about the curve (resilience at 45 %, the cliff at 50 %)."""
    if not len(df) or df["noise_type"].iloc[0] not in ("symmetric",):
        return []
    out = ["## Reading", ""]
    t = curve_table(df)
    for model, sub in t.groupby("model"):
        by = dict(zip(sub["noise_rate"].round(4), sub["mean"], strict=False))
        base = by.get(0.0)
        if base is None:
            continue
        for rate in (0.45, 0.5):
            if rate in by:
                rel = (by[rate] - 0.5) / (base - 0.5) if base > 0.5 else float("nan")
                out.append(
                    f"- **{model}** at {rate:.0%} flips: AUROC {by[rate]:.3f} vs {base:.3f} clean "
                    f"({by[rate] / base:.0%} of it; {rel:.0%} of the signal above chance)."
                )
    out += _early_stop_caution(df)
    return out + [""]


# Noise levels where the noisy validation loss is nearly flat but the labels still carry signal.
_FLAT_VAL_RATES = (0.35, 0.5)
_EARLY_EPOCH = 3
# peptide12: from 50,000 sequences (40,000 training labels) every seed's 45 % model kept about
# 90 % of the clean one; at 20,000 it ranged from 81 to 93 % (docs/high-noise.md).
_DATA_LIMITED_N_TRAIN = 40_000


def _early_stop_caution(df: pd.DataFrame) -> list[str]:
    """A warning when high-noise runs kept one of their first epochs (see docs/high-noise.md).

    At 35-50 % symmetric flips the noisy validation loss moves by less than its own noise,
    so an early best epoch says more about chance than about the model.
    """
    if "best_epoch" not in df or "epochs_run" not in df:
        return []
    lo, hi = _FLAT_VAL_RATES
    high = df[(df["noise_rate"] >= lo) & (df["noise_rate"] < hi) & (df["epochs_run"] > 1)]
    early = high[pd.to_numeric(high["best_epoch"], errors="coerce") <= _EARLY_EPOCH]
    if not len(early):
        return []
    cells = ", ".join(
        f"{m} at {r:.0%} (seed {int(s)}: epoch {int(b)})"
        for m, r, s, b in early[["model", "noise_rate", "seed", "best_epoch"]]
        .sort_values(["model", "noise_rate", "seed"])
        .itertuples(index=False)
    )
    text = (
        f"**Caution:** early stopping kept one of the first {_EARLY_EPOCH} epochs in "
        f"{len(early)} high-noise run(s): {cells}. At these noise levels the noisy validation "
        "loss is nearly flat, so which epoch is kept is partly chance and a single seed can "
        "land far below the model's best epoch. Compare several seeds (`--seeds 0,1,2`); "
        "docs/high-noise.md shows every epoch of such runs."
    )
    n_train = pd.to_numeric(early["n_train"], errors="coerce").min() if "n_train" in early else None
    if n_train is not None and n_train < _DATA_LIMITED_N_TRAIN:  # NaN compares False
        text += (
            f" With {int(n_train):,} training labels the result is also data-limited: on the "
            "built-in peptide12 landscape the 45% model kept about 90% of the clean one for "
            "every seed only from 50,000 sequences (40,000 training labels) on."
        )
    return ["", text]
