"""The training engine: the one epoch loop, early stopping, the schedule, losses, stacked.

Below the models (which are built on the loop) and above data, noise and evaluation
(docs/dev/ARCHITECTURE.md). Modules: ``trainer`` (:class:`Trainer`, ``TrainStep``,
``AdamStep``, device data), ``stopping`` (:class:`EarlyStopping`), ``schedule``
(:class:`TrainSchedule`), ``losses`` (the loss registry), ``averaging`` (EMA, SWA, a window of
snapshots: averaging over training instead of picking an epoch), ``stacked`` (K LSTMs trained
as one computation). The names below are loaded on first use, so importing a torch-free module of
this package does not import torch.
"""

from __future__ import annotations

from badlabels._lazy import lazy_getattr

_LAZY = {
    "available_losses": "badlabels.engine.losses",
    "get_loss": "badlabels.engine.losses",
    "register_loss": "badlabels.engine.losses",
    "EarlyStopping": "badlabels.engine.stopping",
    "LabelWave": "badlabels.engine.stopping",
    "make_stopper": "badlabels.engine.stopping",
    "EMAStep": "badlabels.engine.averaging",
    "SWACallback": "badlabels.engine.averaging",
    "WindowCallback": "badlabels.engine.averaging",
    "SnapshotMean": "badlabels.engine.averaging",
    "FinalWeights": "badlabels.engine.trainer",
    "MixupStep": "badlabels.engine.trainer",
    "TrainSchedule": "badlabels.engine.schedule",
    "DeviceData": "badlabels.engine.trainer",
    "Trainer": "badlabels.engine.trainer",
    "TrainResult": "badlabels.engine.trainer",
    "predict_logits": "badlabels.engine.trainer",
    "resolve_device": "badlabels.engine.trainer",
    "to_device_data": "badlabels.engine.trainer",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
