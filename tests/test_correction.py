"""Noise-corrected AUROC / accuracy recover the clean-label values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from badlabels.errors import BadInputError
from badlabels.evaluation import (
    binary_metrics,
    bootstrap_corrected,
    corrected_accuracy,
    corrected_auroc,
)
from badlabels.evaluation.metrics import auroc
from badlabels.noise import class_conditional, symmetric


def _simulate(n, prevalence, seed=0, shift=1.5):
    """Gaussian scores (clean AUROC = Phi(shift / sqrt 2) ~ 0.86) and clean labels."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(np.int8)
    s = rng.normal(size=n) + shift * y
    prob = 1.0 / (1.0 + np.exp(-(s - shift / 2)))
    return y, prob


def _sym(rate):
    return np.array([[1 - rate, rate], [rate, 1 - rate]])


def _cc(p10, p01):
    return np.array([[1 - p01, p01], [p10, 1 - p10]])


# The correction divides by a - b, which shrinks with the noise: at 40 % symmetric
# noise and prevalence 0.3 the sampling error is amplified ~6x (sd ~0.02 at n=20,000),
# so that case uses n=300,000 to keep 0.02 a >= 3.5-sd tolerance; the others have
# sd <= 0.005 at n=20,000.
CASES = [
    pytest.param(20_000, 0.3, "sym", (0.2,), id="sym20-prev0.3"),
    pytest.param(20_000, 0.5, "sym", (0.2,), id="sym20-prev0.5"),
    pytest.param(300_000, 0.3, "sym", (0.4,), id="sym40-prev0.3"),
    pytest.param(300_000, 0.5, "sym", (0.4,), id="sym40-prev0.5"),
    pytest.param(20_000, 0.3, "cc", (0.3, 0.1), id="cc30-10-prev0.3"),
    pytest.param(20_000, 0.5, "cc", (0.1, 0.3), id="cc10-30-prev0.5"),
]


@pytest.mark.parametrize("n, prevalence, kind, rates", CASES)
def test_corrected_metrics_recover_clean(n, prevalence, kind, rates):
    y, prob = _simulate(n, prevalence, seed=11)
    if kind == "sym":
        noisy, matrix = symmetric(y, rates[0], seed=5).labels, _sym(rates[0])
    else:
        noisy, matrix = class_conditional(y, *rates, seed=5).labels, _cc(*rates)
    clean = binary_metrics(y, prob)
    assert clean["auroc"] - auroc(noisy, prob) > 0.1  # the noise matters...
    assert corrected_auroc(noisy, prob, matrix) == pytest.approx(clean["auroc"], abs=0.02)
    assert corrected_accuracy(noisy, prob, matrix) == pytest.approx(clean["accuracy"], abs=0.02)
    # ... and a known prior gives the same answer up to sampling
    assert corrected_auroc(noisy, prob, matrix, prior=y.mean()) == pytest.approx(
        clean["auroc"], abs=0.02
    )


def test_bootstrap_interval_contains_clean_value():
    y, prob = _simulate(20_000, 0.3, seed=3)
    res = class_conditional(y, 0.3, 0.1, seed=1)
    clean = binary_metrics(y, prob)
    b = bootstrap_corrected(res.labels, prob, _cc(0.3, 0.1), n_boot=200, seed=0)
    assert set(b) == {"auroc", "auroc_lo", "auroc_hi", "accuracy", "accuracy_lo", "accuracy_hi"}
    assert b["auroc_lo"] <= clean["auroc"] <= b["auroc_hi"]
    assert b["accuracy_lo"] <= clean["accuracy"] <= b["accuracy_hi"]
    assert b["auroc_lo"] < b["auroc"] < b["auroc_hi"]
    assert b["auroc"] == corrected_auroc(res.labels, prob, _cc(0.3, 0.1))
    assert b["accuracy"] == corrected_accuracy(res.labels, prob, _cc(0.3, 0.1))
    assert b["auroc_hi"] - b["auroc_lo"] < 0.05
    assert bootstrap_corrected(res.labels, prob, _cc(0.3, 0.1), n_boot=50, seed=4) == (
        bootstrap_corrected(res.labels, prob, _cc(0.3, 0.1), n_boot=50, seed=4)
    )


