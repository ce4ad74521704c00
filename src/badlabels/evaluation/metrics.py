"""Classification and regression metrics: the ONE place badlabels computes them.

Predicted class = ``prob >= threshold`` everywhere in badlabels (this module's
:func:`predict_labels`). ``prob`` may be the probability of class 1, shape
(n,), or a ``predict_proba`` output, shape (n, 2), of which column 1 is used.

Regression (:func:`regression_metrics`) compares a prediction with the measured
continuous score on the rows where both are finite: rank and linear correlation,
R^2 (which, unlike the correlations, needs the prediction in the score's units) and
ProteinGym's NDCG and top-10 % recall. A metric that is undefined (fewer than two
rows, a constant input) is NaN, never an exception or a warning.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    matthews_corrcoef,
    r2_score,
    roc_auc_score,
)

from badlabels.errors import BadInputError

__all__ = [
    "METRICS",
    "REGRESSION_METRICS",
    "SCORE_METRICS",
    "as_prob",
    "auroc",
    "binary_metrics",
    "ndcg",
    "predict_labels",
    "regression_metrics",
    "score_metrics",
    "top_recall",
    "weighted_auroc",
]

METRICS: tuple[str, ...] = ("auroc", "auprc", "accuracy", "f1", "mcc")
SCORE_METRICS: tuple[str, ...] = ("spearman", "ndcg", "top10_recall")
"""Metrics against a continuous score (ProteinGym's: Spearman, NDCG and top-10 % recall)."""
REGRESSION_METRICS: tuple[str, ...] = ("spearman", "pearson", "r2", "ndcg", "top10_recall")
"""Metrics of a regressor's prediction against the measured score (:func:`regression_metrics`)."""


def as_prob(prob, n: int | None = None) -> np.ndarray:
    """``prob`` as a 1-D float array of P(y = 1); accepts (n,) or (n, 2)."""
    p = np.asarray(prob, dtype=np.float64)
    if p.ndim == 2 and p.shape[1] == 2:
        p = p[:, 1]
    if p.ndim != 1:
        raise BadInputError(f"prob must have shape (n,) or (n, 2), got {p.shape}")
    if n is not None and len(p) != n:
        raise BadInputError(f"prob has {len(p)} entries but the labels have {n}")
    if np.isnan(p).any():
        raise BadInputError(f"prob contains NaN at index {int(np.flatnonzero(np.isnan(p))[0])}")
    return p


def as_binary(y, name: str = "y_true") -> np.ndarray:
    """``y`` as a 1-D int8 array of 0/1, or BadInputError."""
    a = np.asarray(y)
    if a.ndim != 1:
        raise BadInputError(f"{name} must be one-dimensional, got shape {a.shape}")
    ok = np.isin(a, (0, 1))
    if not ok.all():
        raise BadInputError(f"{name} must be 0 or 1, found {a[~ok][0]!r}")
    return a.astype(np.int8)


def predict_labels(prob, threshold: float = 0.5) -> np.ndarray:
    """Predicted class: 1 where ``prob >= threshold``."""
    return (as_prob(prob) >= threshold).astype(np.int8)


def auroc(y_true, prob) -> float:
    """AUROC alone (ties count 1/2); NaN when ``y_true`` holds fewer than two classes."""
    y = as_binary(y_true)
    p = as_prob(prob, len(y))
    if not 0 < int(y.sum()) < len(y):
        return float("nan")
    return float(roc_auc_score(y, p))


def binary_metrics(y_true, prob, threshold: float = 0.5) -> dict[str, float]:
    """AUROC, AUPRC (average precision), accuracy, F1 and MCC of ``prob`` against ``y_true``.

    Threshold-free metrics (auroc, auprc) are NaN when ``y_true`` holds only
    one class; no exception, no warning. All values are NaN for empty input.
    F1 is 0 when undefined (no predicted and no true positives).
    """
    y = as_binary(y_true)
    p = as_prob(prob, len(y))
    nan = float("nan")
    if len(y) == 0:
        return dict.fromkeys(METRICS, nan)
    pred = (p >= threshold).astype(np.int8)
    two_classes = 0 < int(y.sum()) < len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "auroc": auroc(y, p) if two_classes else nan,
            "auprc": float(average_precision_score(y, p)) if two_classes else nan,
            "accuracy": float(accuracy_score(y, pred)),
            "f1": float(f1_score(y, pred, zero_division=0)),
            "mcc": float(matthews_corrcoef(y, pred)),
        }


