"""The one-page HTML summary of a label audit (self-contained: no scripts, no network URLs).

The page holds the noise estimates, the noise-corrected score of the out-of-fold model, the
detection figures when the true flips are known, a histogram of the label-quality scores
(a PNG embedded as base64) and the most suspect labels.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["quality_histogram_png", "write_audit_html"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 920px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f3f3f3; padding: 0 0.2em; }
.note { color: #555; font-size: 0.92em; }
img { max-width: 100%; }
"""


def quality_histogram_png(quality, flagged, *, bins: int = 40) -> bytes:
    """PNG bytes of a histogram of label-quality scores, flagged and kept labels stacked.

    Parameters
    ----------
    quality : array-like of float, shape (n,)
        Scores in [0, 1].
    flagged : array-like of bool, shape (n,)
    bins : int, default 40
    """
    q = np.asarray(quality, dtype=np.float64)
    f = np.asarray(flagged, dtype=bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    fig, ax = plt.subplots(figsize=(7.0, 3.6), dpi=110)
    ax.hist(
        [q[~f], q[f]],
        bins=edges,
        stacked=True,
        color=["tab:blue", "tab:red"],
        label=[f"kept ({int((~f).sum()):,})", f"flagged ({int(f.sum()):,})"],
    )
    ax.set_xlabel("label-quality score (low = label probably wrong)")
    ax.set_ylabel("labels")
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _num(x, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return html.escape(str(x))
    if not math.isfinite(v):
        return "n/a"
    return f"{v:.{digits}f}"


def _pct(x) -> str:
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):.1f} %"


def _rows(pairs) -> str:
    return "\n".join(
        f"<tr><th>{html.escape(k)}</th><td class='num'>{v}</td></tr>" for k, v in pairs
    )


def write_audit_html(
    path,
    summary: dict,
    quality,
    flagged,
    *,
    suspects=None,
    title: str = "badlabels audit",
    data_name: str | None = None,
    command: str | None = None,
    top: int = 20,
) -> Path:
    """Write the audit's HTML summary.

    Parameters
    ----------
    path : str or Path
        The HTML file to write.
    summary : dict
        :meth:`badlabels.audit.AuditResult.summary` (the content of ``noise.json``).
    quality : array-like of float, shape (n,)
    flagged : array-like of bool, shape (n,)
    suspects : pandas.DataFrame, optional
        The suspects table; its ``top`` lowest-ranked rows are listed.
    title, data_name, command : str, optional
        Heading, the data's name, and the command that produced the audit.
    top : int, default 20

    Returns
    -------
    Path
    """
    path = Path(path)
    png = base64.b64encode(quality_histogram_png(quality, flagged)).decode("ascii")
    flips = summary.get("estimated_flip_rate", {})
    priors = summary.get("priors", {})
    corr = summary.get("noise_corrected_oof", {})
    oof = summary.get("oof_metrics_vs_given_labels", {})
    settings = summary.get("settings", {})
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if data_name:
        parts.append(f"<p>Data: <b>{html.escape(data_name)}</b>, {summary.get('n', 0):,} labels.</p>")
    if command:
        parts.append(f"<p><code>{html.escape(command)}</code></p>")
    parts.append(
        "<p class='note'>Out-of-fold probabilities from "
        f"{html.escape(str(settings.get('model', '?')))} ({settings.get('n_folds', '?')} folds"
        + (f", averaged over {settings['repeats']} repeats" if (settings.get("repeats") or 1) > 1 else "")
        + "), "
        "then cleanlab (confident learning) for the label-quality scores and the flags; noise "
        f"matrix estimated with the {html.escape(str(settings.get('noise_estimator', '?')))} "
        "estimator. Estimates assume class-conditional noise.</p>"
    )

    parts.append("<h2>How noisy are the labels?</h2><table>")
    parts.append(
        _rows(
            [
                ("labels flagged as probably wrong",
                 f"{summary.get('n_flagged', 0):,} ({_pct(summary.get('flagged_fraction'))})"),
                ("estimated flip rate, overall", _pct(flips.get("overall"))),
                ("positives recorded as negative, P(given 0 | true 1)",
                 _pct(flips.get("positive_to_negative"))),
                ("negatives recorded as positive, P(given 1 | true 0)",
                 _pct(flips.get("negative_to_positive"))),
                ("positive share, given labels", _pct(priors.get("given_positive"))),
                ("positive share, estimated clean", _pct(priors.get("estimated_clean_positive"))),
            ]
        )  # fmt: skip
    )
    parts.append("</table>")

    parts.append("<h2>What is the model worth?</h2><table>")
    parts.append("<tr><th></th><th>AUROC</th><th>accuracy</th></tr>")
    parts.append(
        f"<tr><th>out-of-fold vs the given (noisy) labels</th><td class='num'>{_num(oof.get('auroc'))}"
        f"</td><td class='num'>{_num(oof.get('accuracy'))}</td></tr>"
    )
    parts.append(
        "<tr><th>noise-corrected estimate of the clean-label score (95 % bootstrap)</th>"
        f"<td class='num'>{_num(corr.get('auroc'))} [{_num(corr.get('auroc_lo'))}, "
        f"{_num(corr.get('auroc_hi'))}]</td>"
        f"<td class='num'>{_num(corr.get('accuracy'))} [{_num(corr.get('accuracy_lo'))}, "
        f"{_num(corr.get('accuracy_hi'))}]</td></tr></table>"
    )

    det = summary.get("detection")
    if det:
        parts.append("<h2>Detection of the known flips</h2><table>")
        parts.append(
            _rows(
                [
                    ("true flips", f"{det.get('n_true_flips', 0):,} ({_pct(det.get('true_flip_rate'))})"),
                    ("precision of the flags", _num(det.get("precision"))),
                    ("recall of the flags", _num(det.get("recall"))),
                    ("AUROC of the quality score", _num(det.get("auroc"))),
                ]
            )  # fmt: skip
        )
        parts.append("</table>")

    depth = summary.get("read_depth")
    if depth:
        from badlabels.evaluation.read_depth import describe_read_depth

        parts.append("<h2>By read depth</h2>")
        parts.append("<p class='note'>The input read counts, which the model never saw: "
                     f"{html.escape(describe_read_depth(depth, 'label'))}.</p><table>")  # fmt: skip
        parts.append("<tr><th>input reads</th><th>variants</th><th>flagged</th></tr>")
        for q in depth.get("by_quartile", []):
            parts.append(
                f"<tr><td>{q['low']:,.0f}–{q['high']:,.0f}</td><td class='num'>{q['n']:,}</td>"
                f"<td class='num'>{_pct(q['share_flagged'])}</td></tr>"
            )
        parts.append("</table>")

    parts.append("<h2>Label-quality scores</h2>")
    parts.append(
        f"<img alt='histogram of label-quality scores' src='data:image/png;base64,{png}'>"
    )

    if suspects is not None and len(suspects):
        shown = suspects.dropna(subset=["rank"]).sort_values("rank").head(int(top))
        parts.append(f"<h2>The {len(shown)} most suspect labels</h2><table>")
        parts.append("<tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns) + "</tr>")
        for _, row in shown.iterrows():
            cells = []
            for v in row.tolist():
                if isinstance(v, float):
                    cells.append(f"<td class='num'>{_num(v, 4)}</td>")
                else:
                    cells.append(f"<td>{html.escape(str(v))}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
