"""A multilayer perceptron on flattened one-hot sequences, or on precomputed features.

Architecture (``hidden_sizes=(128, 32)``)::

    tokens (B, L_max) -> one-hot (B, L_max * A)    shorter sequences: all-zero padding
      -> Linear(128) -> ReLU -> dropout -> Linear(32) -> ReLU -> dropout -> Linear(1) -> logit

Each position has its own weights, so the model is tied to the longest training length
``L_max``: shorter sequences are zero-padded at the end, longer ones are refused.

Fitted on a 2-D array of precomputed features (n, d) instead (e.g. protein-language-model
embeddings, one row per sequence), the network is the same MLP on the d-dim dense input::

    features (B, d) -> (x - mean) / scale -> Linear(128) -> ... -> Linear(1) -> logit

Assumptions of the features mode: ``mean`` and ``scale`` are the training rows' per-column
mean and standard deviation (validation rows excluded; a constant column gets scale 1), kept
as buffers of the network and so saved with its weights; the features of new rows come from
the same featuriser, with the same ``d``. The residue options (``encoding``, ``alphabet``)
and mixup do not apply: a non-default ``encoding`` or ``mixup_alpha > 0`` is refused.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from badlabels.data.encoding import AMINO_ACIDS, is_onehot
from badlabels.engine.trainer import EVAL_BATCH_SIZE, DeviceData, predict_logits, resolve_device
from badlabels.errors import BadInputError
from badlabels.models._params import dropout_rate, positive_ints
from badlabels.models.base import (
    CLASSES,
    FEATURES,
    SEQUENCES,
    FitData,
    NeuralClassifier,
    as_features,
    as_weights,
    check_input_kind,
    input_kind,
    seed_from,
    validation_split,
)


class MLPNet(nn.Module):
    """Fully connected layers over the flattened one-hot sequence.

    Parameters
    ----------
    n_tokens : int
        Token ids ``0..n_tokens-1`` (0 = padding).
    max_len : int
        Positions encoded.
    hidden_sizes : sequence of int
        Width of each hidden layer.
    dropout : float
        Dropout after each hidden layer.
    """

    def __init__(self, n_tokens: int, max_len: int, hidden_sizes=(128, 32), dropout=0.1):
        super().__init__()
        self.n_tokens = int(n_tokens)
        self.max_len = int(max_len)
        layers: list[nn.Module] = []
        width = self.max_len * (self.n_tokens - 1)
        for h in hidden_sizes:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.layers = nn.Sequential(*layers)

    def forward(
        self,
        tokens: torch.Tensor,
        lengths: torch.Tensor | None = None,
        onehot: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits, shape (B,), of tokens (B, L <= max_len) int64 (padding = 0).

        ``onehot`` (B, L, n_tokens - 1), if given, replaces the one-hot encoding of
        ``tokens`` (mixup's mixed inputs).
        """
        if onehot is not None:
            x = F.pad(onehot, (0, 0, 0, self.max_len - onehot.shape[1])).flatten(1)
            return self.layers(x).squeeze(-1)
        if tokens.shape[1] < self.max_len:
            tokens = F.pad(tokens, (0, self.max_len - tokens.shape[1]))
        x = F.one_hot(tokens, self.n_tokens)[..., 1:].float().flatten(1)
        return self.layers(x).squeeze(-1)


class StandardisedInput(nn.Module):
    """An :class:`MLPNet` on dense feature rows, behind a fixed standardisation.

    Parameters
    ----------
    net : MLPNet
        Built with ``n_tokens = d + 1`` and ``max_len = 1``, so that its first layer takes
        the ``d`` features.
    mean, scale : array of float32, shape (d,)
        The input is ``(x - mean) / scale`` (buffers: saved with the weights).
    """

    def __init__(self, net: nn.Module, mean, scale):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean, dtype=np.float32)))
        self.register_buffer("scale", torch.as_tensor(np.asarray(scale, dtype=np.float32)))

    def forward(self, features, lengths=None, onehot=None):
        """Logits (B,) of feature rows (B, d) float32 (``lengths``, ``onehot``: unused)."""
        x = (features - self.mean) / self.scale
        return self.net(None, None, onehot=x.unsqueeze(1))


