"""Training loop and losses shared by the neural estimators."""

from __future__ import annotations

from badlabels.training.losses import available_losses, get_loss, register_loss
from badlabels.training.trainer import (
    DeviceData,
    Trainer,
    TrainResult,
    predict_logits,
    resolve_device,
    to_device_data,
)

__all__ = [
    "DeviceData",
    "TrainResult",
    "Trainer",
    "available_losses",
    "get_loss",
    "predict_logits",
    "register_loss",
    "resolve_device",
    "to_device_data",
]
