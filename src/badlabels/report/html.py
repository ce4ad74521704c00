"""The HTML report of an experiment or sweep: one self-contained file to send to a colleague.

``report.html`` holds everything inline: CSS in a ``<style>`` element, figures as base64 PNG
``data:`` URIs, no JavaScript and no external URL, so it opens the same offline, in a mail
attachment or on a cluster's file browser. The figures are also written beside it as PNG and
SVG (``figures/``), for slides and papers.

Sections: what was run (data, fingerprint, command, date); the resilience curve per model and
method (mean ± sd over seeds, chance line, ceiling where known); clean-test vs noisy-test AUROC
with the noise-corrected estimate and its derivation (see
:mod:`badlabels.evaluation.correction`); the batch-size effect when the grid varies batch
size; the table of runs; the configuration and package versions.
"""

from __future__ import annotations

import base64
import html
import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from badlabels.report.figures import (
    curve_table,
    plot_batch_effect,
    plot_curve,
    plot_curve_panels,
    plot_noisy_vs_clean,
)
from badlabels.report.summary import split_text

VERSION_PACKAGES = (
    "badlabels", "torch", "numpy", "pandas", "scikit-learn", "cleanlab", "matplotlib", "ray",
)  # fmt: skip

RUN_COLUMNS = [
    "model", "method", "noise_type", "noise_rate", "realized_flip_rate", "seed", "batch_size",
    "epochs_run", "train_seconds", "auroc", "auprc", "accuracy", "f1", "mcc",
    "noisy_test_auroc", "corrected_test_auroc", "cell_id",
]  # fmt: skip
"""Columns of the runs table, in this order (those present)."""


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape a result (installed ones only)."""
    out = {"python": platform.python_version()}
    for name in VERSION_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def write_report(
    out_dir: str | os.PathLike,
    *,
    frame: pd.DataFrame,
    config: dict,
    path: str | os.PathLike | None = None,
) -> Path:
    """Write ``out_dir/report.html`` and its figures (``out_dir/figures/*.png|svg``).

    The report draws what it is given; reading an output folder is the caller's
    (:func:`badlabels.experiment.store.read_results`, :func:`~badlabels.experiment.store.read_config`).

    Parameters
    ----------
    out_dir : path
        An experiment's output folder (figures go to ``out_dir/figures``).
    frame : DataFrame
        The runs, one row per cell (the columns of ``results.csv``).
    config : dict
        What ``config.json`` holds (command, data, grid, versions); ``{}`` if unknown.
    path : path, optional
        Where to write the HTML (default ``out_dir/report.html``).

    Returns
    -------
    Path of the HTML file.
    """
    out = Path(out_dir)
    path = Path(path) if path else out / "report.html"
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    text = render_report(frame, config, fig_dir)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _ceiling(frame: pd.DataFrame) -> float | None:
    if "ceiling_auroc" not in frame or not len(frame):
        return None
    vals = pd.to_numeric(frame["ceiling_auroc"], errors="coerce").dropna()
    return float(vals.iloc[0]) if len(vals) else None


def render_report(frame: pd.DataFrame, config: dict, fig_dir: Path) -> str:
    """The report as one HTML string; figures are written into ``fig_dir`` and embedded.
    A regression experiment's frame gets :mod:`badlabels.report.regression`'s report."""
    from badlabels.report.regression import is_regression_frame, render_regression_report

    config = config or {}
    if is_regression_frame(frame, config):
        return render_regression_report(frame, config, fig_dir)
    ceiling = _ceiling(frame)
    n_series = len(frame.groupby(["model", "method", "batch_size"])) if len(frame) else 0
    body = [_header(frame, config)]

    # 1. Resilience curve.
    if len(frame) and frame["model"].nunique() > 1 and n_series > 6:
        curve = plot_curve_panels(frame, fig_dir / "resilience.png", ceiling=ceiling)
    else:
        curve = plot_curve(frame, fig_dir / "resilience.png", ceiling=ceiling)
    body.append(_section(
        "Resilience to label noise",
        "<p>AUROC on the <em>clean</em> test labels of a model trained on labels corrupted at "
        "each noise level (training and validation labels corrupted; test labels never). "
        "Lines: mean over seeds; bands: ± 1 sd. Dashed: chance (0.5)"
        + (f"; dash-dot: the ceiling, the AUROC of the noise-free fitness ({ceiling:.3f})"
           if ceiling is not None else "")
        + ".</p>" + _figure(curve, "Resilience curve") + _curve_table_html(frame),
    ))  # fmt: skip

    # 2. Clean vs noisy test labels, and the correction.
    noisy = plot_noisy_vs_clean(frame, fig_dir / "noisy_vs_clean.png")
    body.append(_section(
        "Clean-test vs noisy-test AUROC",
        _correction_text() + _figure(noisy, "Clean-test, noisy-test and corrected AUROC")
        + _shrink_table(frame, config),
    ))  # fmt: skip

    # 3. Batch size, when the grid varies it.
    if len(frame) and frame["batch_size"].nunique() > 1:
        batch = plot_batch_effect(frame, fig_dir / "batch_size.png")
        body.append(_section(
            "Batch-size effect",
            "<p>Clean-test AUROC against batch size (log scale), one line per noise level, "
            "mean ± sd over seeds. Logistic regression has no batches and is left out.</p>"
            + _figure(batch, "Batch-size effect"),
        ))  # fmt: skip

    body.append(_section("Runs", _runs_table(frame)))
    body.append(_section("Configuration", _config_html(frame, config, fig_dir)))
    title = f"badlabels report: {config.get('dataset') or _first(frame, 'dataset') or 'experiment'}"
    return _PAGE.format(title=_e(title), style=_STYLE, body="\n".join(body))


# -- pieces ----------------------------------------------------------------------------------


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _first(frame: pd.DataFrame, col: str):
    return frame[col].iloc[0] if col in frame and len(frame) else None


def _section(title: str, inner: str) -> str:
    anchor = title.lower().replace(" ", "-").replace(".", "")
    return f'<section id="{_e(anchor)}"><h2>{_e(title)}</h2>\n{inner}\n</section>'


def _figure(png: Path, caption: str) -> str:
    data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(caption)} (also figures/{_e(png.stem)}.png and .svg)</figcaption>"
        "</figure>"
    )


def _fmt(x, digits: int = 3) -> str:
    if x is None:
        return ""
    if isinstance(x, float | np.floating):
        if not np.isfinite(x):
            return "n/a"
        return f"{x:.{digits}f}"
    return str(x)


def _header(frame: pd.DataFrame, config: dict) -> str:
    dataset = config.get("dataset") or _first(frame, "dataset") or "?"
    fingerprint = config.get("data_fingerprint") or _first(frame, "data_fingerprint") or "?"
    rows = [("Data", dataset)]
    if config.get("n_sequences") is not None:
        pos = config.get("positive_fraction")
        extra = f", {pos:.1%} positive" if isinstance(pos, float) else ""
        rows.append(("Sequences", f"{int(config['n_sequences']):,}{extra}"))
    if config.get("source"):
        rows.append(("Source", config["source"]))
    rows.append(("Data fingerprint", fingerprint))
    if len(frame):
        rows.append(("Noise type", ", ".join(sorted(frame["noise_type"].astype(str).unique()))))
        rows.append(("Runs", f"{len(frame)} ({frame['model'].nunique()} model(s), "
                             f"{frame['method'].nunique()} method(s), "
                             f"{frame['seed'].nunique()} seed(s), "
                             f"{frame['batch_size'].nunique()} batch size(s))"))  # fmt: skip
        split = "/".join(f"{int(frame[c].iloc[0]):,}" for c in ("n_train", "n_val", "n_test")
                         if c in frame)  # fmt: skip
        if split:
            rows.append(("Train/validation/test", split))
            rows.append(("Split", split_text(frame)))
    else:
        rows.append(("Runs", "none finished yet"))
    norm = config.get("count_normalisation")
    if isinstance(norm, dict) and norm.get("kind"):
        rows.append(("Read-depth normalisation", _normalisation_text(norm)))
    if config.get("started_at"):
        rows.append(("Run started", config["started_at"]))
    rows.append(("Report written", time.strftime("%Y-%m-%d %H:%M:%S")))
    table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    command = config.get("command")
    cmd = f"<p>Command:</p><pre>{_e(command)}</pre>" if command else ""
    return (
        f"<header><h1>badlabels report: {_e(dataset)}</h1>"
        f'<table class="meta">{table}</table>{cmd}</header>'
    )


def _normalisation_text(norm: dict) -> str:
    """How read-depth noise recomputed the score (``config["count_normalisation"]``)."""
    ref = norm.get("reference") or [0, 0]
    if norm["kind"] == "wild_type":
        how = f"relative to the wild type {norm.get('wild_type') or '(unnamed)'}"
    else:
        how = "relative to the library totals"
    text = f"enrichment {how} ({int(ref[0]):,} input / {int(ref[1]):,} selected reads)"
    if norm.get("pseudocount"):
        text += f", pseudocount {norm['pseudocount']:g}"
    n, k = norm.get("n_checked"), norm.get("n_agree")
    if n:
        text += f"; reproduces the given score on {int(k):,} of {int(n):,} rows with reads"
    return text


def _curve_table_html(frame: pd.DataFrame, metric: str = "auroc") -> str:
    """Mean ± sd of the clean-test metric, one row per noise level, one column per series."""
    if not len(frame):
        return "<p>No finished runs.</p>"
    t = curve_table(frame, metric)
    keys = [k for k in ("model", "method", "batch_size") if k in t.columns]
    if "batch_size" in keys and t["batch_size"].nunique() == 1:
        keys.remove("batch_size")
    t["series"] = t[keys].astype(str).agg(" / ".join, axis=1)
    t["cell"] = [
        _fmt(m) + (f" ± {s:.3f}" if n > 1 and np.isfinite(s) else "")
        for m, s, n in zip(t["mean"], t["std"], t["count"], strict=True)
    ]
    wide = t.pivot_table(index="noise_rate", columns="series", values="cell", aggfunc="first")
    head = "".join(f"<th>{_e(c)}</th>" for c in wide.columns)
    rows = "".join(
        f"<tr><td>{rate:g}</td>" + "".join(f"<td>{_e(v if isinstance(v, str) else '')}</td>"
                                           for v in row) + "</tr>"  # fmt: skip
        for rate, row in wide.iterrows()
    )
    return (
        f"<p>Clean-test {metric.upper()} (mean ± sd over seeds):</p>"
        f'<div class="scroll"><table><tr><th>noise level</th>{head}</tr>{rows}</table></div>'
    )


def _correction_text() -> str:
    return """
<p>What a test set whose labels are as noisy as the training labels would have reported
(red, dashed), next to the truth on clean test labels (blue) and the noise-corrected estimate
computed from the noisy test labels alone (purple, dotted).</p>
<p>Why the noisy test set understates the model: if the flips are independent of the
sequence given the true class, with rates e<sub>0</sub> = P(noisy 1 | clean 0) and
e<sub>1</sub> = P(noisy 0 | clean 1), clean prevalence &pi; and noisy prevalence
&pi;&#771; = &pi;(1 &minus; e<sub>1</sub>) + (1 &minus; &pi;)e<sub>0</sub>, then the scores
of the noisy positives are a mixture of the clean positives (weight
a = &pi;(1 &minus; e<sub>1</sub>)/&pi;&#771;) and negatives, those of the noisy negatives a
mixture with weight b = &pi;e<sub>1</sub>/(1 &minus; &pi;&#771;), and</p>
<p class="eq">AUROC<sub>noisy</sub> &minus; &frac12; = (a &minus; b)(AUROC &minus; &frac12;),
&nbsp; a &minus; b = &pi;(1 &minus; &pi;)(1 &minus; e<sub>0</sub> &minus; e<sub>1</sub>) /
[&pi;&#771;(1 &minus; &pi;&#771;)].</p>
<p>On a balanced test set (&pi; = &frac12;) with symmetric flips at rate p this is
1 &minus; 2p: AUROC &minus; 0.5 shrinks by (1 &minus; 2p), to nothing at p = 0.5. The corrected
estimate is &frac12; + (AUROC<sub>noisy</sub> &minus; &frac12;)/(a &minus; b), here with the
realised test transition matrix; it is undefined once e<sub>0</sub> + e<sub>1</sub> &ge; 1.
Derivation and code: <code>badlabels.evaluation.correction</code>
(<code>src/badlabels/evaluation/correction.py</code>, <code>corrected_auroc</code>).</p>
"""


def _rates(noise_type: str, level: float, cc_ratio: float) -> tuple[float, float] | None:
    """(e0, e1) that a noise level means, where the noise type fixes them."""
    if noise_type == "symmetric":
        return level, level
    if noise_type == "class_conditional":
        return cc_ratio * level, level
    return None


def _shrink_table(frame: pd.DataFrame, config: dict) -> str:
    """Expected shrink factor (a − b) per level vs the observed (noisy − ½)/(clean − ½)."""
    pi = config.get("positive_fraction")
    if not len(frame) or not isinstance(pi, float) or not 0 < pi < 1:
        return ""
    noise_type = str(frame["noise_type"].iloc[0])
    cc = float(frame["cc_ratio"].iloc[0]) if "cc_ratio" in frame else 0.5
    rows = []
    for level, part in frame.groupby("noise_rate"):
        rates = _rates(noise_type, float(level), cc)
        if rates is None:
            return ""
        e0, e1 = rates
        pt = pi * (1 - e1) + (1 - pi) * e0
        expected = (
            pi * (1 - pi) * (1 - e0 - e1) / (pt * (1 - pt)) if 0 < pt < 1 else float("nan")
        )
        clean = part["auroc"].to_numpy(float)
        noisy = part["noisy_test_auroc"].to_numpy(float)
        ok = np.abs(clean - 0.5) > 0.05
        observed = float(np.median((noisy[ok] - 0.5) / (clean[ok] - 0.5))) if ok.any() else np.nan
        corr = pd.to_numeric(part["corrected_test_auroc"], errors="coerce")
        err = float(np.nanmean(np.abs(corr - part["auroc"]))) if corr.notna().any() else np.nan
        rows.append((level, e0, e1, 1 - 2 * level, expected, observed, err))
    head = (
        "<tr><th>noise level</th><th>e<sub>0</sub></th><th>e<sub>1</sub></th>"
        "<th>1 &minus; 2p (balanced)</th><th>a &minus; b (this prevalence)</th>"
        "<th>observed (noisy &minus; &frac12;)/(clean &minus; &frac12;), median</th>"
        "<th>mean |corrected &minus; clean|</th></tr>"
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(float(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return (
        f"<p>The shrink factor per noise level at this data's positive fraction "
        f"&pi; = {pi:.3f} (observed ratios only where the clean AUROC is at least 0.05 from "
        f"chance):</p><div class=\"scroll\"><table>{head}{body}</table></div>"
    )


def _runs_table(frame: pd.DataFrame) -> str:
    if not len(frame):
        return "<p>No finished runs.</p>"
    cols = [c for c in RUN_COLUMNS if c in frame.columns]
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    rows = []
    for rec in frame[cols].itertuples(index=False):
        cells = "".join(
            f"<td>{_e(_fmt(v, 1 if c == 'train_seconds' else 3))}</td>"
            for c, v in zip(cols, rec, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f"<p>{len(frame)} run(s); AUROC, AUPRC, accuracy, F1 and MCC on clean test labels. "
        "The full table is results.csv; <code>badlabels results DIR</code> prints it.</p>"
        f'<div class="scroll"><table class="runs"><tr>{head}</tr>{"".join(rows)}</table></div>'
    )


def _config_html(frame: pd.DataFrame, config: dict, fig_dir: Path) -> str:
    versions = config.get("versions") or package_versions()
    vrows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in versions.items())
    label = "recorded when the run started" if config.get("versions") else "of this report"
    shown = {
        k: config[k]
        for k in ("dataset", "source", "n_sequences", "positive_fraction", "data_fingerprint",
                  "device", "engine", "backend", "workers", "settings", "started_at", "grid",
                  "count_normalisation")  # fmt: skip
        if k in config
    }
    parts = [
        f'<h3>Package versions ({_e(label)})</h3><table class="meta">{vrows}</table>',
        "<h3>Configuration</h3>",
        f"<pre>{_e(json.dumps(shown, indent=1, default=str))}</pre>" if shown else
        "<p>No config.json in this folder.</p>",
    ]  # fmt: skip
    sweep = fig_dir.parent / "sweep.yaml"
    if sweep.is_file():
        parts += ["<h3>Sweep file (sweep.yaml)</h3>", f"<pre>{_e(sweep.read_text())}</pre>"]
    if "cell_ids" in config:
        parts.append(
            f"<p>Cells in this grid: {len(config['cell_ids'])}; each id is a hash of the cell's "
            "full configuration and the data fingerprint.</p>"
        )
    return "\n".join(parts)


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1.5rem 2rem; color: #1d2329; background: #fff; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .5rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #d5dae0; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #d5dae0; padding: .2rem .5rem; text-align: left; vertical-align: top; }
th { background: #f1f4f7; }
table.runs td { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.meta th { width: 12rem; }
.scroll { overflow-x: auto; max-width: 100%; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; font-size: .8rem; white-space: pre-wrap; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eef0f2; }
figcaption { font-size: .8rem; color: #57606a; }
p.eq { font-family: "Cambria Math", Georgia, serif; margin-left: 1.5rem; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
{body}
<footer><p><small>Written by badlabels. Self-contained: no scripts, no external resources.
</small></p></footer>
</body>
</html>
"""
