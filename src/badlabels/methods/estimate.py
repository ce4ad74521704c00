"""Out-of-fold probabilities and the noise estimate the training methods and the audit share.

Contents
--------
:func:`out_of_fold_proba`
    The one out-of-fold routine: every sequence predicted by a model that never saw its
    label (stratified, shuffled folds; optional repeats; fold models built by name or by a
    factory; LSTM folds optionally trained stacked). ``badlabels audit`` and
    ``cleanlab_filter`` use it; :func:`badlabels.audit.out_of_fold_proba` is this function.
:func:`estimate_noise_from_sequences`
    Out-of-fold probabilities of a quick model (default: logistic regression on one-hot
    residues, 3 folds) -> :func:`badlabels.evaluation.noise_estimate.estimate_noise`
    (anchor points by default, as in the audit) -> a :class:`NoiseEstimate`. What
    ``forward`` (its transition matrix) and ``coteaching`` (its forget rate) run on.

Assumptions
-----------
- Binary labels 0/1; class-conditional noise (see
  :mod:`badlabels.evaluation.noise_estimate`).
- Every estimate is made from the labels it is given (the noisy training labels) and, for
  early stopping, the noisy ``eval_set``. Nothing here ever sees clean or test labels.
- Matrix convention: cleanlab's, ``noise_matrix[i][j] = P(given = i | true = j)`` (columns
  sum to 1). :attr:`NoiseEstimate.transition_matrix` is the transpose the forward loss takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from badlabels.errors import BadInputError
from badlabels.evaluation.noise_estimate import (
    ANCHOR_QUANTILE,
    estimate_noise,
    to_transition_matrix,
)
from badlabels.methods.folds import out_of_fold
from badlabels.models.base import as_labels, as_sequences, seed_from

MIN_PER_CLASS_PER_FOLD = 2
"""Out-of-fold estimates need at least this many labels of each class per fold."""

MAX_ESTIMATED_FLIP = 0.49
"""Flip probabilities of a :class:`NoiseEstimate` are clipped to this, so the matrix stays
invertible (what the forward loss needs)."""

Progress = Callable[..., object]


# --- checks -----------------------------------------------------------------------------------
def check_folds(labels: np.ndarray, n_folds) -> int:
    """``n_folds`` as an int, if it is a whole number >= 2 the labels can fill.

    Parameters
    ----------
    labels : ndarray of {0, 1}, shape (n,)
    n_folds : int

    Raises
    ------
    BadInputError
        ``n_folds`` not a whole number >= 2, or fewer than
        ``n_folds * MIN_PER_CLASS_PER_FOLD`` labels of a class.
    """
    if isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer) or n_folds < 2:
        raise BadInputError(f"the number of folds must be a whole number >= 2, got {n_folds!r}")
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=2)
    smallest = int(counts.min())
    need = int(n_folds) * MIN_PER_CLASS_PER_FOLD
    if smallest < need:
        which = "positive" if counts[1] < counts[0] else "negative"
        raise BadInputError(
            f"only {smallest} {which} label(s): {n_folds}-fold out-of-fold estimates need at "
            f"least {need} of each class ({MIN_PER_CLASS_PER_FOLD} per fold); use fewer folds "
            "or more data"
        )
    return int(n_folds)


def check_repeats(repeats) -> int:
    """``repeats`` as an int, if it is a whole number >= 1 (else :class:`BadInputError`)."""
    if isinstance(repeats, bool) or not isinstance(repeats, int | np.integer) or repeats < 1:
        raise BadInputError(f"the number of repeats must be a whole number >= 1, got {repeats!r}")
    return int(repeats)


# --- out of fold ------------------------------------------------------------------------------
def out_of_fold_proba(
    sequences,
    labels,
    *,
    model: str = "lstm",
    method: str = "bce",
    model_params: dict | None = None,
    n_folds: int = 5,
    seed: int = 0,
    repeats: int = 1,
    progress: Progress | None = None,
    engine: str = "auto",
    make_estimator: Callable[[int, int], object] | None = None,
    eval_set=None,
    given_folds=None,
) -> tuple[np.ndarray, list[dict]]:
    """Out-of-fold class probabilities of a sequence model.

    The fold loop is :func:`badlabels.methods.folds.out_of_fold` (repeat ``r`` cuts
    stratified folds shuffled with ``seed + r``).

    Parameters
    ----------
    sequences : array-like of str, shape (n,)
    labels : array-like of {0, 1}, shape (n,)
        The given (noisy) labels.
    model, method : str
        Passed to :func:`badlabels.methods.registry.build_estimator` (unless
        ``make_estimator`` is given).
    model_params : dict, optional
        Constructor parameters of the model (``max_epochs``, ``patience``, ``batch_size``,
        ``validation_fraction`` ...). ``random_state`` defaults to ``seed + repeat + fold``.
    n_folds : int, default 5
        Stratified folds; each class needs ``MIN_PER_CLASS_PER_FOLD`` labels per fold.
    seed : int, default 0
    repeats : int, default 1
        Repeated cross-validation: repeat ``r`` (0-based) cuts new folds and trains new models
        with seed ``seed + r``, and the returned probabilities are the mean over the repeats.
        Each sequence is then predicted by ``repeats`` models that never saw it, which ranks
        label errors better than one model does (``repeats`` times the training).
    progress : callable, optional
        ``progress("fold_start", fold=, n_folds=, n_train=, repeat=, repeats=)``, the
        estimator's ``"epoch"`` events (with ``fold=``, ``n_folds=``, ``repeat=``,
        ``repeats=``) and ``progress("fold_end", fold=, n_folds=, repeat=, repeats=,
        epochs_run=, seconds=, ...)``. Stacked folds all start at once and end as each
        stops; their events carry ``stacked=`` (models at once).
    engine : {"auto", "plain", "stacked"}, default "auto"
        ``plain`` trains the folds one after another. ``auto`` and ``stacked`` train the
        folds of an LSTM trained with a loss (any method but the wrapper ones) together
        as one batched computation (:mod:`badlabels.engine.stacked`; about 2x faster
        on 2 CPU cores, far more on a GPU); other models, and any call with ``eval_set``,
        always run plain. Each fold model keeps the seed, inner validation split, batches
        and early stopping of the plain one, so the two engines agree up to floating-point
        rounding (and the precision chosen by ``BADLABELS_PRECISION``, see
        :data:`badlabels.engine.stacked.PRECISIONS`).
    make_estimator : callable, optional
        ``make_estimator(repeat, fold) -> unfitted estimator`` (both 0-based), in place of
        ``model`` / ``method`` / ``model_params``; the factory seeds its models.
    eval_set : tuple (X_val, y_val), optional
        Passed to every fold model's ``fit`` (noisy validation data for early stopping, in
        place of each model's inner split).

    Returns
    -------
    pred_probs : ndarray of float64, shape (n, 2)
    folds : list of dict
        Per fold and repeat: ``repeat`` (1-based), ``fold``, ``n_train``, ``n_heldout``,
        ``epochs_run``, ``best_epoch``, ``seconds`` (stacked: the unit's wall time shared
        out by epochs run), ``engine``.

    Raises
    ------
    BadInputError
        Bad sequences or labels, too few labels of a class for ``n_folds``, bad ``repeats``,
        an unknown model, method, parameter or engine.
    """
    from badlabels.methods.stacking import check_engine

    seqs = np.asarray(as_sequences(sequences, "sequences"), dtype=object)
    y = as_labels(labels, len(seqs), both_classes=False)
    if given_folds is not None:
        given_folds = _check_given_folds(given_folds, y)
        n_folds, repeats = int(len(np.unique(given_folds))), 1
    else:
        n_folds = check_folds(y, n_folds)
        repeats = check_repeats(repeats)
    engine = check_engine(engine)
    if make_estimator is None:
        from badlabels.methods.registry import build_estimator

        params = dict(model_params or {})
        # Build once up front so a bad model name or parameter fails before any training.
        build_estimator(model, method, model_params=params)

        def make_estimator(r: int, k: int):
            return build_estimator(
                model, method, model_params={"random_state": seed + r + k, **params}
            )

        device = params.get("device", "auto")
    else:  # the factory's models carry their own device; stacking them resolves "auto"
        device = "auto"
    if engine != "plain" and eval_set is None:
        from badlabels.methods.stacked_folds import out_of_fold_stacked

        stacked = out_of_fold_stacked(
            seqs, y, make_estimator, n_folds=n_folds, seed=seed, repeats=repeats,
            device=device, progress=progress, given=given_folds,
        )  # fmt: skip
        if stacked is not None:
            return stacked
    folds = []
    fit_kw = {} if eval_set is None else {"eval_set": eval_set}

    def fit_predict(r, k, train_idx, held_idx):
        where = {"repeat": r + 1, "repeats": repeats}
        if progress is not None:
            progress("fold_start", fold=k + 1, n_folds=n_folds, n_train=len(train_idx), **where)
        est = make_estimator(r, k)

        def on_event(event, **info):
            if progress is not None:
                progress(event, fold=k + 1, n_folds=n_folds, **where, **info)

        t0 = time.perf_counter()
        est.fit(seqs[train_idx], y[train_idx], progress=on_event, **fit_kw)
        held = est.predict_proba(seqs[held_idx])
        info = {
            **where,
            "fold": k + 1,
            "n_train": int(len(train_idx)),
            "n_heldout": int(len(held_idx)),
            "epochs_run": int(getattr(est, "epochs_run_", 1)),
            "best_epoch": int(getattr(est, "best_epoch_", 1)),
            "seconds": float(time.perf_counter() - t0),
            "engine": "plain",
        }
        folds.append(info)
        if progress is not None:
            progress("fold_end", n_folds=n_folds, **info)
        return held

    pred = out_of_fold(
        y, fit_predict, n_folds=n_folds, seed=seed, repeats=repeats, given=given_folds
    )
    return pred, folds


def _check_given_folds(folds, y: np.ndarray) -> np.ndarray:
    """Folds that came with the data, as int64 (n,), each leaving both classes to train on."""
    folds = np.asarray(folds)
    if folds.shape != y.shape:
        raise BadInputError(f"{len(folds)} given fold(s) for {len(y)} labels")
    folds = folds.astype(np.int64)
    values = np.unique(folds)
    if len(values) < 2:
        raise BadInputError("the given folds hold a single fold; out-of-fold needs at least 2")
    for k in values:
        rest = y[folds != k]
        if len(np.unique(rest)) < 2:
            raise BadInputError(
                f"without fold {int(k)} the training rows hold only one class; "
                "the given folds cannot train a model for it"
            )
    return folds


# --- noise estimate for the training methods --------------------------------------------------
@dataclass
class NoiseEstimate:
    """A noise estimate made from noisy training labels alone (``forward``, ``coteaching``).

    Attributes
    ----------
    noise_matrix : list of list of float, 2x2
        ``noise_matrix[i][j] = P(given = i | true = j)`` (cleanlab's convention, columns sum
        to 1), flip probabilities clipped to :data:`MAX_ESTIMATED_FLIP`.
    py : list of float, length 2
        Estimated clean priors ``P(true = 0), P(true = 1)``.
    flip_rate : float
        Estimated share of wrong labels, ``sum_j py[j] * (1 - noise_matrix[j][j])``.
    method : str
        The estimator (:data:`badlabels.evaluation.noise_estimate.NOISE_ESTIMATORS`).
    n_folds : int
        Folds of the out-of-fold probabilities (0 when they were given).
    estimator : str
        The model that gave the out-of-fold probabilities ("" when they were given).
    """

    noise_matrix: list[list[float]]
    py: list[float]
    flip_rate: float
    method: str = "anchor"
    n_folds: int = 0
    estimator: str = ""

    @property
    def transition_matrix(self) -> list[list[float]]:
        """``T[i][j] = P(noisy = j | clean = i)`` (rows sum to 1): the transpose of
        :attr:`noise_matrix`, what the ``forward`` loss takes as ``matrix``."""
        return [[float(v) for v in row] for row in to_transition_matrix(self.noise_matrix)]

    @classmethod
    def from_proba(
        cls,
        labels,
        pred_probs,
        *,
        method: str = "anchor",
        anchor_quantile: float = ANCHOR_QUANTILE,
        n_folds: int = 0,
        estimator: str = "",
    ) -> NoiseEstimate:
        """The estimate from out-of-fold probabilities.

        Parameters
        ----------
        labels : array-like of {0, 1}, shape (n,)
            The noisy labels.
        pred_probs : array-like of float, shape (n, 2)
            Out-of-fold probabilities.
        method, anchor_quantile
            See :func:`badlabels.evaluation.noise_estimate.estimate_noise`.
        n_folds : int, default 0
        estimator : str, default ""
            Recorded as given.
        """
        py, nm, _ = estimate_noise(
            labels, pred_probs, method=method, anchor_quantile=anchor_quantile
        )
        # P(given 1 | true 0), P(given 0 | true 1)
        e0, e1 = np.clip([nm[1, 0], nm[0, 1]], 0.0, MAX_ESTIMATED_FLIP)
        matrix = [[1.0 - e0, e1], [e0, 1.0 - e1]]
        prior = [float(py[0]), float(py[1])]
        return cls(
            noise_matrix=[[float(v) for v in row] for row in matrix],
            py=prior,
            flip_rate=float(prior[0] * e0 + prior[1] * e1),
            method=method,
            n_folds=int(n_folds),
            estimator=str(estimator),
        )

    def to_dict(self) -> dict:
        """JSON-able fields, with the convention spelled out and the transition matrix."""
        return {
            "noise_matrix": self.noise_matrix,
            "convention": "cleanlab: noise_matrix[i][j] = P(given = i | true = j)",
            "transition_matrix": self.transition_matrix,
            "py": self.py,
            "flip_rate": self.flip_rate,
            "method": self.method,
            "n_folds": self.n_folds,
            "estimator": self.estimator,
        }


def estimate_noise_from_sequences(
    X,
    y,
    *,
    n_folds: int = 3,
    random_state=0,
    estimator: str = "logreg",
    estimator_params: dict | None = None,
    method: str = "anchor",
    anchor_quantile: float = ANCHOR_QUANTILE,
) -> NoiseEstimate:
    """Estimate the label noise from sequences and their noisy labels alone.

    Out-of-fold probabilities of ``estimator`` (default: logistic regression on one-hot
    residues, fast and hard to over-fit; fold ``k`` seeded ``random_state + k``, folds
    shuffled with ``random_state``) -> :func:`badlabels.evaluation.noise_estimate.
    estimate_noise` with ``method``.

    Parameters
    ----------
    X : array-like of str, shape (n,)
    y : array-like of {0, 1}, shape (n,)
        The noisy labels.
    n_folds : int, default 3
    random_state : int, default 0
        Seeds the folds and the models.
    estimator : str, default "logreg"
        Model name (:data:`badlabels.models.MODELS`).
    estimator_params : dict, optional
        Its constructor parameters.
    method : {"anchor", "confident_joint"}, default "anchor"
    anchor_quantile : float, default 0.05

    Returns
    -------
    NoiseEstimate
    """
    from badlabels.evaluation.noise_estimate import check_method
    from badlabels.models import make_model

    check_method(method)
    seed = seed_from(random_state)
    params = dict(estimator_params or {})
    seqs = as_sequences(X)
    labels = as_labels(y, len(seqs))

    def make(_repeat: int, k: int):
        return make_model(estimator, **{"random_state": seed + k, **params})

    pred, _ = out_of_fold_proba(
        seqs, labels, make_estimator=make, n_folds=n_folds, seed=seed, engine="plain"
    )
    return NoiseEstimate.from_proba(
        labels, pred, method=method, anchor_quantile=anchor_quantile, n_folds=n_folds,
        estimator=estimator,
    )  # fmt: skip


__all__ = [
    "MAX_ESTIMATED_FLIP",
    "MIN_PER_CLASS_PER_FOLD",
    "NoiseEstimate",
    "check_folds",
    "check_repeats",
    "estimate_noise_from_sequences",
    "out_of_fold_proba",
]
