"""Logistic regression on flattened one-hot sequences (a fast, strong baseline), or on
precomputed features.

Fitted on a 2-D array of features (n, d) (e.g. protein-language-model embeddings, one row per
sequence) instead of sequences, the model is scikit-learn's logistic regression on those
columns as given (in float64; no standardisation), and predicts rows of the same ``d`` only.
Assumption: the features of new rows come from the same featuriser.
"""

from __future__ import annotations

import numbers
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.utils.validation import check_is_fitted

from badlabels.data.encoding import (
    AMINO_ACIDS,
    encoded_flat,
    encoding_matrix,
    encoding_parts,
    is_onehot,
)
from badlabels.errors import BadInputError
from badlabels.models.base import (
    CLASSES,
    FEATURES,
    SEQUENCES,
    SequenceClassifier,
    as_features,
    as_labels,
    as_sequences,
    as_weights,
    check_input_kind,
    input_kind,
    seed_from,
)


class LogisticRegressionClassifier(SequenceClassifier):
    """L2-regularised logistic regression over one-hot residues at each position.

    Parameters
    ----------
    C : float, default 1.0
        Inverse regularisation strength.
    max_iter : int, default 1000
        L-BFGS iterations.
    random_state : int or None
        Passed to scikit-learn (L-BFGS itself is deterministic).
    alphabet : str, optional
        Residue alphabet (default: the 20 amino acids).
    encoding : str, default "onehot"
        Features of a residue at each position, as the neural models' ``encoding``
        (e.g. ``"onehot+vhse"``: one-hot next to the 8 VHSE scales). Must stay ``"onehot"``
        when fitting on precomputed features.

    Attributes
    ----------
    estimator_ : sklearn.linear_model.LogisticRegression
    classes_ : ndarray, shape (2,)
        ``[0, 1]``.
    alphabet_ : str
    max_len_ : int
        Positions encoded (the longest training sequence); shorter sequences are
        zero-padded, longer ones are refused. 0 when fitted on features.
    input_kind_ : {"sequences", "features"}
        What ``fit`` was given; ``predict_proba`` takes the same kind.
    n_features_in_ : int
        Features mode only: ``d``, the columns every row must have.
    epochs_run_, best_epoch_ : int
        Always 1.
    history_ : list of dict
        One entry: ``epoch``, ``train_loss`` (log loss), ``val_loss`` (on ``eval_set``
        if given, else None), ``seconds``.
    train_seconds_ : float
    """

    variable_length = False
    reads_features = True

    def __init__(self, C=1.0, max_iter=1000, random_state=None, alphabet=None, encoding="onehot"):
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state
        self.alphabet = alphabet
        self.encoding = encoding

    def _width(self) -> int:
        """Features per position."""
        return int(encoding_matrix(self.encoding, self.alphabet_).shape[1])

    def _features_mode(self) -> bool:
        """Whether the fitted model reads precomputed features."""
        return getattr(self, "input_kind_", SEQUENCES) == FEATURES

    def _features(self, X, what: str = "X") -> np.ndarray:
        """The design matrix of ``X``: its one-hot (encoded) residues, or its given features."""
        kind = getattr(self, "input_kind_", SEQUENCES)
        n_features = getattr(self, "n_features_in_", None)
        if check_input_kind(kind, X, n_features) == FEATURES:
            return as_features(X, what, n_features=n_features).astype(np.float64)
        seqs = as_sequences(X, what)
        return encoded_flat(seqs, self.encoding, self.alphabet_, length=self.max_len_)

    def fit(
        self,
        X,
        y,
        eval_set=None,
        progress: Callable[..., object] | None = None,
        sample_weight=None,
    ):
        """Fit on the encoded features (one-hot by default).

        Parameters
        ----------
        X : array-like of str, shape (n,), or array-like of float, shape (n, d)
            Sequences, or precomputed features (one row per sequence).
        y : array-like of {0, 1}, shape (n,)
        eval_set : tuple (X_val, y_val), optional
            Not used for fitting; only its log loss is reported in ``history_``.
            ``X_val`` is of the same kind as ``X``.
        progress : callable, optional
            Called once: ``progress("epoch", epoch=1, max_epochs=1, train_loss=,
            val_loss=)``.
        sample_weight : array-like of float, shape (n,), optional

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        if not isinstance(self.C, numbers.Real) or not self.C > 0:
            raise BadInputError(f"C must be a positive number, got {self.C!r}")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise BadInputError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        given_features = input_kind(X) == FEATURES
        if given_features:
            features = as_features(X).astype(np.float64)
            n = len(features)
            if n == 0:
                raise BadInputError("no training rows")
        else:
            seqs = as_sequences(X)
            n = len(seqs)
            if n == 0:
                raise BadInputError("no training sequences")
        labels = as_labels(y, n)
        weights = as_weights(sample_weight, n)
        encoding_parts(self.encoding)
        self.alphabet_ = AMINO_ACIDS if self.alphabet is None else self.alphabet
        if given_features:
            if not is_onehot(self.encoding):
                raise BadInputError(
                    f"encoding={self.encoding!r} encodes residues, but this model is trained "
                    "on precomputed features; leave encoding at onehot"
                )
            self.input_kind_ = FEATURES
            self.n_features_in_ = int(features.shape[1])
            self.max_len_ = 0
        else:
            self.input_kind_ = SEQUENCES
            self.__dict__.pop("n_features_in_", None)
            features = encoded_flat(seqs, self.encoding, self.alphabet_)
            self.max_len_ = features.shape[1] // self._width()
            if self.max_len_ == 0:
                raise BadInputError("all training sequences are empty")
        seed = seed_from(self.random_state)

        est = LogisticRegression(
            C=float(self.C), solver="lbfgs", max_iter=int(self.max_iter), random_state=seed
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(features, labels, sample_weight=weights)
        self.estimator_ = est
        self.classes_ = CLASSES.copy()

        train_loss = float(log_loss(labels, est.predict_proba(features)[:, 1], labels=[0, 1]))
        val_loss = None
        if eval_set is not None:
            try:
                X_val, y_val = eval_set
            except (TypeError, ValueError):
                raise BadInputError("eval_set must be a pair (X_val, y_val)") from None
            val_feat = self._features(X_val, "eval_set X")
            if len(val_feat):
                y_val = as_labels(y_val, len(val_feat), both_classes=False)
                p = est.predict_proba(val_feat)[:, 1]
                val_loss = float(log_loss(y_val, p, labels=[0, 1]))
        seconds = time.perf_counter() - t0
        self.history_ = [
            {"epoch": 1, "train_loss": train_loss, "val_loss": val_loss, "seconds": seconds}
        ]
        self.epochs_run_ = 1
        self.best_epoch_ = 1
        if progress is not None:
            progress("epoch", epoch=1, max_epochs=1, train_loss=train_loss, val_loss=val_loss)
        self.train_seconds_ = time.perf_counter() - t0
        return self

    def decision_function(self, X) -> np.ndarray:
        """Logits (log-odds of label 1).

        Parameters
        ----------
        X : array-like of str, shape (n,), or array-like of float, shape (n, d)
            Of the kind the model was fitted on.

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        check_is_fitted(self, "estimator_")
        features = self._features(X)
        if len(features) == 0:
            return np.zeros(0, dtype=np.float64)
        return self.estimator_.decision_function(features).astype(np.float64)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n, 2) (scikit-learn's own)."""
        check_is_fitted(self, "estimator_")
        features = self._features(X)
        if len(features) == 0:
            return np.zeros((0, 2), dtype=np.float64)
        return self.estimator_.predict_proba(features).astype(np.float64)

    def architecture(self) -> dict:
        """JSON-able description of the model."""
        if self._features_mode():
            return {
                "type": "LogisticRegression",
                "input": "precomputed features",
                "n_features": int(self.n_features_in_),
                "solver": "lbfgs",
            }
        return {
            "type": "LogisticRegression",
            "input": f"{self.encoding} (flattened)",
            "n_features": int(self.max_len_ * self._width()),
            "solver": "lbfgs",
        }

    # --- persistence hooks ------------------------------------------------------------
    def _export(self) -> tuple[dict[str, torch.Tensor], dict]:
        check_is_fitted(self, "estimator_")
        tensors = {
            "coef": torch.from_numpy(np.ascontiguousarray(self.estimator_.coef_, np.float64)),
            "intercept": torch.from_numpy(
                np.ascontiguousarray(self.estimator_.intercept_, np.float64)
            ),
        }
        info = {
            "alphabet": self.alphabet_,
            "max_len": int(self.max_len_),
            "variable_length": bool(self.variable_length),
            "architecture": self.architecture(),
            "fitted": {
                "epochs_run": 1,
                "best_epoch": 1,
                "history": self.history_,
                "train_seconds": float(self.train_seconds_),
            },
        }
        if self._features_mode():
            info["input"] = {"kind": FEATURES, "n_features": int(self.n_features_in_)}
        return tensors, info

    def _restore(self, tensors: dict[str, torch.Tensor], info: dict) -> None:
        self.alphabet_ = str(info["alphabet"])
        self.max_len_ = int(info["max_len"])
        given = info.get("input") or {}
        if given.get("kind", SEQUENCES) == FEATURES:
            self.input_kind_ = FEATURES
            self.n_features_in_ = n_features = int(given["n_features"])
        else:
            self.input_kind_ = SEQUENCES
            n_features = self.max_len_ * self._width()
        missing = sorted({"coef", "intercept"} - set(tensors))
        if missing:
            raise ValueError(f"missing tensor(s) {', '.join(missing)}")
        coef = tensors["coef"].numpy().astype(np.float64)
        intercept = tensors["intercept"].numpy().astype(np.float64).reshape(-1)
        if coef.shape != (1, n_features) or intercept.shape != (1,):
            raise ValueError(
                f"coef has shape {tuple(coef.shape)} and intercept {tuple(intercept.shape)}; "
                f"expected (1, {n_features}) and (1,)"
            )
        est = LogisticRegression(C=float(self.C), solver="lbfgs", max_iter=int(self.max_iter))
        est.coef_ = coef
        est.intercept_ = intercept
        est.classes_ = CLASSES.copy()
        est.n_features_in_ = n_features
        est.n_iter_ = np.array([0], dtype=np.int32)
        self.estimator_ = est
        self.classes_ = CLASSES.copy()
        fitted = info.get("fitted") or {}
        self.epochs_run_ = 1
        self.best_epoch_ = 1
        self.history_ = list(fitted.get("history", []))
        self.train_seconds_ = float(fitted.get("train_seconds", 0.0))
