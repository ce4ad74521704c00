"""Summary and HTML report of a regression experiment (noisy scores in, Spearman out).

Draws what it is given (the results frame, one row per cell, and the run's configuration):
the resilience curve of the clean-test Spearman correlation against the score-noise level,
the clean-test against the noisy-test Spearman, the other metrics (Pearson, R², NDCG,
top-10 % recall), and, when the grid has more than one method, each method's paired
difference to the first one (same split, same noisy scores per seed) with a 95 % t interval.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from badlabels.data.regression import target_units
from badlabels.report.figures import curve_table, plot_curve
from badlabels.report.html import (
    _PAGE,
    _STYLE,
    _config_html,
    _e,
    _figure,
    _first,
    _fmt,
    _section,
)
from badlabels.report.summary import _fmt as _md_fmt
from badlabels.report.summary import curve_markdown, data_facts, split_text

NOISE_WORDS = {
    "gaussian": "Gaussian noise added to every score (sd = level × the score's sd)",
    "outliers": "a fraction (the level) of scores replaced by random draws from all scores",
    "read_depth": "reads thinned to the level's fraction and fitness recomputed",
}
RUN_COLUMNS = [
    "model", "method", "noise_type", "noise_rate", "seed", "realized_flip_rate", "n_train",
    "epochs_run", "train_seconds", "spearman", "pearson", "r2", "ndcg", "top10_recall",
    "noisy_test_spearman", "cell_id",
]  # fmt: skip
OTHER_METRICS = ("pearson", "r2", "ndcg", "top10_recall")


def is_regression_frame(frame: pd.DataFrame, config: dict | None = None) -> bool:
    """Whether a results frame (or its configuration) is of a regression experiment."""
    if (config or {}).get("task") == "regression":
        return True
    return "task" in frame.columns and (frame["task"].astype(str) == "regression").any()


def paired_differences(frame: pd.DataFrame, metric: str = "spearman",
                       baseline: str | None = None) -> pd.DataFrame:  # fmt: skip
    """Each method's ``metric`` minus ``baseline``'s on the same model, noise level and seed.

    Parameters
    ----------
    frame : DataFrame
        Results with ``model, method, noise_rate, seed`` and ``metric``.
    baseline : str, optional
        The method compared against (default: ``mse`` if present, else the first method).

    Returns
    -------
    DataFrame
        ``model, method, baseline, noise_rate, n, diff, lo, hi, wins``: the mean paired
        difference over the seeds both have, its two-sided 95 % t interval (NaN with fewer
        than two seeds) and the number of seeds where the method was at least as good.
    """
    from scipy import stats as st

    cols = ["model", "method", "baseline", "noise_rate", "n", "diff", "lo", "hi", "wins"]
    if not len(frame) or frame["method"].nunique() < 2:
        return pd.DataFrame(columns=cols)
    methods = list(dict.fromkeys(frame["method"].astype(str)))
    base = baseline or ("mse" if "mse" in methods else methods[0])
    key = ["model", "noise_rate", "seed"]
    ref = frame[frame["method"] == base].set_index(key)[metric]
    rows = []
    for (model, method, rate), g in frame[frame["method"] != base].groupby(
        ["model", "method", "noise_rate"], sort=True
    ):
        r = ref.reindex(pd.MultiIndex.from_frame(g[key])).to_numpy(float)
        own = g[metric].to_numpy(float)
        ok = np.isfinite(r) & np.isfinite(own)
        d = own[ok] - r[ok]
        n = len(d)
        if not n:
            continue
        mean = float(d.mean())
        if n > 1:
            half = float(st.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n))
            lo, hi = mean - half, mean + half
        else:
            lo = hi = float("nan")
        rows.append(dict(model=model, method=method, baseline=base, noise_rate=float(rate), n=n,
                         diff=mean, lo=lo, hi=hi, wins=int((d >= 0).sum())))  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _paired_markdown(frame: pd.DataFrame) -> list[str]:
    pairs = paired_differences(frame)
    if not len(pairs):
        return []
    lines = [
        f"## Methods against {pairs['baseline'].iloc[0]} (paired over seeds)", "",
        "Clean-test Spearman of each method minus the baseline's on the same seed (same split, "
        "same noisy scores); 95 % t interval. An interval that excludes 0 is a difference the "
        "seeds can see.", "",
        "| model / method | noise level | seeds | difference [95 % CI] | seeds at least as good |",
        "|---|---|---|---|---|",
    ]  # fmt: skip
    for r in pairs.itertuples(index=False):
        ci = f"[{r.lo:+.3f}, {r.hi:+.3f}]" if np.isfinite(r.lo) else "(one seed: no interval)"
        lines.append(f"| {r.model} / {r.method} | {r.noise_rate:g} | {r.n} | {r.diff:+.4f} {ci} "
                     f"| {r.wins} of {r.n} |")  # fmt: skip
    return lines + [""]


def _retention_lines(frame: pd.DataFrame) -> list[str]:
    """Spearman at each level as a share of the same series' at level 0."""
    t = curve_table(frame, "spearman")
    out = []
    for (model, method), g in t.groupby(["model", "method"], sort=True):
        zero = g[g["noise_rate"] == 0]["mean"]
        if not len(zero) or not np.isfinite(zero.iloc[0]) or zero.iloc[0] <= 0:
            continue
        parts = [f"{r.noise_rate:g}: {r.mean / zero.iloc[0]:.0%}"
                 for r in g.sort_values("noise_rate").itertuples() if r.noise_rate != 0]  # fmt: skip
        if parts:
            out.append(f"- {model} / {method} keeps " + ", ".join(parts)
                       + " of its noise-free Spearman.")  # fmt: skip
    return out


