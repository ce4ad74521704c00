"""Continuous scores as regression targets: the transform and the regression dataset.

A regression dataset (``Dataset.task == "regression"``) keeps the measured score as read
(``Dataset.scores``, e.g. GB1's enrichment, needed to recompute fitness from thinned read
counts) and the *target* a regressor learns, ``Dataset.targets`` = ``transform(scores)``.
Targets are on the scale results are reported in (log10 fitness for GB1); models
standardise them for training and predict in these units again.

Assumptions
-----------
- ``log10`` needs non-negative scores; scores below ``floor`` (zero fitness: no read
  survived) are set to ``floor`` first, so they share one value, ``log10(floor)``.
- ``labels`` of a regression dataset are ``targets > median(targets)``: they only serve what
  needs two classes (stratified splits) and are never a training target.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from badlabels.data.dataset import Dataset
from badlabels.errors import BadInputError

TASKS: tuple[str, ...] = ("auto", "classification", "regression")
"""What ``--task`` accepts: ``auto`` is regression for a continuous label column given no
``--threshold`` / ``--quantile`` / ``--positive``."""
SCORE_TRANSFORMS: tuple[str, ...] = ("log10", "none")
DEFAULT_FLOOR = 1e-4
"""The floor that zero fitness is set to before ``log10``."""


def check_score_transform(transform: str, floor) -> tuple[str, float]:
    """``(transform, floor)`` checked: a name in :data:`SCORE_TRANSFORMS`, a floor > 0."""
    name = str(transform).strip().lower()
    if name not in SCORE_TRANSFORMS:
        raise BadInputError(
            f"unknown score transform {transform!r}; choose one of {', '.join(SCORE_TRANSFORMS)}"
        )
    ok = isinstance(floor, numbers.Real) and not isinstance(floor, bool) and math.isfinite(floor)
    if not ok or floor <= 0:
        raise BadInputError(f"floor must be a number > 0, got {floor!r}")
    return name, float(floor)


def transform_scores(scores, transform: str = "log10", floor: float = DEFAULT_FLOOR,
                     *, what: str = "scores", sequences=None) -> np.ndarray:  # fmt: skip
    """Targets from measured scores.

    Parameters
    ----------
    scores : array-like of float, shape (n,)
    transform : {"log10", "none"}
        ``log10``: ``log10(max(score, floor))``; ``none``: the scores as they are.
    floor : float > 0
        Used by ``log10`` only.
    what : str
        Named in errors.
    sequences : array-like of str, shape (n,), optional
        Named in errors instead of the index (a file's rows may have been merged or dropped).

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    BadInputError
        A non-finite score, or a negative one under ``log10``.
    """
    transform, floor = check_score_transform(transform, floor)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)

    def where(i: int) -> str:
        return f"of sequence {sequences[i]}" if sequences is not None else f"at index {i}"

    bad = ~np.isfinite(s)
    if bad.any():
        raise BadInputError(f"{what}: the score {where(int(np.argmax(bad)))} is not a finite number")
    if transform == "none":
        return s.copy()
    neg = s < 0
    if neg.any():
        i = int(np.argmax(neg))
        raise BadInputError(
            f"{what}: the score {where(i)} is negative ({s[i]:g}); log10 needs scores >= 0 "
            "(pass --transform none if the scores are already on a log scale)"
        )
    return np.log10(np.maximum(s, floor))


def as_regression(dataset: Dataset, transform: str = "log10", floor: float = DEFAULT_FLOOR
                  ) -> Dataset:  # fmt: skip
    """The regression dataset of a dataset that kept its continuous ``scores``.

    Parameters
    ----------
    dataset : Dataset
        With ``scores`` (a file read with a numeric label column, or GB1).
    transform, floor
        See :func:`transform_scores`.

    Returns
    -------
    Dataset
        The same rows with ``task="regression"``, ``targets`` = the transformed scores,
        ``labels`` = ``targets > median``, ``threshold`` the raw score at that median (what
        read-depth noise compares with), and ``extra["score_transform"]`` =
        ``{"transform", "floor"}``; ``extra["task"]`` = ``"regression"``.
    """
    if dataset.scores is None:
        raise BadInputError(
            f"data {dataset.name!r} has no continuous score to regress on: the label column "
            "must hold numbers",
            file=dataset.source,
        )
    transform, floor = check_score_transform(transform, floor)
    targets = transform_scores(dataset.scores, transform, floor, what=dataset.source or "scores",
                               sequences=dataset.sequences)  # fmt: skip
    if len(targets) and np.ptp(targets) == 0:
        raise BadInputError("every score is the same: there is nothing to regress on",
                            file=dataset.source)  # fmt: skip
    median = float(np.median(targets)) if len(targets) else 0.0
    labels = (targets > median).astype(np.int8)
    raw_cut = None
    if len(targets):
        below = dataset.scores[targets <= median]
        raw_cut = float(np.max(below)) if len(below) else float(np.min(dataset.scores))
    extra = dict(dataset.extra)
    extra.update(task="regression", score_transform={"transform": transform, "floor": floor})
    return Dataset(
        sequences=dataset.sequences, labels=labels, name=dataset.name, alphabet=dataset.alphabet,
        scores=dataset.scores, threshold=raw_cut, counts=dataset.counts, latent=dataset.latent,
        source=dataset.source, split=dataset.split, folds=dataset.folds,
        features=dataset.features, extra=extra, task="regression", targets=targets,
    )  # fmt: skip


def target_units(dataset: Dataset | None, default: str = "the score as given") -> str:
    """What a regression dataset's targets are, in words (``default`` without a transform)."""
    spec = (getattr(dataset, "extra", None) or {}).get("score_transform")
    if not spec:
        return default
    if spec.get("transform") == "log10":
        return f"log10 of the score (floor {spec.get('floor', DEFAULT_FLOOR):g})"
    return "the score as given"


def targets_of(dataset: Dataset, scores) -> np.ndarray:
    """Targets of raw ``scores`` under ``dataset``'s transform (recomputed fitness, e.g.)."""
    spec = dataset.extra.get("score_transform") or {"transform": "none", "floor": DEFAULT_FLOOR}
    return transform_scores(scores, spec["transform"], spec["floor"])


WEIGHTS: tuple[str, ...] = ("none", "depth")
"""What ``--weights`` accepts for a regression's training scores."""


def depth_weights(dataset: Dataset) -> tuple[np.ndarray, float]:
    """Inverse-variance weights of scores computed from read counts, and their ``tau2``.

    A log enrichment ``log(count_selected / count_input)`` (relative to the wild type) has a
    Poisson sampling variance of about ``v = 1 / (count_selected + 0.5) + 1 / (count_input +
    0.5)`` (delta method; 0.5 keeps a zero count finite). The weights are ``w = 1 / (tau2 + v)``
    with ``tau2 = median(v)``, fixed a priori: a variant measured as well as the median
    weighs half as much as a perfectly counted one, and a thinly measured one far less. They
    are scaled to mean 1. Scaling ``v`` changes nothing, so the log base does not matter;
    with ``--transform none`` the weights still order the variants by how well they were
    counted, but are not the exact inverse variances of the raw score.

    Parameters
    ----------
    dataset : Dataset
        With ``counts["count_input"]`` and ``counts["count_selected"]`` (shape (n,) each).

    Returns
    -------
    weights : ndarray of float64, shape (n,)
    tau2 : float

    Raises
    ------
    BadInputError
        No read counts, or negative or non-finite ones.
    """
    counts = dataset.counts or {}
    if "count_input" not in counts or "count_selected" not in counts:
        raise BadInputError(
            "weights by read depth need read counts: the file must have count_input and "
            "count_selected columns (or use --weights none)",
            file=dataset.source,
        )
    ci = np.asarray(counts["count_input"], dtype=np.float64)
    cs = np.asarray(counts["count_selected"], dtype=np.float64)
    bad = ~np.isfinite(ci) | ~np.isfinite(cs) | (ci < 0) | (cs < 0)
    if bad.any():
        raise BadInputError(
            f"read counts must be finite and >= 0 (sequence {dataset.sequences[int(np.argmax(bad))]})",
            file=dataset.source,
        )
    v = 1.0 / (cs + 0.5) + 1.0 / (ci + 0.5)
    tau2 = float(np.median(v))
    w = 1.0 / (tau2 + v)
    return w / w.mean(), tau2


__all__ = [
    "DEFAULT_FLOOR",
    "SCORE_TRANSFORMS",
    "TASKS",
    "WEIGHTS",
    "as_regression",
    "check_score_transform",
    "depth_weights",
    "target_units",
    "targets_of",
    "transform_scores",
]
