"""Figures of an experiment (matplotlib, Agg backend, PNG and SVG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

NOISE_AXIS = {
    "symmetric": "training-label flip rate",
    "class_conditional": "positive-to-negative flip rate",
    "measurement": "measurement noise scale (x score sd)",
    "read_depth": "fraction of reads kept",
}


def curve_table(df: pd.DataFrame, metric: str = "auroc") -> pd.DataFrame:
    """Mean, sd and count of ``metric`` per (model, method, batch size, noise level)."""
    keys = [k for k in ("model", "method", "batch_size", "noise_rate") if k in df.columns]
    g = df.groupby(keys, dropna=False)[metric]
    return g.agg(["mean", "std", "count"]).reset_index()


def _label(row, multi_method: bool, multi_batch: bool) -> str:
    parts = [str(row["model"])]
    if multi_method:
        parts.append(str(row["method"]))
    if multi_batch:
        parts.append(f"batch {row['batch_size']}")
    return " / ".join(parts)


def plot_curve(
    df: pd.DataFrame,
    path: str | Path,
    *,
    metric: str = "auroc",
    ceiling: float | None = None,
    title: str | None = None,
) -> Path:
    """The resilience curve: clean-test ``metric`` vs noise level, mean ± sd over seeds.

    Writes ``path`` (PNG) and the same figure as SVG beside it. Returns ``path``.
    """
    path = Path(path)
    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    if len(df):
        t = curve_table(df, metric)
        multi_method = t["method"].nunique() > 1 if "method" in t else False
        multi_batch = t["batch_size"].nunique() > 1 if "batch_size" in t else False
        group_keys = [k for k in ("model", "method", "batch_size") if k in t.columns]
        for _, sub in t.groupby(group_keys, sort=True):
            sub = sub.sort_values("noise_rate")
            x, y = sub["noise_rate"].to_numpy(), sub["mean"].to_numpy()
            sd = np.nan_to_num(sub["std"].to_numpy())
            label = _label(sub.iloc[0], multi_method, multi_batch)
            (line,) = ax.plot(x, y, marker="o", ms=4, label=label)
            if (sd > 0).any():
                ax.fill_between(x, y - sd, y + sd, color=line.get_color(), alpha=0.18)
        noise_type = str(df["noise_type"].iloc[0]) if "noise_type" in df else "symmetric"
        ax.set_xlabel(NOISE_AXIS.get(noise_type, "noise level"))
        if noise_type == "read_depth":
            ax.set_xscale("log")
            ax.invert_xaxis()
        elif noise_type in ("symmetric", "class_conditional"):
            ax.axvline(0.5, color="0.6", lw=0.8, ls=":")
    if metric in ("auroc",):
        ax.axhline(0.5, color="0.35", lw=1, ls="--", label="chance (0.5)")
    if ceiling is not None and np.isfinite(ceiling):
        ax.axhline(ceiling, color="tab:green", lw=1, ls="-.", label=f"ceiling ({ceiling:.3f})")
    ax.set_ylabel(f"{metric.upper()} on clean test labels")
    ax.set_title(title or "Resilience to label noise")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    fig.savefig(path.with_suffix(".svg"))
    plt.close(fig)
    return path
