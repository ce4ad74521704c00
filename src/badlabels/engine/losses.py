"""Training losses for neural estimators, looked up by name.

A loss is built by a *factory* registered under a name: ``get_loss(name, **params)``
calls the factory with the parameters and returns a callable::

    loss(logits, targets, weight=None) -> scalar tensor

with ``logits`` and ``targets`` float tensors of shape ``(batch,)`` (targets 0.0 or 1.0)
and ``weight`` an optional float tensor of shape ``(batch,)``. The value is the mean
over the batch of the (weighted) per-sample losses, so that mini-batch means of equal
sized batches average to the epoch mean.

Every built-in loss is a :class:`BinaryLoss`: besides the mean it gives the per-sample
values, which co-teaching (small-loss selection) and other engines need::

    loss = get_loss("gce", q=0.7)
    loss(logits, targets)                       # scalar: the (weighted) mean
    loss(logits, targets, reduction="none")     # shape (batch,)
    loss.per_sample(logits, targets)            # the same
    get_per_sample_loss("gce", q=0.7)           # the per-sample function itself

Built-in losses (``p = sigmoid(logit)``, ``p_y`` the probability given to the observed
label, ``y`` in {0, 1}):

=================== ============================================= =====================
name                per-sample value                              parameters (default)
=================== ============================================= =====================
``bce``             ``-log p_y``                                  none
``label_smoothing`` BCE against ``y (1 - e) + e / 2``             ``smoothing`` (0.1)
``gce``             ``(1 - p_y ** q) / q``  (Zhang & Sabuncu 2018) ``q`` (0.7)
``sce``             ``alpha * (-log p_y) - beta * A * (1 - p_y)`` ``alpha`` (0.1),
                    (Wang et al. 2019; ``log 0`` clipped to A)    ``beta`` (1.0), ``A`` (-4)
``bootstrap``       soft: ``beta * BCE(y) + (1 - beta) * H(p)``;  ``beta`` (0.95 soft,
                    hard: BCE against ``beta y + (1 - beta) 1[p>0.5]`` 0.8 hard), ``mode``
                    (Reed et al. 2015)                            ("soft")
``forward``         ``-log P(noisy = y)`` with ``P(noisy = 1) =   ``matrix`` (identity)
                    T01 (1 - p) + T11 p`` (Patrini et al. 2017)
``mse``             ``r ** 2`` (regression: ``r = pred - y``)     none
``huber``           ``r ** 2 / 2`` if ``|r| <= delta``, else      ``delta`` (1.0)
                    ``delta (|r| - delta / 2)`` (regression)
``student_t``       ``(nu+1)/2 log(1 + r**2 / (nu s**2))``        ``nu`` (3.0),
                    (Student-t NLL up to a constant; regression)  ``scale`` s (1.0)
=================== ============================================= =====================

The regression losses (:data:`REGRESSION_LOSSES`) take the network output itself as the
prediction (no sigmoid) and float ``targets`` that the caller has standardised (mean 0, sd 1
on the training rows), so ``delta`` and ``scale`` are in target standard deviations;
``r = prediction - target``. They are :class:`BinaryLoss` instances too (alias
:data:`PerSampleLoss`), so weights, ``reduction="none"`` and the per-sample form work as
for the binary losses. ``huber`` and ``student_t`` are the robust choices for noisy
targets: their per-sample loss grows linearly / logarithmically in ``|r|``, so outliers
pull the fit less than under ``mse``.

``forward``'s ``matrix`` is the 2x2 noise transition matrix ``T[i][j] = P(noisy = j |
clean = i)`` (rows sum to 1), the convention of :func:`badlabels.noise.transition_matrix`;
note that cleanlab's ``noise_matrix`` is the transpose (``P(noisy = i | true = j)``). With the
identity matrix ``forward`` equals ``bce``.

Robust losses (for noisy labels) are added with :func:`register_loss`::

    @register_loss("my_loss")
    def my_loss(q=0.7):
        def per_sample(logits, targets):
            ...
        return BinaryLoss(per_sample, name="my_loss")

A factory may also return a plain ``loss(logits, targets, weight=None)`` callable; such a loss
has no per-sample form (:func:`get_per_sample_loss` refuses it).
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence

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


PerSampleFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``per_sample(logits (B,), targets (B,)) -> losses (B,)``."""


