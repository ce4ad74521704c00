"""The one noise estimate: its convention, its accuracy on a known noise matrix, the one
out-of-fold routine, and that ``forward`` / ``coteaching`` run on the anchor estimate.

Synthetic probabilities: a clean posterior with sure negatives (30 %), sure positives (30 %)
and an overlapping middle (40 %, uniform), class-conditional flips e0 = P(given 1 | true 0)
= 0.10 and e1 = P(given 0 | true 1) = 0.25, and the exact noisy posterior
``e0 + (1 - e0 - e1) P(true 1 | x)`` as the "out-of-fold" probabilities.
"""

from __future__ import annotations

import numpy as np
import pytest

import badlabels.audit
import badlabels.methods.wrappers
from badlabels.errors import BadInputError
from badlabels.evaluation.noise_estimate import (
    NOISE_ESTIMATORS,
    estimate_noise,
    flip_rate,
    to_transition_matrix,
)
from badlabels.methods.coteaching import CoTeachingClassifier
from badlabels.methods.estimate import (
    MAX_ESTIMATED_FLIP,
    NoiseEstimate,
    estimate_noise_from_sequences,
    out_of_fold_proba,
)
from badlabels.methods.wrappers import ForwardCorrectionClassifier
from badlabels.models import make_model

E0, E1 = 0.10, 0.25
AA = "ACDEFGHIKLMNPQRSTVWY"


@pytest.fixture(scope="module")
def known_noise():
    """(given labels, noisy posterior as pred_probs (n, 2), true clean labels)."""
    rng = np.random.default_rng(11)
    n = 20_000
    kind = rng.choice(3, n, p=[0.3, 0.3, 0.4])
    p_true = np.where(kind == 0, 0.0, np.where(kind == 1, 1.0, rng.uniform(0, 1, n)))
    clean = (rng.uniform(size=n) < p_true).astype(np.int64)
    flip = np.where(clean == 0, rng.uniform(size=n) < E0, rng.uniform(size=n) < E1)
    given = np.where(flip, 1 - clean, clean)
    p1 = E0 + (1 - E0 - E1) * p_true
    return given, np.column_stack([1 - p1, p1]), clean


@pytest.mark.parametrize("method", NOISE_ESTIMATORS)
def test_one_convention_columns_sum_to_one(known_noise, method):
    """noise_matrix[i, j] = P(given = i | true = j): columns sum to 1, [1, 0] is e0, not e1."""
    given, probs, _ = known_noise
    py, nm, joint = estimate_noise(given, probs, method=method)
    assert nm.shape == (2, 2) and py.shape == (2,) and joint.dtype == np.int64
    np.testing.assert_allclose(nm.sum(axis=0), 1.0)
    assert py.sum() == pytest.approx(1.0)
    # the larger flip is positives recorded as negative: row "given 0", column "true 1"
    assert nm[0, 1] > nm[1, 0]
    assert joint.sum() == pytest.approx(len(given), abs=2)


def test_anchor_estimate_is_close_to_the_known_noise_matrix(known_noise):
    given, probs, clean = known_noise
    py, nm, joint = estimate_noise(given, probs)  # the default is the anchor estimator
    truth = np.array([[1 - E0, E1], [E0, 1 - E1]])
    np.testing.assert_allclose(nm, truth, atol=0.02)
    assert py[1] == pytest.approx(clean.mean(), abs=0.02)
    np.testing.assert_array_equal(joint.sum(axis=1), np.bincount(given))
    rate = flip_rate(py, nm)
    assert rate == pytest.approx((given != clean).mean(), abs=0.02)
    # the confident joint counts the overlapping middle as noise: further off than anchors
    py_cj, nm_cj, _ = estimate_noise(given, probs, method="confident_joint")
    assert np.abs(nm_cj - truth).max() > np.abs(nm - truth).max()


