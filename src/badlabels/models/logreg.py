"""Logistic regression on flattened one-hot sequences (a fast, strong baseline)."""

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

from badlabels.data.encoding import AMINO_ACIDS, encoded_flat, encoding_matrix, encoding_parts
from badlabels.errors import BadInputError
from badlabels.models.base import (
    CLASSES,
    SequenceClassifier,
    as_labels,
    as_sequences,
    as_weights,
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
        (e.g. ``"onehot+vhse"``: one-hot next to the 8 VHSE scales).

    Attributes
    ----------
    estimator_ : sklearn.linear_model.LogisticRegression
    classes_ : ndarray, shape (2,)
        ``[0, 1]``.
    alphabet_ : str
    max_len_ : int
        Positions encoded (the longest training sequence); shorter sequences are
        zero-padded, longer ones are refused.
    epochs_run_, best_epoch_ : int
        Always 1.
    history_ : list of dict
        One entry: ``epoch``, ``train_loss`` (log loss), ``val_loss`` (on ``eval_set``
        if given, else None), ``seconds``.
    train_seconds_ : float
    """

    variable_length = False

    def __init__(self, C=1.0, max_iter=1000, random_state=None, alphabet=None, encoding="onehot"):
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state
        self.alphabet = alphabet
        self.encoding = encoding

    def _width(self) -> int:
        """Features per position."""
        return int(encoding_matrix(self.encoding, self.alphabet_).shape[1])

    def _features(self, X, what: str = "X") -> np.ndarray:
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
        X : array-like of str, shape (n,)
        y : array-like of {0, 1}, shape (n,)
        eval_set : tuple (X_val, y_val), optional
            Not used for fitting; only its log loss is reported in ``history_``.
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
        seqs = as_sequences(X)
        n = len(seqs)
        if n == 0:
            raise BadInputError("no training sequences")
        labels = as_labels(y, n)
        weights = as_weights(sample_weight, n)
        encoding_parts(self.encoding)
        self.alphabet_ = AMINO_ACIDS if self.alphabet is None else self.alphabet
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
        X : array-like of str, shape (n,)

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
        return tensors, info

    def _restore(self, tensors: dict[str, torch.Tensor], info: dict) -> None:
        self.alphabet_ = str(info["alphabet"])
        self.max_len_ = int(info["max_len"])
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