class BinaryLoss:
    """A binary-logit loss with both a reduced and a per-sample form.

    Parameters
    ----------
    per_sample : callable
        ``per_sample(logits (B,), targets (B,)) -> tensor (B,)``.
    name : str
        For ``repr``.
    params : dict, optional
        The parameters it was built with (for ``repr``).

    Calling it as ``loss(logits, targets, weight=None, reduction="mean")`` returns the mean
    over the batch of the (weighted) per-sample values (``reduction="sum"``: their sum,
    ``"none"``: the (weighted) values themselves, shape ``(B,)``).
    """

    def __init__(self, per_sample: PerSampleFn, name: str = "loss", params: dict | None = None):
        self.per_sample = per_sample
        self.name = name
        self.params = dict(params or {})

    def __call__(
        self,
        logits: torch.Tensor,
        targets: torch.Tensor,
        weight: torch.Tensor | None = None,
        reduction: str = "mean",
    ) -> torch.Tensor:
        values = self.per_sample(logits, targets)
        if weight is not None:
            values = values * weight
        if reduction == "mean":
            return values.mean()
        if reduction == "sum":
            return values.sum()
        if reduction == "none":
            return values
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"BinaryLoss({self.name}{', ' if args else ''}{args})"


PerSampleLoss = BinaryLoss
"""The same class under a name that fits the regression losses too (their "logits" are
predictions and their targets any floats)."""


def get_per_sample_loss(name: str, **params) -> PerSampleFn:
    """The per-sample form of the loss registered as ``name``.

    Returns
    -------
    callable
        ``per_sample(logits (B,), targets (B,)) -> tensor (B,)``.

    Raises
    ------
    BadInputError
        Unknown name or parameter, or a loss registered without a per-sample form.
    """
    loss = get_loss(name, **params)
    per_sample = getattr(loss, "per_sample", None)
    if per_sample is None:
        raise BadInputError(f"loss {name!r} has no per-sample form")
    return per_sample


# --- helpers ---------------------------------------------------------------------------
def _number(name: str, value, low: float, high: float, *, low_open=False, high_open=False):
    """``value`` as a float in the interval, else BadInputError naming the loss parameter."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise BadInputError(f"{name} must be a number in {lo}{low:g}, {high:g}{hi}, got {value!r}")
    return float(value)


def _soft_bce(logits: torch.Tensor, soft_targets: torch.Tensor) -> torch.Tensor:
    """``-(t log p + (1 - t) log (1 - p))`` per sample, stable, differentiable in ``t`` too."""
    return -(soft_targets * F.logsigmoid(logits) + (1.0 - soft_targets) * F.logsigmoid(-logits))


def _log_p_observed(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``log p_y``: log of the probability the model gives the observed label (y in {0, 1})."""
    return F.logsigmoid(logits * (2.0 * targets - 1.0))


# --- the losses --------------------------------------------------------------------------
class _BCELoss(BinaryLoss):
    """``bce`` takes PyTorch's fused kernel for the plain mean."""

    def __call__(self, logits, targets, weight=None, reduction="mean"):
        if weight is None and reduction == "mean":
            return F.binary_cross_entropy_with_logits(logits, targets)
        return super().__call__(logits, targets, weight, reduction)


@register_loss("bce")
def bce() -> BinaryLoss:
    """Binary cross-entropy on logits (``F.binary_cross_entropy_with_logits``)."""

    def per_sample(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, targets, reduction="none")

    return _BCELoss(per_sample, "bce")


