"""Co-teaching (Han et al. 2018): two networks teach each other which labels to trust.

Assumptions
-----------
- Networks fit clean labels before noisy ones, so in each mini-batch the samples with the
  smallest loss are mostly correctly labelled ("small-loss trick").
- The share of wrong labels (the *forget rate*) is known or estimated. By default it is
  estimated from the noisy training labels alone
  (:func:`badlabels.methods.estimate.estimate_noise_from_sequences`: out-of-fold logistic
  regression, then the audit's anchor-point estimate), never from clean or test labels.

Algorithm
---------
Two copies of the model's network start from different initialisations and see the same
mini-batches. In epoch ``e`` (0-based) each network ranks the batch by its per-sample loss
and hands its ``1 - R(e)`` smallest-loss samples to the *other* network, which takes its
gradient step on them only. ``R(e) = forget_rate * min(e / num_gradual, 1) ** exponent``
(Han et al.: ``num_gradual = T_k = 10``, ``exponent = c = 1``): nothing is dropped in the
first epoch, the full forget rate from epoch ``num_gradual`` on.

Training is the one loop of :class:`~badlabels.engine.trainer.Trainer` with
:class:`CoTeachingStep` plugged in, after the preparation every neural model's ``fit`` makes
(:meth:`~badlabels.models.base.NeuralClassifier._fit_data`). Early stopping watches the
first network's loss on the (noisy) validation split, and the first network alone makes the
predictions (no two-model ensemble, so the comparison with single-model methods stays
fair). Cost: about twice a plain fit, plus the estimate.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Sequence

import torch
from torch import nn

from badlabels.engine.losses import get_per_sample_loss
from badlabels.engine.trainer import DeviceData, TrainStep
from badlabels.errors import BadInputError
from badlabels.methods.estimate import estimate_noise_from_sequences
from badlabels.methods.wrappers import _model_params, _Wrapper, alphabet_param
from badlabels.models import make_model
from badlabels.models.base import NeuralClassifier


def forget_schedule(forget_rate: float, epoch: int, num_gradual: int = 10, exponent=1.0) -> float:
    """Share of each batch dropped in ``epoch`` (0-based): ramps from 0 to ``forget_rate``."""
    if num_gradual <= 0:
        return float(forget_rate)
    return float(forget_rate) * min(epoch / num_gradual, 1.0) ** float(exponent)


class CoTeachingClassifier(_Wrapper):
    """Co-teaching over any neural badlabels model.

    Parameters
    ----------
    model : str, default "lstm"
        A neural model name (:data:`badlabels.models.MODELS`, not ``logreg``).
    model_params : dict, optional
        Its constructor parameters (``lr``, ``batch_size``, ``max_epochs``, ``patience``,
        ``loss`` (the per-sample loss ranked, default ``bce``), ``device``, ``random_state``...).
    forget_rate : float in [0, 1), "hint" or None, default None
        Share of each batch to drop once the ramp is over. ``None``: the flip rate estimated
        from the training data. ``"hint"``: ``noise_rate_hint`` (e.g. a known noise rate).
    num_gradual : int, default 10
        Epochs over which the drop ramps up (Han et al.'s ``T_k``).
    exponent : float, default 1.0
        Shape of the ramp (Han et al.'s ``c``).
    n_folds : int, default 3
        Folds of the noise estimate.
    estimator : str, default "logreg"
        Model of the noise estimate.
    noise_rate_hint : float, optional
        Used only with ``forget_rate="hint"``.

    Attributes
    ----------
    forget_rate_ : float
        The forget rate used.
    noise_estimate_ : NoiseEstimate or None
    estimator_ : fitted model (the first network, as a normal badlabels estimator)
    history_ : list of dict
        Per epoch also ``forget_rate`` (the share dropped that epoch).

    Saving: :func:`badlabels.models.save_model` saves ``estimator_`` (the first network,
    which makes every prediction) and notes in the metadata that the second is not saved.
    """

    _method_name = "coteaching"

    def __init__(
        self,
        model="lstm",
        model_params=None,
        forget_rate=None,
        num_gradual=10,
        exponent=1.0,
        n_folds=3,
        estimator="logreg",
        noise_rate_hint=None,
    ):
        self.model = model
        self.model_params = model_params
        self.forget_rate = forget_rate
        self.num_gradual = num_gradual
        self.exponent = exponent
        self.n_folds = n_folds
        self.estimator = estimator
        self.noise_rate_hint = noise_rate_hint

    def _saved_info(self) -> dict:
        return {
            **super()._saved_info(),
            "forget_rate": self.forget_rate_,
            "note": "co-teaching trains two networks and predicts with the first; only the "
            "first is saved (the second only picked the other's training samples)",
        }

    # --- parameters ---------------------------------------------------------------------
    def _resolve_forget_rate(self, seqs, labels, params: dict) -> float:
        fr = self.forget_rate
        self.noise_estimate_ = None
        if fr is None:
            est = estimate_noise_from_sequences(
                seqs,
                labels,
                n_folds=self.n_folds,
                random_state=params.get("random_state", 0),
                estimator=self.estimator,
                estimator_params=alphabet_param(params),
            )
            self.noise_estimate_ = est
            return float(est.flip_rate)
        if isinstance(fr, str) and fr == "hint":
            fr = self.noise_rate_hint
            if fr is None:
                raise BadInputError("coteaching: forget_rate='hint' but no noise_rate_hint given")
        ok = isinstance(fr, numbers.Real) and not isinstance(fr, bool) and 0 <= fr < 1
        if not ok:
            raise BadInputError(
                f"coteaching: forget_rate must be a number in [0, 1), 'hint' or None, got {fr!r}"
            )
        return float(fr)

    def _check(self) -> None:
        ng = self.num_gradual
        if not isinstance(ng, numbers.Integral) or isinstance(ng, bool) or ng < 0:
            raise BadInputError(f"coteaching: num_gradual must be an integer >= 0, got {ng!r}")
        ex = self.exponent
        if not isinstance(ex, numbers.Real) or isinstance(ex, bool) or not ex > 0:
            raise BadInputError(f"coteaching: exponent must be a positive number, got {ex!r}")

    # --- fit ------------------------------------------------------------------------------
    def fit(self, X, y, eval_set=None, progress=None, sample_weight=None):
        """Estimate the forget rate (unless given), then co-train two networks.

        Parameters
        ----------
        X : array-like of str, shape (n,)
        y : array-like of {0, 1}, shape (n,)
            Noisy labels.
        eval_set : tuple (X_val, y_val), optional
            Noisy validation data for early stopping; without it ``validation_fraction``
            of ``X`` is held out, as the model itself would.
        progress : callable, optional
            ``progress("epoch", epoch=, max_epochs=, train_loss=, val_loss=,
            forget_rate=)``.
        sample_weight : array-like, shape (n,), optional

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        self._check()
        params = _model_params(self.model, self.model_params)
        net = make_model(self.model, **params)
        if not isinstance(net, NeuralClassifier):
            raise BadInputError(f"coteaching needs a neural model, not {self.model!r}")
        net._check_params()
        seqs, labels, weights = net._fit_inputs(X, y, sample_weight)
        self.forget_rate_ = self._resolve_forget_rate(seqs, labels, params)
        data = net._fit_data(seqs, labels, weights, eval_set=eval_set)

        trainer = net._trainer()
        with net._seeded(data.device):
            first = net._new_module(data.device)
            second = net._new_module(data.device)
            step = CoTeachingStep(
                first,
                second,
                get_per_sample_loss(net.loss, **(net.loss_params or {})),
                lr=trainer.lr,
                weight_decay=trainer.weight_decay,
                forget_rate=self.forget_rate_,
                num_gradual=self.num_gradual,
                exponent=self.exponent,
            )
            result = trainer.fit(first, data.train, data.val, progress=progress, step=step)
        net._set_trained(first, result, t0)
        self._adopt(net, t0)
        return self


class CoTeachingStep(TrainStep):
    """One co-teaching step on a mini-batch, plugged into :class:`~badlabels.engine.
    trainer.Trainer`'s epoch loop (which watches and restores ``first``).

    Parameters
    ----------
    first, second : nn.Module
        The two networks (same architecture, different initialisations).
    per_sample : callable
        ``per_sample(logits (B,), targets (B,)) -> losses (B,)``, the loss ranked and trained.
    lr, weight_decay : float
        Each network's Adam.
    forget_rate : float
        Share of a batch dropped once the ramp is over.
    num_gradual : int
    exponent : float
        The ramp (:func:`forget_schedule`).

    Notes
    -----
    Each network ranks the batch by its per-sample loss and its ``1 - R(e)`` smallest-loss
    samples train the *other* network. The batch's reported training loss is the first
    network's mean loss on the samples the second picked. The epoch's record gets
    ``forget_rate`` (the share dropped that epoch).
    """

    def __init__(
        self, first: nn.Module, second: nn.Module, per_sample: Callable, *, lr: float,
        weight_decay: float, forget_rate: float, num_gradual: int = 10, exponent: float = 1.0,
    ):  # fmt: skip
        self.first, self.second = first, second
        self.per_sample = per_sample
        self.optimizers = [
            torch.optim.Adam(m.parameters(), lr=lr, weight_decay=weight_decay)
            for m in (first, second)
        ]
        self.forget_rate = float(forget_rate)
        self.num_gradual = num_gradual
        self.exponent = exponent
        self.rate = 0.0

    def modules(self) -> Sequence[nn.Module]:  # noqa: D102
        return (self.first, self.second)

    def begin_epoch(self, epoch: int) -> dict:  # noqa: D102
        self.rate = forget_schedule(self.forget_rate, epoch - 1, self.num_gradual, self.exponent)
        return {"forget_rate": self.rate}

    def __call__(self, batch: DeviceData) -> torch.Tensor:  # noqa: D102
        tokens, lengths, y = batch.tokens, batch.lengths, batch.y
        loss1 = self.per_sample(self.first(tokens, lengths).reshape(-1), y)
        loss2 = self.per_sample(self.second(tokens, lengths).reshape(-1), y)
        n_keep = max(1, int(round((1.0 - self.rate) * len(batch))))
        # each network's small-loss samples train the *other* network
        pick1 = torch.argsort(loss1.detach())[:n_keep]
        pick2 = torch.argsort(loss2.detach())[:n_keep]
        if batch.weight is not None:
            w = batch.weight
            step1 = (loss1[pick2] * w[pick2]).mean()
            step2 = (loss2[pick1] * w[pick1]).mean()
        else:
            step1, step2 = loss1[pick2].mean(), loss2[pick1].mean()
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
        (step1 + step2).backward()
        for opt in self.optimizers:
            opt.step()
        return step1.detach()


__all__ = ["CoTeachingClassifier", "CoTeachingStep", "forget_schedule"]
