"""A small Transformer-encoder classifier.

Architecture (``d_model=64``, ``n_layers=2``, ``n_heads=4``)::

    tokens (B, L) -> token embedding (B, L, 64) + learned position embedding (L_max, 64)
      -> 2 x TransformerEncoderLayer(64, 4 heads, feed-forward 128, pre-norm), padding masked
      -> LayerNorm -> mean over the real positions (B, 64) -> Linear(64, 1) -> logit (B,)

Padding (token 0) is masked out of attention and of the mean, so a sequence's logit does not
depend on how much padding its batch needs. The learned positions cover the longest training
sequence ``L_max``: shorter sequences run as they are, longer ones are refused.
"""

from __future__ import annotations

import torch
from torch import nn

from badlabels.errors import BadInputError
from badlabels.models._params import dropout_rate, positive_int
from badlabels.models.base import NeuralClassifier


class TransformerNet(nn.Module):
    """Token + learned positional embeddings, a Transformer encoder, masked mean pooling.

    Parameters
    ----------
    n_tokens : int
        Token ids ``0..n_tokens-1`` (0 = padding).
    max_len : int
        Positions with a learned embedding.
    d_model, n_layers, n_heads, dim_feedforward : int
    dropout : float
    """

    def __init__(
        self,
        n_tokens: int,
        max_len: int,
        d_model: int = 64,
        n_layers: int = 2,
        n_heads: int = 4,
        dim_feedforward: int = 128,
        dropout: float = 0.1,
    ):
        super().__init__()
        self.max_len = int(max_len)
        self.dropout_rate = float(dropout)
        self.embed = nn.Embedding(n_tokens, d_model, padding_idx=0)
        self.position = nn.Embedding(self.max_len, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model,
            n_heads,
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, n_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
        )
        self.head = nn.Linear(d_model, 1)

    @property
    def trim_padding(self) -> bool:
        """Whether batches may be cut to their longest sequence
        (``badlabels.engine.trainer.trims_padding``): padding is masked, so always in eval
        mode; in training only without dropout, whose masks are drawn over (B, L, d) and
        would differ for another width (the seeded training stays what it was)."""
        return not (self.training and self.dropout_rate > 0)

    def forward(
        self,
        tokens: torch.Tensor,
        lengths: torch.Tensor | None = None,
        onehot: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits, shape (B,), of tokens (B, L <= max_len) int64 (padding = 0).

        ``onehot`` (B, L, n_tokens - 1), if given, replaces the one-hot encoding of
        ``tokens`` (mixup's mixed inputs): the token embedding is linear in it,
        ``onehot @ embed.weight[1:]`` (padding positions keep the padding row).
        """
        length = tokens.shape[1]
        if length > self.max_len:
            raise ValueError(f"sequence length {length} > the {self.max_len} positions learned")
        pad = tokens == 0  # (B, L), True = padding
        positions = torch.arange(length, device=tokens.device)
        if onehot is None:
            embedded = self.embed(tokens)
        else:
            weight = self.embed.weight
            embedded = onehot @ weight[1:] + pad.unsqueeze(-1).to(weight.dtype) * weight[0]
        x = embedded + self.position(positions)
        x = self.encoder(x, src_key_padding_mask=pad)
        real = (~pad).unsqueeze(-1).to(x.dtype)
        pooled = (x * real).sum(1) / real.sum(1).clamp_min(1.0)
        return self.head(pooled).squeeze(-1)


class TransformerClassifier(NeuralClassifier):
    """Binary sequence classifier: a small Transformer encoder with learned positions.

    Parameters
    ----------
    d_model : int, default 64
        Embedding width (divisible by ``n_heads``).
    n_layers : int, default 2
    n_heads : int, default 4
    dim_feedforward : int, default 128
    dropout : float, default 0.1
    lr, batch_size, max_epochs, patience, validation_fraction, loss, loss_params,
    weight_decay, device, random_state, alphabet
        As :class:`badlabels.models.LSTMClassifier` (same defaults).
    average, ema_decay, swa_start, window, mixup_alpha, stopping, encoding
        Averaging over training, mixup and the stopping rule: as
        :class:`badlabels.models.LSTMClassifier` (same defaults, which train as without them).

    Attributes
    ----------
    See :class:`badlabels.models.base.NeuralClassifier`. Sequences longer than
    ``max_len_`` cannot be predicted (no position embedding for them).
    """

    variable_length = False

    def __init__(
        self,
        d_model=64,
        n_layers=2,
        n_heads=4,
        dim_feedforward=128,
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
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.dim_feedforward = dim_feedforward
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

    def _checked(self) -> dict:
        sizes = {
            name: positive_int(getattr(self, name), name)
            for name in ("d_model", "n_layers", "n_heads", "dim_feedforward")
        }
        if sizes["d_model"] % sizes["n_heads"]:
            raise BadInputError(
                f"d_model ({sizes['d_model']}) must be divisible by n_heads ({sizes['n_heads']})"
            )
        return {**sizes, "dropout": dropout_rate(self.dropout)}

    def _check_params(self) -> None:
        super()._check_params()
        self._checked()

    def build_module(self, n_tokens: int, max_len: int) -> nn.Module:
        """A fresh :class:`TransformerNet` with ``max_len`` learned positions."""
        return TransformerNet(n_tokens, max_len, **self._checked())

    def architecture(self) -> dict:
        """JSON-able description of the network."""
        return {
            "type": "Transformer",
            "input": f"{self._option('encoding')} -> token + learned position embeddings",
            **self._checked(),
            "pooling": "masked mean",
            "output": "logit",
        }
