"""Regression losses against hand-computed values, and regression metrics against scipy/sklearn."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import r2_score

from badlabels.engine.losses import (
    REGRESSION_LOSSES,
    BinaryLoss,
    PerSampleLoss,
    available_losses,
    get_loss,
    get_per_sample_loss,
)
from badlabels.errors import BadInputError
from badlabels.evaluation import regression_metrics as exported_regression_metrics
from badlabels.evaluation.metrics import (
    REGRESSION_METRICS,
    ndcg,
    regression_metrics,
    top_recall,
)

PRED = torch.tensor([0.0, 1.0, -2.0, 3.0], dtype=torch.float64)
Y = torch.tensor([0.5, 1.0, 1.0, -1.0], dtype=torch.float64)
R = [-0.5, 0.0, -3.0, 4.0]  # PRED - Y


def values(name, **params):
    return get_loss(name, **params)(PRED, Y, reduction="none").tolist()


def test_regression_losses_registered():
    assert REGRESSION_LOSSES == ("mse", "huber", "student_t")
    assert set(REGRESSION_LOSSES) <= set(available_losses())


def test_mse_by_hand():
    assert values("mse") == pytest.approx([0.25, 0.0, 9.0, 16.0], abs=1e-12)
    assert float(get_loss("mse")(PRED, Y)) == pytest.approx(25.25 / 4, abs=1e-12)


def test_huber_by_hand():
    # |r| <= delta: r^2 / 2; else delta (|r| - delta / 2)
    assert values("huber") == pytest.approx([0.125, 0.0, 2.5, 3.5], abs=1e-12)
    assert values("huber", delta=2.0) == pytest.approx([0.125, 0.0, 4.0, 6.0], abs=1e-12)
    assert values("huber", delta=0.25) == pytest.approx(
        [0.25 * 0.375, 0.0, 0.25 * 2.875, 0.25 * 3.875], abs=1e-12
    )


def test_student_t_by_hand():
    expected = [2.0 * math.log(1.0 + r * r / 3.0) for r in R]
    assert values("student_t") == pytest.approx(expected, abs=1e-12)
    expected = [1.0 * math.log(1.0 + r * r / (1.0 * 4.0)) for r in R]
    assert values("student_t", nu=1.0, scale=2.0) == pytest.approx(expected, abs=1e-12)
    assert values("student_t", nu=5, scale=0.5) == pytest.approx(
        [3.0 * math.log(1.0 + r * r / (5 * 0.25)) for r in R], abs=1e-12
    )


def test_student_t_large_nu_approaches_half_squared_error():
    big = values("student_t", nu=1e8, scale=1.0)
    assert big == pytest.approx([r * r / 2.0 for r in R], rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("name", REGRESSION_LOSSES)
def test_reductions_weights_and_per_sample(name):
    loss = get_loss(name)
    assert isinstance(loss, BinaryLoss) and isinstance(loss, PerSampleLoss)
    per = loss(PRED, Y, reduction="none")
    assert per.shape == (4,)
    assert torch.allclose(loss.per_sample(PRED, Y), per)
    assert torch.allclose(get_per_sample_loss(name)(PRED, Y), per)
    assert torch.allclose(loss(PRED, Y), per.mean())
    assert torch.allclose(loss(PRED, Y, reduction="sum"), per.sum())
    w = torch.tensor([1.0, 0.0, 2.0, 0.5], dtype=torch.float64)
    assert torch.allclose(loss(PRED, Y, w), (per * w).mean())
    assert torch.allclose(loss(PRED, Y, w, reduction="none"), per * w)
    assert (per >= 0).all() and per[1] == 0  # zero at r = 0
    with pytest.raises(ValueError):
        loss(PRED, Y, reduction="max")
    assert name in repr(loss)


@pytest.mark.parametrize("name", REGRESSION_LOSSES)
def test_gradients_finite_and_point_toward_the_target(name):
    pred = PRED.clone().requires_grad_(True)
    get_loss(name)(pred, Y).backward()
    g = pred.grad
    assert torch.isfinite(g).all()
    r = torch.tensor(R, dtype=torch.float64)
    assert (torch.sign(g) == torch.sign(r)).all()  # descent moves pred toward y


def test_robust_losses_grow_slower_than_mse():
    far = torch.tensor([100.0], dtype=torch.float64)
    zero = torch.zeros(1, dtype=torch.float64)
    mse, hub, st = (float(get_loss(n)(far, zero)) for n in REGRESSION_LOSSES)
    assert st < hub < mse


@pytest.mark.parametrize(
    "name, params, needle",
    [
        ("huber", {"delta": 0.0}, "delta"),
        ("huber", {"delta": -1.0}, "delta"),
        ("huber", {"delta": float("nan")}, "delta"),
        ("huber", {"delta": float("inf")}, "delta"),
        ("huber", {"delta": True}, "delta"),
        ("huber", {"delta": "1"}, "delta"),
        ("student_t", {"nu": 0.0}, "nu"),
        ("student_t", {"nu": -3}, "nu"),
        ("student_t", {"scale": 0.0}, "scale"),
        ("student_t", {"scale": float("nan")}, "scale"),
        ("student_t", {"scale": None}, "scale"),
        ("mse", {"delta": 1.0}, "no parameter delta"),
        ("student_t", {"df": 3.0}, "no parameter df"),
    ],
)
def test_bad_parameters(name, params, needle):
    with pytest.raises(BadInputError, match=needle) as exc:
        get_loss(name, **params)
    assert "\n" not in str(exc.value)


# --------------------------------------------------------------------------- metrics

SCORE = np.array([0.1, 2.0, -1.0, 3.5, 0.7, 1.2, -0.3, 2.2, 4.0, 0.0, 1.9, -2.0])
PREDICTION = np.array([0.3, 1.5, -0.5, 2.0, 1.1, 0.9, 0.2, 2.5, 3.0, -0.4, 1.0, -1.0])


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args)


def test_regression_metrics_against_scipy_and_sklearn():
    m = _quiet(regression_metrics, SCORE, PREDICTION)
    assert tuple(m) == REGRESSION_METRICS
    assert m["spearman"] == pytest.approx(spearmanr(SCORE, PREDICTION).statistic, abs=1e-12)
    assert m["pearson"] == pytest.approx(pearsonr(SCORE, PREDICTION).statistic, abs=1e-12)
    assert m["r2"] == pytest.approx(r2_score(SCORE, PREDICTION), abs=1e-12)
    ss_res = np.sum((SCORE - PREDICTION) ** 2)
    ss_tot = np.sum((SCORE - SCORE.mean()) ** 2)
    assert m["r2"] == pytest.approx(1.0 - ss_res / ss_tot, abs=1e-12)
    assert m["ndcg"] == ndcg(SCORE, PREDICTION)
    assert m["top10_recall"] == top_recall(SCORE, PREDICTION)
    assert all(isinstance(v, float) for v in m.values())
    assert exported_regression_metrics is regression_metrics


def test_r2_is_in_the_score_units():
    m = regression_metrics(SCORE, SCORE)
    assert m["r2"] == 1.0 and m["pearson"] == pytest.approx(1.0)
    m = regression_metrics(SCORE, 2.0 * SCORE + 1.0)  # perfectly correlated, wrong units
    assert m["pearson"] == pytest.approx(1.0) and m["spearman"] == pytest.approx(1.0)
    assert m["r2"] < 0.5
    assert m["r2"] == pytest.approx(r2_score(SCORE, 2.0 * SCORE + 1.0))


def test_regression_metrics_drop_non_finite_pairs():
    score = np.r_[SCORE, np.nan, 1.0]
    pred = np.r_[PREDICTION, 0.5, np.inf]
    assert _quiet(regression_metrics, score, pred) == regression_metrics(SCORE, PREDICTION)


def _all_nan(m):
    return all(math.isnan(v) for v in m.values())


def test_regression_metrics_nan_when_undefined():
    assert _all_nan(_quiet(regression_metrics, [], []))
    assert _all_nan(_quiet(regression_metrics, [1.0], [2.0]))
    assert _all_nan(_quiet(regression_metrics, [np.nan, 1.0], [1.0, np.nan]))
    assert _all_nan(_quiet(regression_metrics, np.full(12, 2.0), PREDICTION))  # constant score
    m = _quiet(regression_metrics, SCORE, np.full(12, 1.0))  # constant prediction
    assert math.isnan(m["spearman"]) and math.isnan(m["pearson"])
    assert m["r2"] == pytest.approx(r2_score(SCORE, np.full(12, 1.0)))
    m = _quiet(regression_metrics, SCORE[:5], PREDICTION[:5])  # no top 10 % for ndcg
    assert math.isnan(m["ndcg"]) and not math.isnan(m["r2"])


def test_regression_metrics_length_mismatch():
    with pytest.raises(BadInputError, match="differ in length"):
        regression_metrics(SCORE, PREDICTION[:-1])
