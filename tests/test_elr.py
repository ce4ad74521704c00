"""ELR (early-learning regularisation): the loss and the target memory against hand-computed
values, fitting and saving through the one loop, parameter checks, the registry and the CLI.

Small and fast: 300 peptide12 rows, tiny networks, 2-3 epochs, one CPU thread.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from toy_models import MeanEmbed

from badlabels.cli import main
from badlabels.data import make_peptide12
from badlabels.engine.trainer import DeviceData
from badlabels.errors import BadInputError
from badlabels.methods.elr import (
    ELR_BETA,
    ELR_LAMBDA,
    PROB_CLAMP,
    ELRClassifier,
    ELRStep,
    elr_loss,
)
from badlabels.methods.registry import (
    METHODS,
    build_estimator,
    method_defaults,
    parse_param_assignments,
)
from badlabels.methods.wrappers import SelectOnValidation
from badlabels.models import MODELS, load_model, save_model

NEURAL = ["lstm", "bilstm", "cnn", "mlp", "transformer"]
BASE = dict(max_epochs=3, batch_size=64, lr=0.01, patience=3, device="cpu", random_state=0)
TINY = {
    "lstm": {"hidden_sizes": (8, 4)},
    "cnn": {"channels": (8, 8)},
    "mlp": {"hidden_sizes": (8, 4)},
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def peptides():
    ds = make_peptide12(300)
    return ds.sequences, ds.labels.astype(np.int64)


def params(model: str, **extra) -> dict:
    return {**BASE, **TINY[model], **extra}


# --- the loss and the target memory ----------------------------------------------------------
def test_elr_loss_matches_hand_computed_value():
    # p = 0.5, 0.75, 0.25
    logits = torch.tensor([0.0, math.log(3.0), -math.log(3.0)], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    targets = torch.tensor([[0.2, 0.3], [0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
    bce = [math.log(2.0), math.log(4.0), math.log(4.0)]
    # <p, t> = (1 - p) t0 + p t1 = 0.25, 0.5, 0.7
    reg = [math.log(1 - 0.25), math.log(1 - 0.5), math.log(1 - 0.7)]
    per_row = [b + 3.0 * r for b, r in zip(bce, reg, strict=True)]
    got = elr_loss(logits, y, targets, lam=3.0)
    assert got.item() == pytest.approx(sum(per_row) / 3, abs=1e-12)
    w = torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64)
    got = elr_loss(logits, y, targets, lam=3.0, weight=w)
    assert got.item() == pytest.approx((per_row[0] + 2 * per_row[1]) / 3, abs=1e-12)
    # lam = 0 is plain BCE
    assert elr_loss(logits, y, targets, lam=0.0).item() == pytest.approx(sum(bce) / 3, abs=1e-12)


def test_elr_loss_with_a_normalised_target_is_the_scalar_form():
    # with t0 + t1 = 1: <p, t> = p t1 + (1 - p)(1 - t1); p = 0.75, t1 = 0.6 -> 0.55
    logits = torch.tensor([math.log(3.0)], dtype=torch.float64)
    y = torch.tensor([1.0], dtype=torch.float64)
    targets = torch.tensor([[0.4, 0.6]], dtype=torch.float64)
    want = -math.log(0.75) + 2.0 * math.log(1 - 0.55)
    assert elr_loss(logits, y, targets, lam=2.0).item() == pytest.approx(want, abs=1e-12)


def test_elr_loss_gradient_does_not_reach_the_targets():
    logits = torch.tensor([0.3, -1.2], requires_grad=True)
    targets = torch.tensor([[0.1, 0.6], [0.5, 0.2]], requires_grad=True)
    elr_loss(logits, torch.tensor([1.0, 0.0]), targets, lam=3.0).backward()
    assert targets.grad is None and logits.grad is not None


def test_target_memory_update_by_index():
    step = ELRStep(MeanEmbed(), 5, beta=0.7, lam=3.0, lr=0.01, weight_decay=0.0)
    assert step.targets.shape == (5, 2) and not step.targets.any()  # the paper's zero start
    rows = step.update_targets(torch.tensor([3, 1]), torch.tensor([0.0, math.log(3.0)]))
    want = torch.zeros(5, 2)
    want[3] = torch.tensor([0.15, 0.15])  # 0.3 * (0.5, 0.5)
    want[1] = torch.tensor([0.075, 0.225])  # 0.3 * (0.25, 0.75)
    torch.testing.assert_close(step.targets, want)
    torch.testing.assert_close(rows, want[[3, 1]])
    step.update_targets(torch.tensor([3]), torch.tensor([-math.log(3.0)]))
    want[3] = torch.tensor([0.7 * 0.15 + 0.3 * 0.75, 0.7 * 0.15 + 0.3 * 0.25])  # (0.33, 0.18)
    torch.testing.assert_close(step.targets, want)
    # probabilities are clamped as in the paper
    step.update_targets(torch.tensor([0]), torch.tensor([50.0]))
    torch.testing.assert_close(step.targets[0], 0.3 * torch.tensor([PROB_CLAMP, 1 - PROB_CLAMP]))


def test_step_updates_only_the_batch_rows_then_trains_on_them():
    torch.manual_seed(0)
    module = MeanEmbed()
    step = ELRStep(module, 6, beta=0.5, lam=3.0, lr=0.01, weight_decay=0.0)
    tokens = torch.tensor([[1, 2, 3], [4, 4, 1]])
    batch = DeviceData(tokens=tokens, y=torch.tensor([1.0, 0.0]), index=torch.tensor([4, 0]))
    with torch.no_grad():
        p = torch.sigmoid(module(tokens))
    before = [w.detach().clone() for w in module.parameters()]
    loss = step(batch)
    want = torch.zeros(6, 2)
    want[[4, 0]] = 0.5 * torch.stack((1 - p, p), dim=1)
    torch.testing.assert_close(step.targets, want)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert any(not torch.equal(b, w) for b, w in zip(before, module.parameters(), strict=True))
    with pytest.raises(ValueError, match="batch.index"):
        step(DeviceData(tokens=tokens, y=batch.y))


# --- fitting through the one loop ---------------------------------------------------------------
@pytest.mark.parametrize("model", ["lstm", "cnn"])
def test_fit_predict_and_same_seed_same_predictions(peptides, model):
    X, y = peptides
    est = ELRClassifier(model, params(model)).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (300, 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert type(est.estimator_) is MODELS[model]
    assert 1 <= est.epochs_run_ <= 3 and len(est.history_) == est.epochs_run_
    # every training row (270 after the 10 % hold-out) was visited once per epoch, so each
    # target holds the mass 1 - beta^epochs of the paper's zero-started running average
    assert est.targets_.shape == (270, 2)
    np.testing.assert_allclose(est.targets_.sum(axis=1), 1 - ELR_BETA**est.epochs_run_, rtol=1e-5)
    again = ELRClassifier(model, params(model)).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), proba)


def test_lam_zero_is_the_plain_model(peptides):
    X, y = peptides
    plain = MODELS["mlp"](**params("mlp")).fit(X, y)
    elr = ELRClassifier("mlp", params("mlp"), lam=0.0).fit(X, y)
    np.testing.assert_allclose(elr.predict_proba(X), plain.predict_proba(X), atol=1e-5)
    assert elr.best_epoch_ == plain.best_epoch_


def test_validation_loss_is_plain_bce_on_the_eval_set(peptides):
    X, y = peptides
    est = ELRClassifier("mlp", params("mlp", max_epochs=2)).fit(
        X[:250], y[:250], eval_set=(X[250:], y[250:])
    )
    logits = torch.tensor(est.decision_function(X[250:]))
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.tensor(y[250:]).double()
    )
    best = est.history_[est.best_epoch_ - 1]["val_loss"]
    assert best == pytest.approx(bce.item(), rel=1e-4)
    assert est.targets_.shape == (250, 2)


def test_save_load_gives_the_plain_model_with_the_same_predictions(tmp_path, peptides):
    X, y = peptides
    est = build_estimator("lstm", "elr", model_params=params("lstm", max_epochs=2))
    est.fit(X, y)
    save_model(est, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert type(back) is MODELS["lstm"]
    np.testing.assert_allclose(back.predict_proba(X), est.predict_proba(X), atol=1e-6, rtol=0)
    meta = back.metadata_
    assert meta["method"] == "elr"
    (info,) = meta["wrappers"]
    assert info["class"] == "ELRClassifier" and info["method"] == "elr"
    assert info["beta"] == ELR_BETA and info["lam"] == ELR_LAMBDA and "not saved" in info["note"]


# --- bad parameters -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method_params, needle",
    [
        ({"beta": 1.0}, r"elr: beta must be a number in \[0, 1\), got 1.0"),
        ({"beta": -0.1}, r"elr: beta must be a number in \[0, 1\)"),
        ({"beta": "high"}, r"elr: beta must be a number"),
        ({"beta": True}, r"elr: beta must be a number"),
        ({"lam": -1}, r"elr: lam must be a number >= 0, got -1"),
        ({"lam": float("nan")}, r"elr: lam must be a number >= 0"),
        ({"lambda": 1}, r"no parameter lambda"),
    ],
)
def test_bad_parameters_raise_one_line_errors(method_params, needle):
    with pytest.raises(BadInputError, match=needle) as exc:
        build_estimator("lstm", "elr", method_params=method_params)
    assert "\n" not in str(exc.value)
    if "lambda" not in method_params:
        with pytest.raises(BadInputError, match=needle):
            ELRClassifier("mlp", params("mlp"), **method_params).fit(["ACD", "ACE"], [0, 1])


def test_non_neural_models_and_a_loss_are_refused():
    with pytest.raises(BadInputError, match="elr needs a neural model, not 'logreg'") as exc:
        ELRClassifier("logreg", {}).fit(["ACD", "ACE"], [0, 1])
    assert "\n" not in str(exc.value)
    with pytest.raises(BadInputError, match="bce only"):
        build_estimator("logreg", "elr")
    with pytest.raises(BadInputError, match="set by the training method"):
        build_estimator("lstm", "elr", model_params={"loss": "gce"})


# --- registry and CLI -----------------------------------------------------------------------------
def test_registered_with_its_defaults():
    assert "elr" in METHODS
    assert method_defaults("elr") == {"beta": ELR_BETA, "lam": ELR_LAMBDA}
    assert METHODS["elr"].summary and "\n" not in METHODS["elr"].summary
    est = build_estimator("lstm", "elr")
    assert isinstance(est, ELRClassifier) and (est.beta, est.lam) == (ELR_BETA, ELR_LAMBDA)
    for model in NEURAL:
        est = build_estimator(model, "elr", model_params={"random_state": 0})
        assert isinstance(est, ELRClassifier) and est.model == model
    est = build_estimator("mlp", "elr", method_params={"lam": 1})
    assert est.lam == 1 and est.beta == ELR_BETA
    assert isinstance(
        build_estimator("mlp", "elr", method_params={"lam": [1, 3]}), SelectOnValidation
    )
    assert parse_param_assignments(["elr.lam=1"]) == {"elr": {"lam": 1}}


def test_experiment_command_runs_elr(tmp_path, peptides):
    X, y = peptides
    data = tmp_path / "p.csv"
    pd.DataFrame({"sequence": X, "label": y}).to_csv(data, index=False)
    args = [
        "experiment", "--data", str(data), "--out", str(tmp_path / "out"), "-q",
        "--models", "mlp", "--methods", "bce,elr", "--method-param", "elr.lam=1",
        "--model-param", "mlp.hidden_sizes=[8,4]", "--noise-rates", "0.2", "--epochs", "2",
        "--batch-sizes", "64", "--device", "cpu", "--threads", "1", "--no-report",
    ]  # fmt: skip
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code in (0, None)
    df = pd.read_csv(tmp_path / "out" / "results.csv")
    assert set(df["method"]) == {"bce", "elr"}
    assert np.isfinite(df.loc[df["method"] == "elr", "auroc"]).all()
