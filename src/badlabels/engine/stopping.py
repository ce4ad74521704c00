"""Early stopping: the one rule every training loop of badlabels uses.

The plain :class:`~badlabels.engine.trainer.Trainer` (and through it co-teaching) holds one
:class:`EarlyStopping`; the stacked engine (:func:`badlabels.engine.stacked.fit_stacked`)
holds one per model. The rule, implemented only here:

- the monitored value (the validation loss) is lower-is-better; epoch ``e`` is *better*
  when its value is strictly below the best so far. NaN is never better;
- without a monitored value (``None``: no validation data) the score of epoch ``e`` is
  ``-e``, so every epoch is better and the last one is the best;
- training stops once ``patience`` epochs in a row were not better, and only while a
  value is monitored (``patience=None``: never early);
- the weights kept are the best epoch's; while no epoch was better yet (every value NaN so
  far) the current weights are the ones kept, and ``best_epoch`` is then reported as the
  last epoch run.

A second rule needs no labels: :class:`LabelWave` (Yuan et al., ICLR 2024) monitors the
*prediction changes*, the number of training rows whose predicted class differs from the
previous epoch's, with the same rule (lower is better, strict, ``patience``, best weights
kept). It stops once the prediction changes stop decreasing (their first minimum, with
``patience``). Epoch 1 has no previous epoch: it has no value, its weights are kept until a
later epoch is better, and it does not count towards the patience.

:data:`STOPPING_RULES` names the rules; :func:`make_stopper` builds one by name.

Assumptions: epochs are numbered 1, 2, ... and :meth:`EarlyStopping.update` (or
:meth:`LabelWave.observe`) is called once per epoch, in order.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def copy_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of ``module``'s state dict (tensors stay on their device)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class EarlyStopping:
    """Patience on a lower-is-better monitored value; best value, epoch and weights kept.

    Parameters
    ----------
    patience : int or None, default 5
        Stop after this many epochs in a row without a better value (``None``: never stop
        early; the best epoch is still tracked).

    Attributes
    ----------
    best_epoch : int
        1-based epoch of the best value so far; 0 while no epoch was better.
    best_value : float or None
        The monitored value of ``best_epoch`` (None without one).
    epoch : int
        The last epoch passed to :meth:`update`.
    since_best : int
        Epochs since the best one.
    best_state : dict of str to torch.Tensor, or None
        The weights saved by :meth:`keep` (the state dict of the epoch they are from).

    Examples
    --------
    >>> stop = EarlyStopping(patience=2)
    >>> for epoch, loss in enumerate([0.9, 0.7, 0.8, 0.75], start=1):
    ...     _ = stop.update(epoch, loss)
    >>> stop.best_epoch, stop.should_stop
    (2, True)
    """

    def __init__(self, patience: int | None = 5):
        self.patience = patience
        self.best_score = math.inf
        self.best_epoch = 0
        self.best_value: float | None = None
        self.epoch = 0
        self.since_best = 0
        self.monitored = False
        self.best_state: dict[str, torch.Tensor] | None = None
        self._state_epoch = 0

    def update(self, epoch: int, value: float | None) -> bool:
        """Record epoch ``epoch``'s monitored value.

        Parameters
        ----------
        epoch : int
            1-based epoch number.
        value : float or None
            The monitored value (NaN allowed); ``None`` when nothing is monitored.

        Returns
        -------
        bool
            Whether the current weights are now the ones to keep: the epoch was better, or
            no epoch has been better yet.
        """
        self.epoch = int(epoch)
        self.monitored = value is not None
        score = value if value is not None else -float(epoch)
        if score < self.best_score:  # NaN compares False: never better
            self.best_score = score
            self.best_epoch = self.epoch
            self.best_value = value
            self.since_best = 0
            return True
        self.since_best += 1
        return self.best_epoch == 0

    @property
    def should_stop(self) -> bool:
        """Whether ``patience`` epochs in a row were not better (a value being monitored)."""
        return self.patience is not None and self.monitored and self.since_best >= self.patience

    @property
    def final_epoch(self) -> int:
        """The epoch whose weights are kept: ``best_epoch``, or the last one if none was better."""
        return self.best_epoch or self.epoch

    def keep(self, module: nn.Module) -> None:
        """Save a copy of ``module``'s current weights as those of the current epoch."""
        self.best_state = copy_state(module)
        self._state_epoch = self.epoch

    def restore(self, module: nn.Module) -> bool:
        """Load the best epoch's saved weights into ``module`` unless it holds them already.

        Returns
        -------
        bool
            Whether weights were loaded. Nothing is loaded when the best epoch is the last
            one, when no epoch was better (the last weights are kept), or when the best
            epoch's weights were never saved with :meth:`keep`.
        """
        if (
            self.best_state is None
            or self.best_epoch in (0, self.epoch)
            or self._state_epoch != self.best_epoch
        ):
            return False
        module.load_state_dict(self.best_state)
        return True


