"""Averaging over training (EMA, SWA, a prediction window) and the training options' plumbing.

Tiny networks on the CPU, 2-4 epochs. The averages are checked against running averages
computed by hand from the weights the loop produced; the defaults against an explicit
"everything off"; saving and loading against the averaged model's predictions.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toy_models import MeanEmbed

from badlabels.data import make_peptide12
from badlabels.engine.averaging import (
    EMAStep,
    SnapshotMean,
    SWACallback,
    WindowCallback,
    default_swa_start,
)
from badlabels.engine.losses import get_loss
from badlabels.engine.stopping import copy_state
from badlabels.engine.trainer import AdamStep, Trainer, predict_logits, to_device_data
from badlabels.errors import BadInputError
from badlabels.methods.stacking import stack_spec
from badlabels.models import MODELS, load_model, make_model, save_model

SMALL = {
    "lstm": {"hidden_sizes": (8, 4)},
    "bilstm": {"hidden_sizes": (4, 4)},
    "cnn": {"channels": (8,)},
    "mlp": {"hidden_sizes": (8,)},
    "transformer": {"d_model": 8, "n_heads": 2, "n_layers": 1, "dim_feedforward": 16},
}
NEURAL = tuple(SMALL)
BASE_KEYS = {"epoch", "train_loss", "val_loss", "seconds"}


@pytest.fixture(scope="module")
def peptides():
    ds = make_peptide12(300)
    return ds.sequences, ds.labels


def small(name, **params):
    return make_model(
        name, **SMALL[name], max_epochs=3, batch_size=64, device="cpu", random_state=0, **params
    )


def toy(n=160, seed=0, flip=False):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, 5, (n, 6))
    y = (tokens[:, 0] <= 2).astype(np.int64)
    return to_device_data(tokens, np.full(n, 6), 1 - y if flip else y)


def params_of(module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def assert_close(state: dict, expected: dict):
    for k, v in expected.items():
        torch.testing.assert_close(state[k], v, rtol=1e-5, atol=1e-6)


# --- EMA -----------------------------------------------------------------------------------


class Recording(AdamStep):
    """An Adam step that records the weights after each optimiser step."""

    def __init__(self, module, **kw):
        super().__init__(module, get_loss("bce"), **kw)
        self.seen: list[dict] = []

    def __call__(self, batch):
        loss = super().__call__(batch)
        self.seen.append(params_of(self.module))
        return loss


def test_ema_equals_the_running_average_by_hand():
    torch.manual_seed(0)
    module = MeanEmbed()
    inner = Recording(module, lr=0.05, weight_decay=0.0)
    decay = 0.9
    step = EMAStep(inner, module, decay=decay)
    trainer = Trainer(lr=0.05, batch_size=32, max_epochs=3, patience=1, seed=1)
    result = trainer.fit(module, toy(), toy(seed=1), step=step, final_weights=step)

    expected = dict(inner.seen[0])  # the first step's weights start the average
    for w in inner.seen[1:]:
        expected = {k: decay * expected[k] + (1 - decay) * w[k] for k in expected}
    assert len(inner.seen) == 3 * 5  # 160 rows / 32 per batch, every epoch run
    assert_close(dict(module.named_parameters()), expected)
    assert result.epochs_run == 3 and result.best_epoch == 3 and result.module is None
    # the validation loss reported is that of the averaged weights
    logits = predict_logits(module, toy(seed=1))
    loss = float(get_loss("bce")(logits, toy(seed=1).y))
    assert result.best_val_loss == pytest.approx(loss)


# --- SWA -----------------------------------------------------------------------------------


def test_swa_equals_the_mean_of_end_of_epoch_weights_by_hand():
    torch.manual_seed(0)
    module = MeanEmbed()
    ends: list[dict] = []
    swa = SWACallback(module, start=2)
    trainer = Trainer(lr=0.05, batch_size=32, max_epochs=4, seed=1)
    trainer.fit(
        module, toy(), None, callbacks=[lambda rec: ends.append(params_of(module)), swa],
        final_weights=swa,
    )  # fmt: skip
    kept = ends[1:]  # epochs 2, 3, 4
    expected = {k: sum(w[k] for w in kept) / len(kept) for k in kept[0]}
    assert int(swa.average.n_averaged) == 3
    assert_close(dict(module.named_parameters()), expected)


def test_averaging_runs_every_epoch_where_early_stopping_would_stop():
    # validation labels are the opposite rule: the validation loss rises as training learns
    def fit(final):
        torch.manual_seed(0)
        module = MeanEmbed()
        trainer = Trainer(lr=0.1, batch_size=32, max_epochs=6, patience=1, seed=1)
        swa = SWACallback(module, start=4) if final else None
        return trainer.fit(
            module, toy(), toy(seed=1, flip=True), callbacks=[swa] if swa else [],
            final_weights=swa,
        )  # fmt: skip

    assert fit(False).epochs_run < 6
    result = fit(True)
    assert result.epochs_run == 6 and result.best_epoch == 6


def test_default_swa_start_is_the_first_epoch_of_the_second_half():
    assert [default_swa_start(e) for e in (1, 2, 3, 4, 30)] == [1, 2, 2, 3, 16]


# --- prediction window -----------------------------------------------------------------------


def test_window_predicts_the_mean_probability_of_the_last_snapshots():
    torch.manual_seed(0)
    module = MeanEmbed()
    ends: list[dict] = []
    window = WindowCallback(module, window=2)
    result = Trainer(lr=0.05, batch_size=32, max_epochs=3, seed=1).fit(
        module, toy(), None, callbacks=[lambda rec: ends.append(copy_state(module)), window],
        final_weights=window,
    )  # fmt: skip
    final = result.module
    assert isinstance(final, SnapshotMean) and len(final.members) == 2
    data = toy(seed=2)
    probs = []
    for state in ends[1:]:
        net = MeanEmbed()
        net.load_state_dict(state)
        probs.append(torch.sigmoid(predict_logits(net, data)))
    mean = torch.stack(probs).mean(0)
    torch.testing.assert_close(torch.sigmoid(predict_logits(final, data)), mean)


# --- models: defaults, options, saving ---------------------------------------------------------


@pytest.mark.parametrize("name", NEURAL)
def test_every_neural_model_has_the_options_with_defaults(name):
    params = MODELS[name]().get_params()
    assert {k: params[k] for k in ("average", "ema_decay", "swa_start", "window",
                                   "mixup_alpha", "stopping")} == {
        "average": "none", "ema_decay": 0.99, "swa_start": None, "window": 5,
        "mixup_alpha": 0.0, "stopping": "val_loss",
    }  # fmt: skip


@pytest.mark.parametrize("name", ["lstm", "cnn"])
def test_defaults_train_exactly_as_with_everything_off(peptides, name):
    X, y = peptides
    a = small(name).fit(X, y)
    b = small(name, average="none", mixup_alpha=0.0, stopping="val_loss").fit(X, y)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert all(set(rec) == BASE_KEYS for rec in a.history_)
    for ra, rb in zip(a.history_, b.history_, strict=True):
        assert ra["train_loss"] == rb["train_loss"] and ra["val_loss"] == rb["val_loss"]


@pytest.mark.parametrize("name", NEURAL)
@pytest.mark.parametrize("average", ["ema", "swa", "window"])
def test_averaged_models_train_and_predict(peptides, name, average):
    X, y = peptides
    m = small(name, average=average, window=2).fit(X, y)
    p = m.predict_proba(X)
    assert p.shape == (len(X), 2) and np.all(np.isfinite(p))
    assert m.epochs_run_ == 3 and m.best_epoch_ == 3


@pytest.mark.parametrize("average", ["ema", "swa", "window"])
def test_save_load_round_trip_with_averaging(peptides, tmp_path, average):
    X, y = peptides
    m = small("lstm", average=average, window=2).fit(X, y)
    save_model(m, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert back.get_params()["average"] == average
    np.testing.assert_array_equal(back.predict_proba(X), m.predict_proba(X))


def test_stacked_engine_refuses_models_with_options():
    assert stack_spec(make_model("lstm")) is not None
    for params in ({"average": "ema"}, {"mixup_alpha": 0.2}, {"stopping": "label_wave"}):
        assert stack_spec(make_model("lstm", **params)) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"average": "mean"}, "average must be one of none, ema, swa, window, got 'mean'"),
        ({"ema_decay": 1.0}, "ema_decay must be a number in [0, 1), got 1.0"),
        ({"ema_decay": "x"}, "ema_decay must be a number in [0, 1), got 'x'"),
        ({"swa_start": 0}, "swa_start must be a positive integer or None, got 0"),
        ({"swa_start": 4}, "swa_start (4) must be at most max_epochs (3)"),
        ({"window": 0}, "window must be a positive integer, got 0"),
        ({"average": "swa", "stopping": "label_wave"}, "cannot be combined with average='swa'"),
    ],
)
def test_bad_averaging_options_are_one_line_errors(peptides, params, message):
    X, y = peptides
    with pytest.raises(BadInputError) as err:
        small("lstm", **params).fit(X, y)
    assert message in str(err.value) and "\n" not in str(err.value)
