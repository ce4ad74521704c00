"""Early-learning regularisation, ELR (Liu et al., NeurIPS 2020), for binary labels.

Assumptions
-----------
- Early in training a network fits the clean labels before it memorises the wrong ones
  ("early learning"), so a running average of its own past predictions is a better target
  than a noisy label.
- Each training row is visited once per epoch (the one loop's permutation), so the running
  average of a row advances once per epoch, as in the paper.

Algorithm
---------
For each training row ``i`` a target ``t_i`` is kept over the two classes
(``t_i = (t_i0, t_i1)``), initialised to ``(0, 0)`` as in the paper's code. Each time the row
is in a mini-batch, with ``p_i = sigmoid(logit_i)`` clamped to ``[1e-4, 1 - 1e-4]`` and
detached::

    t_i <- beta * t_i + (1 - beta) * (1 - p_i, p_i)
    loss_i = BCE(logit_i, y_i) + lam * log(1 - <p_i, t_i>),
    <p_i, t_i> = (1 - p_i) * t_i0 + p_i * t_i1

(the target is updated first, then used, as in the paper's code); the batch loss is the
(weighted) mean of ``loss_i``. Once ``t_i0 + t_i1 = 1`` this is
``p_i t_i1 + (1 - p_i)(1 - t_i1)``. Both columns are kept because the paper's zero start
is a target of mass 0 that grows as ``1 - beta^k`` after ``k`` visits, and is symmetric in
the two classes; one number ``t`` started at 0 would instead be "class 0 for sure" and pull
every row towards class 0 in the first epochs. The regulariser rewards agreeing with the
running target, so the gradient of a row whose target disagrees with its noisy label
counteracts that label's pull.

Training is the one loop of :class:`~badlabels.engine.trainer.Trainer` with :class:`ELRStep`
plugged in, after the preparation every neural model's ``fit`` makes
(:meth:`~badlabels.models.base.NeuralClassifier._fit_data`). Early stopping watches the
plain BCE on the (noisy) validation split (the model is trained with ``loss="bce"``, which
is the trainer's validation loss). The epoch's ``train_loss`` is the ELR objective, which is
below the BCE (the regulariser is a log of a number below 1, so it is <= 0). Cost: about a
plain fit, plus a (n_train, 2) float tensor on the device.
"""

from __future__ import annotations

import math
import numbers
import time

import torch
import torch.nn.functional as F
from torch import nn

from badlabels.engine.trainer import AdamStep, DeviceData
from badlabels.errors import BadInputError
from badlabels.methods.wrappers import _model_params, _Wrapper
from badlabels.models import make_model
from badlabels.models.base import NeuralClassifier

ELR_BETA = 0.7
"""Default momentum of the target average (the paper's CIFAR-10 value)."""

ELR_LAMBDA = 3.0
"""Default weight of the regulariser (the paper's CIFAR-10 value)."""

PROB_CLAMP = 1e-4
"""Probabilities are clamped to ``[PROB_CLAMP, 1 - PROB_CLAMP]`` (the paper's code)."""


def check_elr_params(beta, lam) -> tuple[float, float]:
    """``(beta, lam)`` as floats, else a one-line :class:`BadInputError`.

    Parameters
    ----------
    beta : float in [0, 1)
        Momentum of the target average.
    lam : float >= 0
        Weight of the regulariser.

    Returns
    -------
    tuple of float
    """

    def real(v) -> bool:
        return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)

    if not (real(beta) and 0 <= beta < 1):
        raise BadInputError(f"elr: beta must be a number in [0, 1), got {beta!r}")
    if not (real(lam) and lam >= 0):
        raise BadInputError(f"elr: lam must be a number >= 0, got {lam!r}")
    return float(beta), float(lam)


def _class_probs(logits: torch.Tensor) -> torch.Tensor:
    """Clamped ``(1 - p, p)`` per row, shape (B, 2), from logits of shape (B,)."""
    p = torch.sigmoid(logits).clamp(PROB_CLAMP, 1.0 - PROB_CLAMP)
    return torch.stack((1.0 - p, p), dim=1)


def elr_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    targets: torch.Tensor,
    lam: float,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """The ELR objective of a batch: mean of ``BCE_i + lam * log(1 - <p_i, t_i>)``.

    Parameters
    ----------
    logits : torch.Tensor of float, shape (B,)
    y : torch.Tensor of float, shape (B,)
        Noisy labels 0.0 / 1.0.
    targets : torch.Tensor of float, shape (B, 2)
        The rows' targets ``(t_i0, t_i1)`` (already updated with this batch); not
        differentiated.
    lam : float
        Weight of the regulariser.
    weight : torch.Tensor of float, shape (B,), optional
        Per-sample weights (the mean is of the weighted values, as the registered losses).

    Returns
    -------
    torch.Tensor
        Scalar.
    """
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    agreement = (_class_probs(logits) * targets.detach()).sum(dim=1)
    values = bce + lam * torch.log1p(-agreement)
    if weight is not None:
        values = values * weight
    return values.mean()


