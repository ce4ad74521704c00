"""The extra architectures (bilstm, cnn, mlp, transformer): padding, lengths, persistence, checks.

Whether each one *learns* (with every method) is tested in test_methods.py through the
experiment command; here the networks are tiny and mostly untrained.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from badlabels.errors import BadInputError
from badlabels.models import (
    MODELS,
    BiLSTMClassifier,
    CNNClassifier,
    MLPClassifier,
    TransformerClassifier,
    load_model,
    make_model,
    save_model,
)

AA = "ACDEFGHIKLMNPQRSTVWY"
TINY = {
    "bilstm": dict(hidden_sizes=(8, 4)),
    "cnn": dict(channels=(8, 8), kernel_size=3),
    "mlp": dict(hidden_sizes=(16, 8)),
    "transformer": dict(d_model=8, n_layers=1, n_heads=2, dim_feedforward=16),
}
COMMON = dict(max_epochs=2, batch_size=64, lr=1e-2, device="cpu", random_state=0)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def sequences(n, seed, lengths=(6, 7, 8)):
    rng = np.random.default_rng(seed)
    lens = rng.choice(lengths, n)
    X = np.array(["".join(rng.choice(list(AA), k)) for k in lens], dtype=object)
    y = np.array([s[2] in AA[:10] for s in X], dtype=np.int64)
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = sequences(200, 0)
    return {name: make_model(name, **COMMON, **p).fit(X, y) for name, p in TINY.items()}


def test_registry_names_and_classes():
    assert {"lstm", "bilstm", "cnn", "mlp", "transformer", "logreg"} <= set(MODELS)
    assert MODELS["bilstm"] is BiLSTMClassifier
    assert MODELS["cnn"] is CNNClassifier
    assert MODELS["mlp"] is MLPClassifier
    assert MODELS["transformer"] is TransformerClassifier
    for name in TINY:
        est = make_model(name)
        assert clone(est).get_params() == est.get_params()
        assert {"lr", "batch_size", "max_epochs", "patience", "loss", "device"} <= set(
            est.get_params()
        )


@pytest.mark.parametrize("name", sorted(TINY))
def test_fit_predict_shapes_and_attributes(fitted, name):
    m = fitted[name]
    X, _ = sequences(30, 1)
    proba = m.predict_proba(X)
    assert proba.shape == (30, 2) and np.allclose(proba.sum(1), 1)
    assert m.decision_function(X).shape == (30,)
    assert m.epochs_run_ == len(m.history_) and m.max_len_ == 8
    arch = m.architecture()
    assert arch["output"] == "logit"


@pytest.mark.parametrize("name", sorted(TINY))
def test_padding_does_not_change_a_prediction(fitted, name):
    """A sequence's logit alone equals its logit in a batch padded for a longer one."""
    m = fitted[name]
    short = ["ACDEFG", "WYVTSR"]
    alone = m.decision_function(short)
    mixed = m.decision_function(short + ["ACDEFGHI"])[:2]
    assert np.allclose(alone, mixed, atol=1e-5)


@pytest.mark.parametrize("name", ["bilstm", "cnn"])
def test_variable_length_models_take_longer_sequences(fitted, name):
    assert fitted[name].decision_function(["ACDEFGHIKLMN"]).shape == (1,)


@pytest.mark.parametrize("name", ["mlp", "transformer"])
def test_fixed_width_models_refuse_longer_sequences(fitted, name):
    with pytest.raises(BadInputError, match="longer than the 8"):
        fitted[name].predict_proba(["ACDEFGHIKLMN"])


@pytest.mark.parametrize("name", sorted(TINY))
def test_save_load_round_trip(fitted, name, tmp_path):
    m = fitted[name]
    save_model(m, tmp_path / name)
    back = load_model(tmp_path / name)
    assert type(back) is type(m)
    X, _ = sequences(20, 2)
    assert np.allclose(back.predict_proba(X), m.predict_proba(X), atol=1e-6)


def test_same_seed_same_model():
    X, y = sequences(120, 3)
    a = make_model("cnn", **COMMON, **TINY["cnn"]).fit(X, y)
    b = make_model("cnn", **COMMON, **TINY["cnn"]).fit(X, y)
    assert np.allclose(a.decision_function(X), b.decision_function(X))


def test_bilstm_reads_both_directions():
    """The backward direction sees the first residue last: changing it changes the output."""
    torch.manual_seed(0)
    net = BiLSTMClassifier(hidden_sizes=(4,)).build_module(21, 8).eval()
    a = torch.tensor([[1, 2, 3, 4]])
    b = torch.tensor([[5, 2, 3, 4]])
    with torch.no_grad():
        assert not torch.allclose(net(a, None), net(b, None))


@pytest.mark.parametrize(
    "name, params, needle",
    [
        ("bilstm", {"hidden_sizes": (0,)}, "hidden_sizes"),
        ("cnn", {"kernel_size": 4}, "odd"),
        ("cnn", {"channels": ()}, "channels"),
        ("cnn", {"dropout": 1.0}, "dropout"),
        ("mlp", {"hidden_sizes": "big"}, "hidden_sizes"),
        ("transformer", {"d_model": 10, "n_heads": 4}, "divisible"),
        ("transformer", {"n_layers": 0}, "n_layers"),
        ("transformer", {"lr": -1.0}, "lr"),
    ],
)
def test_bad_parameters(name, params, needle):
    X, y = sequences(20, 4)
    with pytest.raises(BadInputError, match=needle):
        make_model(name, **{**COMMON, **params}).fit(X, y)
