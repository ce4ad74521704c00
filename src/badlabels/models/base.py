"""What every badlabels estimator shares, and the base of the neural ones.

All estimators follow scikit-learn's contract: constructor parameters are stored
as given, all work happens in ``fit``, fitted attributes end with ``_``, so
``get_params`` / ``set_params`` / ``sklearn.base.clone`` work. Inputs ``X`` are
array-likes of sequence strings; ``y`` holds binary labels 0/1. Models whose class sets
``reads_features = True`` (``mlp``, ``logreg``) also take a 2-D array of precomputed features
(n, d), one row per sequence (:func:`model_input` picks which a Dataset gives them); fitted on
one kind, they refuse the other.

A new neural architecture subclasses :class:`NeuralClassifier`, lists its
parameters in ``__init__`` and defines ``build_module(n_tokens, max_len)``
returning an ``nn.Module`` called as ``module(tokens, lengths) -> logits`` (and, for
mixup, ``module(tokens, lengths, onehot=x)`` with ``x`` replacing its one-hot input).

The training options every neural model has (:data:`TRAINING_OPTIONS`: weight or
prediction averaging, mixup, the stopping rule, the residue encoding) are read here; a
subclass without them in its ``__init__`` trains with their defaults, which train exactly as
before they existed.
"""

from __future__ import annotations

import contextlib
import numbers
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from badlabels.data.encoding import AMINO_ACIDS, encode, encoding_matrix, encoding_parts, is_onehot
from badlabels.engine.averaging import (
    AVERAGING,
    EMAStep,
    SnapshotMean,
    SWACallback,
    WindowCallback,
    default_swa_start,
)
from badlabels.engine.losses import REGRESSION_LOSSES
from badlabels.engine.schedule import TrainSchedule
from badlabels.engine.stopping import STOPPING_RULES
from badlabels.engine.trainer import (
    EVAL_BATCH_SIZE,
    AdamStep,
    DeviceData,
    FinalWeights,
    MixupStep,
    Trainer,
    TrainResult,
    TrainStep,
    predict_logits,
    resolve_device,
    to_device_data,
)
from badlabels.errors import BadInputError

CLASSES = np.array([0, 1])

TRAINING_OPTIONS = {
    "average": "none",
    "ema_decay": 0.99,
    "swa_start": None,
    "window": 5,
    "mixup_alpha": 0.0,
    "stopping": "val_loss",
    "encoding": "onehot",
}
"""The training options of every neural model and their defaults (today's training)."""


class EncodedInput(nn.Module):
    """A network behind a fixed residue -> feature map (a descriptor ``encoding``).

    Parameters
    ----------
    net : nn.Module
        Built for ``d + 1`` tokens, so that its input layer takes ``d`` features per
        position; called as ``net(tokens, lengths, onehot=features)``.
    matrix : array of float32, shape (A, d)
        Row ``i``: the features of residue ``i + 1`` (a buffer: saved with the weights).
    """

    def __init__(self, net: nn.Module, matrix):
        super().__init__()
        self.net = net
        self.register_buffer("matrix", torch.as_tensor(np.asarray(matrix, dtype=np.float32)))

    def forward(self, tokens, lengths=None, onehot=None):
        """Logits (B,) of tokens (B, L); ``onehot`` (B, L, A) replaces their one-hot (mixup),
        and is mapped through ``matrix`` like it (the map is linear, so mixing commutes)."""
        if onehot is None:
            onehot = F.one_hot(tokens, self.matrix.shape[0] + 1)[..., 1:].to(self.matrix.dtype)
        return self.net(tokens, lengths, onehot=onehot @ self.matrix)


@dataclass
class FitData:
    """What :meth:`NeuralClassifier._fit_data` prepares for training.

    Attributes
    ----------
    train : DeviceData
        Encoded training rows with labels (and weights), on ``device``.
    val : DeviceData or None
        Encoded validation rows with labels; None when nothing is held out.
    device : torch.device
        The resolved training device.
    """

    train: DeviceData
    val: DeviceData | None
    device: torch.device