@register_loss("label_smoothing")
def label_smoothing(smoothing: float = 0.1) -> BinaryLoss:
    """BCE against smoothed targets ``y (1 - smoothing) + smoothing / 2``.

    Parameters
    ----------
    smoothing : float in [0, 1), default 0.1
        0 gives ``bce``.
    """
    eps = _number("label_smoothing: smoothing", smoothing, 0.0, 1.0, high_open=True)

    def per_sample(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        soft = targets * (1.0 - eps) + 0.5 * eps
        return F.binary_cross_entropy_with_logits(logits, soft, reduction="none")

    return BinaryLoss(per_sample, "label_smoothing", {"smoothing": eps})


@register_loss("gce")
def gce(q: float = 0.7) -> BinaryLoss:
    """Generalized cross-entropy ``(1 - p_y ** q) / q`` (Zhang & Sabuncu 2018).

    ``q -> 0`` is cross-entropy, ``q = 1`` the mean absolute error ``1 - p_y`` (robust but
    slow to train); the paper's default is 0.7.

    Parameters
    ----------
    q : float in (0, 1], default 0.7
    """
    qq = _number("gce: q", q, 0.0, 1.0, low_open=True)

    def per_sample(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (1.0 - torch.exp(qq * _log_p_observed(logits, targets))) / qq

    return BinaryLoss(per_sample, "gce", {"q": qq})


@register_loss("sce")
def sce(alpha: float = 0.1, beta: float = 1.0, A: float = -4.0) -> BinaryLoss:
    """Symmetric cross-entropy ``alpha * CE + beta * RCE`` (Wang et al. 2019).

    The reverse cross-entropy swaps prediction and label: ``RCE = -sum_k p_k log y_k`` with
    ``log 0`` clipped to ``A``; for two classes ``RCE = -A * (1 - p_y)``.

    Parameters
    ----------
    alpha : float >= 0, default 0.1
        Weight of cross-entropy (the paper's CIFAR-10 value).
    beta : float >= 0, default 1.0
        Weight of reverse cross-entropy.
    A : float < 0, default -4
        ``log 0`` stands for ``A``.
    """
    a = _number("sce: alpha", alpha, 0.0, math.inf)
    b = _number("sce: beta", beta, 0.0, math.inf)
    big_a = _number("sce: A", A, -math.inf, 0.0, high_open=True)
    if a == 0 and b == 0:
        raise BadInputError("sce: alpha and beta cannot both be 0")

    def per_sample(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        log_py = _log_p_observed(logits, targets)
        return a * (-log_py) + b * (-big_a) * (1.0 - torch.exp(log_py))

    return BinaryLoss(per_sample, "sce", {"alpha": a, "beta": b, "A": big_a})


BOOTSTRAP_BETA = {"soft": 0.95, "hard": 0.8}
"""Reed et al. (2015)'s values of ``beta`` for soft and hard bootstrapping."""


@register_loss("bootstrap")
def bootstrap(beta: float | None = None, mode: str = "soft") -> BinaryLoss:
    """Bootstrapping: the target mixes the label with the model's own prediction (Reed et al. 2015).

    soft
        ``BCE(p, beta y + (1 - beta) p)`` = ``beta * BCE(p, y) + (1 - beta) * H(p)``: cross-entropy
        plus an entropy penalty (the prediction is not detached, as in the paper).
    hard
        ``BCE(p, beta y + (1 - beta) z)`` with ``z = 1[p > 0.5]`` (no gradient through ``z``).

    Parameters
    ----------
    beta : float in [0, 1], optional
        Weight of the given label; default 0.95 (soft) or 0.8 (hard), the paper's values.
    mode : {"soft", "hard"}, default "soft"
    """
    if mode not in BOOTSTRAP_BETA:
        raise BadInputError(f"bootstrap: mode must be 'soft' or 'hard', got {mode!r}")
    bb = BOOTSTRAP_BETA[mode] if beta is None else _number("bootstrap: beta", beta, 0.0, 1.0)

    if mode == "soft":

        def per_sample(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            p = torch.sigmoid(logits)
            return _soft_bce(logits, bb * targets + (1.0 - bb) * p)

    else:

        def per_sample(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            z = (logits.detach() > 0).to(logits.dtype)
            return _soft_bce(logits, bb * targets + (1.0 - bb) * z)

    return BinaryLoss(per_sample, "bootstrap", {"beta": bb, "mode": mode})


def check_transition_matrix(matrix, what: str = "forward: matrix") -> list[list[float]]:
    """Validate a 2x2 noise transition matrix ``T[i][j] = P(noisy = j | clean = i)``.

    Rows must be probabilities summing to 1 (within 1e-6) and ``T00 + T11 > 1`` (under 50 %
    flips on average: otherwise the matrix cannot be inverted / the classes are swapped).

    Returns
    -------
    list of list of float
        The matrix with each row renormalised to sum exactly to 1.
    """
    try:
        arr = [[float(v) for v in row] for row in matrix]
    except (TypeError, ValueError):
        raise BadInputError(f"{what} must be a 2x2 list of numbers, got {matrix!r}") from None
    if len(arr) != 2 or any(len(row) != 2 for row in arr):
        raise BadInputError(f"{what} must be 2x2, got {matrix!r}")
    flat = [v for row in arr for v in row]
    if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in flat):
        raise BadInputError(f"{what} entries must be probabilities in [0, 1], got {matrix!r}")
    if any(abs(sum(row) - 1.0) > 1e-6 for row in arr):
        raise BadInputError(
            f"{what} rows must sum to 1 (T[i][j] = P(noisy = j | clean = i)), got {matrix!r}"
        )
    if arr[0][0] + arr[1][1] <= 1.0:
        raise BadInputError(
            f"{what} must have T00 + T11 > 1 (flip rates below 50 % on average), got {matrix!r}"
        )
    return [[row[0] / sum(row), row[1] / sum(row)] for row in arr]


@register_loss("forward")
def forward(matrix: Sequence[Sequence[float]] = ((1.0, 0.0), (0.0, 1.0))) -> BinaryLoss:
    """Forward loss correction (Patrini et al. 2017): cross-entropy of the *noisy* label
    under the model's clean prediction pushed through the noise transition matrix.

    ``P(noisy = 1) = T01 (1 - p) + T11 p`` and ``P(noisy = 0) = T00 (1 - p) + T10 p``,
    computed in log space so that the identity matrix gives ``bce`` exactly (up to rounding).

    Parameters
    ----------
    matrix : 2x2 array-like, default identity
        ``T[i][j] = P(noisy = j | clean = i)``; rows sum to 1 and ``T00 + T11 > 1``.
    """
    t = check_transition_matrix(matrix)
    log_t = [[math.log(v) if v > 0 else -math.inf for v in row] for row in t]

    def per_sample(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        log_p1 = F.logsigmoid(logits)  # log P(clean = 1)
        log_p0 = F.logsigmoid(-logits)  # log P(clean = 0)
        log_noisy1 = torch.logsumexp(torch.stack([log_t[0][1] + log_p0, log_t[1][1] + log_p1]), 0)
        log_noisy0 = torch.logsumexp(torch.stack([log_t[0][0] + log_p0, log_t[1][0] + log_p1]), 0)
        return -(targets * log_noisy1 + (1.0 - targets) * log_noisy0)

    return BinaryLoss(per_sample, "forward", {"matrix": t})


REGRESSION_LOSSES: tuple[str, ...] = ("mse", "huber", "student_t")
"""The losses for continuous (standardised) targets; the others are for binary labels."""


@register_loss("mse")
def mse() -> BinaryLoss:
    """Squared error ``(pred - y) ** 2`` for regression (prediction = the network output)."""

    def per_sample(pred: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (pred - targets) ** 2

    return BinaryLoss(per_sample, "mse")


@register_loss("huber")
def huber(delta: float = 1.0) -> BinaryLoss:
    """Huber loss for regression: quadratic within ``delta`` of the target, linear beyond.

    ``r ** 2 / 2`` for ``|r| <= delta``, ``delta * (|r| - delta / 2)`` otherwise, with
    ``r = pred - y`` (``F.huber_loss``).

    Parameters
    ----------
    delta : float > 0, default 1.0
        In the units of the (standardised) targets.
    """
    d = _number("huber: delta", delta, 0.0, math.inf, low_open=True)

    def per_sample(pred: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.huber_loss(pred, targets, reduction="none", delta=d)

    return BinaryLoss(per_sample, "huber", {"delta": d})


@register_loss("student_t")
def student_t(nu: float = 3.0, scale: float = 1.0) -> BinaryLoss:
    """Student-t negative log-likelihood for regression, up to a constant.

    ``(nu + 1) / 2 * log(1 + r ** 2 / (nu * scale ** 2))`` with ``r = pred - y``: heavy
    tails, so a gross error adds only ``O(log |r|)``. ``nu -> inf`` approaches
    ``r ** 2 / (2 scale ** 2)``.

    Parameters
    ----------
    nu : float > 0, default 3.0
        Degrees of freedom.
    scale : float > 0, default 1.0
        Scale of the t distribution, in the units of the (standardised) targets.
    """
    v = _number("student_t: nu", nu, 0.0, math.inf, low_open=True)
    sc = _number("student_t: scale", scale, 0.0, math.inf, low_open=True)
    coef, denom = (v + 1.0) / 2.0, v * sc * sc

    def per_sample(pred: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        r = pred - targets
        return coef * torch.log1p(r * r / denom)

    return BinaryLoss(per_sample, "student_t", {"nu": v, "scale": sc})


__all__ = [
    "BOOTSTRAP_BETA",
    "REGRESSION_LOSSES",
    "BinaryLoss",
    "LossFn",
    "PerSampleFn",
    "PerSampleLoss",
    "available_losses",
    "check_transition_matrix",
    "get_loss",
    "get_per_sample_loss",
    "register_loss",
]
