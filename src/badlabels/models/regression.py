"""Sequence regressors: the same networks with a linear head trained on continuous scores.

Every neural classifier has a regressor twin (``LSTMRegressor`` for ``LSTMClassifier``, ...):
the same architecture, parameters and training loop, whose one output is read as the
predicted score instead of a logit. ``fit(X, y)`` takes float scores; they are standardised
with the training rows' mean and standard deviation (``target_mean_``, ``target_scale_``),
the network learns the standardised score with a regression loss (``mse`` by default,
``huber``, ``student_t``: :data:`badlabels.engine.losses.REGRESSION_LOSSES`), and
:meth:`~RegressionMixin.predict` returns scores in the units of ``y`` again. Early stopping
watches the same loss on the (noisy) validation scores.

:class:`RidgeRegressor` is the linear baseline: ridge regression on the flattened one-hot
sequence (or precomputed features), its penalty chosen by leave-one-out on the training rows
(no held-out labels).

Assumptions: scores are finite; a constant training score cannot be standardised (an error).
"""

from __future__ import annotations

import time
import types

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import RidgeCV
from sklearn.utils.validation import check_is_fitted

from badlabels.data.encoding import AMINO_ACIDS, encoded_flat
from badlabels.engine.losses import REGRESSION_LOSSES
from badlabels.errors import BadInputError
from badlabels.models.base import (
    FEATURES,
    SEQUENCES,
    as_features,
    as_sequences,
    check_input_kind,
    input_kind,
    seed_from,
)
from badlabels.models.bilstm import BiLSTMClassifier
from badlabels.models.cnn import CNNClassifier
from badlabels.models.lstm import LSTMClassifier
from badlabels.models.mlp import MLPClassifier
from badlabels.models.transformer import TransformerClassifier


