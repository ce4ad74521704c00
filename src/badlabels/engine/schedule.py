"""The training schedule: one value object from the estimator's parameters to the loop.

A neural estimator's schedule parameters (``batch_size``, ``lr``, ``max_epochs``,
``patience``, ``weight_decay``) travel as one :class:`TrainSchedule`:
:meth:`badlabels.models.base.NeuralClassifier.train_schedule` makes it,
:meth:`badlabels.engine.trainer.Trainer.from_schedule` and
:func:`badlabels.engine.stacked.fit_stacked` train by it, and the stacked engine groups
models by it (it is frozen, so hashable and comparable).

Assumption: the values are already checked (``NeuralClassifier._check_params``); this module
only normalises their types.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class TrainSchedule:
    """How long and with which steps a network is trained (mini-batch Adam).

    Parameters
    ----------
    batch_size : int
        Rows per training step.
    lr : float
        Adam learning rate.
    max_epochs : int
    patience : int or None
        Early-stopping patience on the validation loss (``None``: never stop early).
    weight_decay : float
        Adam weight decay (L2).
    """

    batch_size: int = 500
    lr: float = 1e-3
    max_epochs: int = 30
    patience: int | None = 5
    weight_decay: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "batch_size", int(self.batch_size))
        object.__setattr__(self, "lr", float(self.lr))
        object.__setattr__(self, "max_epochs", int(self.max_epochs))
        object.__setattr__(self, "patience", None if self.patience is None else int(self.patience))
        object.__setattr__(self, "weight_decay", float(self.weight_decay))

    @classmethod
    def of(cls, obj) -> TrainSchedule:
        """The schedule of any object with these five attributes (an estimator, a trainer)."""
        return cls(**{f.name: getattr(obj, f.name) for f in fields(cls)})


__all__ = ["TrainSchedule"]
