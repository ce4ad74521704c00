"""The ensemble: K members differing in seed, mean probability, stacked LSTMs, one saved model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from badlabels.data import make_peptide12
from badlabels.errors import BadInputError
from badlabels.methods.registry import build_estimator
from badlabels.models import (
    MODELS,
    CNNClassifier,
    EnsembleClassifier,
    LSTMClassifier,
    load_model,
    save_model,
)
from badlabels.models.ensemble import member_seed

TINY = {"hidden_sizes": (8, 4), "max_epochs": 3, "batch_size": 64, "lr": 0.01, "patience": 2,
        "device": "cpu"}  # fmt: skip


@pytest.fixture(scope="module")
def data():
    ds = make_peptide12(400, seed=1)
    rng = np.random.default_rng(0)
    y = ds.labels.copy()
    flip = rng.random(len(y)) < 0.2
    y[flip] = 1 - y[flip]
    return ds.sequences[:300], y[:300], ds.sequences[300:], y[300:]


def test_member_zero_is_the_plain_model_and_seeds_differ():
    assert member_seed(7, 0) == 7
    seeds = {member_seed(7, k) for k in range(6)}
    assert len(seeds) == 6
    assert member_seed(7, 3) == member_seed(7, 3)  # deterministic


@pytest.mark.parametrize("stacked", [False, "auto"])
def test_predict_proba_is_the_mean_of_the_members(data, stacked):
    X, y, Xv, yv = data
    ens = EnsembleClassifier("lstm", TINY, n_members=3, stacked=stacked, random_state=0)
    ens.fit(X, y, eval_set=(Xv, yv))
    assert ens.engine_ == ("plain" if stacked is False else "stacked")
    assert len(ens.members_) == 3
    members = np.stack([m.predict_proba(Xv)[:, 1] for m in ens.members_])
    np.testing.assert_allclose(ens.predict_proba(Xv)[:, 1], members.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(ens.predict_proba(Xv).sum(axis=1), 1.0)
    assert not np.allclose(members[0], members[1])  # different seeds, different members
    assert ens.epochs_run_ == sum(m.epochs_run_ for m in ens.members_)


def test_plain_member_zero_equals_the_model_alone(data):
    X, y, Xv, yv = data
    ens = EnsembleClassifier("lstm", TINY, n_members=2, stacked=False, random_state=5)
    ens.fit(X, y, eval_set=(Xv, yv))
    alone = LSTMClassifier(**TINY, random_state=5).fit(X, y, eval_set=(Xv, yv))
    np.testing.assert_array_equal(ens.members_[0].predict_proba(Xv), alone.predict_proba(Xv))


def test_stacked_members_match_plain_ones_in_fp32(data, monkeypatch):
    monkeypatch.setenv("BADLABELS_PRECISION", "fp32")
    X, y, Xv, yv = data
    stacked = EnsembleClassifier("lstm", TINY, n_members=3, stacked=True, random_state=0)
    plain = EnsembleClassifier("lstm", TINY, n_members=3, stacked=False, random_state=0)
    stacked.fit(X, y, eval_set=(Xv, yv))
    plain.fit(X, y, eval_set=(Xv, yv))
    assert stacked.precision_ == "fp32"
    for s, p in zip(stacked.members_, plain.members_, strict=True):
        assert s.epochs_run_ == p.epochs_run_ and s.best_epoch_ == p.best_epoch_
        np.testing.assert_allclose(s.predict_proba(Xv), p.predict_proba(Xv), atol=1e-4)


def test_stacked_members_with_a_descriptor_encoding_match_plain_ones(data, monkeypatch, tmp_path):
    monkeypatch.setenv("BADLABELS_PRECISION", "fp32")
    X, y, Xv, yv = data
    params = {**TINY, "encoding": "onehot+vhse"}
    stacked = EnsembleClassifier("lstm", params, n_members=2, stacked=True, random_state=3)
    plain = EnsembleClassifier("lstm", params, n_members=2, stacked=False, random_state=3)
    stacked.fit(X, y, eval_set=(Xv, yv))
    plain.fit(X, y, eval_set=(Xv, yv))
    assert stacked.engine_ == "stacked"
    for s, p in zip(stacked.members_, plain.members_, strict=True):
        assert s.epochs_run_ == p.epochs_run_ and s.best_epoch_ == p.best_epoch_
        np.testing.assert_allclose(s.predict_proba(Xv), p.predict_proba(Xv), atol=1e-4)
    save_model(stacked, tmp_path / "m")
    back = load_model(tmp_path / "m")
    np.testing.assert_allclose(back.predict_proba(Xv), stacked.predict_proba(Xv), atol=1e-6)


def test_other_models_train_plain(data):
    X, y, Xv, yv = data
    params = {"channels": (8, 8), "max_epochs": 2, "batch_size": 64, "device": "cpu"}
    ens = EnsembleClassifier("cnn", params, n_members=2, random_state=0).fit(X, y)
    assert ens.engine_ == "plain"
    assert all(type(m) is CNNClassifier for m in ens.members_)
    assert ens.predict_proba(Xv).shape == (len(Xv), 2)


def test_save_load_predict_matches(tmp_path, data):
    X, y, Xv, yv = data
    ens = EnsembleClassifier("lstm", TINY, n_members=3, random_state=2).fit(X, y)
    save_model(ens, tmp_path / "m", metadata={"note": "test"})
    back = load_model(tmp_path / "m")
    assert type(back) is EnsembleClassifier and len(back.members_) == 3
    np.testing.assert_allclose(back.predict_proba(Xv), ens.predict_proba(Xv), atol=1e-6)
    assert back.metadata_["note"] == "test"
    from safetensors.torch import load_file

    names = load_file(str(tmp_path / "m" / "model.safetensors"))
    assert {n.split(".")[1] for n in names} == {"0", "1", "2"}


def test_the_ensemble_method_builds_members_with_the_base_loss():
    est = build_estimator(
        "lstm", "ensemble", model_params={**TINY, "random_state": 3},
        method_params={"n_members": 4, "base": "gce", "base_params": {"q": 0.5}},
    )  # fmt: skip
    assert isinstance(est, EnsembleClassifier)
    assert est.n_members == 4 and est.random_state == 3
    assert est.model_params["loss"] == "gce" and est.model_params["loss_params"] == {"q": 0.5}
    assert "ensemble" in MODELS


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_members": 0}, "n_members must be a positive integer"),
     ({"stacked": "yes"}, "stacked must be auto, true or false"),
     ({"model": "logreg"}, "members must be a neural model")],
)  # fmt: skip
def test_bad_parameters_are_one_line_errors(data, kwargs, match):
    X, y, _, _ = data
    with pytest.raises(BadInputError, match=match):
        EnsembleClassifier(**{"model_params": {}, **kwargs}).fit(X, y)


def test_bad_method_parameters_are_one_line_errors():
    with pytest.raises(BadInputError, match="base must be one of"):
        build_estimator("lstm", "ensemble", method_params={"base": "coteaching"})
    with pytest.raises(BadInputError, match="needs a neural model"):
        build_estimator("logreg", "ensemble")
    with pytest.raises(BadInputError, match="is a training method, not a model"):
        build_estimator("ensemble", "bce")
    with pytest.raises(BadInputError, match="takes no parameter"):
        build_estimator("lstm", "ensemble", method_params={"base": "gce", "base_params": {"z": 1}})


def test_same_seed_same_ensemble(data):
    X, y, Xv, _ = data
    torch.manual_seed(123)  # the caller's global RNG does not matter
    a = EnsembleClassifier("lstm", TINY, n_members=2, random_state=0).fit(X, y)
    torch.manual_seed(456)
    b = EnsembleClassifier("lstm", TINY, n_members=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(Xv), b.predict_proba(Xv))


def test_audit_out_of_fold_with_an_ensemble(data):
    from badlabels.methods.estimate import out_of_fold_proba

    X, y, _, _ = data
    probs, folds = out_of_fold_proba(
        X, y, model="lstm", method="ensemble", model_params=dict(TINY), n_folds=3, seed=0,
    )  # fmt: skip
    assert probs.shape == (len(X), 2) and np.allclose(probs.sum(axis=1), 1.0)
    assert len(folds) == 3 and all(f["engine"] == "plain" for f in folds)
