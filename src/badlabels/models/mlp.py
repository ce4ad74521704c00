"""A multilayer perceptron on flattened one-hot sequences.

Architecture (``hidden_sizes=(128, 32)``)::

    tokens (B, L_max) -> one-hot (B, L_max * A)    shorter sequences: all-zero padding
      -> Linear(128) -> ReLU -> dropout -> Linear(32) -> ReLU -> dropout -> Linear(1) -> logit

Each position has its own weights, so the model is tied to the longest training length
``L_max``: shorter sequences are zero-padded at the end, longer ones are refused.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from badlabels.models._params import dropout_rate, positive_ints
from badlabels.models.base import NeuralClassifier


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
    ``max_len_`` cannot be predicted.
    """

    variable_length = False

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
        return {
            "type": "MLP",
            "input": f"{self._option('encoding')} (flattened)",
            "layers": [f"Linear({h})+ReLU" for h in sizes] + ["Linear(1)"],
            "hidden_sizes": list(sizes),
            "dropout": dropout_rate(self.dropout),
            "output": "logit",
        }
