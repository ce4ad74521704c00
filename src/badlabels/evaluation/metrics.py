"""Classification metrics: the ONE place badlabels computes them.

Predicted class = ``prob >= threshold`` everywhere in badlabels (this module's
:func:`predict_labels`). ``prob`` may be the probability of class 1, shape
(n,), or a ``predict_proba`` output, shape (n, 2), of which column 1 is used.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    matthews_corrcoef,
    roc_auc_score,
)

from badlabels.errors import BadInputError

__all__ = ["METRICS", "as_prob", "auroc", "binary_metrics", "predict_labels", "weighted_auroc"]

METRICS: tuple[str, ...] = ("auroc", "auprc", "accuracy", "f1", "mcc")


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