def as_sequences(X, what: str = "X") -> np.ndarray:
    """Check ``X`` is a one-dimensional array-like of strings; return it as an ndarray.

    Parameters
    ----------
    X : array-like of str, shape (n,)
    what : str
        Name used in messages.

    Returns
    -------
    ndarray of str or object, shape (n,)
    """
    if isinstance(X, str | bytes):
        raise BadInputError(f"{what} must be a list of sequences, not a single string")
    if isinstance(X, np.ndarray) and X.dtype.kind == "U":
        arr = X
    else:
        try:
            arr = np.asarray(list(X) if not isinstance(X, np.ndarray) else X, dtype=object)
        except TypeError:
            raise BadInputError(
                f"{what} must be a list of sequences, got {type(X).__name__}"
            ) from None
    if arr.ndim != 1:
        raise BadInputError(f"{what} must be one-dimensional, got shape {arr.shape}")
    return arr


# --- precomputed features (e.g. protein-language-model embeddings) ---------------------------
# ``mlp`` and ``logreg`` read either sequences (a 1-D array of str) or a 2-D numeric array of
# features, one row per sequence; every other model reads sequences only.
SEQUENCES, FEATURES = "sequences", "features"


def input_kind(X) -> str:
    """``"features"`` for a two-dimensional ``X`` (rows of numbers), else ``"sequences"``.

    Parameters
    ----------
    X : array-like of str, shape (n,), or array-like of float, shape (n, d)

    Returns
    -------
    str
        :data:`FEATURES` or :data:`SEQUENCES`.
    """
    if isinstance(X, str | bytes):
        return SEQUENCES
    ndim = getattr(X, "ndim", None)
    if ndim is None:
        try:
            ndim = np.ndim(X)
        except (TypeError, ValueError):  # ragged nesting: not a table of numbers
            return SEQUENCES
    return FEATURES if ndim == 2 else SEQUENCES


def as_features(X, what: str = "X", n_features: int | None = None) -> np.ndarray:
    """Check ``X`` is a two-dimensional array of finite numbers; return it as float32.

    Parameters
    ----------
    X : array-like of float, shape (n, d)
    what : str
        Name used in messages.
    n_features : int, optional
        The ``d`` required (a fitted model's ``n_features_in_``).

    Returns
    -------
    ndarray of float32, shape (n, d)

    Raises
    ------
    BadInputError
        Not two-dimensional, not numbers, not finite, or ``d != n_features``.
    """
    try:
        arr = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError):
        raise BadInputError(f"{what}: features must be numbers") from None
    if arr.ndim != 2:
        raise BadInputError(f"{what}: features must be two-dimensional, got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise BadInputError(
            f"the model was trained on {n_features} features per row; got {arr.shape[1]}"
        )
    if not np.isfinite(arr).all():
        i = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise BadInputError(f"{what}: the features of row {i} are not all finite numbers")
    return arr


def check_input_kind(fitted_kind: str, X, n_features: int | None = None) -> str:
    """Raise a one-line BadInputError when ``X`` is not what the model was fitted on.

    Parameters
    ----------
    fitted_kind : str
        The fitted model's ``input_kind_``.
    X : array-like
        The input given to ``predict_proba`` (or an ``eval_set``).
    n_features : int, optional
        ``n_features_in_`` of a model fitted on features (for the message).

    Returns
    -------
    str
        The kind of ``X`` (equal to ``fitted_kind``).
    """
    kind = input_kind(X)
    if kind == fitted_kind:
        return kind
    if fitted_kind == FEATURES:
        raise BadInputError(
            f"the model was trained on {n_features} precomputed features per row; got "
            f"sequences: pass the rows' features (shape (n, {n_features}))"
        )
    raise BadInputError(
        f"the model was trained on sequences; got a {np.ndim(X)}-D array of features: pass "
        "the sequences (a model reads features only when it was trained on them)"
    )


def reads_features(model: str) -> bool:
    """Whether registered model ``model`` can be trained on precomputed features."""
    from badlabels.models import MODELS

    return bool(getattr(MODELS.get(model), "reads_features", False))