class ELRStep(AdamStep):
    """One ELR step on a mini-batch, plugged into :class:`~badlabels.engine.trainer.Trainer`.

    Parameters
    ----------
    module : nn.Module
        The network trained (and watched by the loop).
    n_train : int
        Rows of the training data (``batch.index`` takes values in ``0..n_train-1``).
    beta, lam : float
        Momentum of the target average, weight of the regulariser (checked by
        :func:`check_elr_params`).
    lr, weight_decay : float
        Adam's.

    Attributes
    ----------
    targets : torch.Tensor of float32, shape (n_train, 2)
        The target memory ``(t_i0, t_i1)`` per training row, on the module's device;
        zeros before a row's first visit.
    """

    def __init__(
        self, module: nn.Module, n_train: int, *, beta: float, lam: float, lr: float,
        weight_decay: float,
    ):  # fmt: skip
        self.beta, self.lam = check_elr_params(beta, lam)
        super().__init__(module, None, lr=lr, weight_decay=weight_decay)  # loss: batch_loss
        first = next(module.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
        self.targets = torch.zeros((int(n_train), 2), dtype=torch.float32, device=device)

    def update_targets(self, index: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Move the targets of rows ``index`` towards this batch's predictions.

        Parameters
        ----------
        index : torch.Tensor of int64, shape (B,)
            Training rows of the batch (distinct, as in one permutation).
        logits : torch.Tensor of float, shape (B,)
            The network's logits on them (detached here).

        Returns
        -------
        torch.Tensor of float32, shape (B, 2)
            The rows' updated targets.
        """
        probs = _class_probs(logits.detach().float())
        rows = self.beta * self.targets[index] + (1.0 - self.beta) * probs
        self.targets[index] = rows
        return rows

    def batch_loss(self, batch: DeviceData) -> torch.Tensor:  # noqa: D102
        if batch.index is None:
            raise ValueError("ELRStep needs batch.index (the batch's training rows)")
        logits = self.module(batch.tokens, batch.lengths).reshape(-1)
        targets = self.update_targets(batch.index, logits)
        return elr_loss(logits, batch.y, targets, self.lam, batch.weight)


class ELRClassifier(_Wrapper):
    """ELR over any neural badlabels model.

    Parameters
    ----------
    model : str, default "lstm"
        A neural model name (:data:`badlabels.models.MODELS`, not ``logreg``).
    model_params : dict, optional
        Its constructor parameters (``lr``, ``batch_size``, ``max_epochs``, ``patience``,
        ``device``, ``random_state``...; not ``loss`` / ``loss_params``: the data term is
        BCE and so is the validation loss of early stopping).
    beta : float in [0, 1), default 0.7
        Momentum of each row's target average.
    lam : float >= 0, default 3.0
        Weight of the regulariser (0: plain BCE, with the same batches and seed).

    Notes
    -----
    The defaults are the paper's CIFAR-10 values (beta 0.7, lambda 3; the authors'
    ``config_cifar10.json``), fixed before any run on our data, as for every other method
    here. CIFAR-10 is the paper's setting closest to ours (few classes, a network trained
    from scratch, symmetric and class-dependent noise); its CIFAR-100 values (0.9, 7) are
    for 100 classes. Tuning is left to a list value chosen on the noisy validation split
    (:class:`~badlabels.methods.wrappers.SelectOnValidation`). The paper trains with SGD
    and a learning-rate schedule; here the model's own Adam schedule is used.

    Attributes
    ----------
    estimator_ : fitted model
        The network trained with ELR, as a plain badlabels estimator (it makes every
        prediction).
    targets_ : ndarray of float32, shape (n_train, 2)
        The final target memory, over the rows trained on (after the validation hold-out).
    history_ : list of dict

    Saving: :func:`badlabels.models.save_model` saves ``estimator_``; the target memory is
    training state only and is not saved.
    """

    _method_name = "elr"

    def __init__(self, model="lstm", model_params=None, beta=ELR_BETA, lam=ELR_LAMBDA):
        self.model = model
        self.model_params = model_params
        self.beta = beta
        self.lam = lam

    def _saved_info(self) -> dict:
        return {
            **super()._saved_info(),
            "beta": float(self.beta),
            "lam": float(self.lam),
            "note": "the per-row target memory is training state only and is not saved",
        }

    def _network(self) -> NeuralClassifier:
        """The unfitted model trained with ELR (parameters checked)."""
        check_elr_params(self.beta, self.lam)
        if not isinstance(make_model(self.model), NeuralClassifier):
            raise BadInputError(f"elr needs a neural model, not {self.model!r}")
        params = _model_params(self.model, self.model_params, loss="bce", loss_params=None)
        net = make_model(self.model, **params)
        net._check_params()
        return net

    def fit(self, X, y, eval_set=None, progress=None, sample_weight=None):
        """Train the model with the ELR objective.

        Parameters
        ----------
        X : array-like of str, shape (n,)
        y : array-like of {0, 1}, shape (n,)
            Noisy labels.
        eval_set : tuple (X_val, y_val), optional
            Noisy validation data for early stopping (plain BCE); without it
            ``validation_fraction`` of ``X`` is held out, as the model itself would.
        progress : callable, optional
            ``progress("epoch", epoch=, max_epochs=, train_loss=, val_loss=)``.
        sample_weight : array-like, shape (n,), optional

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        net = self._network()
        data = net._fit_data(*net._fit_inputs(X, y, sample_weight), eval_set=eval_set)
        trainer = net._trainer()
        with net._seeded(data.device):
            module = net._new_module(data.device)
            step = ELRStep(
                module,
                len(data.train),
                beta=self.beta,
                lam=self.lam,
                lr=trainer.lr,
                weight_decay=trainer.weight_decay,
            )
            result = trainer.fit(module, data.train, data.val, progress=progress, step=step)
        net._set_trained(module, result, t0)
        self.targets_ = step.targets.cpu().numpy()
        self._adopt(net, t0)
        return self


__all__ = [
    "ELRClassifier",
    "ELRStep",
    "ELR_BETA",
    "ELR_LAMBDA",
    "PROB_CLAMP",
    "check_elr_params",
    "elr_loss",
]