def standardisation(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column ``(mean, scale)`` of ``features`` (n, d), both float32 of shape (d,).

    ``scale`` is the standard deviation (computed in float64); a column that is constant (up
    to float32 rounding) gets 1, so it passes through as its offset from the mean.
    """
    x = np.asarray(features, dtype=np.float64)
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    constant = ~(sd > 10 * np.finfo(np.float32).eps * np.maximum(np.abs(mean), 1.0))
    sd[constant] = 1.0
    return mean.astype(np.float32), sd.astype(np.float32)


def _feature_data(features, y=None, weight=None, device="cpu") -> DeviceData:
    """Feature rows (n, d) (and targets, weights) on ``device`` as the trainer's data."""

    def put(a, dtype):
        a = np.ascontiguousarray(a, dtype=dtype)
        if not a.flags.writeable:  # e.g. a memory-mapped .npy: torch wants its own copy
            a = a.copy()
        return torch.as_tensor(a).to(device)

    return DeviceData(
        tokens=put(features, np.float32),
        y=None if y is None else put(y, np.float32),
        weight=None if weight is None else put(weight, np.float32),
    )


class MLPClassifier(NeuralClassifier):
    """Binary sequence classifier: a two-hidden-layer perceptron on one-hot residues.

    Parameters
    ----------
    hidden_sizes : tuple of int, default (128, 32)
        Hidden layer widths.
    dropout : float, default 0.1
        Dropout after each hidden layer.
    lr, batch_size, max_epochs, patience, validation_fraction, loss, loss_params,
    weight_decay, device, random_state, alphabet
        As :class:`badlabels.models.LSTMClassifier` (same defaults).
    average, ema_decay, swa_start, window, mixup_alpha, stopping, encoding
        Averaging over training, mixup and the stopping rule: as
        :class:`badlabels.models.LSTMClassifier` (same defaults, which train as without them).

    Attributes
    ----------
    See :class:`badlabels.models.base.NeuralClassifier`. Sequences longer than
    ``max_len_`` cannot be predicted. Besides:

    input_kind_ : {"sequences", "features"}
        What ``fit`` was given: sequences (array of str, shape (n,)) or precomputed
        features (array of float, shape (n, d)); ``predict_proba`` takes the same kind.
    n_features_in_ : int
        Features mode only: ``d``. ``max_len_`` is then 0 (no sequence was read).
    feature_mean_, feature_scale_ : ndarray of float32, shape (d,)
        Features mode only: the training rows' standardisation (see the module docstring).
    """

    variable_length = False
    reads_features = True

    def __init__(
        self,
        hidden_sizes=(128, 32),
        dropout=0.1,
        lr=1e-3,
        batch_size=500,
        max_epochs=30,
        patience=5,
        validation_fraction=0.1,
        loss="bce",
        loss_params=None,
        weight_decay=0.0,
        device="auto",
        random_state=None,
        alphabet=None,
        average="none",
        ema_decay=0.99,
        swa_start=None,
        window=5,
        mixup_alpha=0.0,
        stopping="val_loss",
        encoding="onehot",
    ):
        self.hidden_sizes = hidden_sizes
        self.dropout = dropout
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.loss = loss
        self.loss_params = loss_params
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.alphabet = alphabet
        self.average = average
        self.ema_decay = ema_decay
        self.swa_start = swa_start
        self.window = window
        self.mixup_alpha = mixup_alpha
        self.stopping = stopping
        self.encoding = encoding

    def _check_params(self) -> None:
        super()._check_params()
        positive_ints(self.hidden_sizes, "hidden_sizes")
        dropout_rate(self.dropout)

    def build_module(self, n_tokens: int, max_len: int) -> nn.Module:
        """A fresh :class:`MLPNet` for sequences of up to ``max_len`` residues."""
        return MLPNet(
            n_tokens,
            max_len,
            positive_ints(self.hidden_sizes, "hidden_sizes"),
            dropout_rate(self.dropout),
        )

    def architecture(self) -> dict:
        """JSON-able description of the network."""
        sizes = positive_ints(self.hidden_sizes, "hidden_sizes")
        if self._features_mode():
            source = f"{int(self.n_features_in_)} precomputed features (standardised)"
        else:
            source = f"{self._option('encoding')} (flattened)"
        return {
            "type": "MLP",
            "input": source,
            "layers": [f"Linear({h})+ReLU" for h in sizes] + ["Linear(1)"],
            "hidden_sizes": list(sizes),
            "dropout": dropout_rate(self.dropout),
            "output": "logit",
        }

    # --- precomputed features -----------------------------------------------------------
    def _features_mode(self) -> bool:
        """Whether the fitted model reads precomputed features."""
        return getattr(self, "input_kind_", SEQUENCES) == FEATURES

    def _fit_inputs(self, X, y, sample_weight=None):
        """``fit``'s inputs checked: ``(X, labels (n,) int64, weights (n,) or None)`` with
        ``X`` the sequences (n,) or the features (n, d) float32; sets ``input_kind_``."""
        if input_kind(X) == SEQUENCES:
            self.input_kind_ = SEQUENCES
            for name in ("n_features_in_", "feature_mean_", "feature_scale_"):
                self.__dict__.pop(name, None)
            return super()._fit_inputs(X, y, sample_weight)
        features = as_features(X)
        n = len(features)
        if n == 0:
            raise BadInputError("no training rows")
        if not is_onehot(self._option("encoding")):
            raise BadInputError(
                f"encoding={self._option('encoding')!r} encodes residues, but this model is "
                "trained on precomputed features; leave encoding at onehot"
            )
        if self._option("mixup_alpha"):
            raise BadInputError(
                "mixup mixes one-hot residues and is not available on precomputed features; "
                "set mixup_alpha=0"
            )
        self.input_kind_ = FEATURES
        self.n_features_in_ = int(features.shape[1])
        return features, self._train_targets(y, n), as_weights(sample_weight, n)

    def _fit_data(self, seqs, labels, weights, eval_set=None) -> FitData:
        """As :meth:`NeuralClassifier._fit_data`; for features (n, d): the validation rows
        split off as for sequences (or ``eval_set`` checked), the standardisation taken from
        the training rows, both parts put on the device as float32 rows."""
        if input_kind(seqs) == SEQUENCES:
            return super()._fit_data(seqs, labels, weights, eval_set=eval_set)
        features = seqs
        n, d = features.shape
        self.alphabet_ = AMINO_ACIDS if self.alphabet is None else self.alphabet
        self.random_seed_ = seed_from(self.random_state)
        self.classes_ = CLASSES.copy()
        self.max_len_ = 0
        device = resolve_device(self.device)
        if eval_set is not None:
            try:
                X_val, y_val = eval_set
            except (TypeError, ValueError):
                raise BadInputError("eval_set must be a pair (X_val, y_val)") from None
            check_input_kind(FEATURES, X_val, d)
            val_x = as_features(X_val, "eval_set X", n_features=d)
            if len(val_x) == 0:
                raise BadInputError("eval_set holds no rows")
            val_y = self._eval_targets(y_val, len(val_x))
            train_idx = np.arange(n)
        else:
            train_idx, val_idx = validation_split(n, self.validation_fraction, self.random_seed_)
            val_x, val_y = features[val_idx], labels[val_idx]
        self.feature_mean_, self.feature_scale_ = standardisation(features[train_idx])
        train = _feature_data(
            features[train_idx],
            labels[train_idx],
            None if weights is None else weights[train_idx],
            device=device,
        )
        val = _feature_data(val_x, val_y, device=device) if len(val_x) else None
        return FitData(train=train, val=val, device=device)

    def _network(self) -> nn.Module:
        """Sequences: as :meth:`NeuralClassifier._network`. Features: the MLP on ``d``
        inputs behind the training rows' standardisation."""
        if not self._features_mode():
            return super()._network()
        net = self.build_module(int(self.n_features_in_) + 1, 1)
        return StandardisedInput(net, self.feature_mean_, self.feature_scale_)

    def decision_function(self, X) -> np.ndarray:
        """Logits (log-odds of label 1).

        Parameters
        ----------
        X : array-like of str, shape (n,), or array-like of float, shape (n, d)
            What the model was fitted on: sequences, or rows of ``n_features_in_`` features.

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        module = self._module_on_device()
        kind = check_input_kind(
            getattr(self, "input_kind_", SEQUENCES), X, getattr(self, "n_features_in_", None)
        )
        if kind == SEQUENCES:
            return super().decision_function(X)
        features = as_features(X, n_features=int(self.n_features_in_))
        if len(features) == 0:
            return np.zeros(0, dtype=np.float64)
        device = next(module.parameters()).device
        logits = predict_logits(module, _feature_data(features, device=device), EVAL_BATCH_SIZE)
        return logits.cpu().numpy().astype(np.float64)

    # --- persistence hooks ------------------------------------------------------------
    def _export(self):
        tensors, info = super()._export()
        if self._features_mode():
            info["input"] = {"kind": FEATURES, "n_features": int(self.n_features_in_)}
        return tensors, info

    def _restore(self, tensors, info: dict) -> None:
        given = info.get("input") or {}
        if given.get("kind", SEQUENCES) == FEATURES:
            d = int(given["n_features"])
            self.input_kind_ = FEATURES
            self.n_features_in_ = d
            # placeholders for building the network; the saved buffers replace them
            self.feature_mean_ = np.zeros(d, dtype=np.float32)
            self.feature_scale_ = np.ones(d, dtype=np.float32)
        else:
            self.input_kind_ = SEQUENCES
        super()._restore(tensors, info)
        if self._features_mode():
            prefix = "members.0." if "members.0.mean" in tensors else ""
            self.feature_mean_ = tensors[prefix + "mean"].numpy().astype(np.float32)
            self.feature_scale_ = tensors[prefix + "scale"].numpy().astype(np.float32)