def check_features_read(models) -> None:
    """One-line BadInputError when data with precomputed features go only to models that read
    sequences (the features would be ignored: a mistake, e.g. ``--features`` with an LSTM).

    Parameters
    ----------
    models : iterable of str
        The registered model names that will train on the data.
    """
    models = list(dict.fromkeys(models))
    if not any(reads_features(m) for m in models):
        raise BadInputError(
            f"precomputed features are read by mlp and logreg only, and {', '.join(models)} "
            "read sequences; drop --features or train mlp or logreg"
        )


def model_input(part, model: str, estimator=None, method: str | None = None):
    """What estimator ``model`` reads from ``part``: its features or its sequences.

    The one rule for every place that fits or scores a model on a Dataset (experiment cells,
    the audit's out-of-fold models, ``train``): a model that reads features (``mlp``,
    ``logreg``) gets ``part.features`` when the data have them; other models, and data
    without features, get ``part.sequences``.

    Parameters
    ----------
    part : Dataset
        Rows to read (``features``, when set, aligned to ``sequences``).
    model : str
        Registered model name (:data:`badlabels.models.MODELS`).
    estimator : estimator, optional
        The estimator built for ``model``; when features are returned it is checked to read
        them itself (a training method that wraps the model, e.g. ``coteaching`` or the
        ``cleanlab_filter`` wrappers, does not yet; the ``robust`` ensemble does).
    method : str, optional
        The training method's name, for that message.

    Returns
    -------
    ndarray of float32, shape (n, d), or ndarray of str, shape (n,)

    Raises
    ------
    BadInputError
        Features for an ``estimator`` that cannot read them.
    """
    if part.features is None or not reads_features(model):
        return part.sequences
    if estimator is not None and not getattr(type(estimator), "reads_features", False):
        how = f"method {method!r}" if method else type(estimator).__name__
        raise BadInputError(
            f"{how} cannot train {model} on precomputed features yet (it wraps the model); "
            "use method bce or a loss-based one (gce, sce, label_smoothing, bootstrap, "
            "large_batch, forward with a matrix)"
        )
    return part.features


def as_labels(y, n: int, both_classes: bool = True) -> np.ndarray:
    """Check ``y`` holds ``n`` binary labels 0/1 (bool accepted); return int64.

    Parameters
    ----------
    y : array-like, shape (n,)
    n : int
        Expected number of labels.
    both_classes : bool
        Require at least one label of each class.

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise BadInputError(f"labels must be one-dimensional, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise BadInputError(f"got {n} sequences but {arr.shape[0]} labels")
    if arr.dtype == bool:
        out = arr.astype(np.int64)
    else:
        try:
            num = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise BadInputError("labels must be 0 or 1") from None
        bad = ~np.isin(num, (0.0, 1.0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise BadInputError(f"labels must be 0 or 1; label at index {i} is {arr[i]!r}")
        out = num.astype(np.int64)
    if both_classes and n and out.min() == out.max():
        raise BadInputError(f"labels hold only class {int(out[0])}; both 0 and 1 are needed")
    return out


def as_weights(sample_weight, n: int) -> np.ndarray | None:
    """Check optional per-sample weights: ``n`` finite non-negative numbers."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise BadInputError(f"sample_weight must have shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise BadInputError("sample_weight must be finite and non-negative")
    return w


def seed_from(random_state) -> int:
    """An int seed from ``random_state`` (int, None or a numpy RandomState/Generator).

    ``None`` draws from numpy's global RandomState, as scikit-learn does.
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state) % (2**32)
    if random_state is None:
        return int(np.random.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise BadInputError(f"random_state must be an int or None, got {random_state!r}")


def validation_split(n: int, fraction, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train_idx, val_idx)``, both sorted: the seeded hold-out ``fit`` makes.

    ``round(fraction * n)`` rows (at least one when ``fraction > 0``) go to validation;
    ``fraction`` of 0 or None holds out nothing. BadInputError if nothing would be left to
    train on.
    """
    vf = fraction or 0.0
    n_val = max(int(round(vf * n)), 1) if vf > 0 else 0
    if n_val >= n:
        raise BadInputError(f"{n} sequence(s) are too few to hold out validation_fraction={vf}")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def proba_from_p1(p1: np.ndarray) -> np.ndarray:
    """Stack P(class 1) of shape (n,) into ``[[1 - p, p], ...]`` of shape (n, 2)."""
    p1 = np.asarray(p1, dtype=np.float64).reshape(-1)
    return np.column_stack([1.0 - p1, p1])


