"""Estimators that wrap a model to train it on noisy labels.

Assumptions
-----------
- Binary labels 0/1; the noise is class-conditional when a method estimates it.
- Everything is estimated from the data ``fit`` is given (the noisy training labels) and,
  for early stopping and model selection, the noisy validation split passed as ``eval_set``.
  Nothing here ever sees clean or test labels.
- Matrix conventions: the ``forward`` loss takes ``T[i][j] = P(noisy = j | clean = i)``
  (rows sum to 1); the noise estimate (:mod:`badlabels.methods.estimate`) is kept in
  cleanlab's ``P(given = i | true = j)`` and transposed once, by
  :attr:`~badlabels.methods.estimate.NoiseEstimate.transition_matrix`.

Contents
--------
:class:`ForwardCorrectionClassifier`
    Trains the model with the ``forward`` loss, the matrix given or estimated at fit time
    (:func:`badlabels.methods.estimate.estimate_noise_from_sequences`: out-of-fold
    logistic regression, 3 folds, then the anchor-point estimate the audit uses).
:class:`CleanlabFilterClassifier`
    K-fold out-of-fold probabilities with the same model family (few epochs) ->
    ``cleanlab.filter.find_label_issues`` -> drop the flagged rows -> retrain on the rest.
:class:`SelectOnValidation`
    Fits several candidates (hyper-parameter values) and keeps the one with the best AUROC on
    the noisy validation labels.

Every wrapper exposes the fitted model it predicts with as ``estimator_`` (a registered
badlabels model), and copies its ``epochs_run_``, ``best_epoch_``, ``history_``, ``alphabet_``
and ``max_len_``. :func:`badlabels.models.save_model` given a fitted wrapper saves that
``estimator_`` and records the wrapper (class, method) in the metadata.
"""

from __future__ import annotations

import math
import numbers
import time

import numpy as np
from sklearn.utils.validation import check_is_fitted

from badlabels.engine.losses import check_transition_matrix
from badlabels.errors import BadInputError
from badlabels.methods.estimate import estimate_noise_from_sequences, out_of_fold_proba
from badlabels.models import make_model
from badlabels.models.base import (
    CLASSES,
    SequenceClassifier,
    as_labels,
    as_sequences,
    seed_from,
    validation_split,
)


