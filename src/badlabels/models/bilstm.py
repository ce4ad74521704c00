"""A bidirectional LSTM classifier.

Architecture (``hidden_sizes=(70, 20)``, sizes per direction)::

    tokens (B, L) -> one-hot (B, L, A)             padding -> all-zero vector
      -> BiLSTM(70 + 70), every step (B, L, 140)    the Fit4Function first-layer width
      -> BiLSTM(20 + 20): forward state at the last real residue, backward state at the first
      -> concat (B, 40) -> Linear(40, 1) -> logit (B,)

Mixed lengths are packed (``pack_padded_sequence``), so each direction starts or ends at the
sequence's own last residue and padding never reaches the network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from badlabels.models._params import positive_ints
from badlabels.models.base import NeuralClassifier


class BiLSTMNet(nn.Module):
    """Stacked bidirectional LSTMs over one-hot residues, then a linear logit.

    Parameters
    ----------
    n_tokens : int
        Token ids ``0..n_tokens-1`` (0 = padding).
    hidden_sizes : sequence of int
        Hidden size per direction of each layer, first to last.
    """

    trim_padding = True
    """Packing ignores trailing padding: batches may be cut to their longest sequence
    (``badlabels.engine.trainer.trims_padding``)."""

    def __init__(self, n_tokens: int, hidden_sizes=(70, 20)):
        super().__init__()
        self.n_tokens = int(n_tokens)
        sizes = [self.n_tokens - 1] + [2 * h for h in hidden_sizes]
        self.lstms = nn.ModuleList(
            nn.LSTM(sizes[i], h, batch_first=True, bidirectional=True)
            for i, h in enumerate(hidden_sizes)
        )
        self.head = nn.Linear(sizes[-1], 1)

    def forward(
        self,
        tokens: torch.Tensor,
        lengths: torch.Tensor | None = None,
        onehot: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits, shape (B,), of tokens (B, L) int64 (lengths (B,) or None: all L long).

        ``onehot`` (B, L, n_tokens - 1), if given, replaces the one-hot encoding of
        ``tokens`` (mixup's mixed inputs).
        """
        x = F.one_hot(tokens, self.n_tokens)[..., 1:].float() if onehot is None else onehot
        if lengths is None:
            for lstm in self.lstms[:-1]:
                x, _ = lstm(x)
            _, (h_n, _) = self.lstms[-1](x)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            for lstm in self.lstms[:-1]:
                packed, _ = lstm(packed)
            _, (h_n, _) = self.lstms[-1](packed)
        # h_n: (2, B, h) = last layer's forward and backward final states
        return self.head(torch.cat([h_n[-2], h_n[-1]], dim=-1)).squeeze(-1)


class BiLSTMClassifier(NeuralClassifier):
    """Binary sequence classifier: a two-layer bidirectional LSTM.

    Parameters
    ----------
    hidden_sizes : tuple of int, default (70, 20)
        Hidden sizes per direction, first layer to last (70 + 70 = the Fit4Function
        LSTM's 140-wide first layer).
    lr, batch_size, max_epochs, patience, validation_fraction, loss, loss_params,
    weight_decay, device, random_state, alphabet
        As :class:`badlabels.models.LSTMClassifier` (same defaults).
    average, ema_decay, swa_start, window, mixup_alpha, stopping, encoding
        Averaging over training, mixup and the stopping rule: as
        :class:`badlabels.models.LSTMClassifier` (same defaults, which train as without them).

    Attributes
    ----------
    See :class:`badlabels.models.base.NeuralClassifier`.
    """

    def __init__(
        self,
        hidden_sizes=(70, 20),
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

    def build_module(self, n_tokens: int, max_len: int) -> nn.Module:
        """A fresh :class:`BiLSTMNet` (any length runs)."""
        return BiLSTMNet(n_tokens, positive_ints(self.hidden_sizes, "hidden_sizes"))

    def architecture(self) -> dict:
        """JSON-able description of the network."""
        sizes = positive_ints(self.hidden_sizes, "hidden_sizes")
        return {
            "type": "BiLSTM",
            "input": self._option("encoding"),
            "layers": [f"BiLSTM({h}+{h})" for h in sizes] + ["Linear(1)"],
            "hidden_sizes": list(sizes),
            "output": "logit",
        }
