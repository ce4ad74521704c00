"""The Label Wave stopping rule: stop at the first minimum of the prediction changes.

A scripted sequence of predictions pins the rule itself (:class:`LabelWave`) and the loop's
use of it (predictions of the training rows each epoch, ``prediction_changes`` in the
history, the weights of the epoch with the fewest changes restored).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from badlabels.data import make_peptide12
from badlabels.engine.stopping import LabelWave, make_stopper
from badlabels.engine.trainer import Trainer, TrainStep, to_device_data
from badlabels.errors import BadInputError
from badlabels.models import make_model

N = 60
CHANGES = [50, 30, 20, 25, 22, 21, 10, 5, 5]  # epochs 2..10; first minimum at epoch 4


def scripted_predictions(changes=CHANGES, n=N) -> list[torch.Tensor]:
    """Predicted classes per epoch whose consecutive differences are ``changes``."""
    preds = [torch.zeros(n, dtype=torch.bool)]
    for c in changes:
        nxt = preds[-1].clone()
        nxt[:c] = ~nxt[:c]
        preds.append(nxt)
    return preds


def test_label_wave_stops_at_the_first_minimum():
    stop = LabelWave(patience=3)
    kept = []
    for epoch, p in enumerate(scripted_predictions(), start=1):
        kept.append(stop.observe(epoch, p))
        if stop.should_stop:
            break
    # epoch 1 has no value; 4 (20 changes) is the minimum; 5, 6, 7 are not fewer -> stop
    assert stop.epoch == 7 and stop.best_epoch == 4 and stop.final_epoch == 4
    assert kept == [True, True, True, True, False, False, False]
    assert stop.changes == 21


def test_first_epoch_does_not_count_towards_patience():
    stop = LabelWave(patience=1)
    stop.observe(1, torch.zeros(4))
    assert not stop.should_stop and stop.changes is None and stop.final_epoch == 1


def test_make_stopper_knows_both_rules():
    assert type(make_stopper("val_loss", 2)).__name__ == "EarlyStopping"
    assert isinstance(make_stopper("label_wave", 2), LabelWave)
    with pytest.raises(ValueError, match="unknown stopping rule"):
        make_stopper("auc")


class Scripted(nn.Module):
    """Row ``i`` (its token 1 at position 0 holds ``i + 1``) gets logit ``table[i]``."""

    def __init__(self, n):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(n))

    def forward(self, tokens, lengths=None):
        return self.table[tokens[:, 0] - 1]


class ScriptStep(TrainStep):
    """Sets the module's logits to the scripted predictions of each epoch; trains nothing."""

    def __init__(self, module, preds):
        self.module, self.preds, self.epoch = module, preds, 0

    def modules(self):
        return (self.module,)

    def begin_epoch(self, epoch):
        with torch.no_grad():
            self.module.table.copy_(self.preds[epoch - 1].float() * 2 - 1)
        return {}

    def __call__(self, batch):
        return torch.zeros(())


def test_the_loop_stops_by_label_wave_and_restores_the_fewest_changes_epoch():
    preds = scripted_predictions()
    tokens = np.arange(1, N + 1).reshape(-1, 1)
    train = to_device_data(tokens, np.ones(N), np.zeros(N))
    module = Scripted(N)
    trainer = Trainer(max_epochs=10, patience=3, batch_size=16, stopping="label_wave")
    result = trainer.fit(module, train, None, step=ScriptStep(module, preds))
    assert [r["prediction_changes"] for r in result.history] == [None, 50, 30, 20, 25, 22, 21]
    assert result.epochs_run == 7 and result.best_epoch == 4
    assert torch.equal(module.table.detach() > 0, preds[3])  # epoch 4's weights are back


def test_unknown_rule_in_the_trainer_is_refused():
    train = to_device_data(np.ones((4, 1), dtype=int), np.ones(4), np.zeros(4))
    with pytest.raises(ValueError, match="unknown stopping rule 'x'"):
        Trainer(stopping="x").fit(Scripted(4), train)


@pytest.fixture(scope="module")
def peptides():
    ds = make_peptide12(300)
    return ds.sequences, ds.labels


def test_a_model_records_prediction_changes_and_keeps_the_fewest(peptides):
    X, y = peptides
    m = make_model(
        "cnn", channels=(8,), max_epochs=4, patience=2, batch_size=32, device="cpu",
        random_state=0, stopping="label_wave", validation_fraction=0.0,
    ).fit(X, y)  # fmt: skip
    changes = [r["prediction_changes"] for r in m.history_]
    assert changes[0] is None and all(isinstance(c, int) for c in changes[1:])
    assert all(r["val_loss"] is None for r in m.history_)
    best = 1 + int(np.argmin(changes[1:])) + 1  # first minimum (argmin takes the first)
    assert m.best_epoch_ == best


def test_bad_stopping_value_is_a_one_line_error(peptides):
    X, y = peptides
    with pytest.raises(
        BadInputError, match="stopping must be one of val_loss, label_wave, got 'x'"
    ):
        make_model("lstm", stopping="x", device="cpu").fit(X, y)