# --- shared wrapper plumbing ---------------------------------------------------------------
class _Wrapper(SequenceClassifier):
    """Predicts with the fitted ``estimator_`` and mirrors its fitted attributes."""

    _method_name = ""
    """The training method (:data:`badlabels.methods.registry.METHODS`) this wrapper runs."""

    def _saved_info(self) -> dict:
        """What :func:`badlabels.models.save_model` records about this wrapper (JSON-able).

        ``save_model`` saves the fitted ``estimator_`` (what ``predict_proba`` uses) in
        place of the wrapper.
        """
        check_is_fitted(self, "estimator_")
        return {
            "class": type(self).__name__,
            "method": self._method_name,
            "saved": f"estimator_: the fitted {type(self.estimator_).__name__} it predicts with",
        }

    def _adopt(self, est, t0: float) -> None:
        self.estimator_ = est
        self.classes_ = CLASSES.copy()
        for name in ("alphabet_", "max_len_", "random_seed_"):
            if hasattr(est, name):
                setattr(self, name, getattr(est, name))
        self.epochs_run_ = int(getattr(est, "epochs_run_", 1))
        self.best_epoch_ = int(getattr(est, "best_epoch_", 1))
        self.history_ = list(getattr(est, "history_", []))
        self.train_seconds_ = time.perf_counter() - t0

    @property
    def variable_length(self) -> bool:  # type: ignore[override]
        est = getattr(self, "estimator_", None)
        return bool(getattr(est, "variable_length", True))

    def decision_function(self, X) -> np.ndarray:
        """Logits of the fitted ``estimator_``, shape (n,)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of the fitted ``estimator_``, shape (n, 2)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def architecture(self) -> dict:
        """The wrapped model's architecture, with the wrapper's name."""
        check_is_fitted(self, "estimator_")
        arch = self.estimator_.architecture() if hasattr(self.estimator_, "architecture") else {}
        return {**arch, "method": type(self).__name__}


def alphabet_param(params: dict) -> dict:
    """``{"alphabet": ...}`` when the model parameters set one (for the noise estimate's model)."""
    return {"alphabet": params["alphabet"]} if params.get("alphabet") is not None else {}


def _model_params(model: str, model_params: dict | None, **override) -> dict:
    params = dict(model_params or {})
    clash = sorted(set(params) & set(override))
    if clash:
        raise BadInputError(
            f"model parameter(s) {', '.join(clash)} are set by the training method; leave them out"
        )
    params.update(override)
    make_model(model, **params)  # checks the name and parameters early
    return params


# --- forward correction ------------------------------------------------------------------
class ForwardCorrectionClassifier(_Wrapper):
    """Forward loss correction (Patrini et al. 2017) with a given or estimated matrix.

    Parameters
    ----------
    model : str, default "lstm"
        A neural model name (:data:`badlabels.models.MODELS`).
    model_params : dict, optional
        Its constructor parameters (not ``loss`` / ``loss_params``).
    matrix : 2x2 array-like, optional
        ``T[i][j] = P(noisy = j | clean = i)`` (rows sum to 1). Default: estimated from the
        training data with :func:`badlabels.methods.estimate.estimate_noise_from_sequences`
        (anchor points, as the audit) and transposed to this convention.
    n_folds : int, default 3
        Folds of the estimate.
    estimator : str, default "logreg"
        Model of the estimate's out-of-fold probabilities.

    Attributes
    ----------
    matrix_ : list of list of float
        The matrix used, ``T[i][j] = P(noisy = j | clean = i)``.
    noise_estimate_ : NoiseEstimate or None
        The estimate (None when ``matrix`` was given); ``matrix_`` is its
        ``transition_matrix``.
    estimator_ : fitted model
    """

    _method_name = "forward"

    def __init__(self, model="lstm", model_params=None, matrix=None, n_folds=3, estimator="logreg"):
        self.model = model
        self.model_params = model_params
        self.matrix = matrix
        self.n_folds = n_folds
        self.estimator = estimator

    def fit(self, X, y, eval_set=None, progress=None, sample_weight=None):
        """Estimate the matrix (unless given), then train with the ``forward`` loss."""
        t0 = time.perf_counter()
        params = _model_params(self.model, self.model_params, loss="forward", loss_params=None)
        seqs = as_sequences(X)
        labels = as_labels(y, len(seqs))
        if self.matrix is not None:
            matrix = check_transition_matrix(self.matrix)
            self.noise_estimate_ = None
        else:
            est = estimate_noise_from_sequences(
                seqs,
                labels,
                n_folds=self.n_folds,
                random_state=params.get("random_state", 0),
                estimator=self.estimator,
                estimator_params=alphabet_param(params),
            )
            self.noise_estimate_ = est
            matrix = est.transition_matrix
        self.matrix_ = matrix
        model = make_model(self.model, **{**params, "loss_params": {"matrix": matrix}})
        model.fit(seqs, labels, eval_set=eval_set, progress=progress, sample_weight=sample_weight)
        self._adopt(model, t0)
        return self

    def _saved_info(self) -> dict:
        return {**super()._saved_info(), "matrix": self.matrix_}


# --- cleanlab filter ---------------------------------------------------------------------
class CleanlabFilterClassifier(_Wrapper):
    """Drop the labels cleanlab flags, then train on the rest.

    Out-of-fold probabilities come from the same model family trained for at most
    ``oof_epochs`` epochs per fold (with the same ``eval_set`` for early stopping); rows that
    ``cleanlab.filter.find_label_issues`` flags are dropped and the model is trained in
    full on the rest.

    Parameters
    ----------
    model : str, default "lstm"
    model_params : dict, optional
    n_folds : int, default 3
    oof_epochs : int, default 5
        Epoch cap of the out-of-fold models (the final model uses ``max_epochs``).
    filter_by : str, default "prune_by_noise_rate"
        cleanlab's rule.
    min_keep_per_class : int, default 10
        If filtering would leave fewer rows of a class, nothing is dropped.

    Attributes
    ----------
    label_issues_ : ndarray of bool, shape (n,)
        Rows flagged (dropped unless ``filter_skipped_``).
    n_dropped_ : int
    filter_skipped_ : bool
    oof_proba_ : ndarray, shape (n, 2)
    estimator_ : fitted model
    """

    _method_name = "cleanlab_filter"

    def __init__(
        self,
        model="lstm",
        model_params=None,
        n_folds=3,
        oof_epochs=5,
        filter_by="prune_by_noise_rate",
        min_keep_per_class=10,
    ):
        self.model = model
        self.model_params = model_params
        self.n_folds = n_folds
        self.oof_epochs = oof_epochs
        self.filter_by = filter_by
        self.min_keep_per_class = min_keep_per_class

    def fit(self, X, y, eval_set=None, progress=None, sample_weight=None):
        """Out-of-fold probabilities -> find_label_issues -> drop -> retrain."""
        from cleanlab.filter import find_label_issues

        t0 = time.perf_counter()
        params = _model_params(self.model, self.model_params)
        oof = self.oof_epochs
        if not isinstance(oof, numbers.Integral) or isinstance(oof, bool) or oof < 1:
            raise BadInputError(f"oof_epochs must be a positive integer, got {oof!r}")
        seqs = as_sequences(X)
        labels = as_labels(y, len(seqs))
        seed = seed_from(params.get("random_state"))
        base = make_model(self.model, **params)
        oof_params = dict(params)
        if "max_epochs" in base.get_params():
            oof_params["max_epochs"] = min(int(oof), int(base.max_epochs))

        def make(_repeat: int, k: int):
            return make_model(self.model, **{**oof_params, "random_state": seed + 1 + k})

        def on_event(event, **info):
            if progress is not None:
                progress(event, stage="oof", **info)

        pred, _ = out_of_fold_proba(
            seqs,
            labels,
            make_estimator=make,
            n_folds=self.n_folds,
            seed=seed,
            eval_set=eval_set,
            progress=on_event,
            engine="plain",
        )
        try:
            issues = find_label_issues(labels, pred, filter_by=self.filter_by, n_jobs=1)
        except ValueError as exc:
            raise BadInputError(f"cleanlab_filter: {exc}") from None
        keep = ~np.asarray(issues, dtype=bool)
        kept_counts = np.bincount(labels[keep], minlength=2)
        self.filter_skipped_ = bool(kept_counts.min() < int(self.min_keep_per_class))
        if self.filter_skipped_:
            keep = np.ones(len(labels), dtype=bool)
        self.oof_proba_ = pred
        self.label_issues_ = np.asarray(issues, dtype=bool)
        self.n_dropped_ = int((~keep).sum())

        model = make_model(self.model, **{**params, "random_state": seed})
        weights = None if sample_weight is None else np.asarray(sample_weight)[keep]
        model.fit(
            seqs[keep], labels[keep], eval_set=eval_set, progress=progress, sample_weight=weights
        )
        self._adopt(model, t0)
        return self

    def _saved_info(self) -> dict:
        info = super()._saved_info()
        return {**info, "n_dropped": self.n_dropped_, "filter_skipped": self.filter_skipped_}


# --- hyper-parameter selection on the noisy validation split ------------------------------
class SelectOnValidation(_Wrapper):
    """Fit each candidate and keep the one with the best AUROC on the noisy validation labels.

    Under label noise that does not depend on the sequence, the AUROC against noisy labels is
    an increasing function of the AUROC against the clean ones, so ranking candidates on the
    noisy validation split picks the same winner in expectation, without clean labels.

    Parameters
    ----------
    candidates : list of estimators
        Unfitted, each with ``fit(X, y, eval_set=, progress=)``.
    labels : list of str, optional
        A name per candidate (e.g. ``"q=0.7"``), for ``scores_``.
    validation_fraction : float, default 0.1
        Held out of ``X`` (seeded by ``random_state``) when ``fit`` gets no ``eval_set``.
    random_state : int, default 0

    Attributes
    ----------
    scores_ : list of dict
        ``{"label", "val_auroc"}`` per candidate.
    best_index_ : int
    estimator_ : the winning fitted estimator
    """

    _method_name = "select_on_validation"

    def __init__(self, candidates=(), labels=None, validation_fraction=0.1, random_state=0):
        self.candidates = candidates
        self.labels = labels
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X, y, eval_set=None, progress=None, sample_weight=None):
        """Fit every candidate; keep the best on the (noisy) validation AUROC."""
        from sklearn.base import clone

        from badlabels.evaluation import binary_metrics

        t0 = time.perf_counter()
        cands = list(self.candidates)
        if not cands:
            raise BadInputError("SelectOnValidation needs at least one candidate")
        names = (
            list(self.labels) if self.labels is not None else [str(i) for i in range(len(cands))]
        )
        seqs = as_sequences(X)
        labels = as_labels(y, len(seqs))
        if eval_set is None:
            vf = self.validation_fraction
            if not isinstance(vf, numbers.Real) or not 0 < vf < 1:
                raise BadInputError(
                    f"SelectOnValidation needs validation data: validation_fraction must be in "
                    f"(0, 1), got {vf!r}"
                )
            fit_idx, val_idx = validation_split(
                len(seqs), float(self.validation_fraction), seed_from(self.random_state)
            )
            eval_set = (seqs[val_idx], labels[val_idx])
            seqs, labels = seqs[fit_idx], labels[fit_idx]
            if sample_weight is not None:
                sample_weight = np.asarray(sample_weight)[fit_idx]
        X_val, y_val = eval_set
        y_val = as_labels(y_val, len(as_sequences(X_val, "eval_set X")), both_classes=False)
        scores, best, best_score, fitted = [], 0, -math.inf, None
        for i, cand in enumerate(cands):
            est = clone(cand)

            def on_event(event, _i=i, **info):
                if progress is not None:
                    progress(event, candidate=names[_i], **info)

            kw = {} if sample_weight is None else {"sample_weight": sample_weight}
            est.fit(seqs, labels, eval_set=(X_val, y_val), progress=on_event, **kw)
            auroc = binary_metrics(y_val, est.predict_proba(X_val)[:, 1])["auroc"]
            scores.append({"label": names[i], "val_auroc": float(auroc)})
            if np.isfinite(auroc) and auroc > best_score or fitted is None:
                best, best_score, fitted = i, (auroc if np.isfinite(auroc) else -math.inf), est
        self.scores_ = scores
        self.best_index_ = best
        self.best_label_ = names[best]
        self._adopt(fitted, t0)
        return self

    def _saved_info(self) -> dict:
        return {**super()._saved_info(), "selected": self.best_label_, "scores": self.scores_}


__all__ = [
    "CleanlabFilterClassifier",
    "alphabet_param",
    "ForwardCorrectionClassifier",
    "SelectOnValidation",
]
