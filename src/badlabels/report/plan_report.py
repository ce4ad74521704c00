"""``plan.md`` and the self-contained ``plan.html`` of ``badlabels plan`` (from its plan.json data).

The page shows the measured points (noise-corrected AUROC, 95 % bootstrap interval) of the
learning curve and of the noise response, the one fitted curve through them, drawn twice: against
the labels given to a fit, and against the effective size where all points should fall on one
line; then the scenario table and the recommendation. The figure is a PNG embedded as base64:
no scripts, no network URLs.
"""

from __future__ import annotations

import base64
import html
import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from badlabels.evaluation.learning_curve import curve, effective_size  # noqa: E402
from badlabels.report.audit_html import _CSS as _AUDIT_CSS  # noqa: E402

__all__ = ["plan_figure_png", "plan_html", "plan_markdown"]

_CSS = _AUDIT_CSS.replace("max-width: 920px", "max-width: 980px") + """
.rec { background: #eef6ee; border-left: 4px solid #3a3; padding: 0.6em 1em; }
"""


def _f(x, digits: int = 3) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return f"{v:.{digits}f}" if math.isfinite(v) else "n/a"


def _n(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return f"{v:,.0f}" if math.isfinite(v) else "n/a"


def plan_figure_png(data: dict) -> bytes:
    """PNG bytes: the points and the fitted curve against labels and against effective size."""
    fit, noise = data["fit"], data["noise"]
    a, n0, c, g = fit["a"], fit["n0"], fit["c"], fit["gamma"]
    pts = data["points"]
    n = data["n"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.0, 4.2), dpi=110)
    qs = sorted({p["extra_noise"] for p in pts})
    colours = plt.cm.viridis(np.linspace(0.0, 0.8, len(qs)))
    m_max = max(2 * n, *(s.get("m_more", 0) + n for s in data["scenarios"]))
    grid = np.geomspace(min(p["m"] for p in pts) / 2, m_max, 200)
    for q, col in zip(qs, colours, strict=True):
        sel = [p for p in pts if p["extra_noise"] == q]
        rho = noise["rho"] * (1 - 2 * q)
        x = [p["m"] for p in sel]
        yv = [p["auroc"] for p in sel]
        err = [[max(p["auroc"] - p["auroc_lo"], 0) for p in sel],
               [max(p["auroc_hi"] - p["auroc"], 0) for p in sel]]  # fmt: skip
        label = "given labels" if q == 0 else f"+{q:g} flips"
        ax1.errorbar(x, yv, yerr=err, fmt="o", color=col, capsize=3, label=label)
        ax1.plot(grid, curve(effective_size(grid, rho, g), a, n0, c), color=col, lw=1)
        xe = [p["n_eff"] for p in sel]
        ax2.errorbar(xe, yv, yerr=err, fmt="o", color=col, capsize=3, label=label)
    ax1.plot(grid, curve(grid, a, n0, c), "k--", lw=1, label="clean labels (predicted)")
    for s in data["scenarios"]:
        if s["key"] in ("now", "clean") or s["key"].startswith("collect:"):
            m = n + s.get("m_more", 0)
            ax1.plot([m], [s["auroc"]], marker="*", ms=11, color="tab:red", ls="none")
    ax1.set_xscale("log")
    ax1.set_xlabel("labels given to a fit")
    ax1.set_ylabel("AUROC on clean labels (noise-corrected)")
    ax1.set_title("learning curve and noise response")
    ax1.grid(alpha=0.3)
    ax1.legend(frameon=False, fontsize=8)
    e_grid = np.geomspace(min(p["n_eff"] for p in pts) / 2, max(2 * n, n), 200)
    ax2.plot(e_grid, curve(e_grid, a, n0, c), "k-", lw=1, label="fitted curve")
    for s in data["scenarios"]:
        ax2.errorbar([s["n_eff"]], [s["auroc"]], yerr=[[max(s["auroc"] - s["lo"], 0)],
                     [max(s["hi"] - s["auroc"], 0)]], fmt="*", ms=10, color="tab:red", capsize=3)  # fmt: skip
    ax2.plot([], [], "*", color="tab:red", label="scenarios (predicted)")
    ax2.set_xscale("log")
    ax2.set_xlabel(f"effective size: labels x (1 - e0 - e1)^{g:.2f}")
    ax2.set_title("all points on one curve")
    ax2.grid(alpha=0.3)
    ax2.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _scenario_rows(data: dict) -> list[list[str]]:
    rows = []
    for s in data["scenarios"]:
        extra = ""
        if "flips_removed" in s:
            extra = f"removes about {s['flips_removed']:,.0f} wrong labels"
        elif "m_more" in s:
            extra = f"{s['m_more']:,} new measurements"
        rows.append([s["label"], _f(s["auroc"]), f"[{_f(s['lo'])}, {_f(s['hi'])}]",
                     f"{s['gain']:+.3f}", _n(s["n_eff"]), extra])  # fmt: skip
    return rows


