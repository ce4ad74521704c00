r"""Noise-corrected AUROC and accuracy from a NOISY test set and a known noise matrix.

When the only labels available for testing are themselves noisy, the metrics
computed on them are biased (usually down). If the label noise is
class-conditional, i.e. independent of the sequence (and so of the model's
score) given the true class, and its rates are known, the bias can be undone
exactly in expectation. Derivation:

Notation
--------
y clean label, y~ noisy label, s the model's score, yhat = [s >= threshold].
Noise matrix (``convention="row"``) ``T[i, j] = P(y~ = j | y = i)``, so

    e1 = T[1, 0] = P(y~ = 0 | y = 1)      (positives recorded as negative)
    e0 = T[0, 1] = P(y~ = 1 | y = 0)      (negatives recorded as positive)

cleanlab's ``noise_matrix[i][j] = P(label = i | true_label = j)`` is the
transpose; pass ``convention="cleanlab"`` for it. Clean prevalence
pi = P(y = 1); noisy prevalence

    pi_n = P(y~ = 1) = pi (1 - e1) + (1 - pi) e0,

so when ``prior`` is not given it is estimated from the observed pi_n as
``pi = (pi_n - e0) / (1 - e0 - e1)`` (needs e0 + e1 < 1: otherwise the noisy
labels carry no, or inverted, information), clipped to [0, 1].

Mixtures. Because s is independent of y~ given y, the scores of the noisy
positives are a mixture of the clean class-conditional score distributions,
F~+ = a F+ + (1 - a) F-, and likewise F~- = b F+ + (1 - b) F-, with

    a = P(y = 1 | y~ = 1) = pi (1 - e1) / pi_n
    b = P(y = 1 | y~ = 0) = pi e1 / (1 - pi_n)

(pi_n here is the value implied by pi, so that a and b are probabilities even
when ``prior`` is supplied by the caller), and

    a - b = pi (1 - pi) (1 - e0 - e1) / (pi_n (1 - pi_n))  > 0.

AUROC. A = P(s+ > s-) + 1/2 P(s+ = s-) for a clean positive/negative pair;
for two draws from the same clean class the same quantity is exactly 1/2 by
symmetry (ties counted 1/2). A noisy positive/negative pair is
(clean+, clean-) with probability a (1 - b), (clean-, clean+) with (1 - a) b,
and same-class otherwise, so

    A~ = a (1 - b) A + (1 - a) b (1 - A) + [a b + (1 - a)(1 - b)] / 2
       = (a - b) A + (1 - a + b) / 2,

i.e.  A~ - 1/2 = (a - b)(A - 1/2)  and the corrected estimate is

    A = 1/2 + (A~ - 1/2) / (a - b).

Symmetric noise on balanced classes (pi = 1/2, e0 = e1 = p) gives a = 1 - p,
b = p, hence A - 1/2 = (A~ - 1/2) / (1 - 2p).

Accuracy. Let TPR = P(yhat = 1 | y = 1), FPR = P(yhat = 1 | y = 0). The
noisy accuracy is linear in the clean rates,

    Acc~ = pi [e1 + TPR (1 - 2 e1)] + (1 - pi) [e0 + (1 - FPR)(1 - 2 e0)],

one equation in two unknowns, so it cannot be inverted alone unless
e0 = e1 = e, where Acc~ = e + (1 - 2e) Acc gives Acc = (Acc~ - e) / (1 - 2e).
In general use the two observable predicted-positive rates within the noisy
classes, which are linear in (TPR, FPR) with the same mixture weights:

    q1 = P(yhat = 1 | y~ = 1) = a TPR + (1 - a) FPR
    q0 = P(yhat = 1 | y~ = 0) = b TPR + (1 - b) FPR

whose determinant is again a - b. Inverting,

    TPR = ((1 - b) q1 - (1 - a) q0) / (a - b)
    FPR = (a q0 - b q1) / (a - b)
    Acc = pi TPR + (1 - pi)(1 - FPR)

(TPR and FPR clipped to [0, 1]). Equivalently, the joint clean confusion
matrix is J = (T^T)^-1 J~ with J~[j, k] = P(y~ = j, yhat = k), and Acc =
trace(J); in the symmetric case this reduces to the formula above.

All corrected values are clipped to [0, 1]; they are NaN when the noisy test
set lacks a class or the estimated prior is 0 or 1 (no clean pairs). The
bootstrap resamples the noisy test set (the noise matrix is taken as known),
so its interval covers test-set sampling, including the noise realisation.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from badlabels.errors import BadInputError
from badlabels.evaluation.metrics import as_binary, as_prob, auroc, weighted_auroc

__all__ = [
    "CONVENTIONS",
    "bootstrap_corrected",
    "corrected_accuracy",
    "corrected_auroc",
    "corrected_auroc_from",
    "noise_rates",
]

CONVENTIONS: tuple[str, ...] = ("row", "cleanlab")


def noise_rates(noise_matrix, convention: str = "row") -> tuple[float, float]:
    """``(e0, e1)`` = (P(noisy=1 | clean=0), P(noisy=0 | clean=1)) from a 2x2 noise matrix.

    ``convention="row"``: ``M[i, j] = P(noisy = j | clean = i)`` (rows sum to 1,
    as :func:`badlabels.noise.transition_matrix` returns). ``"cleanlab"``:
    ``M[i, j] = P(noisy = i | clean = j)`` (columns sum to 1).
    """
    if convention not in CONVENTIONS:
        raise BadInputError(
            f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}"
        )
    m = np.asarray(noise_matrix, dtype=np.float64)
    if m.shape != (2, 2):
        raise BadInputError(f"noise_matrix must be 2x2, got shape {m.shape}")
    if convention == "cleanlab":
        m = m.T
    if not np.isfinite(m).all() or (m < 0).any() or (m > 1).any():
        raise BadInputError(f"noise_matrix entries must be probabilities, got {m.tolist()}")
    sums = m.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-6):
        along = "rows" if convention == "row" else "columns"
        raise BadInputError(
            f"noise_matrix {along} must sum to 1 (convention={convention!r}), got {sums.tolist()}"
        )
    e0, e1 = float(m[0, 1]), float(m[1, 0])
    if e0 + e1 >= 1:
        raise BadInputError(
            f"noise rates sum to {e0 + e1:g} >= 1 (e0={e0:g}, e1={e1:g}): the noisy labels carry "
            "no usable information and cannot be corrected"
        )
    return e0, e1


def _check_prior(prior):
    if prior is None:
        return None
    try:
        p = float(prior)
    except (TypeError, ValueError):
        raise BadInputError(f"prior must be a number between 0 and 1, got {prior!r}") from None
    if not 0.0 <= p <= 1.0:
        raise BadInputError(f"prior must be between 0 and 1, got {prior!r}")
    return p


def _correct(pi_noisy, auc_noisy, q1, q0, e0, e1, prior):
    """Vectorised core: corrected (auroc, accuracy) arrays from noisy summaries."""
    pi_noisy = np.asarray(pi_noisy, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if prior is None:
            pi = np.clip((pi_noisy - e0) / (1.0 - e0 - e1), 0.0, 1.0)
        else:
            pi = np.full_like(pi_noisy, prior)
        pt = pi * (1 - e1) + (1 - pi) * e0
        a = pi * (1 - e1) / pt
        b = pi * e1 / (1 - pt)
        d = a - b
        d = np.where((d > 0) & (pi > 0) & (pi < 1), d, np.nan)
        auc = np.clip(0.5 + (np.asarray(auc_noisy) - 0.5) / d, 0.0, 1.0)
        tpr = np.clip(((1 - b) * q1 - (1 - a) * q0) / d, 0.0, 1.0)
        fpr = np.clip((a * q0 - b * q1) / d, 0.0, 1.0)
        acc = np.clip(pi * tpr + (1 - pi) * (1 - fpr), 0.0, 1.0)
    return auc, acc


def _summaries(y, p, threshold):
    """(pi_n, q1, q0) of a noisy test set."""
    n = len(y)
    pred = p >= threshold
    n_pos = int(y.sum())
    nan = float("nan")
    pi_n = n_pos / n if n else nan
    q1 = float(pred[y == 1].mean()) if n_pos else nan
    q0 = float(pred[y == 0].mean()) if n - n_pos else nan
    return pi_n, q1, q0


def _prepare(y_noisy, prob, noise_matrix, prior, convention):
    y = as_binary(y_noisy, "y_noisy")
    p = as_prob(prob, len(y))
    e0, e1 = noise_rates(noise_matrix, convention)
    return y, p, e0, e1, _check_prior(prior)


def corrected_auroc(y_noisy, prob, noise_matrix, prior=None, *, convention="row") -> float:
    """Estimate the clean-label AUROC from noisy labels (module docstring for the formula).

    Parameters
    ----------
    y_noisy : array-like of 0/1, shape (n,)
        Noisy test labels.
    prob : array-like, shape (n,) or (n, 2)
        Model scores / probabilities of class 1.
    noise_matrix : 2x2 array-like
        ``P(noisy = j | clean = i)`` at ``[i, j]`` (``convention="row"``), or
        cleanlab's transpose with ``convention="cleanlab"``.
    prior : float, optional
        Clean prevalence P(y = 1); estimated from the noisy prevalence when None.

    Returns
    -------
    float in [0, 1], NaN when undefined (one noisy class, estimated prior 0 or 1).
    """
    y, p, e0, e1, prior = _prepare(y_noisy, prob, noise_matrix, prior, convention)
    return corrected_auroc_from(auroc(y, p), float(y.mean()) if len(y) else float("nan"),
                                noise_matrix, prior, convention=convention)  # fmt: skip


def corrected_auroc_from(auc_noisy: float, pi_noisy: float, noise_matrix, prior=None, *,
                         convention="row") -> float:  # fmt: skip
    """:func:`corrected_auroc` from its two summaries, for a caller that has the noisy AUROC.

    Parameters
    ----------
    auc_noisy : float
        AUROC against the noisy labels.
    pi_noisy : float
        Share of noisy labels that are 1.
    noise_matrix, prior, convention
        As in :func:`corrected_auroc`.
    """
    e0, e1 = noise_rates(noise_matrix, convention)
    auc, _ = _correct(pi_noisy, auc_noisy, np.nan, np.nan, e0, e1, _check_prior(prior))
    return float(auc)


def corrected_accuracy(
    y_noisy, prob, noise_matrix, prior=None, threshold=0.5, *, convention="row"
) -> float:
    """Estimate the clean-label accuracy of ``prob >= threshold`` from noisy labels.

    Parameters as :func:`corrected_auroc`; see the module docstring for the
    formula (through the clean TPR and FPR).
    """
    y, p, e0, e1, prior = _prepare(y_noisy, prob, noise_matrix, prior, convention)
    pi_n, q1, q0 = _summaries(y, p, threshold)
    _, acc = _correct(pi_n, 0.5, q1, q0, e0, e1, prior)
    return float(acc)


def bootstrap_corrected(
    y_noisy,
    prob,
    noise_matrix,
    n_boot=200,
    seed=0,
    alpha=0.05,
    *,
    prior=None,
    threshold=0.5,
    convention="row",
) -> dict[str, float]:
    """Corrected AUROC and accuracy with percentile bootstrap intervals.

    Resamples the noisy test set ``n_boot`` times (``np.random.default_rng(seed)``),
    vectorised over resamples as integer weights. Intervals are the
    ``alpha / 2`` and ``1 - alpha / 2`` quantiles of the corrected values
    (resamples where a value is undefined are skipped).

    Returns
    -------
    dict with auroc, auroc_lo, auroc_hi, accuracy, accuracy_lo, accuracy_hi.
    """
    y, p, e0, e1, prior = _prepare(y_noisy, prob, noise_matrix, prior, convention)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise BadInputError(f"n_boot must be a whole number >= 1, got {n_boot!r}")
    try:
        alpha_f = float(alpha)
    except (TypeError, ValueError):
        alpha_f = math.nan
    if not 0.0 < alpha_f < 1.0:
        raise BadInputError(f"alpha must be between 0 and 1 (exclusive), got {alpha!r}")

    pi_n, q1, q0 = _summaries(y, p, threshold)
    auc_noisy = auroc(y, p)
    auc, acc = _correct(pi_n, auc_noisy, q1, q0, e0, e1, prior)
    out = {"auroc": float(auc), "accuracy": float(acc)}

    n = len(y)
    if n == 0:
        out.update(auroc_lo=math.nan, auroc_hi=math.nan, accuracy_lo=math.nan, accuracy_hi=math.nan)
        return {k: out[k] for k in _KEYS}
    rng = np.random.default_rng(seed)
    yf = y.astype(np.float64)
    pred = (p >= threshold).astype(np.float64)
    pos_pred, neg_pred = yf * pred, (1 - yf) * pred
    chunk = max(1, 2_000_000 // n)
    aucs, accs = [], []
    for start in range(0, int(n_boot), chunk):
        b = min(chunk, int(n_boot) - start)
        idx = rng.integers(0, n, size=(b, n))
        w = np.bincount((idx + n * np.arange(b)[:, None]).ravel(), minlength=b * n)
        w = w.reshape(b, n).astype(np.float64)
        w_pos = w @ yf
        w_neg = n - w_pos
        with np.errstate(invalid="ignore", divide="ignore"):
            bq1 = (w @ pos_pred) / w_pos
            bq0 = (w @ neg_pred) / w_neg
        bauc = weighted_auroc(y, p, w)
        a_b, c_b = _correct(w_pos / n, bauc, bq1, bq0, e0, e1, prior)
        aucs.append(a_b)
        accs.append(c_b)
    lo, hi = alpha_f / 2, 1 - alpha_f / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, vals in (("auroc", np.concatenate(aucs)), ("accuracy", np.concatenate(accs))):
            out[f"{name}_lo"], out[f"{name}_hi"] = (float(v) for v in np.nanquantile(vals, [lo, hi]))
    return {k: out[k] for k in _KEYS}


_KEYS = ("auroc", "auroc_lo", "auroc_hi", "accuracy", "accuracy_lo", "accuracy_hi")