def test_balanced_symmetric_special_case():
    y, prob = _simulate(5_000, 0.5, seed=2)
    noisy = symmetric(y, 0.25, seed=0).labels
    a_noisy = binary_metrics(noisy, prob)["auroc"]
    got = corrected_auroc(noisy, prob, _sym(0.25), prior=0.5)
    assert got == pytest.approx(0.5 + (a_noisy - 0.5) / (1 - 2 * 0.25), abs=1e-12)
    acc_noisy = binary_metrics(noisy, prob)["accuracy"]
    acc = corrected_accuracy(noisy, prob, _sym(0.25))  # prior estimated: identity is exact
    assert acc == pytest.approx((acc_noisy - 0.25) / (1 - 2 * 0.25), abs=1e-9)


def test_accuracy_matches_inverse_confusion_matrix():
    """Acc = trace((T^T)^-1 J~), J~ the joint noisy-label/prediction distribution."""
    y, prob = _simulate(3_000, 0.4, seed=9)
    t = _cc(0.2, 0.15)
    noisy = class_conditional(y, 0.2, 0.15, seed=0).labels
    pred = (prob >= 0.5).astype(int)
    joint = np.array([[np.mean((noisy == j) & (pred == k)) for k in (0, 1)] for j in (0, 1)])
    expected = np.trace(np.linalg.solve(t.T, joint))
    assert corrected_accuracy(noisy, prob, t) == pytest.approx(expected, abs=1e-12)


def test_cleanlab_convention_is_transpose():
    y, prob = _simulate(2_000, 0.3)
    noisy = class_conditional(y, 0.3, 0.1, seed=0).labels
    m = _cc(0.3, 0.1)
    assert corrected_auroc(noisy, prob, m) == corrected_auroc(
        noisy, prob, m.T, convention="cleanlab"
    )
    assert corrected_accuracy(noisy, prob, m) == corrected_accuracy(
        noisy, prob, m.T, convention="cleanlab"
    )
    with pytest.raises(BadInputError, match="rows must sum to 1"):
        corrected_auroc(noisy, prob, m.T)


def test_no_noise_is_identity_and_one_class_is_nan():
    y, prob = _simulate(1_000, 0.3)
    assert corrected_auroc(y, prob, np.eye(2)) == pytest.approx(binary_metrics(y, prob)["auroc"])
    assert corrected_accuracy(y, prob, np.eye(2)) == pytest.approx(
        binary_metrics(y, prob)["accuracy"]
    )
    assert math.isnan(corrected_auroc(np.zeros(10), prob[:10], _sym(0.1)))


@pytest.mark.parametrize(
    "matrix, match",
    [
        (np.eye(3), "2x2"),
        ([[0.5, 0.5], [0.6, 0.4]], "sum to"),
        ([[0.9, 0.2], [0.1, 0.8]], "rows must sum"),
        ([[1.1, -0.1], [0.0, 1.0]], "probabilities"),
    ],
)
def test_bad_matrix(matrix, match):
    with pytest.raises(BadInputError, match=match):
        corrected_auroc([0, 1, 1], [0.2, 0.6, 0.9], matrix)


def test_bad_options():
    with pytest.raises(BadInputError, match="prior"):
        corrected_auroc([0, 1], [0.2, 0.6], _sym(0.1), prior=1.5)
    with pytest.raises(BadInputError, match="convention"):
        corrected_auroc([0, 1], [0.2, 0.6], _sym(0.1), convention="col")
    with pytest.raises(BadInputError, match="n_boot"):
        bootstrap_corrected([0, 1], [0.2, 0.6], _sym(0.1), n_boot=0)
    with pytest.raises(BadInputError, match="alpha"):
        bootstrap_corrected([0, 1], [0.2, 0.6], _sym(0.1), alpha=1.0)


def test_corrected_auroc_from_its_summaries_is_the_same_number():
    from badlabels.evaluation.correction import corrected_auroc, corrected_auroc_from
    from badlabels.evaluation.metrics import auroc

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    p = np.clip(0.3 * y + rng.random(500) * 0.7, 0, 1)
    nm = [[0.7, 0.25], [0.3, 0.75]]
    want = corrected_auroc(y, p, nm, convention="cleanlab")
    assert corrected_auroc_from(auroc(y, p), float(y.mean()), nm, convention="cleanlab") == want