def test_transition_matrix_is_the_transpose_and_rows_sum_to_one(known_noise):
    given, probs, _ = known_noise
    _, nm, _ = estimate_noise(given, probs)
    T = to_transition_matrix(nm)
    np.testing.assert_array_equal(T, nm.T)
    np.testing.assert_allclose(T.sum(axis=1), 1.0)
    assert T[0, 1] == pytest.approx(E0, abs=0.02)  # P(noisy 1 | clean 0)
    est = NoiseEstimate.from_proba(given, probs)
    np.testing.assert_array_equal(np.array(est.transition_matrix), np.array(est.noise_matrix).T)
    assert est.method == "anchor" and est.to_dict()["convention"].startswith("cleanlab")
    with pytest.raises(BadInputError, match="2x2"):
        to_transition_matrix(np.eye(3))


def test_noise_estimate_clips_flips_so_the_matrix_stays_invertible():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p1 = rng.uniform(0.45, 0.55, 500)  # learnt nothing: the anchors report "all noise"
    est = NoiseEstimate.from_proba(y, np.column_stack([1 - p1, p1]))
    flips = [est.noise_matrix[1][0], est.noise_matrix[0][1]]
    assert max(flips) <= MAX_ESTIMATED_FLIP
    assert np.linalg.det(np.array(est.noise_matrix)) > 0


def test_estimate_noise_rejects_unknown_methods_and_quantiles(known_noise):
    given, probs, _ = known_noise
    with pytest.raises(BadInputError, match="guess"):
        estimate_noise(given, probs, method="guess")
    with pytest.raises(BadInputError, match="anchor_quantile"):
        estimate_noise(given, probs, anchor_quantile=0.5)
    with pytest.raises(BadInputError, match="guess"):
        estimate_noise_from_sequences(["ACD"] * 4, [0, 1, 0, 1], method="guess")


# --- the one out-of-fold routine ---------------------------------------------------------------
class _Spy:
    """Predicts P(1) = its fold's number / 10 and records what it was fitted on."""

    calls: list = []

    def __init__(self, repeat, fold):
        self.repeat, self.fold = repeat, fold

    def fit(self, X, y, progress=None, **kw):
        _Spy.calls.append((self.repeat, self.fold, set(X), kw))
        progress("epoch", epoch=1, max_epochs=1)
        return self

    def predict_proba(self, X):
        p = np.full(len(X), (self.fold + 1) / 10)
        return np.column_stack([1 - p, p])


def test_out_of_fold_proba_is_one_function_with_a_factory_and_eval_set():
    assert badlabels.audit.out_of_fold_proba is out_of_fold_proba
    seqs = np.array(["".join(AA[int(c)] for c in f"{i:03d}") for i in range(60)], dtype=object)
    y = np.tile([0, 1], 30)
    eval_set = (seqs[:4], y[:4])
    events = []
    _Spy.calls = []
    pred, folds = out_of_fold_proba(
        seqs, y, make_estimator=_Spy, n_folds=3, seed=5, eval_set=eval_set,
        progress=lambda e, **i: events.append((e, i)),
    )  # fmt: skip
    assert [(r, k) for r, k, _, _ in _Spy.calls] == [(0, 0), (0, 1), (0, 2)]
    assert all(kw == {"eval_set": eval_set} for *_, kw in _Spy.calls)
    # every row is predicted by the one fold model that did not train on it
    for _r, k, trained, _ in _Spy.calls:
        held = seqs[np.isclose(pred[:, 1], (k + 1) / 10)]
        assert len(held) == 20 and not trained & set(held)
    assert [f["engine"] for f in folds] == ["plain"] * 3
    kinds = [e for e, _ in events]
    assert kinds.count("fold_start") == 3 and kinds.count("fold_end") == 3
    assert all(i["fold"] in (1, 2, 3) for e, i in events if e == "epoch")


@pytest.mark.parametrize(
    "n_folds, needle", [(1, "whole number >= 2"), (True, "whole number"), (4, "each class")]
)
def test_out_of_fold_proba_checks_the_folds_once(n_folds, needle):
    y = np.array([0] * 20 + [1] * 7)  # 7 positives: 3 folds fit (2 per fold), 4 do not
    seqs = ["ACD"] * len(y)
    with pytest.raises(BadInputError, match=needle):
        out_of_fold_proba(seqs, y, make_estimator=_Spy, n_folds=n_folds)
    out_of_fold_proba(seqs, y, make_estimator=_Spy, n_folds=3)


