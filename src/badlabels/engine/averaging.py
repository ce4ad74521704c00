"""Averaging over training instead of picking an epoch: EMA, SWA and a prediction window.

Each averager is a :class:`~badlabels.engine.trainer.FinalWeights` given to
:meth:`Trainer.fit <badlabels.engine.trainer.Trainer.fit>` (``final_weights=``); the loop then
runs the whole ``max_epochs`` schedule (no early stopping, ``patience`` ignored) and the
network ends with what the averager supplies:

- :class:`EMAStep` (``average="ema"``): a :class:`~badlabels.engine.trainer.TrainStep` wrapper
  that takes the inner step (e.g. :class:`~badlabels.engine.trainer.AdamStep`) and then
  updates an exponential moving average of the weights, ``w_ema <- decay * w_ema + (1 -
  decay) * w`` after every optimiser step (the first step's weights start it). The network
  ends with ``w_ema``.
- :class:`SWACallback` (``average="swa"``, Izmailov et al. 2018): an epoch callback holding
  the equal-weight mean of the weights at the end of each epoch from ``start`` on; the
  network ends with that mean. The learning rate is not changed (no SWA schedule).
- :class:`WindowCallback` (``average="window"``): an epoch callback keeping the weights of
  the last ``window`` epochs; the network to predict with is a :class:`SnapshotMean` of
  those snapshots, whose probability is the mean of theirs.

EMA and SWA are :class:`torch.optim.swa_utils.AveragedModel` (with
:func:`~torch.optim.swa_utils.get_ema_multi_avg_fn` for EMA). Buffers are averaged with the
parameters (``use_buffers=True``); today's networks have no buffers (no batch norm), so no
``update_bn`` pass is needed.

Assumptions: the averaged network is the one the loop trains and watches (``module`` given
to both the averager and :meth:`Trainer.fit`); its parameters are floating point.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from badlabels.engine.stopping import copy_state
from badlabels.engine.trainer import DeviceData, FinalWeights, TrainStep, trims_padding

AVERAGING = ("none", "ema", "swa", "window")
"""Values of a neural model's ``average`` parameter."""


def default_swa_start(max_epochs: int) -> int:
    """The first epoch SWA averages by default: the first of the second half.

    ``int(max_epochs / 2) + 1``: 16 of 30 epochs, 2 of 3, 1 of 1.
    """
    return int(int(max_epochs) / 2) + 1


class EMAStep(TrainStep, FinalWeights):
    """An exponential moving average of the weights, updated after every optimiser step.

    Parameters
    ----------
    inner : TrainStep
        The step that trains ``module`` (its loss is the one reported).
    module : nn.Module
        The network averaged (trained by ``inner``).
    decay : float, default 0.99
        Weight of the old average at each step, in [0, 1).

    Attributes
    ----------
    average : torch.optim.swa_utils.AveragedModel
        The averaged copy; ``average.n_averaged`` counts the steps seen.
    """

    def __init__(self, inner: TrainStep, module: nn.Module, decay: float = 0.99):
        self.inner = inner
        self.module = module
        self.decay = float(decay)
        self.average = AveragedModel(
            module, multi_avg_fn=get_ema_multi_avg_fn(self.decay), use_buffers=True
        )

    def modules(self) -> Sequence[nn.Module]:  # noqa: D102
        return self.inner.modules()

    def begin_epoch(self, epoch: int) -> dict:  # noqa: D102
        return self.inner.begin_epoch(epoch)

    def __call__(self, batch: DeviceData) -> torch.Tensor:  # noqa: D102
        loss = self.inner(batch)
        self.average.update_parameters(self.module)
        return loss

    def final_module(self, module: nn.Module) -> nn.Module:
        """Load the average into ``module`` (unless no step was taken) and return it."""
        return _load_average(self.average, module)