def write_regression_summary(
    frame: pd.DataFrame, path, *, dataset=None, command: str | None = None,
    notes: list[str] | None = None,
) -> Path:  # fmt: skip
    """Write ``summary.md`` of a regression experiment."""
    path = Path(path)
    lines = ["# badlabels experiment (continuous scores)", ""]
    if command:
        lines += ["```", command, "```", ""]
    if dataset is not None:
        units = target_units(dataset, default="")
        lines.append(f"Data: **{dataset.name}**, {len(dataset):,} sequences, fingerprint "
                     f"`{dataset.fingerprint()}`; the models learn "
                     f"{units or 'the score'}.")  # fmt: skip
        lines += data_facts(dataset.extra)
    if len(frame):
        noise = str(frame["noise_type"].iloc[0])
        lines.append(
            f"Runs: {len(frame)}; score noise `{noise}` ({NOISE_WORDS.get(noise, noise)}); "
            f"train/val/test = {int(frame['n_train'].iloc[0]):,}/{int(frame['n_val'].iloc[0]):,}/"
            f"{int(frame['n_test'].iloc[0]):,}; training and validation scores corrupted, test "
            "scores clean."
        )
        lines.append(f"Split: {split_text(frame)}.")
    lines += notes or []
    lines += ["", "## Clean-test Spearman (mean ± sd over seeds)", "", curve_markdown(frame, "spearman")]
    if len(frame):
        lines += _retention_lines(frame) + [""]
        lines += ["## What a noisy test set would have reported", "",
                  "The same models scored against test scores corrupted like the training "
                  "scores (noisy-test Spearman):", "",
                  curve_markdown(frame, "noisy_test_spearman")]  # fmt: skip
        for metric, words in (("pearson", "Pearson correlation"), ("r2", "R² (in the units "
                              "learnt)"), ("ndcg", "NDCG (top 10 %)"),
                              ("top10_recall", "top-10 % recall")):  # fmt: skip
            if metric in frame:
                lines += [f"## Clean-test {words}", "", curve_markdown(frame, metric)]
        lines += _paired_markdown(frame)
    lines += ["![resilience curve](curve.png)", ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def plot_regression_curve(frame: pd.DataFrame, path) -> Path:
    """The resilience curve of the clean-test Spearman (PNG and SVG)."""
    return plot_curve(frame, path, metric="spearman", title="Resilience to score noise",
                      ylabel="Spearman on clean test scores")  # fmt: skip


def _curve_table_html(frame: pd.DataFrame, metric: str) -> str:
    if not len(frame):
        return ""
    t = curve_table(frame, metric)
    t["series"] = t["model"].astype(str) + " / " + t["method"].astype(str)
    t["cell"] = [_md_fmt(m, s, n) for m, s, n in zip(t["mean"], t["std"], t["count"], strict=True)]
    wide = t.pivot(index="noise_rate", columns="series", values="cell").fillna("")
    head = "".join(f"<th>{_e(c)}</th>" for c in wide.columns)
    rows = "".join(
        f"<tr><td>{rate:g}</td>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
        for rate, row in wide.iterrows()
    )
    return f'<table class="runs"><tr><th>noise level</th>{head}</tr>{rows}</table>'


def _paired_html(frame: pd.DataFrame) -> str:
    pairs = paired_differences(frame)
    if not len(pairs):
        return ""
    rows = "".join(
        f"<tr><td>{_e(r.model)} / {_e(r.method)}</td><td>{r.noise_rate:g}</td><td>{r.n}</td>"
        f"<td>{r.diff:+.4f}</td><td>{_fmt(r.lo, 4)} … {_fmt(r.hi, 4)}</td>"
        f"<td>{r.wins} of {r.n}</td></tr>"
        for r in pairs.itertuples(index=False)
    )
    return (
        f"<p>Clean-test Spearman of each method minus {_e(pairs['baseline'].iloc[0])}'s on the "
        "same seed (same split, same noisy scores), with a 95 % t interval.</p>"
        "<table class='runs'><tr><th>model / method</th><th>noise level</th><th>seeds</th>"
        f"<th>difference</th><th>95 % CI</th><th>seeds at least as good</th></tr>{rows}</table>"
    )


def _runs_html(frame: pd.DataFrame) -> str:
    cols = [c for c in RUN_COLUMNS if c in frame.columns]
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(_fmt(v, 1 if c == 'train_seconds' else 3))}</td>"
                         for c, v in zip(cols, rec, strict=True)) + "</tr>"
        for rec in frame[cols].itertuples(index=False)
    )  # fmt: skip
    return (f"<p>{len(frame)} run(s); metrics against the clean test scores. The full table is "
            "results.csv.</p>"
            f'<div class="scroll"><table class="runs"><tr>{head}</tr>{body}</table></div>')  # fmt: skip


