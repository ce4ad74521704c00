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
    "gaussian": "added score noise (x score sd)",
    "outliers": "fraction of scores replaced",
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
    ylabel: str | None = None,
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
    ax.set_ylabel(ylabel or f"{metric.upper()} on clean test labels")
    ax.set_title(title or "Resilience to label noise")
    ax.grid(alpha=0.3)
    _place_legend(fig, ax)
    fig.savefig(path)
    fig.savefig(path.with_suffix(".svg"))
    plt.close(fig)
    return path


_LEGEND_INSIDE = 8  # more curves than this: the legend goes beside the axes
_LEGEND_ROWS = 16


def _place_legend(fig, ax) -> None:
    """Legend inside the axes for a few curves; beside them, in columns, for many."""
    n = len(ax.get_legend_handles_labels()[0])
    if n <= _LEGEND_INSIDE:
        ax.legend(loc="lower left", fontsize=8, frameon=False)
        fig.tight_layout()
        return
    ncol = -(-n // _LEGEND_ROWS)
    rows = -(-n // ncol)
    width, height = fig.get_size_inches()
    fig.set_size_inches(width + 1.9 * ncol, max(height, 0.2 * rows + 1.0))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False, ncol=ncol)
    fig.set_layout_engine("constrained")


def _series_keys(df: pd.DataFrame) -> list[str]:
    """The columns that name a curve: model and method, plus batch size when it varies."""
    keys = [k for k in ("model", "method") if k in df.columns]
    if "batch_size" in df.columns and df["batch_size"].nunique() > 1:
        keys.append("batch_size")
    return keys


def _series_name(keys: list[str], values) -> str:
    values = values if isinstance(values, tuple) else (values,)
    parts = []
    for k, v in zip(keys, values, strict=True):
        parts.append(f"batch {v}" if k == "batch_size" else str(v))
    return " / ".join(parts)


def _panels(n: int, width: float = 4.2, height: float = 3.4):
    ncols = min(3, max(1, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width * ncols, height * nrows), dpi=110, squeeze=False,
        sharey=True,
    )  # fmt: skip
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _band(ax, x, mean, sd, **kw):
    (line,) = ax.plot(x, mean, **kw)
    sd = np.nan_to_num(np.asarray(sd, dtype=float))
    if (sd > 0).any():
        ax.fill_between(x, mean - sd, mean + sd, color=line.get_color(), alpha=0.15, lw=0)
    return line


def _shared_legend(fig, axes, order: list[str] | None = None) -> None:
    """One legend for all panels, beside them: panels repeat the same series, and a legend
    drawn inside each panel covers curves once there are more than a few. Series come in
    ``order`` (else first seen), reference lines (chance, ceiling) last."""
    found: dict[str, object] = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(label, h)
    if not found:
        return
    rank = {label: i for i, label in enumerate(order or [])}
    reference = ("chance", "ceiling")
    labels = sorted(found, key=lambda lb: (lb.startswith(reference), rank.get(lb, len(rank))))
    handles = {label: found[label] for label in labels}
    ncol = -(-len(handles) // _LEGEND_ROWS)
    width, height = fig.get_size_inches()
    fig.set_size_inches(width + 1.9 * ncol, max(height, 0.2 * -(-len(handles) // ncol) + 1.0))
    fig.set_layout_engine("constrained")
    fig.legend(list(handles.values()), list(handles), loc="outside right upper", fontsize=7,
               frameon=False, ncol=ncol)  # fmt: skip


def _save(fig, path: Path) -> Path:
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(path)
    fig.savefig(path.with_suffix(".svg"))
    plt.close(fig)
    return path


def plot_curve_panels(
    df: pd.DataFrame, path: str | Path, *, ceiling: float | None = None, metric: str = "auroc"
) -> Path:
    """The resilience curve with one panel per model and one line per method (and batch size).

    Mean ± sd over seeds of clean-test ``metric`` against the noise level, with the chance line
    and, where known, the ceiling. Writes ``path`` (PNG) and the SVG beside it.
    """
    path = Path(path)
    models = sorted(df["model"].unique()) if len(df) else []
    fig, axes = _panels(max(1, len(models)))
    noise_type = str(df["noise_type"].iloc[0]) if len(df) else "symmetric"
    multi_batch = len(df) and df["batch_size"].nunique() > 1
    keys = ["method"] + (["batch_size"] if multi_batch else [])
    # one colour per series in every panel, since the panels share one legend
    names = [_series_name(keys, n) for n, _ in df.groupby(keys, sort=True)] if len(df) else []
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    colors = {n: cmap(i % cmap.N) for i, n in enumerate(names)}
    for ax, model in zip(axes, models or [None], strict=True):
        sub = df[df["model"] == model] if model is not None else df.iloc[:0]
        for name, part in sub.groupby(keys, sort=True):
            t = (
                curve_table(part, metric)
                .groupby("noise_rate", as_index=False)[["mean", "std"]]
                .mean()
            )
            label = _series_name(keys, name)
            _band(ax, t["noise_rate"], t["mean"], t["std"], marker="o", ms=3, label=label,
                  color=colors[label])  # fmt: skip
        ax.axhline(0.5, color="0.35", lw=1, ls="--", label="chance (0.5)")
        if ceiling is not None and np.isfinite(ceiling):
            ax.axhline(ceiling, color="k", lw=1, ls="-.", label=f"ceiling ({ceiling:.3f})")
        if noise_type == "read_depth":
            ax.set_xscale("log")
            ax.invert_xaxis()
        ax.set_title(str(model) if model is not None else "no runs")
        ax.set_xlabel(NOISE_AXIS.get(noise_type, "noise level"))
        ax.set_ylabel(f"clean-test {metric.upper()}")
        ax.grid(alpha=0.3)
    _shared_legend(fig, axes, order=names)
    return _save(fig, path)


def plot_noisy_vs_clean(df: pd.DataFrame, path: str | Path) -> Path:
    """Clean-test, noisy-test and noise-corrected AUROC side by side, one panel per series.

    The noisy-test AUROC scores the same model against test labels corrupted like the training
    labels; the corrected estimate (``corrected_test_auroc``, from
    :func:`badlabels.evaluation.corrected_auroc`) undoes the known noise. Mean ± sd over seeds.
    Writes ``path`` (PNG) and the SVG beside it.
    """
    return plot_metric_lines(
        df, path,
        [("auroc", "clean test labels"), ("noisy_test_auroc", "noisy test labels"),
         ("corrected_test_auroc", "noisy, corrected")],
        ylabel="test AUROC", chance=0.5,
    )  # fmt: skip


_LINE_STYLES = [
    dict(marker="o", ms=3, color="tab:blue"),
    dict(marker="s", ms=3, ls="--", color="tab:red"),
    dict(marker="^", ms=3, ls=":", color="tab:purple"),
    dict(marker="v", ms=3, ls="-.", color="tab:green"),
]


def plot_metric_lines(
    df: pd.DataFrame, path: str | Path, metrics: list[tuple[str, str]], *, ylabel: str,
    chance: float | None = None,
) -> Path:  # fmt: skip
    """Several metrics against the noise level, one panel per series (model / method), mean ±
    sd over seeds; ``metrics`` is ``[(column, legend label), ...]``, ``chance`` an optional
    dashed line. Writes ``path`` (PNG) and the SVG beside it."""
    path = Path(path)
    keys = _series_keys(df) if len(df) else []
    groups = list(df.groupby(keys, sort=True)) if keys else []
    fig, axes = _panels(max(1, len(groups)))
    noise_type = str(df["noise_type"].iloc[0]) if len(df) else "symmetric"
    for ax, (name, part) in zip(axes, groups, strict=False):
        for (metric, label), kw in zip(metrics, _LINE_STYLES, strict=False):
            if metric not in part or part[metric].isna().all():
                continue
            t = part.groupby("noise_rate")[metric].agg(["mean", "std"]).reset_index()
            _band(ax, t["noise_rate"], t["mean"], t["std"], label=label, **kw)
        if chance is not None:
            ax.axhline(chance, color="0.35", lw=1, ls="--", label=f"chance ({chance:g})")
        if noise_type == "read_depth":
            ax.set_xscale("log")
            ax.invert_xaxis()
        ax.set_title(_series_name(keys, name))
        ax.set_xlabel(NOISE_AXIS.get(noise_type, "noise level"))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    if not groups:
        axes[0].set_title("no runs")
    lo, hi = axes[0].get_ylim()  # shared: sd bands must not stretch the axis past [0, 1]
    axes[0].set_ylim(max(lo, 0.0 if chance is not None else -1.0), min(hi, 1.02))
    _shared_legend(fig, axes)
    return _save(fig, path)


def plot_batch_effect(df: pd.DataFrame, path: str | Path, *, metric: str = "auroc") -> Path:
    """Clean-test ``metric`` against batch size, one line per noise level, one panel per
    model and method (logistic regression, which has no batches, is left out).

    Mean ± sd over seeds. Writes ``path`` (PNG) and the SVG beside it.
    """
    path = Path(path)
    sub = df[df["model"] != "logreg"] if len(df) else df
    groups = list(sub.groupby(["model", "method"], sort=True)) if len(sub) else []
    fig, axes = _panels(max(1, len(groups)))
    rates = sorted(sub["noise_rate"].unique()) if len(sub) else []
    cmap = plt.get_cmap("viridis")
    for ax, (name, part) in zip(axes, groups, strict=False):
        for i, rate in enumerate(rates):
            t = part[part["noise_rate"] == rate].groupby("batch_size")[metric].agg(["mean", "std"])
            if not len(t):
                continue
            t = t.reset_index()
            color = cmap(i / max(1, len(rates) - 1))
            ax.errorbar(t["batch_size"], t["mean"], yerr=np.nan_to_num(t["std"]), marker="o",
                        ms=3, capsize=2, color=color, label=f"noise {rate:g}")  # fmt: skip
        ax.set_xscale("log", base=2)
        sizes = sorted(part["batch_size"].unique())
        ax.set_xticks(sizes, [str(b) for b in sizes])
        ax.minorticks_off()
        ax.axhline(0.5, color="0.35", lw=1, ls="--")
        ax.set_title(_series_name(["model", "method"], name))
        ax.set_xlabel("batch size")
        ax.set_ylabel(f"clean-test {metric.upper()}")
        ax.grid(alpha=0.3)
    if not groups:
        axes[0].set_title("no neural models in the grid")
    _shared_legend(fig, axes)
    return _save(fig, path)
