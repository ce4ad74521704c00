"""Training: the engine (one loop, early stopping, schedule, losses, stacked) and the methods.

Two layers live in this package (docs/dev/ARCHITECTURE.md): the engine modules
(``trainer``, ``stopping``, ``schedule``, ``losses``, ``stacked``), below the models, and the
method modules (``methods``, ``wrappers``, ``coteaching``, ``estimate``, ``folds``,
``stacked_folds``, ``stacking``), above them. The names below are loaded on first use, so
importing a torch-free module of this package (e.g. ``stacking``) does not import torch.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "available_losses": "badlabels.training.losses",
    "get_loss": "badlabels.training.losses",
    "register_loss": "badlabels.training.losses",
    "DeviceData": "badlabels.training.trainer",
    "Trainer": "badlabels.training.trainer",
    "TrainResult": "badlabels.training.trainer",
    "predict_logits": "badlabels.training.trainer",
    "resolve_device": "badlabels.training.trainer",
    "to_device_data": "badlabels.training.trainer",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
