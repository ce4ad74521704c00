"""Training losses for neural estimators, looked up by name.

A loss is built by a *factory* registered under a name: ``get_loss(name, **params)``
calls the factory with the parameters and returns a callable::

    loss(logits, targets, weight=None) -> scalar tensor

with ``logits`` and ``targets`` float tensors of shape ``(batch,)`` (targets 0.0 or 1.0)
and ``weight`` an optional float tensor of shape ``(batch,)``. The value is the mean
over the batch of the (weighted) per-sample losses, so that mini-batch means of equal
sized batches average to the epoch mean.

Robust losses (for noisy labels) are added with :func:`register_loss`::

    @register_loss("my_loss")
    def my_loss(q=0.7):
        def loss(logits, targets, weight=None):
            ...
        return loss
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
import torch.nn.functional as F

from badlabels.errors import BadInputError

LossFn = Callable[..., torch.Tensor]
"""``loss(logits (B,), targets (B,), weight (B,) or None) -> scalar tensor``."""

_LOSSES: dict[str, Callable[..., LossFn]] = {}


def register_loss(name: str) -> Callable[[Callable[..., LossFn]], Callable[..., LossFn]]:
    """Register a loss factory under ``name`` (decorator).

    Parameters
    ----------
    name : str
        The name users pass as ``loss=`` to an estimator.

    Returns
    -------
    callable
        A decorator that registers the factory and returns it unchanged.
    """

    def decorate(factory: Callable[..., LossFn]) -> Callable[..., LossFn]:
        if name in _LOSSES:
            raise ValueError(f"loss {name!r} is registered twice")
        _LOSSES[name] = factory
        return factory

    return decorate


def available_losses() -> list[str]:
    """Names of the registered losses, sorted."""
    return sorted(_LOSSES)


def get_loss(name: str, **params) -> LossFn:
    """Build the loss registered as ``name`` with its parameters.

    Parameters
    ----------
    name : str
        A registered loss name (see :func:`available_losses`).
    **params
        Keyword parameters of that loss.

    Returns
    -------
    callable
        ``loss(logits, targets, weight=None) -> scalar tensor``.

    Raises
    ------
    BadInputError
        Unknown name, or a parameter the loss does not take.
    """
    try:
        factory = _LOSSES[name]
    except (KeyError, TypeError):
        raise BadInputError(
            f"unknown loss {name!r}; choose one of: {', '.join(available_losses())}"
        ) from None
    sig = inspect.signature(factory)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    if not takes_any:
        unknown = sorted(set(params) - set(sig.parameters))
        if unknown:
            accepted = ", ".join(sig.parameters) or "none"
            raise BadInputError(
                f"loss {name!r} takes no parameter {', '.join(unknown)} (accepted: {accepted})"
            )
    return factory(**params)


def _weighted_mean(per_sample: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    if weight is None:
        return per_sample.mean()
    return (per_sample * weight).mean()


@register_loss("bce")
def bce() -> LossFn:
    """Binary cross-entropy on logits (``F.binary_cross_entropy_with_logits``)."""

    def loss(
        logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        if weight is None:
            return F.binary_cross_entropy_with_logits(logits, targets)
        per_sample = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        return _weighted_mean(per_sample, weight)

    return loss
