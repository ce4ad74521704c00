"""Tests of the estimators (LSTM, logistic regression), their registry and persistence.

Tiny data and few epochs: each test runs in about a second on two cores.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from badlabels.errors import BadInputError
from badlabels.models import (
    MODELS,
    LogisticRegressionClassifier,
    LSTMClassifier,
    load_model,
    make_model,
    save_model,
)
from badlabels.models.lstm import LSTMNet

AA = "ACDEFGHIKLMNPQRSTVWY"
POSITIVE = set(AA[:10])
# small and quick, but enough to learn the position-3 task in 5 epochs
FAST = dict(hidden_sizes=(32, 16), batch_size=50, lr=1e-2, device="cpu")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny batches gain nothing from threads; one avoids oversubscribing a busy box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def task(n, seed, lengths=(8,)):
    """Random sequences; label = residue at position 4 (index 3) in the first 10 of AA."""
    rng = np.random.default_rng(seed)
    lens = rng.choice(lengths, n)
    X = np.array(["".join(rng.choice(list(AA), k)) for k in lens], dtype=object)
    y = np.array([s[3] in POSITIVE for s in X], dtype=np.int64)
    return X, y


@pytest.fixture(scope="module")
def data():
    return task(2000, 0), task(400, 1)


@pytest.fixture(scope="module")
def fitted_lstm(data):
    (X, y), _ = data
    return LSTMClassifier(max_epochs=5, random_state=0, **FAST).fit(X, y)


def test_lstm_learns_easy_task(data, fitted_lstm):
    _, (Xt, yt) = data
    m = fitted_lstm
    proba = m.predict_proba(Xt)
    assert proba.shape == (len(Xt), 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(yt, proba[:, 1]) > 0.9
    assert list(m.classes_) == [0, 1]
    assert set(np.unique(m.predict(Xt))) <= {0, 1}
    logits = m.decision_function(Xt)
    assert np.allclose(1 / (1 + np.exp(-logits)), proba[:, 1], atol=1e-6)
    assert m.epochs_run_ == len(m.history_) and 1 <= m.best_epoch_ <= m.epochs_run_
    assert m.alphabet_ == AA and m.max_len_ == 8 and m.train_seconds_ > 0
    assert set(m.history_[0]) >= {"epoch", "train_loss", "val_loss"}


def test_lstm_default_architecture_runs_with_progress(data):
    (X, y), _ = data
    events = []
    m = LSTMClassifier(max_epochs=2, patience=None, random_state=0, device="cpu")
    m.fit(X[:600], y[:600], progress=lambda event, **info: events.append((event, info)))
    assert [e for e, _ in events] == ["epoch", "epoch"]
    info = events[-1][1]
    assert info["epoch"] == 2 and info["max_epochs"] == 2
    assert info["train_loss"] > 0 and info["val_loss"] > 0
    sizes = [lstm.hidden_size for lstm in m.module_.lstms]
    assert sizes == [140, 20] and m.module_.head.out_features == 1


def test_variable_lengths_learn_and_padding_does_not_leak():
    # label = LAST residue: learnable only if the LSTM stops at each sequence's real end
    X, _ = task(1500, 2, lengths=(5, 6, 7, 8, 9, 10))
    Xt, _ = task(300, 3, lengths=(5, 7, 10, 12))  # 12 never seen in training
    y = np.array([s[-1] in POSITIVE for s in X], dtype=np.int64)
    yt = np.array([s[-1] in POSITIVE for s in Xt], dtype=np.int64)
    m = LSTMClassifier(max_epochs=4, random_state=0, **FAST).fit(X, y)
    assert m.max_len_ == 10
    assert roc_auc_score(yt, m.predict_proba(Xt)[:, 1]) > 0.9
    # each sequence alone (no padding) scores as it does in a padded batch
    together = m.decision_function(Xt[:20])
    alone = np.array([m.decision_function([s])[0] for s in Xt[:20]])
    assert np.allclose(together, alone, atol=1e-5)


def test_fast_path_equals_packed_path():
    torch.manual_seed(0)
    net = LSTMNet(21, (16, 8)).eval()
    tokens = torch.randint(1, 21, (30, 9))
    with torch.no_grad():
        fast = net(tokens, None)
        packed = net(tokens, torch.full((30,), 9, dtype=torch.int64))
    assert torch.allclose(fast, packed, atol=1e-6)


def test_early_stopping_restores_best_weights():
    # random labels and a high learning rate: the validation loss soon rises
    rng = np.random.default_rng(5)
    X, _ = task(600, 5)
    y = rng.integers(0, 2, 600)
    Xv, _ = task(200, 6)
    yv = rng.integers(0, 2, 200)
    m = LSTMClassifier(
        hidden_sizes=(64, 16),
        batch_size=32,
        lr=2e-2,
        max_epochs=12,
        patience=2,
        random_state=0,
        device="cpu",
    ).fit(X, y, eval_set=(Xv, yv))
    val = [h["val_loss"] for h in m.history_]
    assert m.epochs_run_ == len(val) and 1 <= m.best_epoch_ <= m.epochs_run_
    assert m.best_epoch_ == int(np.argmin(val)) + 1
    assert m.epochs_run_ < 12 and m.best_epoch_ < m.epochs_run_  # stopped early
    assert m.epochs_run_ - m.best_epoch_ == 2  # patience
    logits = torch.tensor(m.decision_function(Xv), dtype=torch.float32)
    loss = F.binary_cross_entropy_with_logits(logits, torch.tensor(yv, dtype=torch.float32))
    assert loss.item() == pytest.approx(min(val), abs=1e-5)


def test_deterministic_given_seed(data):
    (X, y), (Xt, _) = data
    kw = dict(max_epochs=2, random_state=7, **FAST)
    p1 = LSTMClassifier(**kw).fit(X[:500], y[:500]).predict_proba(Xt)
    p2 = LSTMClassifier(**kw).fit(X[:500], y[:500]).predict_proba(Xt)
    p3 = LSTMClassifier(**{**kw, "random_state": 8}).fit(X[:500], y[:500]).predict_proba(Xt)
    assert np.array_equal(p1, p2)
    assert not np.allclose(p1, p3)


def test_fit_leaves_global_torch_rng_alone(data):
    (X, y), _ = data
    state = torch.get_rng_state()
    LSTMClassifier(max_epochs=1, random_state=0, **FAST).fit(X[:200], y[:200])
    assert torch.equal(state, torch.get_rng_state())


def test_sklearn_clone_and_params():
    m = LSTMClassifier(hidden_sizes=(8, 4), lr=0.01, random_state=3, loss_params={})
    params = m.get_params()
    assert params["hidden_sizes"] == (8, 4) and params["random_state"] == 3
    c = clone(m)
    assert c is not m and c.get_params() == params
    c.set_params(max_epochs=2)
    assert c.max_epochs == 2 and m.max_epochs == 30
    lr = LogisticRegressionClassifier(C=0.5)
    assert clone(lr).get_params() == lr.get_params()
    assert LSTMClassifier().get_params()["device"] == "auto"


def test_make_model_registry():
    assert set(MODELS) >= {"lstm", "logreg"}
    m = make_model("lstm", max_epochs=3)
    assert isinstance(m, LSTMClassifier) and m.max_epochs == 3
    assert isinstance(make_model("logreg", C=2.0), LogisticRegressionClassifier)
    with pytest.raises(BadInputError, match="lstm") as err:
        make_model("nope")
    assert "logreg" in str(err.value)
    with pytest.raises(BadInputError, match="hidden"):
        make_model("logreg", hidden_sizes=(3,))


def test_bad_inputs_raise_bad_input_error(data):
    (X, y), _ = data
    with pytest.raises(BadInputError, match="labels"):
        LSTMClassifier(**FAST).fit(X[:10], [0, 1, 2, 0, 1, 0, 1, 0, 1, 0])
    with pytest.raises(BadInputError, match="both"):
        LSTMClassifier(**FAST).fit(X[:10], np.zeros(10))
    with pytest.raises(BadInputError, match="labels"):
        LSTMClassifier(**FAST).fit(X[:10], y[:9])
    with pytest.raises(BadInputError, match="alphabet"):
        LSTMClassifier(max_epochs=1, **FAST).fit(["ACDZ", "ACDE"], [0, 1])
    with pytest.raises(BadInputError, match="hidden_sizes"):
        LSTMClassifier(hidden_sizes=(0,), device="cpu").fit(X[:10], y[:10])
    with pytest.raises(BadInputError, match="device"):
        LSTMClassifier(device="tpu").fit(X[:10], y[:10])
    with pytest.raises(BadInputError, match="loss"):
        LSTMClassifier(loss="nope", max_epochs=1, **FAST).fit(X[:20], y[:20])


def test_sample_weight_of_ones_changes_nothing(data):
    (X, y), (Xt, _) = data
    kw = dict(max_epochs=2, random_state=1, **FAST)
    a = LSTMClassifier(**kw).fit(X[:400], y[:400]).predict_proba(Xt)
    b = LSTMClassifier(**kw).fit(X[:400], y[:400], sample_weight=np.ones(400)).predict_proba(Xt)
    assert np.allclose(a, b, atol=1e-4)


def test_logreg_learns_task(data):
    (X, y), (Xt, yt) = data
    events = []
    m = LogisticRegressionClassifier(random_state=0)
    m.fit(X, y, eval_set=(Xt, yt), progress=lambda e, **i: events.append(e))
    proba = m.predict_proba(Xt)
    assert proba.shape == (len(Xt), 2)
    assert roc_auc_score(yt, proba[:, 1]) > 0.9
    assert m.epochs_run_ == 1 and m.best_epoch_ == 1 and events == ["epoch"]
    assert m.history_[0]["val_loss"] is not None
    assert np.array_equal(m.predict(Xt), (proba[:, 1] > 0.5).astype(int))
    # shorter sequences are zero-padded, longer ones refused
    assert m.predict_proba(["ACDE"]).shape == (1, 2)
    with pytest.raises(BadInputError, match="longer"):
        m.predict_proba(["A" * 9])


def test_save_load_round_trip_lstm(tmp_path, data, fitted_lstm):
    _, (Xt, _) = data
    save_model(fitted_lstm, tmp_path / "m", metadata={"dataset": "toy", "n": np.int64(3)})
    config = json.loads((tmp_path / "m" / "model.json").read_text())
    assert config["class"] == "LSTMClassifier" and config["params"]["hidden_sizes"] == [32, 16]
    assert config["alphabet"] == AA and config["max_len"] == 8 and config["variable_length"]
    assert config["metadata"] == {"dataset": "toy", "n": 3} and "badlabels_version" in config
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, LSTMClassifier)
    assert loaded.get_params() == fitted_lstm.get_params()
    assert loaded.best_epoch_ == fitted_lstm.best_epoch_
    assert loaded.history_ == fitted_lstm.history_
    assert np.allclose(loaded.predict_proba(Xt), fitted_lstm.predict_proba(Xt), atol=1e-6, rtol=0)


def test_save_load_round_trip_logreg(tmp_path, data):
    (X, y), (Xt, _) = data
    m = LogisticRegressionClassifier(C=0.3).fit(X, y)
    save_model(m, tmp_path / "lr")
    loaded = load_model(tmp_path / "lr")
    assert isinstance(loaded, LogisticRegressionClassifier) and loaded.C == 0.3
    assert np.allclose(loaded.predict_proba(Xt), m.predict_proba(Xt), atol=1e-6, rtol=0)


def test_load_truncated_or_missing_files(tmp_path, data):
    (X, y), _ = data
    m = LogisticRegressionClassifier().fit(X[:200], y[:200])
    d = save_model(m, tmp_path / "lr")
    weights = d / "model.safetensors"
    raw = weights.read_bytes()
    weights.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(BadInputError) as err:
        load_model(d)
    msg = str(err.value)
    assert "model.safetensors" in msg and "\n" not in msg

    weights.write_bytes(raw)
    config = d / "model.json"
    text = config.read_text()
    config.write_text(text[: len(text) // 2])
    with pytest.raises(BadInputError) as err:
        load_model(d)
    assert "model.json" in str(err.value) and "\n" not in str(err.value)

    config.unlink()
    with pytest.raises(BadInputError, match="model.json"):
        load_model(d)
    with pytest.raises(BadInputError, match="not found"):
        load_model(tmp_path / "nowhere")


def test_load_rejects_weights_of_another_shape(tmp_path, data, fitted_lstm):
    d = save_model(fitted_lstm, tmp_path / "m")
    config = json.loads((d / "model.json").read_text())
    config["params"]["hidden_sizes"] = [8, 4]
    (d / "model.json").write_text(json.dumps(config))
    with pytest.raises(BadInputError, match="model.safetensors") as err:
        load_model(d)
    assert "\n" not in str(err.value)
