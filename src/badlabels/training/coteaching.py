"""Co-teaching (Han et al. 2018): two networks teach each other which labels to trust.

Assumptions
-----------
- Networks fit clean labels before noisy ones, so in each mini-batch the samples with the
  smallest loss are mostly correctly labelled ("small-loss trick").
- The share of wrong labels (the *forget rate*) is known or estimated. By default it is
  estimated from the noisy training labels alone (:func:`badlabels.training.wrappers.
  estimate_noise`: out-of-fold logistic regression + cleanlab), never from clean or test
  labels.

Algorithm
---------
Two copies of the model's network start from different initialisations and see the same
mini-batches. In epoch ``e`` (0-based) each network ranks the batch by its per-sample loss
and hands its ``1 - R(e)`` smallest-loss samples to the *other* network, which takes its
gradient step on them only. ``R(e) = forget_rate * min(e / num_gradual, 1) ** exponent``
(Han et al.: ``num_gradual = T_k = 10``, ``exponent = c = 1``): nothing is dropped in the
first epoch, the full forget rate from epoch ``num_gradual`` on.

Early stopping watches the first network's loss on the (noisy) validation split, and the
first network alone makes the predictions (no two-model ensemble, so the comparison with
single-model methods stays fair). Cost: about twice a plain fit, plus the estimate.
"""

from __future__ import annotations

import math
import numbers
import time

import numpy as np
import torch

