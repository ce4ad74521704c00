"""The one noise estimator: clean class priors and the noise matrix from out-of-fold probabilities.

:func:`estimate_noise` is what ``badlabels audit`` and the ``forward`` and ``coteaching``
training methods (through :func:`badlabels.methods.estimate.estimate_noise_from_sequences`)
estimate the label noise with. It needs only numpy, scikit-learn and cleanlab; the
out-of-fold probabilities it reads come from
:func:`badlabels.methods.estimate.out_of_fold_proba`.

Convention
----------
One matrix convention here, cleanlab's: ``noise_matrix[i][j] = P(given = i | true = j)``, so
each **column** sums to 1. ``noise_matrix[1][0]`` is the share of true negatives recorded as
positive, ``noise_matrix[0][1]`` the share of true positives recorded as negative. The forward
loss (:mod:`badlabels.engine.losses`) and :func:`badlabels.noise.transition_matrix` use the
transpose, ``T[i][j] = P(noisy = j | clean = i)`` (rows sum to 1): convert with
:func:`to_transition_matrix`, nowhere else.

Assumptions
-----------
- Binary labels 0/1.
- The noise is class-conditional: whether a label was flipped depends on its true class, not
  on the sequence. Both estimators are consistent only then.
- ``pred_probs`` are out-of-fold: each row comes from a model that never saw that label.
  In-sample probabilities have memorised the noise and make any estimate read too little.
"""

from __future__ import annotations

import numpy as np

from badlabels.errors import BadInputError

NOISE_ESTIMATORS: tuple[str, ...] = ("anchor", "confident_joint")
"""``method`` values of :func:`estimate_noise`; ``"anchor"`` is the default everywhere."""

ANCHOR_QUANTILE = 0.05
"""Default share of sequences averaged at each end by the anchor estimator."""