class LabelWave(EarlyStopping):
    """Label Wave: early stopping on the training set's prediction changes (no labels needed).

    Yuan et al., "Early stopping against label noise without validation data", ICLR 2024:
    the number of training rows whose predicted class changes between consecutive epochs
    falls while the network learns the clean pattern and rises again once it starts to
    memorise the noisy labels; training stops at its first minimum. Here the minimum is
    found with :class:`EarlyStopping`'s rule on that count (strictly fewer changes is
    better; stop after ``patience`` epochs in a row without fewer), and the weights of the
    epoch with the fewest changes are the ones kept. No smoothing is applied.

    Parameters
    ----------
    patience : int or None, default 5
        Epochs in a row without fewer prediction changes before stopping (``None``: never
        stop early; the epoch with the fewest changes is still the one kept).

    Attributes
    ----------
    changes : int or None
        The last epoch's prediction changes (None after the first epoch).
    previous : torch.Tensor or None
        The last epoch's predicted classes, shape (n,).

    Examples
    --------
    >>> import torch
    >>> stop = LabelWave(patience=1)
    >>> preds = [[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 1, 1]]
    >>> for epoch, p in enumerate(preds, start=1):
    ...     _ = stop.observe(epoch, torch.tensor(p))
    ...     if stop.should_stop:
    ...         break
    >>> stop.changes, stop.best_epoch, stop.epoch
    (2, 3, 4)
    """

    def __init__(self, patience: int | None = 5):
        super().__init__(patience)
        self.changes: int | None = None
        self.previous: torch.Tensor | None = None

    def observe(self, epoch: int, predicted: torch.Tensor) -> bool:
        """Record epoch ``epoch``'s predicted classes of the training rows.

        Parameters
        ----------
        epoch : int
            1-based epoch number.
        predicted : torch.Tensor, shape (n,)
            Predicted class (or any discrete label) of each training row, in a fixed row
            order across epochs.

        Returns
        -------
        bool
            Whether the current weights are now the ones to keep (as
            :meth:`EarlyStopping.update`; always True for the first epoch observed).
        """
        predicted = predicted.detach().reshape(-1).clone()
        previous, self.previous = self.previous, predicted
        if previous is None:
            self.changes = None
            self.epoch = int(epoch)
            return self.best_epoch == 0
        if previous.shape != predicted.shape:
            raise ValueError(
                f"predictions of {predicted.shape[0]} rows after {previous.shape[0]} rows"
            )
        self.changes = int((predicted != previous).sum().item())
        return self.update(epoch, float(self.changes))


STOPPING_RULES = ("val_loss", "label_wave")
"""Names of the stopping rules: ``val_loss`` (:class:`EarlyStopping` on the validation
loss) and ``label_wave`` (:class:`LabelWave` on the training set's prediction changes)."""


def make_stopper(rule: str = "val_loss", patience: int | None = 5) -> EarlyStopping:
    """The stopper of rule ``rule`` (one of :data:`STOPPING_RULES`) with ``patience``."""
    if rule == "val_loss":
        return EarlyStopping(patience)
    if rule == "label_wave":
        return LabelWave(patience)
    raise ValueError(f"unknown stopping rule {rule!r}; choose one of {', '.join(STOPPING_RULES)}")


__all__ = ["STOPPING_RULES", "EarlyStopping", "LabelWave", "copy_state", "make_stopper"]
