"""A 1-D convolutional classifier.

Architecture (``channels=(64, 64)``, ``kernel_size=5``)::

    tokens (B, L) -> one-hot + "inside the sequence" channel (B, A + 1, L)
      -> Conv1d(A, 64, 5, same padding) -> ReLU -> zero the padded positions
      -> Conv1d(64, 64, 5, same padding) -> ReLU -> zero the padded positions
      -> max over the real positions (B, 64) -> dropout -> Linear(64, 1) -> logit (B,)

Zeroing the padded positions after every layer makes a padded sequence's logit equal to the
one it gets alone: padding never leaks into real positions. The constant "inside" channel is 1
on real residues and 0 beyond either end, so filters near an end can tell where they are:
global max pooling alone would make the model blind to position, and per-site effects matter
in peptide and protein data.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from badlabels.errors import BadInputError
from badlabels.models._params import dropout_rate, positive_int, positive_ints
from badlabels.models.base import NeuralClassifier


class CNNNet(nn.Module):
    """Convolutions over one-hot residues, global max pool over real positions, linear logit.

    Parameters
    ----------
    n_tokens : int
        Token ids ``0..n_tokens-1`` (0 = padding).
    channels : sequence of int
        Output channels of each convolution.
    kernel_size : int
        Odd width of every convolution.
    dropout : float
        Dropout before the linear head.
    """

    trim_padding = True
    """Padded positions are zeroed like the convolutions' own zero padding and dropout acts on
    the pooled (B, C) features: batches may be cut to their longest sequence
    (``badlabels.engine.trainer.trims_padding``)."""

    def __init__(self, n_tokens: int, channels=(64, 64), kernel_size: int = 5, dropout=0.1):
        super().__init__()
        self.n_tokens = int(n_tokens)
        sizes = [self.n_tokens, *channels]  # the residues' one-hot + an "inside" channel
        self.convs = nn.ModuleList(
            nn.Conv1d(sizes[i], c, kernel_size, padding=kernel_size // 2)
            for i, c in enumerate(channels)
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(sizes[-1], 1)

    def forward(
        self,
        tokens: torch.Tensor,
        lengths: torch.Tensor | None = None,
        onehot: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits, shape (B,), of tokens (B, L) int64 (lengths (B,) or None: all L long).

        ``onehot`` (B, L, n_tokens - 1), if given, replaces the one-hot encoding of
        ``tokens`` (mixup's mixed inputs); ``tokens`` still marks the padding.
        """
        real = (tokens != 0).unsqueeze(1)  # (B, 1, L)
        if onehot is None:
            onehot = F.one_hot(tokens, self.n_tokens)[..., 1:].float()
        one_hot = onehot.transpose(1, 2)  # (B, A, L)
        x = torch.cat([one_hot, real.float()], dim=1)  # (B, A + 1, L)
        for conv in self.convs:
            x = F.relu(conv(x)) * real
        x = x.masked_fill(~real, float("-inf")).amax(dim=2)
        return self.head(self.dropout(x)).squeeze(-1)


class CNNClassifier(NeuralClassifier):
    """Binary sequence classifier: 1-D convolutions over one-hot residues + global max pool.

    Parameters
    ----------
    channels : tuple of int, default (64, 64)
        Output channels per convolution layer.
    kernel_size : int, default 5
        Odd convolution width (residues seen by one filter).
    dropout : float, default 0.1
        Dropout before the output layer.
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
        channels=(64, 64),
        kernel_size=5,
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
        self.channels = channels
        self.kernel_size = kernel_size
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

    def _checked(self) -> tuple[tuple[int, ...], int, float]:
        channels = positive_ints(self.channels, "channels")
        k = positive_int(self.kernel_size, "kernel_size")
        if k % 2 == 0:
            raise BadInputError(f"kernel_size must be odd, got {k}")
        return channels, k, dropout_rate(self.dropout)

    def _check_params(self) -> None:
        super()._check_params()
        self._checked()

    def build_module(self, n_tokens: int, max_len: int) -> nn.Module:
        """A fresh :class:`CNNNet` (any length runs)."""
        channels, k, dropout = self._checked()
        return CNNNet(n_tokens, channels, k, dropout)

    def architecture(self) -> dict:
        """JSON-able description of the network."""
        channels, k, dropout = self._checked()
        return {
            "type": "CNN",
            "input": self._option("encoding"),
            "layers": [f"Conv1d({c}, k={k})+ReLU" for c in channels]
            + ["GlobalMaxPool", f"Dropout({dropout:g})", "Linear(1)"],
            "channels": list(channels),
            "kernel_size": k,
            "output": "logit",
        }