def render_regression_report(frame: pd.DataFrame, config: dict, fig_dir: Path) -> str:
    """The report as one HTML string; figures are written into ``fig_dir`` and embedded."""
    from badlabels.report.figures import plot_metric_lines

    config = config or {}
    dataset = config.get("dataset") or _first(frame, "dataset") or "experiment"
    meta = [("Data", dataset), ("Task", "regression: " + (config.get("units") or "scores"))]
    if config.get("n_sequences") is not None:
        meta.append(("Sequences", f"{int(config['n_sequences']):,}"))
    if config.get("source"):
        meta.append(("Source", config["source"]))
    if len(frame):
        noise = str(frame["noise_type"].iloc[0])
        meta.append(("Score noise", f"{noise}: {NOISE_WORDS.get(noise, noise)}"))
        meta.append(("Runs", f"{len(frame)} ({frame['model'].nunique()} model(s), "
                             f"{frame['method'].nunique()} method(s), "
                             f"{frame['seed'].nunique()} seed(s))"))  # fmt: skip
        meta.append(("Train/validation/test", "/".join(
            f"{int(frame[c].iloc[0]):,}" for c in ("n_train", "n_val", "n_test"))))  # fmt: skip
    meta.append(("Report written", time.strftime("%Y-%m-%d %H:%M:%S")))
    table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in meta)
    cmd = f"<p>Command:</p><pre>{_e(config['command'])}</pre>" if config.get("command") else ""
    body = [f"<header><h1>badlabels report: {_e(dataset)} (continuous scores)</h1>"
            f'<table class="meta">{table}</table>{cmd}</header>']  # fmt: skip
    curve = plot_regression_curve(frame, fig_dir / "resilience.png")
    body.append(_section(
        "Resilience to score noise",
        "<p>Spearman correlation with the <em>clean</em> test scores of a model trained on "
        "scores corrupted at each noise level (training and validation scores corrupted; test "
        "scores never). Lines: mean over seeds; bands: ± 1 sd.</p>"
        + _figure(curve, "Resilience curve") + _curve_table_html(frame, "spearman"),
    ))  # fmt: skip
    if len(frame) and "noisy_test_spearman" in frame:
        noisy = plot_metric_lines(
            frame, fig_dir / "noisy_vs_clean.png",
            [("spearman", "clean test scores"), ("noisy_test_spearman", "noisy test scores")],
            ylabel="Spearman",
        )  # fmt: skip
        body.append(_section(
            "Clean-test vs noisy-test Spearman",
            "<p>What a test set measured as noisily as the training scores would have said "
            "(dashed), beside the truth (solid).</p>" + _figure(noisy, "Clean vs noisy test"),
        ))  # fmt: skip
    others = "".join(f"<h3>{_e(m)}</h3>" + _curve_table_html(frame, m)
                     for m in OTHER_METRICS if m in frame)  # fmt: skip
    if others:
        body.append(_section("Other metrics (clean test scores)", others))
    paired = _paired_html(frame)
    if paired:
        body.append(_section("Methods compared (paired)", paired))
    if len(frame):
        body.append(_section("Runs", _runs_html(frame)))
    body.append(_section("Configuration", _config_html(frame, config, fig_dir)))
    return _PAGE.format(title=_e(f"badlabels report: {dataset}"), style=_STYLE,
                        body="\n".join(body))  # fmt: skip


__all__ = [
    "is_regression_frame",
    "paired_differences",
    "plot_regression_curve",
    "render_regression_report",
    "write_regression_summary",
]
