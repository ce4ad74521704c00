"""Which models train stacked, and how many at once: the choice both stacked paths share.

The experiment's stacked engine (:mod:`badlabels.experiment.engines`) and the stacked
out-of-fold models (:mod:`badlabels.methods.stacked_folds`, behind the audit) ask the same
questions: is ``engine`` a known value, how many models may share one stacked unit on this
device (:func:`max_k`), and can this estimator train stacked, with whom
(:func:`stack_spec`, :class:`StackKey`). This module answers them once, in the
training-methods layer, so neither caller imports the other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from badlabels.data.encoding import AMINO_ACIDS, encoding_matrix, encoding_parts, is_onehot
from badlabels.errors import BadInputError

if TYPE_CHECKING:  # torch-free at import: the schedule is only needed once training
    from badlabels.engine.schedule import TrainSchedule

ENGINES = ("auto", "plain", "stacked")
"""Accepted values of ``engine``."""

MAX_K = {"cuda": 32, "cpu": 16}
"""Most cells per stacked unit, by device type (``BADLABELS_MAX_K`` overrides)."""


def check_engine(engine: str) -> str:
    """Return ``engine`` if known, else raise :class:`BadInputError`."""
    if engine not in ENGINES:
        raise BadInputError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    return engine


def _device_type(device: str) -> str:
    if str(device).strip().lower() == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return "cuda" if str(device).strip().lower().startswith("cuda") else "cpu"


def max_k(device: str = "auto") -> int:
    """Most cells in one stacked unit on ``device``."""
    env = os.environ.get("BADLABELS_MAX_K")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise BadInputError(f"BADLABELS_MAX_K must be an integer, got {env!r}") from None
    return MAX_K[_device_type(device)]


@dataclass(frozen=True)
class StackKey:
    """What the K models of one stacked unit must share (hashable: units are grouped by it).

    Attributes
    ----------
    hidden_sizes : tuple of int
        The LSTM layers' hidden sizes.
    schedule : TrainSchedule
        Batch size, learning rate, epochs, patience and weight decay.
    alphabet : str or None
        The model's alphabet parameter (None: the amino acids).
    encoding : str
        The model's residue encoding (``LSTMClassifier.encoding``).
    task : {"classification", "regression"}
        What the one output is read as: a logit, or a standardised score (``LSTMRegressor``:
        the caller standardises each model's training scores and un-standardises its
        predictions, :func:`badlabels.models.regression.standardise_targets`).
    """

    hidden_sizes: tuple[int, ...]
    schedule: TrainSchedule
    alphabet: str | None
    encoding: str = "onehot"
    task: str = "classification"

    def input_map(self):
        """The encoding's (len(alphabet), d) residue -> feature matrix; None for one-hot."""
        if is_onehot(self.encoding):
            return None
        alphabet = AMINO_ACIDS if self.alphabet is None else self.alphabet
        return encoding_matrix(self.encoding, alphabet)


def stack_spec(est) -> tuple[StackKey, tuple[str, dict | None]] | None:
    """``(StackKey, (loss, loss_params))`` if ``est`` can train stacked, else None.

    Stackable: exactly an ``LSTMClassifier`` or ``LSTMRegressor`` (not a wrapper or a
    subclass) with the default training options (``NeuralClassifier.stacks_like_fit``: the
    stacked engine has no other). The key holds everything the K models of a unit must
    share, the task included.
    """
    from badlabels.models.lstm import LSTMClassifier
    from badlabels.models.regression import LSTMRegressor

    tasks = {LSTMClassifier: "classification", LSTMRegressor: "regression"}
    task = tasks.get(type(est))
    if task is None:
        return None
    try:
        schedule = est.train_schedule()  # checks the training options too
        hidden = est._hidden()
    except BadInputError:
        return None
    if not est.stacks_like_fit():
        return None
    encoding = "+".join(encoding_parts(est.encoding))
    key = StackKey(hidden, schedule, est.alphabet, encoding, task)
    return key, (est.loss, est.loss_params)


__all__ = ["ENGINES", "MAX_K", "StackKey", "check_engine", "max_k", "stack_spec"]