from badlabels.data.encoding import AMINO_ACIDS
from badlabels.errors import BadInputError
from badlabels.models import make_model
from badlabels.models.base import (
    CLASSES,
    NeuralClassifier,
    as_labels,
    as_sequences,
    as_weights,
    seed_from,
    validation_split,
)
from badlabels.training.losses import get_loss, get_per_sample_loss
from badlabels.training.trainer import (
    DeviceData,
    predict_logits,
    resolve_device,
    to_device_data,
)
from badlabels.training.wrappers import _model_params, _Wrapper, alphabet_param, estimate_noise


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
            est = estimate_noise(
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
        seqs = as_sequences(X)
        n = len(seqs)
        if n == 0:
            raise BadInputError("no training sequences")
        labels = as_labels(y, n)
        weights = as_weights(sample_weight, n)
        self.forget_rate_ = self._resolve_forget_rate(seqs, labels, params)

        net.alphabet_ = AMINO_ACIDS if net.alphabet is None else net.alphabet
        net.random_seed_ = seed_from(net.random_state)
        net.classes_ = CLASSES.copy()
        device = resolve_device(net.device)
        if eval_set is not None:
            try:
                X_val, y_val = eval_set
            except (TypeError, ValueError):
                raise BadInputError("eval_set must be a pair (X_val, y_val)") from None
            val_seqs = as_sequences(X_val, "eval_set X")
            if len(val_seqs) == 0:
                raise BadInputError("eval_set holds no sequences")
            val_labels = as_labels(y_val, len(val_seqs), both_classes=False)
            train_idx = np.arange(n)
        else:
            train_idx, val_idx = validation_split(n, net.validation_fraction, net.random_seed_)
            val_seqs, val_labels = seqs[val_idx], labels[val_idx]

        tokens, lengths = net._encode(seqs[train_idx])
        val_tokens = val_lengths = None
        if len(val_seqs):
            val_tokens, val_lengths = net._encode(val_seqs, "eval_set X")
        widths = [tokens.shape[1]] + ([] if val_tokens is None else [val_tokens.shape[1]])
        net.max_len_ = int(max(widths))
        tokens = net._fit_width(tokens, lengths)
        train = to_device_data(
            tokens,
            lengths,
            labels[train_idx],
            None if weights is None else weights[train_idx],
            device=device,
        )
        val = None
        if val_tokens is not None:
            val_tokens = net._fit_width(val_tokens, val_lengths, "eval_set X")
            val = to_device_data(val_tokens, val_lengths, val_labels, device=device)

        cuda_devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(net.random_seed_)
            n_tokens = len(net.alphabet_) + 1
            first = net.build_module(n_tokens, net.max_len_).to(device)
            second = net.build_module(n_tokens, net.max_len_).to(device)
            history, best_epoch = self._train(net, first, second, train, val, progress)

        net.module_ = first.eval()
        net.history_ = history
        net.epochs_run_ = len(history)
        net.best_epoch_ = best_epoch
        net.train_seconds_ = time.perf_counter() - t0
        self._adopt(net, t0)
        return self

    def _train(
        self,
        net: NeuralClassifier,
        first: torch.nn.Module,
        second: torch.nn.Module,
        train: DeviceData,
        val: DeviceData | None,
        progress,
    ) -> tuple[list[dict], int]:
        loss_params = net.loss_params or {}
        per_sample = get_per_sample_loss(net.loss, **loss_params)
        val_loss_fn = get_loss(net.loss, **loss_params)
        device = train.tokens.device
        opts = [
            torch.optim.Adam(m.parameters(), lr=float(net.lr), weight_decay=float(net.weight_decay))
            for m in (first, second)
        ]
        generator = torch.Generator(device=device)
        generator.manual_seed(int(net.random_seed_))
        if val is not None and (val.y is None or len(val) == 0):
            val = None

        n, bs = len(train), int(net.batch_size)
        max_epochs = int(net.max_epochs)
        history: list[dict] = []
        best_loss, best_epoch, best_state, since_best = math.inf, 0, None, 0
        for epoch in range(1, max_epochs + 1):
            t0 = time.perf_counter()
            rate = forget_schedule(self.forget_rate_, epoch - 1, self.num_gradual, self.exponent)
            first.train()
            second.train()
            perm = torch.randperm(n, generator=generator, device=device)
            total = torch.zeros((), device=device)
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                lengths = None if train.lengths is None else train.lengths[idx]
                tokens, y = train.tokens[idx], train.y[idx]
                loss1 = per_sample(first(tokens, lengths).reshape(-1), y)
                loss2 = per_sample(second(tokens, lengths).reshape(-1), y)
                n_keep = max(1, int(round((1.0 - rate) * idx.shape[0])))
                # each network's small-loss samples train the *other* network
                pick1 = torch.argsort(loss1.detach())[:n_keep]
                pick2 = torch.argsort(loss2.detach())[:n_keep]
                if train.weight is not None:
                    w = train.weight[idx]
                    step1 = (loss1[pick2] * w[pick2]).mean()
                    step2 = (loss2[pick1] * w[pick1]).mean()
                else:
                    step1, step2 = loss1[pick2].mean(), loss2[pick1].mean()
                for opt in opts:
                    opt.zero_grad(set_to_none=True)
                (step1 + step2).backward()
                for opt in opts:
                    opt.step()
                total += step1.detach() * idx.shape[0]
            train_loss = float(total.item()) / max(n, 1)

            val_loss = None
            if val is not None:
                logits = predict_logits(first, val)
                with torch.inference_mode():
                    val_loss = float(val_loss_fn(logits, val.y).item())
            history.append(
                {
                    "epoch": epoch,
                    "train_loss": train_loss,
                    "val_loss": val_loss,
                    "seconds": time.perf_counter() - t0,
                    "forget_rate": rate,
                }
            )
            score = val_loss if val_loss is not None else -epoch
            if score < best_loss:
                best_loss, best_epoch, since_best = score, epoch, 0
                if val is not None:
                    best_state = {k: v.detach().clone() for k, v in first.state_dict().items()}
            else:
                since_best += 1
            if progress is not None:
                progress(
                    "epoch",
                    epoch=epoch,
                    max_epochs=max_epochs,
                    train_loss=train_loss,
                    val_loss=val_loss,
                    forget_rate=rate,
                )
            if net.patience is not None and val is not None and since_best >= net.patience:
                break
        if best_epoch == 0:  # every validation loss was NaN: keep the last weights
            best_epoch = len(history)
        elif best_state is not None and best_epoch != len(history):
            first.load_state_dict(best_state)
        first.eval()
        second.eval()
        return history, best_epoch


__all__ = ["CoTeachingClassifier", "forget_schedule"]
