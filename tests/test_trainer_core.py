"""The one training core: early stopping, the epoch loop with a pluggable step, the schedule.

Tiny tensors on the CPU. Each test pins down one rule so that a change of it fails here:
patience and the best epoch (:class:`EarlyStopping`), best weights restored, a custom
:class:`TrainStep` driven by :class:`Trainer`'s loop, epoch-end callbacks and progress
events, co-teaching as a step of that loop, and :class:`TrainSchedule` end to end.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from toy_models import MeanEmbed

from badlabels.engine.losses import get_per_sample_loss
from badlabels.engine.schedule import TrainSchedule
from badlabels.engine.stopping import EarlyStopping
from badlabels.engine.trainer import (
    AdamStep,
    DeviceData,
    Trainer,
    TrainStep,
    predict_logits,
    to_device_data,
)
from badlabels.methods.coteaching import CoTeachingStep


def toy(n=200, seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, 5, (n, 6))
    y = (tokens[:, 0] <= 2).astype(np.int64)
    return to_device_data(tokens, np.full(n, 6), y)


def run(stop: EarlyStopping, values) -> list[bool]:
    return [stop.update(e, v) for e, v in enumerate(values, start=1)]


# --- EarlyStopping -----------------------------------------------------------------------------


def test_patience_counts_epochs_without_a_better_value():
    stop = EarlyStopping(patience=2)
    kept = run(stop, [1.0, 0.5, 0.6])
    assert kept == [True, True, False]
    assert stop.best_epoch == 2 and stop.best_value == 0.5 and stop.since_best == 1
    assert not stop.should_stop
    stop.update(4, 0.5)  # equal is not better
    assert stop.should_stop and stop.final_epoch == 2
    stop.update(5, 0.4)  # a better value resets the count
    assert stop.best_epoch == 5 and stop.since_best == 0 and not stop.should_stop


def test_without_patience_or_monitored_value_it_never_stops():
    stop = EarlyStopping(patience=None)
    run(stop, [1.0, 2.0, 3.0, 4.0])
    assert not stop.should_stop and stop.best_epoch == 1
    stop = EarlyStopping(patience=1)
    assert run(stop, [None, None, None]) == [True, True, True]  # the last epoch is the best
    assert not stop.should_stop and stop.best_epoch == 3 and stop.best_value is None


def test_nan_is_never_better_and_the_last_weights_are_kept_until_a_value_is():
    stop = EarlyStopping(patience=2)
    assert run(stop, [math.nan, math.nan]) == [True, True]  # nothing better yet: keep current
    assert stop.best_epoch == 0 and stop.final_epoch == 2 and stop.should_stop
    stop = EarlyStopping(patience=3)
    assert run(stop, [math.nan, 0.7, math.nan]) == [True, True, False]
    assert stop.best_epoch == 2 and stop.final_epoch == 2


def test_best_weights_are_restored():
    torch.manual_seed(0)
    module = nn.Linear(3, 1)
    stop = EarlyStopping(patience=1)
    stop.update(1, 0.5)
    stop.keep(module)
    best = {k: v.clone() for k, v in module.state_dict().items()}
    with torch.no_grad():
        module.weight.add_(1.0)
    stop.update(2, 0.9)
    assert stop.should_stop
    assert stop.restore(module)
    for k, v in module.state_dict().items():
        assert torch.equal(v, best[k])
    # the best epoch is the last one: the module already holds its weights
    stop = EarlyStopping(patience=1)
    stop.update(1, 0.5)
    stop.keep(module)
    with torch.no_grad():
        module.weight.add_(1.0)
    current = module.weight.clone()
    assert not stop.restore(module) and torch.equal(module.weight, current)


# --- the one loop with a pluggable step ----------------------------------------------------------


class FrozenStep(TrainStep):
    """A step that never changes the network and reports a fixed loss; it counts its calls."""

    def __init__(self, module, loss=0.25):
        self.module, self.loss = module, loss
        self.batches: list[int] = []
        self.epochs: list[int] = []

    def modules(self):
        return (self.module,)

    def begin_epoch(self, epoch):
        self.epochs.append(epoch)
        return {"custom": 10 * epoch}

    def __call__(self, batch: DeviceData):
        assert self.module.training and batch.y is not None
        self.batches.append(len(batch))
        return torch.tensor(self.loss)


def test_a_custom_step_is_driven_by_the_one_loop():
    train, val = toy(200, 0), toy(50, 1)
    torch.manual_seed(0)
    module = MeanEmbed()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    step = FrozenStep(module)
    events = []
    result = Trainer(batch_size=64, max_epochs=10, patience=3).fit(
        module, train, val, progress=lambda e, **kw: events.append((e, kw)), step=step
    )
    # the validation loss never improves after epoch 1: stop after 1 + patience epochs
    assert result.epochs_run == 4 and result.best_epoch == 1
    assert step.epochs == [1, 2, 3, 4]
    assert step.batches == [64, 64, 64, 8] * 4
    assert [h["train_loss"] for h in result.history] == pytest.approx([0.25] * 4)
    assert [h["custom"] for h in result.history] == [10, 20, 30, 40]
    assert list(result.history[0]) == ["epoch", "train_loss", "val_loss", "seconds", "custom"]
    assert [e for e, _ in events] == ["epoch"] * 4
    assert list(events[0][1]) == ["epoch", "max_epochs", "train_loss", "val_loss", "custom"]
    assert events[-1][1]["max_epochs"] == 10 and events[-1][1]["custom"] == 40
    assert not module.training
    for k, v in module.state_dict().items():
        assert torch.equal(v, before[k])


def test_progress_events_of_the_default_step_are_unchanged():
    train, val = toy(120, 0), toy(40, 1)
    torch.manual_seed(0)
    events = []
    result = Trainer(batch_size=50, max_epochs=2, patience=None).fit(
        MeanEmbed(), train, val, progress=lambda e, **kw: events.append((e, kw))
    )
    assert [(e, list(kw)) for e, kw in events] == [
        ("epoch", ["epoch", "max_epochs", "train_loss", "val_loss"])
    ] * 2
    for (_, kw), h in zip(events, result.history, strict=True):
        assert kw["train_loss"] == h["train_loss"] and kw["val_loss"] == h["val_loss"]
    assert list(result.history[0]) == ["epoch", "train_loss", "val_loss", "seconds"]


def test_an_epoch_callback_can_stop_training():
    train = toy(100, 0)
    seen = []

    def stop_at_two(record):
        seen.append(record["epoch"])
        return record["epoch"] >= 2

    result = Trainer(batch_size=50, max_epochs=5, patience=None).fit(
        MeanEmbed(), train, None, callbacks=[stop_at_two]
    )
    assert seen == [1, 2] and result.epochs_run == 2 and result.best_epoch == 2


def test_explicit_adam_step_is_the_default_step():
    train, val = toy(150, 0), toy(40, 1)
    trainer = Trainer(lr=0.05, batch_size=32, max_epochs=3, patience=None, seed=1)
    torch.manual_seed(3)
    a = MeanEmbed()
    trainer.fit(a, train, val)
    torch.manual_seed(3)
    b = MeanEmbed()
    from badlabels.engine.losses import get_loss

    trainer.fit(b, train, val, step=AdamStep(b, get_loss("bce"), lr=0.05, weight_decay=0.0))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_coteaching_with_nothing_forgotten_trains_its_first_network_as_the_plain_step():
    """Forget rate 0: every sample trains both networks, so the first one follows the plain
    step's trajectory (the second only shares the batches); both run in the one loop."""
    train, val = toy(150, 0), toy(40, 1)
    trainer = Trainer(lr=0.05, batch_size=32, max_epochs=3, patience=None, seed=2)
    torch.manual_seed(5)
    plain = MeanEmbed()
    ref = trainer.fit(plain, train, val)
    torch.manual_seed(5)
    first, second = MeanEmbed(), MeanEmbed()
    step = CoTeachingStep(first, second, get_per_sample_loss("bce"), lr=0.05, weight_decay=0.0,
                          forget_rate=0.0)  # fmt: skip
    got = trainer.fit(first, train, val, step=step)
    assert [h["forget_rate"] for h in got.history] == [0.0, 0.0, 0.0]
    for a, b in zip(got.history, ref.history, strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-5)
    torch.testing.assert_close(predict_logits(first, val), predict_logits(plain, val))
    assert not first.training and not second.training