_SCEN_HEAD = ["scenario", "predicted AUROC", "95 % interval", "gain", "effective size", ""]
_POINT_HEAD = ["fraction", "extra flips", "labels per fit", "models", "AUROC vs given labels",
               "corrected AUROC", "95 % interval", "fitted"]  # fmt: skip


def _point_rows(data: dict) -> list[list[str]]:
    return [[f"{p['fraction']:g}", f"{p['extra_noise']:g}", _n(p["m"]), str(p["n_models"]),
             _f(p["auroc_noisy"]), _f(p["auroc"]), f"[{_f(p['auroc_lo'])}, {_f(p['auroc_hi'])}]",
             _f(p["fitted"])] for p in data["points"]]  # fmt: skip


def _facts(data: dict) -> list[str]:
    nz, th, fit, ex = data["noise"], data["theory"], data["fit"], data["exchange"]
    src = "estimated from the data" if nz["source"] == "estimated" else "given (--noise-rate)"
    st = data["settings"]
    return [
        f"{data['n']:,} labels; noise {src}: {nz['flip_rate']:.1%} wrong overall "
        f"(P(given 1 | true 0) = {nz['e0']:.3f}, P(given 0 | true 1) = {nz['e1']:.3f}).",
        f"Model planned for: {st['model']}/{st['method']}; {st['n_folds']} folds, full-size "
        f"point repeated {st['repeats']} times; {len(data['jobs'])} models trained.",
        f"Fitted curve: AUROC = 0.5 + ({fit['a']:.3f} - 0.5) / (1 + ({fit['n0']:,.0f} / n_eff)"
        f"^{fit['c']:.2f}), n_eff = labels x (1 - e0 - e1)^gamma, gamma = {fit['gamma']:.2f} "
        f"[{_f(th['gamma_lo'], 2)}, {_f(th['gamma_hi'], 2)}] (theory: 2); residual RMS "
        f"{fit['rmse']:.4f}.",
        f"A noisy label is worth {th['fitted_discount']:.3f} clean ones by the fit, "
        f"{th['theory_discount']:.3f} by the theory's (1 - 2p)^2 "
        f"({th['ratio']:.2f}x the theory).",
        f"Exchange rate: the {data['n']:,} noisy labels are worth about "
        f"{_n(ex['clean_labels'])} clean labels [{_n(ex['lo'])}, {_n(ex['hi'])}].",
    ]


def plan_markdown(data: dict) -> str:
    """``plan.md``: recommendation, facts, scenario table, design points."""

    def table(head, rows):
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)

    lines = ["# What is this noisy dataset worth? (`badlabels plan`)", "",
             "## Recommendation", "", data["recommendation"], "", "## Facts", ""]  # fmt: skip
    lines += [f"- {f}" for f in _facts(data)]
    lines += ["", "## Scenarios (AUROC on clean labels of new variants)", "",
              table(_SCEN_HEAD, _scenario_rows(data)), "",
              "Intervals: bootstrap over the rows (scores, noise estimate and curve refitted on "
              "each resample), widened by the spread between repeated models.", "",
              "## Measured points", "", table(_POINT_HEAD, _point_rows(data)), "",
              "`plan.html` draws these with the fitted curve; `remeasure.csv` lists the most "
              "suspect labels in the order to re-measure them; docs/plan.md explains the method "
              "and its assumptions.", ""]  # fmt: skip
    return "\n".join(lines)


def _html_table(head, rows) -> str:
    h = "".join(f"<th>{html.escape(x)}</th>" for x in head)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='num'>{html.escape(c)}</td>" if i else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(r)
        ) + "</tr>"
        for r in rows
    )  # fmt: skip
    return f"<table><tr>{h}</tr>{body}</table>"


def plan_html(data: dict) -> str:
    """``plan.html``: one self-contained page (embedded PNG, inline CSS, no scripts)."""
    png = base64.b64encode(plan_figure_png(data)).decode("ascii")
    facts = "".join(f"<li>{html.escape(f)}</li>" for f in _facts(data))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>badlabels plan</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>What is this noisy dataset worth?</h1>"
        f"<p class='rec'>{html.escape(data['recommendation'])}</p>"
        f"<h2>Facts</h2><ul>{facts}</ul>"
        "<h2>Curves</h2>"
        f"<img alt='learning curve, noise response and fitted curve' src='data:image/png;base64,{png}'>"
        "<p class='note'>Left: noise-corrected AUROC of models trained on nested subsamples "
        "(given labels) and with extra flips, with 95 % bootstrap intervals, and the fitted "
        "curve of each; dashed: the same labels clean (predicted). Right: the same points "
        "against the effective size, where the model says they lie on one curve; stars: the "
        "scenarios.</p>"
        "<h2>Scenarios</h2>"
        f"{_html_table(_SCEN_HEAD, _scenario_rows(data))}"
        "<h2>Measured points</h2>"
        f"{_html_table(_POINT_HEAD, _point_rows(data))}"
        "<p class='note'>remeasure.csv lists the most suspect labels, most suspect first. "
        "The method and its assumptions: docs/plan.md.</p>"
        "</body></html>\n"
    )