class SequenceClassifier(ClassifierMixin, BaseEstimator):
    """Shared ``predict`` / ``predict_proba`` plumbing of badlabels estimators.

    Subclasses implement ``fit`` and ``decision_function`` (logits, shape (n,)).
    """

    #: Whether sequences of a length other than the training one may be predicted.
    variable_length = True
    #: Whether ``fit`` also takes a 2-D array of precomputed features (see :func:`model_input`).
    reads_features = False

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of str, shape (n,)

        Returns
        -------
        ndarray of float64, shape (n, 2)
            Column 1 is P(label = 1).
        """
        logits = self.decision_function(X)
        p1 = 1.0 / (1.0 + np.exp(-np.clip(logits, -500.0, 500.0)))
        return proba_from_p1(p1)

    def predict(self, X) -> np.ndarray:
        """Predicted labels (P(1) > 0.5).

        Parameters
        ----------
        X : array-like of str, shape (n,)

        Returns
        -------
        ndarray of int64, shape (n,)
        """
        return (self.decision_function(X) > 0).astype(np.int64)

    # --- used by badlabels.models.persist -------------------------------------------
    def _export(self) -> tuple[dict[str, torch.Tensor], dict]:  # pragma: no cover
        raise NotImplementedError

    def _fitted_info(self) -> dict:
        """What ``model.json`` says of every fitted network-based estimator: alphabet, width,
        architecture and the fitted summary (epochs, kept epoch, history, time, seed)."""
        return {
            "alphabet": self.alphabet_,
            "max_len": int(self.max_len_),
            "variable_length": bool(self.variable_length),
            "architecture": self.architecture(),
            "fitted": {
                "epochs_run": int(self.epochs_run_),
                "best_epoch": int(self.best_epoch_),
                "history": self.history_,
                "train_seconds": float(self.train_seconds_),
                "random_seed": int(self.random_seed_),
            },
        }

    def _restore_fitted(self, info: dict) -> dict:
        """Set the fitted attributes :meth:`_fitted_info` saved; return ``info["fitted"]``."""
        self.alphabet_ = str(info["alphabet"])
        self.max_len_ = int(info["max_len"])
        self.classes_ = CLASSES.copy()
        fitted = info.get("fitted") or {}
        self.epochs_run_ = int(fitted.get("epochs_run", 0))
        self.best_epoch_ = int(fitted.get("best_epoch", 0))
        self.history_ = list(fitted.get("history", []))
        self.train_seconds_ = float(fitted.get("train_seconds", 0.0))
        if "random_seed" in fitted:
            self.random_seed_ = int(fitted["random_seed"])
        return fitted

    def _restore(self, tensors: dict[str, torch.Tensor], info: dict) -> None:  # pragma: no cover
        raise NotImplementedError


class NeuralClassifier(SequenceClassifier):
    """Base of the PyTorch sequence classifiers.

    Subclasses store their parameters in ``__init__`` (scikit-learn style) and define
    :meth:`build_module`. Parameters used here (subclasses must have them):
    ``lr, batch_size, max_epochs, patience, validation_fraction, loss, loss_params,
    weight_decay, device, random_state, alphabet``; and, optional (the defaults of
    :data:`TRAINING_OPTIONS` when missing), ``average, ema_decay, swa_start, window,
    mixup_alpha, stopping`` (described in :class:`badlabels.models.LSTMClassifier`).

    Fitted attributes
    -----------------
    module_ : nn.Module
        The trained network (on the fit device), in eval mode.
    classes_ : ndarray, shape (2,)
        ``[0, 1]``.
    alphabet_ : str
        The alphabet sequences were encoded with.
    max_len_ : int
        Longest sequence seen in fit (training and validation).
    epochs_run_, best_epoch_ : int
        Epochs trained; 1-based epoch whose weights were kept.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``seconds`` (and, with
        ``stopping="label_wave"``, ``prediction_changes``: None in epoch 1). With
        averaging, ``val_loss`` is that of the epoch's own weights, not the average's.
    train_seconds_ : float
        Wall-clock seconds of ``fit`` (encoding included).
    random_seed_ : int
        The seed actually used (drawn when ``random_state`` is None).
    """

    def build_module(self, n_tokens: int, max_len: int) -> nn.Module:
        """Return a fresh network for ``n_tokens`` token ids (padding included).

        Parameters
        ----------
        n_tokens : int
            ``len(alphabet) + 1``: ids ``0..n_tokens-1``, 0 = padding.
        max_len : int
            Longest training sequence (fixed-length architectures pad to it).

        Returns
        -------
        nn.Module
            Called as ``module(tokens (B, L) int64, lengths (B,) int64 or None)`` and
            returning logits of shape ``(B,)``; ``lengths=None`` means every sequence
            fills all ``L`` positions.
        """
        raise NotImplementedError

    def architecture(self) -> dict:
        """A JSON-able description of the network (saved with the model)."""
        return {"type": type(self).__name__, "module": repr(getattr(self, "module_", None))}

    # --- parameter checks -------------------------------------------------------------
    def _check_params(self) -> None:
        def positive_int(name, allow_none=False):
            v = getattr(self, name)
            if v is None and allow_none:
                return
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise BadInputError(f"{name} must be a positive integer, got {v!r}")

        positive_int("batch_size")
        positive_int("max_epochs")
        positive_int("patience", allow_none=True)
        if not isinstance(self.lr, numbers.Real) or not self.lr > 0:
            raise BadInputError(f"lr must be a positive number, got {self.lr!r}")
        if not isinstance(self.weight_decay, numbers.Real) or self.weight_decay < 0:
            raise BadInputError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        vf = self.validation_fraction
        if vf is not None and (not isinstance(vf, numbers.Real) or not 0 <= vf < 1):
            raise BadInputError(f"validation_fraction must be in [0, 1), got {vf!r}")
        if self.loss_params is not None and not isinstance(self.loss_params, dict):
            raise BadInputError(f"loss_params must be a dict, got {self.loss_params!r}")
        if getattr(self, "task", "classification") != "regression" and (
            self.loss in REGRESSION_LOSSES
        ):
            raise BadInputError(
                f"loss {self.loss!r} is a regression loss; a classifier trains on labels "
                "(for continuous scores use --task regression)"
            )
        self._check_training_options()

    def _option(self, name: str):
        """Training option ``name`` (its default when the subclass does not have it)."""
        return getattr(self, name, TRAINING_OPTIONS[name])

    def _check_training_options(self) -> None:
        def real(v) -> bool:
            return isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)

        average, stopping = self._option("average"), self._option("stopping")
        if not isinstance(average, str) or average not in AVERAGING:
            raise BadInputError(f"average must be one of {', '.join(AVERAGING)}, got {average!r}")
        if not isinstance(stopping, str) or stopping not in STOPPING_RULES:
            raise BadInputError(
                f"stopping must be one of {', '.join(STOPPING_RULES)}, got {stopping!r}"
            )
        if average != "none" and stopping != "val_loss":
            raise BadInputError(
                f"stopping={stopping!r} cannot be combined with average={average!r}: "
                "averaging trains all max_epochs epochs and picks no epoch"
            )
        decay = self._option("ema_decay")
        if not real(decay) or not 0 <= decay < 1:
            raise BadInputError(f"ema_decay must be a number in [0, 1), got {decay!r}")
        start = self._option("swa_start")
        if start is not None:
            if not isinstance(start, numbers.Integral) or isinstance(start, bool) or start < 1:
                raise BadInputError(f"swa_start must be a positive integer or None, got {start!r}")
            if start > self.max_epochs:
                raise BadInputError(
                    f"swa_start ({start}) must be at most max_epochs ({self.max_epochs})"
                )
        window = self._option("window")
        if not isinstance(window, numbers.Integral) or isinstance(window, bool) or window < 1:
            raise BadInputError(f"window must be a positive integer, got {window!r}")
        alpha = self._option("mixup_alpha")
        if not real(alpha) or alpha < 0:
            raise BadInputError(f"mixup_alpha must be a number >= 0 (0: off), got {alpha!r}")
        encoding_parts(self._option("encoding"))

    def stacks_like_fit(self) -> bool:
        """Whether the stacked LSTM engine would train this estimator as its ``fit`` does:
        no averaging, no mixup and the validation-loss stopping rule (the stacked engine has
        none of the others; it has every ``encoding``, see :meth:`input_map`)."""
        return (
            self._option("average") == "none"
            and not self._option("mixup_alpha")
            and self._option("stopping") == "val_loss"
        )

    def input_map(self, alphabet: str | None = None) -> np.ndarray | None:
        """The encoding's residue -> feature matrix, shape (len(alphabet), d); None for
        one-hot (the network reads its tokens directly). ``alphabet``: default the fitted
        one, else the ``alphabet`` parameter."""
        encoding = self._option("encoding")
        if is_onehot(encoding):
            return None
        if alphabet is None:
            alphabet = getattr(self, "alphabet_", None) or self.alphabet or AMINO_ACIDS
        return encoding_matrix(encoding, alphabet)

    # --- encoding ---------------------------------------------------------------------
    def _encode(self, X, what: str = "X") -> tuple[np.ndarray, np.ndarray]:
        """Encode with the fitted alphabet (no padding beyond the longest given)."""
        seqs = as_sequences(X, what)
        tokens, lengths = encode(seqs, self.alphabet_)
        if len(lengths) and lengths.min() == 0:
            i = int(np.argmin(lengths))
            raise BadInputError(f"{what}: sequence at index {i} is empty")
        return tokens, lengths

    def _fit_width(self, tokens: np.ndarray, lengths: np.ndarray, what: str = "X") -> np.ndarray:
        """Fixed-length models: right-pad ``tokens`` to ``max_len_`` (longer -> error)."""
        if self.variable_length:
            return tokens
        width = tokens.shape[1]
        if width > self.max_len_:
            i = int(np.argmax(lengths))
            raise BadInputError(
                f"{what}: sequence at index {i} has length {width}, longer than the "
                f"{self.max_len_} this model was trained on"
            )
        if width < self.max_len_:
            tokens = np.pad(tokens, ((0, 0), (0, self.max_len_ - width)))
        return tokens

    # --- fit --------------------------------------------------------------------------
    def train_schedule(self) -> TrainSchedule:
        """The training schedule of this estimator's parameters (checked first).

        Returns
        -------
        TrainSchedule
            ``batch_size``, ``lr``, ``max_epochs``, ``patience``, ``weight_decay``.
        """
        self._check_params()
        return TrainSchedule.of(self)

    def _fit_inputs(self, X, y, sample_weight=None):
        """Check ``fit``'s inputs: ``(sequences (n,), labels (n,) int64, weights (n,) or None)``."""
        seqs = as_sequences(X)
        n = len(seqs)
        if n == 0:
            raise BadInputError("no training sequences")
        return seqs, self._train_targets(y, n), as_weights(sample_weight, n)

    def _train_targets(self, y, n: int) -> np.ndarray:
        """``fit``'s targets as the loss reads them (here: labels 0/1, both classes present)."""
        return as_labels(y, n)

    def _eval_targets(self, y_val, n: int) -> np.ndarray:
        """``eval_set``'s targets as the loss reads them (here: labels 0/1, one class allowed)."""
        return as_labels(y_val, n, both_classes=False)

    def _fit_data(self, seqs, labels, weights, eval_set=None) -> FitData:
        """The preparation every neural ``fit`` shares: fitted alphabet, seed, classes and
        width set, the validation data split off (or ``eval_set`` checked), both encoded
        and put on the device once.

        Parameters
        ----------
        seqs : ndarray of str, shape (n,)
        labels : ndarray of int64, shape (n,)
        weights : ndarray of float, shape (n,), or None
        eval_set : tuple (X_val, y_val), optional

        Returns
        -------
        FitData
        """
        n = len(seqs)
        self.alphabet_ = AMINO_ACIDS if self.alphabet is None else self.alphabet
        self.random_seed_ = seed_from(self.random_state)
        self.classes_ = CLASSES.copy()
        device = resolve_device(self.device)

        if eval_set is not None:
            try:
                X_val, y_val = eval_set
            except (TypeError, ValueError):
                raise BadInputError("eval_set must be a pair (X_val, y_val)") from None
            val_seqs = as_sequences(X_val, "eval_set X")
            if len(val_seqs) == 0:
                raise BadInputError("eval_set holds no sequences")
            val_labels = self._eval_targets(y_val, len(val_seqs))
            train_idx = np.arange(n)
        else:
            train_idx, val_idx = validation_split(n, self.validation_fraction, self.random_seed_)
            val_seqs, val_labels = seqs[val_idx], labels[val_idx]

        tokens, lengths = self._encode(seqs[train_idx])
        val_tokens = val_lengths = None
        if len(val_seqs):
            val_tokens, val_lengths = self._encode(val_seqs, "eval_set X")
        widths = [tokens.shape[1]] + ([] if val_tokens is None else [val_tokens.shape[1]])
        self.max_len_ = int(max(widths))
        tokens = self._fit_width(tokens, lengths)
        if val_tokens is not None:
            val_tokens = self._fit_width(val_tokens, val_lengths, "eval_set X")

        train = to_device_data(
            tokens,
            lengths,
            labels[train_idx],
            None if weights is None else weights[train_idx],
            device=device,
        )
        val = None
        if val_tokens is not None:
            val = to_device_data(val_tokens, val_lengths, val_labels, device=device)
        return FitData(train=train, val=val, device=device)

    def _trainer(self) -> Trainer:
        """The trainer of this estimator's schedule, loss, seed and stopping rule (after
        ``_fit_data``)."""
        trainer = Trainer.from_schedule(
            self.train_schedule(), loss=self.loss, loss_params=self.loss_params,
            seed=self.random_seed_,
        )  # fmt: skip
        trainer.stopping = self._option("stopping")
        return trainer

    def _training_plan(
        self, module: nn.Module, trainer: Trainer
    ) -> tuple[TrainStep | None, list, FinalWeights | None]:
        """``(step, callbacks, final_weights)`` for ``trainer.fit`` from the training options.

        With the defaults: ``(None, [], None)``, the loop's plain Adam step. ``mixup_alpha >
        0`` makes the step a :class:`MixupStep`; ``average`` wraps it (EMA) or adds an epoch
        callback (SWA, window) that supplies the final weights.
        """
        step: TrainStep | None = None
        alpha = float(self._option("mixup_alpha"))
        if alpha > 0:
            step = MixupStep(
                module, trainer.loss_fn(), lr=trainer.lr, weight_decay=trainer.weight_decay,
                alpha=alpha, n_tokens=len(self.alphabet_) + 1, seed=self.random_seed_,
            )  # fmt: skip
        average = self._option("average")
        if average == "ema":
            if step is None:
                step = AdamStep(
                    module, trainer.loss_fn(), lr=trainer.lr, weight_decay=trainer.weight_decay
                )
            step = EMAStep(step, module, decay=float(self._option("ema_decay")))
            return step, [], step
        if average == "swa":
            start = self._option("swa_start")
            if start is None:
                start = default_swa_start(self.max_epochs)
            swa = SWACallback(module, start)
            return step, [swa], swa
        if average == "window":
            window = WindowCallback(module, int(self._option("window")))
            return step, [window], window
        return step, [], None

    @contextlib.contextmanager
    def _seeded(self, device: torch.device) -> Iterator[None]:
        """Seed the global RNG (nn init, dropout) without disturbing the caller's stream."""
        cuda_devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(self.random_seed_)
            yield

    def _new_module(self, device: torch.device) -> nn.Module:
        """A fresh network for the fitted alphabet and width, on ``device`` (global RNG)."""
        return self._network().to(device)

    def _network(self) -> nn.Module:
        """``build_module`` for the fitted alphabet and width, behind the encoding's input map
        (one-hot: the bare network, exactly as before encodings existed)."""
        matrix = self.input_map(self.alphabet_)
        if matrix is None:
            return self.build_module(len(self.alphabet_) + 1, self.max_len_)
        return EncodedInput(self.build_module(matrix.shape[1] + 1, self.max_len_), matrix)

    def _set_trained(self, module: nn.Module, result: TrainResult, t0: float) -> None:
        """Store the fitted attributes of a finished training (``t0``: start of ``fit``)."""
        self.module_ = module.eval()
        self.history_ = result.history
        self.epochs_run_ = result.epochs_run
        self.best_epoch_ = result.best_epoch
        self.train_seconds_ = time.perf_counter() - t0

    def fit(
        self,
        X,
        y,
        eval_set=None,
        progress: Callable[..., object] | None = None,
        sample_weight=None,
    ):
        """Train the network.

        Parameters
        ----------
        X : array-like of str, shape (n,)
            Sequences.
        y : array-like of {0, 1}, shape (n,)
            Labels (possibly noisy).
        eval_set : tuple (X_val, y_val), optional
            Validation data for early stopping. Without it, ``validation_fraction`` of
            ``X`` is held out at random (seeded by ``random_state``).
        progress : callable, optional
            ``progress("epoch", epoch=, max_epochs=, train_loss=, val_loss=)`` after
            each epoch.
        sample_weight : array-like of float, shape (n,), optional
            Per-sample weights of the training loss (the validation loss is unweighted).

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        self._check_params()
        data = self._fit_data(*self._fit_inputs(X, y, sample_weight), eval_set=eval_set)
        trainer = self._trainer()
        with self._seeded(data.device):
            module = self._new_module(data.device)
            step, callbacks, final = self._training_plan(module, trainer)
            result = trainer.fit(
                module, data.train, data.val, progress=progress, step=step,
                callbacks=callbacks, final_weights=final,
            )  # fmt: skip
        self._set_trained(module if result.module is None else result.module, result, t0)
        return self

    # --- predict ----------------------------------------------------------------------
    def _module_on_device(self) -> nn.Module:
        check_is_fitted(self, "module_")
        device = resolve_device(self.device)
        first = next(self.module_.parameters(), None)
        if first is not None and first.device != device:
            self.module_.to(device)
        return self.module_

    def decision_function(self, X) -> np.ndarray:
        """Logits (log-odds of label 1).

        Parameters
        ----------
        X : array-like of str, shape (n,)

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        module = self._module_on_device()
        tokens, lengths = self._encode(X)
        tokens = self._fit_width(tokens, lengths)
        if len(tokens) == 0:
            return np.zeros(0, dtype=np.float64)
        device = next(module.parameters()).device
        data = to_device_data(tokens, lengths, device=device)
        logits = predict_logits(module, data, EVAL_BATCH_SIZE)
        return logits.cpu().numpy().astype(np.float64)

    # --- persistence hooks ------------------------------------------------------------
    def _export(self) -> tuple[dict[str, torch.Tensor], dict]:
        check_is_fitted(self, "module_")
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.module_.state_dict().items()}
        info = self._fitted_info()
        info["fitted"] = {**self._snapshot_info(), **info["fitted"]}
        return tensors, info

    def _snapshot_info(self) -> dict:
        """``{"snapshots": K}`` when the fitted network is a mean of K snapshots, else ``{}``."""
        if isinstance(self.module_, SnapshotMean):
            return {"snapshots": len(self.module_.members)}
        return {}

    def _restore(self, tensors: dict[str, torch.Tensor], info: dict) -> None:
        fitted = self._restore_fitted(info)
        n_snapshots = int(fitted.get("snapshots", 0))
        if n_snapshots:  # average="window": the mean of K networks, saved as members.k.*
            module = SnapshotMean([self._network() for _ in range(n_snapshots)])
        else:
            module = self._network()
        module.load_state_dict(tensors, strict=True)
        self.module_ = module.eval()