def test_the_old_estimators_are_gone():
    wrappers = badlabels.methods.wrappers
    for name in ("estimate_noise", "noise_from_proba", "NoiseEstimate", "MAX_ESTIMATED_FLIP"):
        assert not hasattr(wrappers, name), name
    assert "out_of_fold_proba" not in wrappers.__all__
    assert getattr(wrappers, "out_of_fold_proba", out_of_fold_proba) is out_of_fold_proba
    assert "estimate_noise" not in badlabels.audit.__all__
    assert getattr(badlabels.audit, "estimate_noise", estimate_noise) is estimate_noise


# --- forward and coteaching run on the anchor estimate -------------------------------------------
@pytest.fixture(scope="module")
def overlapping_task():
    """Additive 6-mers with overlapping classes (clean label ~ sigmoid of the score), 20 %
    symmetric flips: the anchor and confident-joint estimates differ clearly here."""
    rng = np.random.default_rng(3)
    n = 1500
    X = np.array(["".join(rng.choice(list(AA), 6)) for _ in range(n)], dtype=object)
    w = rng.normal(size=(6, len(AA)))
    score = np.array([sum(w[i, AA.index(c)] for i, c in enumerate(s)) for s in X])
    score = (score - score.mean()) / score.std()
    clean = (rng.uniform(size=n) < 1 / (1 + np.exp(-3 * score))).astype(np.int64)
    flip = rng.uniform(size=n) < 0.2
    return X, np.where(flip, 1 - clean, clean)


def _reference(X, y, method):
    """The estimate forward / coteaching should use, computed here independently."""
    pred, _ = out_of_fold_proba(
        X, y, make_estimator=lambda r, k: make_model("logreg", random_state=k), n_folds=3,
        seed=0, engine="plain",
    )  # fmt: skip
    return NoiseEstimate.from_proba(y, pred, method=method)


def test_forward_receives_the_anchor_estimate(overlapping_task):
    X, y = overlapping_task
    anchor, cj = _reference(X, y, "anchor"), _reference(X, y, "confident_joint")
    assert abs(anchor.flip_rate - cj.flip_rate) > 0.02  # the test can tell them apart
    params = dict(hidden_sizes=(8,), max_epochs=1, batch_size=128, device="cpu", random_state=0)
    est = ForwardCorrectionClassifier("mlp", params).fit(X, y)
    assert est.noise_estimate_.method == "anchor"
    assert est.matrix_ == anchor.transition_matrix
    assert est.estimator_.loss_params == {"matrix": anchor.transition_matrix}
    np.testing.assert_allclose(np.sum(est.matrix_, axis=1), 1.0)


def test_coteaching_forget_rate_is_the_anchor_flip_rate(overlapping_task):
    X, y = overlapping_task
    anchor = _reference(X, y, "anchor")
    params = dict(hidden_sizes=(8,), max_epochs=1, batch_size=128, device="cpu", random_state=0)
    est = CoTeachingClassifier("mlp", params).fit(X, y)
    assert est.noise_estimate_.method == "anchor"
    assert est.forget_rate_ == pytest.approx(anchor.flip_rate)


def test_confident_joint_method_is_cleanlabs_estimate(known_noise):
    """method="confident_joint" is cleanlab's own estimate, in the same convention."""
    from cleanlab.count import estimate_py_and_noise_matrices_from_probabilities

    given, probs, _ = known_noise
    py, nm, _, cj = estimate_py_and_noise_matrices_from_probabilities(given, probs)
    py2, nm2, cj2 = estimate_noise(given, probs, method="confident_joint")
    np.testing.assert_array_equal(nm2, nm)
    np.testing.assert_array_equal(py2, py)
    np.testing.assert_array_equal(cj2, cj)
    est = NoiseEstimate.from_proba(given, probs, method="confident_joint")
    e0, e1 = np.clip([nm[1, 0], nm[0, 1]], 0.0, MAX_ESTIMATED_FLIP)  # (given 1|true 0), (0|1)
    np.testing.assert_allclose(est.transition_matrix, [[1 - e0, e0], [e1, 1 - e1]])
