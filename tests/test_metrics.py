"""badlabels.evaluation.metrics against scikit-learn."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    matthews_corrcoef,
    roc_auc_score,
)

from badlabels.errors import BadInputError
from badlabels.evaluation import binary_metrics
from badlabels.evaluation.metrics import weighted_auroc

Y = np.array([0, 0, 1, 1, 0, 1, 1, 0, 1, 0])
P = np.array([0.1, 0.4, 0.35, 0.8, 0.5, 0.9, 0.5, 0.2, 0.65, 0.7])


def test_binary_metrics_match_sklearn():
    m = binary_metrics(Y, P)
    pred = (P >= 0.5).astype(int)
    assert set(m) == {"auroc", "auprc", "accuracy", "f1", "mcc"}
    assert m["auroc"] == pytest.approx(roc_auc_score(Y, P))
    assert m["auprc"] == pytest.approx(average_precision_score(Y, P))
    assert m["accuracy"] == pytest.approx(accuracy_score(Y, pred))
    assert m["f1"] == pytest.approx(f1_score(Y, pred))
    assert m["mcc"] == pytest.approx(matthews_corrcoef(Y, pred))
    assert all(isinstance(v, float) for v in m.values())


def test_threshold_and_predict_proba_input():
    m = binary_metrics(Y, np.c_[1 - P, P], threshold=0.6)
    pred = (P >= 0.6).astype(int)
    assert m["accuracy"] == pytest.approx(accuracy_score(Y, pred))
    assert m["auroc"] == pytest.approx(roc_auc_score(Y, P))


@pytest.mark.parametrize("cls", [0, 1])
def test_one_class_gives_nan_without_exception(cls):
    y = np.full(5, cls)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = binary_metrics(y, P[:5])
    assert math.isnan(m["auroc"]) and math.isnan(m["auprc"])
    assert m["accuracy"] == pytest.approx(accuracy_score(y, (P[:5] >= 0.5).astype(int)))


def test_bad_input():
    with pytest.raises(BadInputError):
        binary_metrics([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(BadInputError):
        binary_metrics([0, 1], [0.1, 0.2, 0.3])


def test_weighted_auroc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.random(300) + 0.3 * y, 1)  # many ties
    w = rng.integers(0, 4, (5, 300)).astype(float)
    got = weighted_auroc(y, p, w)
    want = [roc_auc_score(y, p, sample_weight=row) for row in w]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert weighted_auroc(y, p, np.ones(300)) == pytest.approx(roc_auc_score(y, p))
    assert np.isnan(weighted_auroc(y, p, np.where(y == 1, 0.0, 1.0)))