def test_coteaching_ramps_its_forget_rate_through_begin_epoch():
    train = toy(100, 0)
    torch.manual_seed(0)
    first, second = MeanEmbed(), MeanEmbed()
    step = CoTeachingStep(first, second, get_per_sample_loss("bce"), lr=0.01, weight_decay=0.0,
                          forget_rate=0.4, num_gradual=2)  # fmt: skip
    res = Trainer(batch_size=50, max_epochs=4, patience=None).fit(first, train, step=step)
    assert [h["forget_rate"] for h in res.history] == pytest.approx([0.0, 0.2, 0.4, 0.4])


def test_coteaching_reuses_the_neural_fit_preparation(monkeypatch):
    from badlabels.methods.coteaching import CoTeachingClassifier
    from badlabels.models.base import NeuralClassifier

    calls = []
    original = NeuralClassifier._fit_data

    def spy(self, *args, **kwargs):
        calls.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(NeuralClassifier, "_fit_data", spy)
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACDEFG"), 8)) for _ in range(60)]
    y = np.array([s[0] in "ACD" for s in seqs], dtype=int)
    params = dict(hidden_sizes=(8,), max_epochs=2, batch_size=20, random_state=0, device="cpu")
    est = CoTeachingClassifier("mlp", params, forget_rate=0.2).fit(seqs, y)
    assert calls == ["MLPClassifier"]
    assert est.epochs_run_ == 2 and len(est.history_) == 2
    assert est.estimator_.max_len_ == 8 and est.estimator_.random_seed_ == 0


# --- the schedule --------------------------------------------------------------------------------


def test_schedule_from_estimator_to_trainer_and_stack_key():
    from badlabels.experiment.engines import stack_spec
    from badlabels.models.lstm import LSTMClassifier

    est = LSTMClassifier(batch_size=64, lr=0.01, max_epochs=7, patience=2, random_state=3)
    sched = est.train_schedule()
    assert sched == TrainSchedule(batch_size=64, lr=0.01, max_epochs=7, patience=2)
    trainer = Trainer.from_schedule(sched, loss="gce", loss_params={"q": 0.5}, seed=3)
    assert trainer.schedule == sched and (trainer.batch_size, trainer.patience) == (64, 2)
    assert (trainer.loss, trainer.seed) == ("gce", 3)
    key, loss = stack_spec(est)
    assert key.schedule == sched and key.hidden_sizes == est._hidden()
    other, _ = stack_spec(LSTMClassifier(batch_size=64, lr=0.01, max_epochs=7, patience=3))
    assert other != key and hash(key) == hash(stack_spec(est)[0])
    assert loss == ("bce", None)