def _recalibrate(y: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """Platt scaling of P(given = 1) against the given labels (a logistic fit on the logits).

    Parameters
    ----------
    y : ndarray of {0, 1}, shape (n,)
    p1 : ndarray of float, shape (n,)

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    from sklearn.linear_model import LogisticRegression

    p = np.clip(p1, 1e-7, 1.0 - 1e-7)
    logit = (np.log(p) - np.log1p(-p)).reshape(-1, 1)
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(logit, y)
    return fit.predict_proba(logit)[:, 1]


def check_method(method) -> str:
    """``method`` if it is one of :data:`NOISE_ESTIMATORS`, else a :class:`BadInputError`."""
    if method not in NOISE_ESTIMATORS:
        raise BadInputError(
            f"unknown noise estimator {method!r}; choose one of {', '.join(NOISE_ESTIMATORS)}"
        )
    return method


def estimate_noise(labels, pred_probs, *, method: str = "anchor", anchor_quantile=ANCHOR_QUANTILE):
    """Estimate the clean class priors and the noise matrix from out-of-fold probabilities.

    Parameters
    ----------
    labels : array-like of {0, 1}, shape (n,)
        Given (noisy) labels.
    pred_probs : array-like of float, shape (n, 2)
        Out-of-fold probabilities of the given labels' classes (column ``k`` is
        ``P(given = k | x)`` as a model of the noisy labels sees it).
    method : {"anchor", "confident_joint"}, default "anchor"
        ``"anchor"``: the anchor-point estimator of Liu & Tao (2016) and Patrini et al.
        (2017). Under class-conditional noise a calibrated model of the noisy labels predicts
        ``P(given = 1 | x) = e0 + (1 - e0 - e1) P(true = 1 | x)``, so on sequences that are
        surely negative (positive) it predicts ``e0`` (``1 - e1``). The out-of-fold
        probabilities are first recalibrated against the given labels (Platt scaling: a
        one-feature logistic regression on their logits; K fold models are rarely calibrated
        as one), then the estimate averages the ``anchor_quantile`` share of sequences with
        the lowest (highest) recalibrated probability.
        ``"confident_joint"``: cleanlab's calibrated confident joint,
        :func:`cleanlab.count.estimate_py_and_noise_matrices_from_probabilities`.
    anchor_quantile : float in (0, 0.5), default 0.05
        Share of sequences averaged at each end (``"anchor"`` only; not checked otherwise).
        Smaller shares are closer to sure anchors but noisier.

    Returns
    -------
    py : ndarray of float64, shape (2,)
        Estimated clean priors ``P(true = k)``.
    noise_matrix : ndarray of float64, shape (2, 2)
        ``noise_matrix[i, j] = P(given = i | true = j)`` (cleanlab's convention: each column
        sums to 1). :func:`to_transition_matrix` gives the row convention.
    joint : ndarray of int64, shape (2, 2)
        Estimated counts of (given = i, true = j), summing to n with row sums equal to the
        given class counts: what :func:`cleanlab.filter.find_label_issues` takes as
        ``confident_joint``.

    Raises
    ------
    BadInputError
        Unknown ``method``, or ``anchor_quantile`` outside (0, 0.5) with ``"anchor"``.

    Notes
    -----
    Why anchors by default: the confident joint counts every sequence that is confidently,
    but not surely, of the other class as noise. When the classes overlap (as in any real
    assay, where even clean labels are not a function of the sequence) it overestimates the
    noise: on peptide12 with 20 % symmetric flips it estimates about 30 %, even from the exact
    noisy posterior (docs/audit.md). The anchor estimate is unbiased when sure anchors exist
    and the model ranks them at the ends; a model whose top-ranked sequences are not all
    truly positive makes it overestimate ``e1`` (and likewise ``e0`` at the bottom). A model
    whose out-of-fold probabilities spread around the noisy posterior (weak or over-fitted
    fold models, few labels) puts the extremes of that spread at the ends, and the estimate
    reads low: 3-fold logistic regression on a 6-mer task with 20 % flips and a step-shaped
    posterior gives about 11 % (tests/test_methods.py), where the confident joint gives 20 %.
    If the two flip rates would add up to 1 or more (the model learnt nothing usable) both
    are reported as 0.5, "all noise".
    """
    from cleanlab.count import estimate_py_and_noise_matrices_from_probabilities

    y = np.asarray(labels).astype(np.int64)
    probs = np.asarray(pred_probs, dtype=np.float64)
    check_method(method)
    if method == "confident_joint":
        py, nm, _, cj = estimate_py_and_noise_matrices_from_probabilities(y, probs)
        return np.asarray(py, float), np.asarray(nm, float), np.asarray(cj, np.int64)
    try:
        q = float(anchor_quantile)
    except (TypeError, ValueError):
        q = float("nan")
    if not 0.0 < q < 0.5:
        raise BadInputError(f"anchor_quantile must be between 0 and 0.5, got {anchor_quantile!r}")
    n = len(y)
    k = max(1, int(round(q * n)))
    p1 = np.sort(_recalibrate(y, probs[:, 1]))
    e0 = float(np.clip(p1[:k].mean(), 0.0, 1.0))  # P(given 1 | true 0)
    e1 = float(np.clip(1.0 - p1[-k:].mean(), 0.0, 1.0))  # P(given 0 | true 1)
    if e0 + e1 >= 1.0:  # the model learnt nothing usable: report "all noise"
        e0 = e1 = 0.5
    pi_n = float(y.mean())
    pi = float(np.clip((pi_n - e0) / (1.0 - e0 - e1), 0.0, 1.0))
    py = np.array([1.0 - pi, pi])
    nm = np.array([[1.0 - e0, e1], [e0, 1.0 - e1]])
    joint = nm * py[None, :]  # P(given = i, true = j)
    rows = joint.sum(axis=1, keepdims=True)
    counts = np.bincount(y, minlength=2)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        joint = np.where(rows > 0, joint / rows * counts, 0.0)
    return py, nm, np.round(joint).astype(np.int64)


def to_transition_matrix(noise_matrix) -> np.ndarray:
    """cleanlab's noise matrix -> the row convention of the forward loss.

    Parameters
    ----------
    noise_matrix : array-like, shape (2, 2)
        ``noise_matrix[i][j] = P(given = i | true = j)`` (columns sum to 1), as
        :func:`estimate_noise` returns it.

    Returns
    -------
    ndarray of float64, shape (2, 2)
        ``T[i][j] = P(noisy = j | clean = i)`` (rows sum to 1): the transpose, what
        :func:`badlabels.noise.transition_matrix` makes and the ``forward`` loss takes.
    """
    nm = np.asarray(noise_matrix, dtype=np.float64)
    if nm.shape != (2, 2):
        raise BadInputError(f"a noise matrix must be 2x2, got shape {nm.shape}")
    return nm.T.copy()


def flip_rate(py, noise_matrix) -> float:
    """Share of all labels that are wrong, ``sum_j P(true = j) P(given != j | true = j)``.

    Parameters
    ----------
    py : array-like, shape (2,)
        Clean priors ``P(true = j)``.
    noise_matrix : array-like, shape (2, 2)
        cleanlab's convention, ``[i][j] = P(given = i | true = j)``.
    """
    nm = np.asarray(noise_matrix, dtype=np.float64)
    return float(np.dot(np.asarray(py, dtype=np.float64), 1.0 - np.diag(nm)))


__all__ = [
    "ANCHOR_QUANTILE",
    "NOISE_ESTIMATORS",
    "check_method",
    "estimate_noise",
    "flip_rate",
    "to_transition_matrix",
]