def as_targets(y, n: int, what: str = "y") -> np.ndarray:
    """``y`` as finite float64 scores of length ``n`` (else a one-line BadInputError).

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    try:
        out = np.asarray(y, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise BadInputError(f"{what} must hold numbers (continuous scores)") from None
    if len(out) != n:
        raise BadInputError(f"{what} holds {len(out)} scores for {n} sequences")
    bad = ~np.isfinite(out)
    if bad.any():
        raise BadInputError(f"{what}: score at index {int(np.argmax(bad))} is not a finite number")
    return out


def standardise_targets(scores) -> tuple[np.ndarray, float, float]:
    """``(z, mean, sd)``: scores standardised with their own mean and sd, as a regressor's
    ``fit`` learns them (predictions are ``z * sd + mean``).

    Parameters
    ----------
    scores : ndarray of float, shape (n,)

    Returns
    -------
    z : ndarray of float64, shape (n,)
    mean, sd : float

    Raises
    ------
    BadInputError
        Every score the same (nothing to learn).
    """
    scores = np.asarray(scores, dtype=np.float64)
    mean, sd = float(scores.mean()), float(scores.std())
    if not sd > 0:
        raise BadInputError("every training score is the same: there is nothing to learn")
    return (scores - mean) / sd, mean, sd


class RegressionMixin(RegressorMixin):
    """Turns a :class:`~badlabels.models.base.NeuralClassifier` into a regressor.

    Put before the classifier in the bases. Fitted attributes besides the classifier's:
    ``target_mean_``, ``target_scale_`` (float: the training scores' mean and sd).
    """

    task = "regression"

    def _check_params(self) -> None:
        super()._check_params()
        if self.loss not in REGRESSION_LOSSES:
            raise BadInputError(
                f"loss {self.loss!r} is not a regression loss; choose one of "
                f"{', '.join(REGRESSION_LOSSES)}"
            )

    def _train_targets(self, y, n: int) -> np.ndarray:
        z, self.target_mean_, self.target_scale_ = standardise_targets(as_targets(y, n))
        return z

    def _eval_targets(self, y_val, n: int) -> np.ndarray:
        return (as_targets(y_val, n, "eval_set y") - self.target_mean_) / self.target_scale_

    def predict(self, X) -> np.ndarray:
        """Predicted scores, in the units of the training ``y``.

        Parameters
        ----------
        X : array-like of str, shape (n,) (or features (n, d) for ``mlp``)

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        check_is_fitted(self, "target_scale_")
        return self.decision_function(X) * self.target_scale_ + self.target_mean_

    def predict_proba(self, X):
        """Not available: a regressor predicts scores (:meth:`predict`)."""
        raise BadInputError("a regression model predicts scores, not probabilities: use predict")

    def _fitted_info(self) -> dict:
        info = super()._fitted_info()
        info["task"] = "regression"
        info["target"] = {"mean": self.target_mean_, "scale": self.target_scale_}
        return info

    def _restore_fitted(self, info: dict) -> dict:
        fitted = super()._restore_fitted(info)
        target = info.get("target") or {}
        self.target_mean_ = float(target["mean"])
        self.target_scale_ = float(target["scale"])
        return fitted


def _regressor_init(init):
    """A copy of a classifier's ``__init__`` whose ``loss`` defaults to ``"mse"`` (scikit-learn
    reads the defaults from the signature, so the regressor states its own)."""
    code = init.__code__
    names = code.co_varnames[1 : code.co_argcount]
    defaults = list(init.__defaults__ or ())
    offset = len(names) - len(defaults)
    defaults[names.index("loss") - offset] = "mse"
    new = types.FunctionType(code, init.__globals__, "__init__", tuple(defaults), init.__closure__)
    new.__kwdefaults__ = init.__kwdefaults__
    new.__doc__ = init.__doc__
    return new


def _regressor(classifier: type, name: str, what: str) -> type:
    cls = type(name, (RegressionMixin, classifier), {
        "__init__": _regressor_init(classifier.__init__),
        "__module__": __name__,
        "__doc__": (
            f"{what} regressor: :class:`~badlabels.models.{classifier.__name__}`'s network "
            "and parameters, trained on standardised scores (``loss`` default ``\"mse\"``; "
            "see :class:`RegressionMixin`)."
        ),
    })  # fmt: skip
    cls.__init__.__qualname__ = f"{name}.__init__"
    return cls


LSTMRegressor = _regressor(LSTMClassifier, "LSTMRegressor", "The Fit4Function LSTM")
BiLSTMRegressor = _regressor(BiLSTMClassifier, "BiLSTMRegressor", "The bidirectional LSTM")
CNNRegressor = _regressor(CNNClassifier, "CNNRegressor", "The CNN")
MLPRegressor = _regressor(MLPClassifier, "MLPRegressor", "The MLP")
TransformerRegressor = _regressor(TransformerClassifier, "TransformerRegressor", "The transformer")


class RidgeRegressor(RegressorMixin, BaseEstimator):
    """Ridge regression on the flattened one-hot sequence, or on precomputed features.

    Parameters
    ----------
    alphas : sequence of float, default 10**-3 .. 10**4
        Candidate penalties; the one with the lowest leave-one-out error on the training rows
        is used (scikit-learn's ``RidgeCV``, efficient LOO).
    random_state : int or None
        Unused (ridge is deterministic); kept for the common interface.
    alphabet : str, optional
        Residue alphabet (default: the 20 amino acids).

    Attributes
    ----------
    alpha_ : float
        The penalty chosen.
    max_len_ : int
        Sequence length of the training rows (sequences of another length are refused).
    """

    task = "regression"
    reads_features = True
    variable_length = False

    def __init__(self, alphas=tuple(10.0 ** np.arange(-3, 5)), random_state=None, alphabet=None):
        self.alphas = alphas
        self.random_state = random_state
        self.alphabet = alphabet

    def _matrix(self, X, fitting: bool = False) -> np.ndarray:
        kind = input_kind(X)
        if fitting:
            self.input_kind_ = kind
        else:
            check_input_kind(self.input_kind_, X, getattr(self, "n_features_in_", None))
        if kind == FEATURES:
            feats = as_features(X, n_features=None if fitting else self.n_features_in_)
            if fitting:
                self.n_features_in_ = int(feats.shape[1])
            return feats.astype(np.float64)
        seqs = as_sequences(X)
        lengths = {len(s) for s in seqs.tolist()}
        if fitting:
            if len(lengths) > 1:
                raise BadInputError("ridge needs sequences of one length")
            self.max_len_ = lengths.pop() if lengths else 0
        elif lengths - {self.max_len_}:
            raise BadInputError(
                f"ridge was trained on sequences of length {self.max_len_}; got length "
                f"{sorted(lengths - {self.max_len_})[0]}"
            )
        return encoded_flat(seqs, "onehot", self.alphabet_).astype(np.float64)

    def fit(self, X, y, eval_set=None, progress=None, sample_weight=None):
        """Fit on ``X`` (sequences (n,) or features (n, d)) and scores ``y`` (n,).

        ``eval_set`` and ``progress`` are accepted for the common interface and unused.
        """
        t0 = time.perf_counter()
        alphas = np.asarray(self.alphas, dtype=np.float64).reshape(-1)
        if not len(alphas) or not np.all(np.isfinite(alphas) & (alphas > 0)):
            raise BadInputError(f"alphas must be positive numbers, got {self.alphas!r}")
        self.alphabet_ = AMINO_ACIDS if self.alphabet is None else self.alphabet
        self.random_seed_ = seed_from(self.random_state)
        x = self._matrix(X, fitting=True)
        if len(x) == 0:
            raise BadInputError("no training sequences")
        scores = as_targets(y, len(x))
        model = RidgeCV(alphas=alphas).fit(x, scores, sample_weight=sample_weight)
        self.alpha_ = float(model.alpha_)
        self.coef_ = np.asarray(model.coef_, dtype=np.float64).reshape(-1)
        self.intercept_ = float(model.intercept_)
        self.epochs_run_ = self.best_epoch_ = 1
        self.history_ = []
        self.train_seconds_ = time.perf_counter() - t0
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted scores, shape (n,)."""
        check_is_fitted(self, "coef_")
        x = self._matrix(X)
        if len(x) == 0:
            return np.zeros(0)
        return x @ self.coef_ + self.intercept_

    # --- used by badlabels.models.persist -------------------------------------------
    def architecture(self) -> dict:
        """JSON-able description of the model."""
        features = getattr(self, "input_kind_", None) == FEATURES
        return {"type": "Ridge", "input": "precomputed features" if features
                else "onehot (flattened)", "alpha": getattr(self, "alpha_", None)}  # fmt: skip

    def _export(self) -> tuple[dict[str, torch.Tensor], dict]:
        check_is_fitted(self, "coef_")
        tensors = {
            "coef": torch.from_numpy(np.ascontiguousarray(self.coef_, np.float64)),
            "intercept": torch.tensor([self.intercept_], dtype=torch.float64),
        }
        info = {
            "alphabet": self.alphabet_, "max_len": int(getattr(self, "max_len_", 0)),
            "variable_length": False, "architecture": self.architecture(), "task": "regression",
            "fitted": {"epochs_run": 1, "best_epoch": 1, "history": [],
                       "train_seconds": float(self.train_seconds_), "alpha": self.alpha_},
        }  # fmt: skip
        if self.input_kind_ == FEATURES:
            info["input"] = {"kind": FEATURES, "n_features": int(self.n_features_in_)}
        return tensors, info

    def _restore(self, tensors: dict[str, torch.Tensor], info: dict) -> None:
        self.alphabet_ = str(info["alphabet"])
        self.max_len_ = int(info["max_len"])
        given = info.get("input") or {}
        if given.get("kind") == FEATURES:
            self.input_kind_, n = FEATURES, int(given["n_features"])
            self.n_features_in_ = n
        else:
            self.input_kind_, n = SEQUENCES, self.max_len_ * len(self.alphabet_)
        coef = tensors["coef"].numpy().astype(np.float64).reshape(-1)
        intercept = tensors["intercept"].numpy().astype(np.float64).reshape(-1)
        if coef.shape != (n,) or intercept.shape != (1,):
            raise ValueError(f"coef has shape {tuple(coef.shape)}; expected ({n},)")
        self.coef_, self.intercept_ = coef, float(intercept[0])
        fitted = info.get("fitted") or {}
        self.alpha_ = float(fitted.get("alpha", float("nan")))
        self.epochs_run_ = self.best_epoch_ = 1
        self.history_ = []
        self.train_seconds_ = float(fitted.get("train_seconds", 0.0))


REGRESSORS: dict[str, type] = {
    "lstm": LSTMRegressor,
    "bilstm": BiLSTMRegressor,
    "cnn": CNNRegressor,
    "mlp": MLPRegressor,
    "transformer": TransformerRegressor,
    "ridge": RidgeRegressor,
}
"""Model name -> regressor class (``--task regression``; ``ridge`` is the linear baseline,
the regression counterpart of ``logreg``)."""


def make_regressor(name: str, **params):
    """An unfitted regressor by name (:data:`REGRESSORS`), with ``params`` it accepts.

    Raises
    ------
    BadInputError
        Unknown name, or a parameter the model does not take.
    """
    cls = REGRESSORS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise BadInputError(
            f"unknown regression model {name!r}; choose one of: {', '.join(REGRESSORS)}"
        )
    valid = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise BadInputError(
            f"model {name!r} takes no parameter {', '.join(unknown)} (accepted: {', '.join(valid)})"
        )
    return cls(**params)


def is_regressor_model(est) -> bool:
    """Whether ``est`` predicts scores (a regressor of this module)."""
    return getattr(est, "task", None) == "regression"


__all__ = [
    "BiLSTMRegressor",
    "CNNRegressor",
    "LSTMRegressor",
    "MLPRegressor",
    "REGRESSORS",
    "RegressionMixin",
    "RidgeRegressor",
    "TransformerRegressor",
    "as_targets",
    "standardise_targets",
    "is_regressor_model",
    "make_regressor",
]


