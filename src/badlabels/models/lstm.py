"""The Fit4Function LSTM classifier.

Architecture (``hidden_sizes=(140, 20)``)::

    tokens (B, L) -> one-hot (B, L, A)      padding -> all-zero vector
      -> LSTM(140), every step (B, L, 140)
      -> LSTM(20), last real step (B, 20)
      -> Linear(20, 1) -> logit (B,)

Sequences of one length run as plain batched LSTMs; with mixed lengths each row's output is
read at its own last residue (the padding after it cannot reach earlier steps of a
one-directional LSTM, so this equals packing the sequences, up to rounding, at a tenth of the
CPU time).
"""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from torch import nn

from badlabels.errors import BadInputError
from badlabels.models.base import NeuralClassifier


class LSTMNet(nn.Module):
    """Stacked unidirectional LSTMs over one-hot residues, then a linear logit.

    Parameters
    ----------
    n_tokens : int
        Token ids ``0..n_tokens-1`` (0 = padding), so ``n_tokens - 1`` residues.
    hidden_sizes : sequence of int
        Hidden size of each LSTM layer, first to last.
    """

    trim_padding = True
    """Packing ignores trailing padding: batches may be cut to their longest sequence
    (``badlabels.engine.trainer.trims_padding``)."""

    def __init__(self, n_tokens: int, hidden_sizes=(140, 20)):
        super().__init__()
        self.n_tokens = int(n_tokens)
        sizes = [self.n_tokens - 1, *[int(h) for h in hidden_sizes]]
        self.lstms = nn.ModuleList(
            nn.LSTM(sizes[i], sizes[i + 1], batch_first=True) for i in range(len(sizes) - 1)
        )
        self.head = nn.Linear(sizes[-1], 1)

    def forward(
        self,
        tokens: torch.Tensor,
        lengths: torch.Tensor | None = None,
        onehot: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits for a batch.

        Parameters
        ----------
        tokens : torch.Tensor of int64, shape (B, L)
            0 = padding (right-padded).
        lengths : torch.Tensor of int64, shape (B,), optional
            Real lengths; ``None`` when all ``B`` sequences are ``L`` long.
        onehot : torch.Tensor of float32, shape (B, L, n_tokens - 1), optional
            Used in place of the one-hot encoding of ``tokens`` (mixup's mixed inputs).

        Returns
        -------
        torch.Tensor of float32, shape (B,)
        """
        x = F.one_hot(tokens, self.n_tokens)[..., 1:].float() if onehot is None else onehot
        if lengths is None:
            for lstm in self.lstms[:-1]:
                x, _ = lstm(x)
            _, (h_n, _) = self.lstms[-1](x)
        else:
            # Right-padded and one-directional: a step's output depends only on the steps before
            # it, so running through the padding and reading each row's output at its last
            # residue equals the packed computation (up to rounding) and is ~10x faster on CPU
            # than pack_padded_sequence (benchmarks/long_sequences.py).
            for lstm in self.lstms:
                x, _ = lstm(x)
            last = (lengths.to(x.device).long() - 1).clamp(min=0)
            return self.head(x[torch.arange(x.shape[0], device=x.device), last]).squeeze(-1)
        return self.head(h_n[-1]).squeeze(-1)


class LSTMClassifier(NeuralClassifier):
    """Binary sequence classifier: the Fit4Function two-layer LSTM.

    Parameters
    ----------
    hidden_sizes : tuple of int, default (140, 20)
        LSTM hidden sizes, first layer to last.
    lr : float, default 1e-3
        Adam learning rate.
    batch_size : int, default 500
    max_epochs : int, default 30
    patience : int or None, default 5
        Early-stopping patience in epochs on the validation loss.
    validation_fraction : float, default 0.1
        Share of ``X`` held out for early stopping when ``fit`` gets no ``eval_set``
        (0: no validation, train ``max_epochs`` epochs).
    loss : str, default "bce"
        Training loss (``badlabels.engine.losses``).
    loss_params : dict, optional
        Parameters of the loss.
    weight_decay : float, default 0.0
    device : {"auto", "cpu", "cuda"}, default "auto"
        "auto" uses a CUDA GPU when there is one.
    random_state : int or None
        Seeds the validation split, weight init and batch order; on the CPU the same
        seed gives the same model.
    alphabet : str, optional
        Residue alphabet (default: the 20 amino acids).
    average : {"none", "ema", "swa", "window"}, default "none"
        Average over training instead of picking an epoch. "ema": an exponential moving
        average of the weights, updated after every optimiser step; "swa": the equal-weight
        mean of the weights at the end of each epoch from ``swa_start`` on; "window": the
        mean probability of the networks of the last ``window`` epochs. With averaging,
        all ``max_epochs`` epochs run (``patience`` is ignored, no epoch is picked or
        restored) and the model predicts with the average; ``best_epoch_`` is then the
        last epoch.
    ema_decay : float, default 0.99
        EMA's weight of the old average at each optimiser step, in [0, 1).
    swa_start : int or None, default None
        First epoch in SWA's mean (None: ``int(max_epochs / 2) + 1``, the first epoch
        of the second half); at most ``max_epochs``.
    window : int, default 5
        Epochs whose networks "window" averages (fewer if fewer epochs ran).
    mixup_alpha : float, default 0.0
        Mixup (0: off): each training batch is mixed with a random same-length pairing of
        its rows, one-hot inputs and targets weighted ``lam`` and ``1 - lam`` with ``lam ~
        Beta(mixup_alpha, mixup_alpha)`` (:class:`badlabels.engine.trainer.MixupStep`;
        draws seeded by ``random_state``). Training only; validation is not mixed.
    stopping : {"val_loss", "label_wave"}, default "val_loss"
        Early-stopping rule. "val_loss": ``patience`` epochs without a lower validation
        loss; the best epoch's weights are kept. "label_wave" (Yuan et al., ICLR 2024;
        needs no labels): ``patience`` epochs without fewer *prediction changes* (training
        rows whose predicted class differs from the previous epoch's); the weights of the
        epoch with the fewest are kept and each epoch's count is in ``history_``
        (``prediction_changes``). Costs one prediction pass over the training rows per
        epoch. Not with ``average`` other than "none".
    encoding : str, default "onehot"
        What a residue looks like to the network: one or more of ``onehot`` and the
        amino-acid descriptor sets of ``badlabels.data.encoding.ENCODINGS`` (``blosum``,
        ``vhse``, ``zscales``, ``kidera``, ``atchley``, ...) joined by ``+``, e.g.
        ``"onehot+vhse"``. Each residue becomes the row of
        :func:`badlabels.data.encoding.encoding_matrix`; "onehot" trains exactly as before.

    Attributes
    ----------
    See :class:`badlabels.models.base.NeuralClassifier`.
    """

    def __init__(
        self,
        hidden_sizes=(140, 20),
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

    def _hidden(self) -> tuple[int, ...]:
        hs = self.hidden_sizes
        if isinstance(hs, numbers.Integral):
            hs = (hs,)
        try:
            sizes = tuple(hs)
        except TypeError:
            sizes = ()
        if not sizes or not all(
            isinstance(h, numbers.Integral) and not isinstance(h, bool) and h > 0 for h in sizes
        ):
            raise BadInputError(
                f"hidden_sizes must be one or more positive integers, got {self.hidden_sizes!r}"
            )
        return tuple(int(h) for h in sizes)

    def _check_params(self) -> None:
        super()._check_params()
        self._hidden()

    def build_module(self, n_tokens: int, max_len: int) -> nn.Module:
        """A fresh :class:`LSTMNet` (``max_len`` is not needed: any length runs)."""
        return LSTMNet(n_tokens, self._hidden())

    def architecture(self) -> dict:
        """JSON-able description of the network."""
        return {
            "type": "LSTM",
            "input": self._option("encoding"),
            "layers": [f"LSTM({h})" for h in self._hidden()] + ["Linear(1)"],
            "hidden_sizes": list(self._hidden()),
            "output": "logit",
        }