class SWACallback(FinalWeights):
    """Stochastic weight averaging: the mean of the end-of-epoch weights from ``start`` on.

    Use it as an epoch callback (it never asks to stop) and as the loop's ``final_weights``.

    Parameters
    ----------
    module : nn.Module
        The network averaged.
    start : int
        First (1-based) epoch whose weights enter the mean.

    Attributes
    ----------
    average : torch.optim.swa_utils.AveragedModel
        The averaged copy; ``average.n_averaged`` counts the epochs in the mean.
    """

    def __init__(self, module: nn.Module, start: int):
        self.module = module
        self.start = int(start)
        self.average = AveragedModel(module, use_buffers=True)

    def __call__(self, record: dict) -> bool:
        """Epoch-end callback: add this epoch's weights to the mean from ``start`` on."""
        if record["epoch"] >= self.start:
            self.average.update_parameters(self.module)
        return False

    def final_module(self, module: nn.Module) -> nn.Module:
        """Load the mean into ``module`` and return it (the last weights if training stopped
        before ``start``)."""
        return _load_average(self.average, module)


def _load_average(average: AveragedModel, module: nn.Module) -> nn.Module:
    if int(average.n_averaged.item()) > 0:
        module.load_state_dict(average.module.state_dict())
    return module


class SnapshotMean(nn.Module):
    """A network whose probability is the mean of its members' (prediction averaging).

    Parameters
    ----------
    members : sequence of nn.Module
        Networks called as ``member(tokens, lengths) -> logits (B,)``.

    Notes
    -----
    The logit returned is that of the mean probability, ``log p - log(1 - p)`` with ``p =
    mean_k sigmoid(logit_k)``, computed with log-sum-exp so that it stays finite.
    """

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        if not members:
            raise ValueError("SnapshotMean needs at least one member")
        self.members = nn.ModuleList(members)

    @property
    def trim_padding(self) -> bool:
        """Batches may be cut to their longest sequence when every member's may
        (:func:`badlabels.engine.trainer.trims_padding`)."""
        return all(trims_padding(m) for m in self.members)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logit of the members' mean probability, shape (B,), of tokens (B, L)."""
        logits = torch.stack([m(tokens, lengths).reshape(-1) for m in self.members])  # (K, B)
        log_k = math.log(len(self.members))
        log_p = torch.logsumexp(nn.functional.logsigmoid(logits), dim=0) - log_k
        log_q = torch.logsumexp(nn.functional.logsigmoid(-logits), dim=0) - log_k
        return log_p - log_q


class WindowCallback(FinalWeights):
    """Prediction averaging over a fixed window: the last ``window`` epochs' weights.

    Use it as an epoch callback (it never asks to stop) and as the loop's ``final_weights``;
    the network it supplies is a :class:`SnapshotMean` of up to ``window`` copies of the
    module (fewer when fewer epochs ran).

    Parameters
    ----------
    module : nn.Module
        The network snapshotted.
    window : int
        Epochs kept.
    build : callable, optional
        ``build() -> nn.Module``: a fresh network of the same architecture to load a
        snapshot into (default: a deep copy of ``module``).
    """

    def __init__(self, module: nn.Module, window: int, build=None):
        self.module = module
        self.window = int(window)
        self.build = build
        self.snapshots: deque[dict[str, torch.Tensor]] = deque(maxlen=self.window)

    def __call__(self, record: dict) -> bool:
        """Epoch-end callback: keep this epoch's weights (dropping the oldest beyond ``window``)."""
        self.snapshots.append(copy_state(self.module))
        return False

    def final_module(self, module: nn.Module) -> nn.Module:
        """A :class:`SnapshotMean` of the kept snapshots (``module`` itself if none)."""
        if not self.snapshots:
            return module
        members = []
        for state in self.snapshots:
            member = self.build() if self.build is not None else _fresh_copy(module)
            member.load_state_dict(state)
            members.append(member.to(next(iter(state.values())).device).eval())
        return SnapshotMean(members)


def _fresh_copy(module: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(module)


__all__ = [
    "AVERAGING",
    "EMAStep",
    "SWACallback",
    "SnapshotMean",
    "WindowCallback",
    "default_swa_start",
]
