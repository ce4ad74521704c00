"""Do an audit's flags gather where the measurement was thin? A check against read depth.

For count data (an enrichment or fitness computed from ``count_input`` and
``count_selected``) a variant measured with few input reads has a noisier score, and so a
noisier label when the score is binarised. An audit's model never sees the counts, so flags
that gather among the variants with the fewest input reads point at real measurement noise:
the check is independent of the model. Both audits (labels and scores) report it.
"""

from __future__ import annotations

import math

import numpy as np


def _float(x) -> float:
    """``x`` as a float; None (a NaN after JSON) as NaN."""
    return math.nan if x is None else float(x)


def _num(x, digits: int = 3) -> str:
    v = _float(x)
    return f"{v:.{digits}f}" if math.isfinite(v) else "n/a"


def read_depth_check(count_input, flagged, quality) -> dict:
    """Where the flags fall by read depth: a check the model never saw.

    A score computed from few reads is noisier, so flags that mark real measurement noise
    gather among the variants with the fewest input reads.

    Parameters
    ----------
    count_input : array-like of float, shape (n,)
        Each variant's input (pre-selection) read count.
    flagged : array-like of bool, shape (n,)
    quality : array-like of float, shape (n,)
        Label-quality scores (low = suspect).

    Returns
    -------
    dict
        ``median_input_flagged`` and ``median_input_other``; ``spearman_input_quality``
        (positive: the fewer the reads, the more suspect); ``by_quartile``: for each quarter
        of the variants by input reads (``low``, ``high``: its range), ``n`` and
        ``share_flagged``.
    """
    from scipy.stats import spearmanr

    c = np.asarray(count_input, dtype=np.float64)
    f = np.asarray(flagged).astype(bool)
    q = np.asarray(quality, dtype=np.float64)
    order = np.argsort(c, kind="stable")
    quarters = []
    for part in np.array_split(order, 4):
        if len(part):
            quarters.append({"low": float(c[part].min()), "high": float(c[part].max()),
                             "n": int(len(part)), "share_flagged": float(f[part].mean())})  # fmt: skip
    rho = spearmanr(c, q).statistic if np.ptp(c) > 0 and np.ptp(q) > 0 else math.nan
    return {
        "median_input_flagged": float(np.median(c[f])) if f.any() else math.nan,
        "median_input_other": float(np.median(c[~f])) if (~f).any() else math.nan,
        "spearman_input_quality": float(rho),
        "by_quartile": quarters,
    }


def describe_read_depth(check: dict, what: str = "score") -> str:
    """:func:`read_depth_check`'s result in one sentence (no final full stop); the check
    may have been through JSON (NaN as None). ``what``: what was audited ("score", "label")."""
    rho = f"Spearman of input reads with label quality {_num(check['spearman_input_quality'])}"
    if not math.isfinite(_float(check.get("median_input_flagged"))):
        return f"no {what} flagged; {rho}"
    low, high = check["by_quartile"][0], check["by_quartile"][-1]
    return (
        f"flagged {low['share_flagged']:.1%} of the quarter with the fewest input reads "
        f"({low['low']:,.0f}-{low['high']:,.0f}) and {high['share_flagged']:.1%} of the quarter "
        f"with the most ({high['low']:,.0f}-{high['high']:,.0f}); median input reads "
        f"{_num(check['median_input_flagged'], 0)} flagged against "
        f"{_num(check['median_input_other'], 0)} for the others; {rho}. Flags that gather at "
        "low depth point at measurement noise"
    )


def read_depth_of(dataset, flagged, quality) -> dict | None:
    """:func:`read_depth_check` for a dataset with ``counts["count_input"]`` (one per row),
    else None."""
    counts = getattr(dataset, "counts", None) or {}
    c = counts.get("count_input")
    if c is None or len(c) != len(flagged):
        return None
    return read_depth_check(c, flagged, quality)


__all__ = ["describe_read_depth", "read_depth_check", "read_depth_of"]