def weighted_auroc(y_true, prob, weights) -> np.ndarray:
    """AUROC for many weightings of the same samples at once (ties count 1/2).

    Equal to ``roc_auc_score(y_true, prob, sample_weight=w)`` for each row
    ``w`` of ``weights`` (shape (B, n), or (n,) for one). Bootstrap resamples
    are integer weights. NaN for a row whose positives or negatives weigh 0.
    """
    y = as_binary(y_true)
    p = as_prob(prob, len(y))
    w = np.asarray(weights, dtype=np.float64)
    single = w.ndim == 1
    w = np.atleast_2d(w)
    if w.shape[1] != len(y):
        raise BadInputError(f"weights have {w.shape[1]} columns but the labels have {len(y)}")
    order = np.argsort(p, kind="stable")
    ps, ys, ws = p[order], y[order].astype(bool), w[:, order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]]) if len(ps) else np.array([], int)
    if len(starts) == 0:
        out = np.full(w.shape[0], np.nan)
        return out[0] if single else out
    pos = np.add.reduceat(np.where(ys, ws, 0.0), starts, axis=1)  # (B, groups)
    neg = np.add.reduceat(np.where(ys, 0.0, ws), starts, axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    num = np.sum(pos * (neg_below + 0.5 * neg), axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / den, np.nan)
    return out[0] if single else out


def _finite_pair(score, pred) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(score, dtype=np.float64).reshape(-1)
    p = np.asarray(pred, dtype=np.float64).reshape(-1)
    if s.shape != p.shape:
        raise BadInputError(f"scores and predictions differ in length: {len(s)} and {len(p)}")
    keep = np.isfinite(s) & np.isfinite(p)
    return s[keep], p[keep]


def ndcg(score, pred, top: float = 10.0) -> float:
    """Normalised discounted cumulative gain of the top ``top`` % as ProteinGym computes it.

    Gains are the true scores min-max scaled to [0, 1]; the ``k = floor(n * top / 100)``
    rows ranked highest by ``pred`` are discounted by ``log2(rank + 1)`` and the sum is
    divided by that of the ``k`` truly best rows (ProteinGym's ``calc_ndcg``).

    Parameters
    ----------
    score : array-like of float, shape (n,)
        The measured score (higher = fitter).
    pred : array-like of float, shape (n,)
        The model's score or probability.
    top : float, default 10
        The percentage of rows that count.

    Returns
    -------
    float
        In [0, 1]; NaN when fewer than 2 finite rows, or all scores are equal.
    """
    s, p = _finite_pair(score, pred)
    k = int(np.floor(len(s) * top / 100.0))
    if len(s) < 2 or k < 1 or s.max() == s.min():
        return float("nan")
    gains = (s - s.min()) / (s.max() - s.min())
    discounts = 1.0 / np.log2(np.arange(1, k + 1) + 1.0)
    # Stable sorts: ties keep row order, as numpy's double argsort does in ProteinGym.
    by_pred = np.argsort(-p, kind="stable")[:k]
    ideal = np.sort(gains)[::-1][:k]
    idcg = float(ideal @ discounts)
    return float(gains[by_pred] @ discounts / idcg) if idcg > 0 else float("nan")


def top_recall(score, pred, top: float = 10.0) -> float:
    """Share of the truly top ``top`` % of rows that the model also ranks in its top ``top`` %.

    "Top" means above the ``100 - top`` percentile of the scores (and of the predictions),
    as ProteinGym's ``calc_toprecall``.

    Parameters
    ----------
    score, pred : array-like of float, shape (n,)
    top : float, default 10

    Returns
    -------
    float
        In [0, 1]; NaN when no row is above the score's percentile.
    """
    s, p = _finite_pair(score, pred)
    if len(s) == 0:
        return float("nan")
    true_top = s > np.percentile(s, 100.0 - top)
    model_top = p > np.percentile(p, 100.0 - top)
    n = int(true_top.sum())
    return float((true_top & model_top).sum() / n) if n else float("nan")


def score_metrics(score, pred) -> dict[str, float]:
    """Spearman correlation, NDCG and top-10 % recall of ``pred`` against a continuous score.

    Parameters
    ----------
    score : array-like of float, shape (n,)
        The measured (clean) score, e.g. ProteinGym's ``DMS_score``.
    pred : array-like of float, shape (n,) or (n, 2)
        P(fit) (a ``predict_proba`` output's column 1 is taken) or any model score.

    Returns
    -------
    dict
        ``spearman``, ``ndcg``, ``top10_recall``; NaN where undefined (constant input).
    """
    pred = np.asarray(pred, dtype=np.float64)
    if pred.ndim == 2:
        pred = pred[:, 1]
    s, p = _finite_pair(score, pred)
    nan = float("nan")
    if len(s) < 2 or np.ptp(s) == 0 or np.ptp(p) == 0:
        rho = nan
    else:
        from scipy.stats import spearmanr

        rho = float(spearmanr(s, p).statistic)
    return {"spearman": rho, "ndcg": ndcg(s, p), "top10_recall": top_recall(s, p)}


def regression_metrics(score, pred) -> dict[str, float]:
    """How well a regressor's prediction matches the measured continuous score.

    Parameters
    ----------
    score : array-like of float, shape (n,)
        The measured (clean) score, on the scale the prediction is in (e.g. log10 fitness).
    pred : array-like of float, shape (n,)
        The model's prediction of ``score``.

    Returns
    -------
    dict
        ``spearman`` and ``pearson`` correlation, ``r2`` (``sklearn.metrics.r2_score``:
        ``1 - SS_res / SS_tot`` of ``pred`` as a prediction of ``score``, so it depends on
        the units, and may be negative), ``ndcg`` and ``top10_recall``
        (:func:`score_metrics`), computed on the rows where both are finite. NaN where
        undefined: all of them for fewer than 2 rows or a constant score, the correlations
        for a constant prediction, ``ndcg`` for fewer than 10 rows (no top 10 %).

    Raises
    ------
    BadInputError
        ``score`` and ``pred`` differ in length.
    """
    s, p = _finite_pair(score, pred)
    nan = float("nan")
    out = score_metrics(s, p)
    pearson = r2 = nan
    if len(s) >= 2 and np.ptp(s) > 0:
        r2 = float(r2_score(s, p))
        if np.ptp(p) > 0:
            pearson = float(np.corrcoef(s, p)[0, 1])
    return {
        "spearman": out["spearman"],
        "pearson": pearson,
        "r2": r2,
        "ndcg": out["ndcg"],
        "top10_recall": out["top10_recall"],
    }
