"""Property tests for badlabels.noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from badlabels.data.dataset import Dataset
from badlabels.errors import BadInputError
from badlabels.noise import (
    NOISE_TYPES,
    NoiseResult,
    apply_noise,
    class_conditional,
    measurement,
    read_depth,
    symmetric,
    transition_matrix,
)

FAST = settings(max_examples=60, deadline=None)

labels_st = st.lists(st.integers(0, 1), min_size=0, max_size=400).map(
    lambda v: np.array(v, dtype=np.int8)
)
rate_st = st.floats(0.0, 1.0, allow_nan=False)
seed_st = st.integers(0, 2**32 - 1)


def _check_result(res: NoiseResult, clean: np.ndarray) -> None:
    assert res.labels.dtype == np.int8 and res.flipped.dtype == bool
    assert res.labels.shape == clean.shape == res.flipped.shape
    np.testing.assert_array_equal(res.flipped, res.labels != clean)
    assert set(np.unique(res.labels)) <= {0, 1}


# --------------------------------------------------------------------------- symmetric


@FAST
@given(labels_st, rate_st, seed_st)
def test_symmetric_exact_count(y, rate, seed):
    res = symmetric(y, rate, seed)
    _check_result(res, y)
    assert res.n_flipped == round(rate * len(y))
    if len(y):
        assert res.flip_rate == pytest.approx(round(rate * len(y)) / len(y))


@FAST
@given(labels_st, st.floats(0.0, 1.0), st.floats(0.0, 1.0), seed_st)
def test_class_conditional_exact_counts(y, p10, p01, seed):
    res = class_conditional(y, p10, p01, seed)
    _check_result(res, y)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    assert int(res.flipped[y == 1].sum()) == round(p10 * n_pos)
    assert int(res.flipped[y == 0].sum()) == round(p01 * n_neg)


@FAST
@given(labels_st, rate_st, seed_st)
def test_same_seed_same_flips(y, rate, seed):
    a, b = symmetric(y, rate, seed), symmetric(y, rate, seed)
    np.testing.assert_array_equal(a.flipped, b.flipped)
    c, d = class_conditional(y, rate, rate / 2, seed), class_conditional(y, rate, rate / 2, seed)
    np.testing.assert_array_equal(c.flipped, d.flipped)


def test_different_seed_different_flips():
    y = np.random.default_rng(0).integers(0, 2, 500)
    assert not np.array_equal(symmetric(y, 0.2, 1).flipped, symmetric(y, 0.2, 2).flipped)
    assert not np.array_equal(
        class_conditional(y, 0.2, 0.1, 1).flipped, class_conditional(y, 0.2, 0.1, 2).flipped
    )


@pytest.mark.parametrize("bad", [-0.1, 1.0001, math.nan, math.inf, "x"])
def test_rate_validation(bad):
    y = np.array([0, 1, 1, 0])
    with pytest.raises(BadInputError, match="rate"):
        symmetric(y, bad)
    with pytest.raises(BadInputError, match="p_pos_to_neg"):
        class_conditional(y, bad, 0.1)
    with pytest.raises(BadInputError, match="p_neg_to_pos"):
        class_conditional(y, 0.1, bad)
    with pytest.raises(BadInputError, match="fraction"):
        read_depth([5, 5, 5, 5], [1, 2, 3, 4], bad, threshold=1.0)


def test_error_is_one_line_and_names_value():
    with pytest.raises(BadInputError) as exc:
        symmetric([0, 1], 1.5)
    assert "\n" not in str(exc.value) and "1.5" in str(exc.value)


def test_rate_one_flips_everything():
    y = np.array([0, 1, 1, 0, 1], dtype=np.int8)
    np.testing.assert_array_equal(symmetric(y, 1.0).labels, 1 - y)
    np.testing.assert_array_equal(class_conditional(y, 1.0, 1.0).labels, 1 - y)


def test_non_binary_labels_rejected():
    with pytest.raises(BadInputError, match="0 or 1"):
        symmetric([0, 2, 1], 0.1)


# --------------------------------------------------------------------------- measurement


def _gauss_scores(n=4000, seed=0):
    return np.random.default_rng(seed).normal(size=n)


def test_measurement_flips_concentrate_near_threshold():
    s = _gauss_scores()
    res = measurement(s, 0.3, 0.3, seed=1)
    _check_result(res, (s > 0.3).astype(np.int8))
    dist = np.abs(s - 0.3)
    assert res.n_flipped > 50
    assert dist[res.flipped].mean() < 0.25 * dist[~res.flipped].mean()


@FAST
@given(seed_st, st.floats(-2, 2))
def test_measurement_scale_zero_no_flips(seed, thr):
    s = _gauss_scores(300, seed % 1000)
    res = measurement(s, thr, 0.0, seed=seed)
    assert res.n_flipped == 0
    np.testing.assert_array_equal(res.labels, (s > thr).astype(np.int8))


def test_measurement_more_scale_more_flips_and_deterministic():
    s = _gauss_scores()
    rates = [measurement(s, 0.0, sc, seed=3).flip_rate for sc in (0.05, 0.2, 0.8)]
    assert rates[0] < rates[1] < rates[2]
    np.testing.assert_array_equal(
        measurement(s, 0.0, 0.2, seed=3).flipped, measurement(s, 0.0, 0.2, seed=3).flipped
    )


def test_measurement_flips_applied_to_given_labels():
    s = _gauss_scores(500)
    given_labels = np.random.default_rng(1).integers(0, 2, 500).astype(np.int8)
    res = measurement(s, 0.0, 0.3, seed=0, labels=given_labels)
    _check_result(res, given_labels)
    np.testing.assert_array_equal(res.flipped, measurement(s, 0.0, 0.3, seed=0).flipped)


def test_measurement_log_transform_for_skewed_scores():
    rng = np.random.default_rng(0)
    # GB1-like: many zeros, long right tail
    s = np.where(rng.random(5000) < 0.4, 0.0, rng.lognormal(-1.5, 1.2, 5000))
    thr = float(np.quantile(s, 0.7))
    auto = measurement(s, thr, 0.2, seed=2)
    log = measurement(s, thr, 0.2, seed=2, transform="log")
    raw = measurement(s, thr, 0.2, seed=2, transform="none")
    np.testing.assert_array_equal(auto.flipped, log.flipped)
    assert not np.array_equal(auto.flipped, raw.flipped)
    # on the raw scale the long tail inflates the sd, so flips spread far from the cutoff
    # among the zeros; on the log scale zeros stay far below a cutoff in the bulk
    assert auto.flipped[s == 0].mean() < raw.flipped[s == 0].mean()
    # symmetric scores are left on their own scale by "auto"
    g = _gauss_scores()
    np.testing.assert_array_equal(
        measurement(g, 0.0, 0.2, seed=2).flipped,
        measurement(g, 0.0, 0.2, seed=2, transform="none").flipped,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"scale": -0.1}, "scale"),
        ({"scale": math.nan}, "scale"),
        ({"threshold": math.nan}, "threshold"),
        ({"transform": "sqrt"}, "transform"),
    ],
)
def test_measurement_validation(kwargs, match):
    args = {"scores": [0.1, 0.5, 2.0], "threshold": 0.4, "scale": 0.1} | kwargs
    with pytest.raises(BadInputError, match=match):
        measurement(**args)


def test_measurement_log_needs_non_negative():
    with pytest.raises(BadInputError, match="non-negative"):
        measurement([-1.0, 0.5, 2.0], 0.4, 0.1, transform="log")


# --------------------------------------------------------------------------- read depth


def _poisson_counts(n=3000, seed=0):
    """Input ~ Poisson(depth), selected ~ Poisson(depth * true fitness); row 0 = wild type."""
    rng = np.random.default_rng(seed)
    fit = rng.lognormal(-1.0, 1.0, n)
    fit[0] = 1.0
    depth = rng.gamma(2.0, 50.0, n)
    depth[0] = 5000.0
    inp = rng.poisson(depth)
    sel = rng.poisson(depth * fit)
    return inp, sel


@pytest.mark.parametrize("wt_index", [None, 0])
def test_read_depth_fraction_one_no_flips(wt_index):
    inp, sel = _poisson_counts()
    res = read_depth(inp, sel, 1.0, threshold=0.5, wt_index=wt_index, seed=4)
    assert res.n_flipped == 0
    assert res.scores is not None and res.scores.shape == inp.shape
    # with given labels that disagree with the counts in places, still no flips
    other = np.random.default_rng(0).integers(0, 2, len(inp)).astype(np.int8)
    res2 = read_depth(inp, sel, 1.0, threshold=0.5, wt_index=wt_index, labels=other)
    np.testing.assert_array_equal(res2.labels, other)


@pytest.mark.parametrize("wt_index", [None, 0])
def test_read_depth_lower_fraction_more_flips(wt_index):
    inp, sel = _poisson_counts()
    rates = [
        np.mean([read_depth(inp, sel, f, threshold=0.5, wt_index=wt_index, seed=s).flip_rate
                 for s in range(3)])
        for f in (0.5, 0.1, 0.02)
    ]
    assert 0 < rates[0] < rates[1] < rates[2]


def test_read_depth_fitness_definition():
    inp = np.array([100, 50, 0, 10])
    sel = np.array([200, 25, 7, 0])
    res = read_depth(inp, sel, 1.0, threshold=0.9, wt_index=0)
    np.testing.assert_allclose(res.scores, [1.0, 0.25, 0.0, 0.0])
    res = read_depth(inp, sel, 1.0, threshold=0.9)
    expected = (sel / sel.sum()) / np.where(inp > 0, inp / inp.sum(), 1)
    expected[inp == 0] = 0
    np.testing.assert_allclose(res.scores, expected)
    np.testing.assert_array_equal(res.labels, (expected > 0.9).astype(np.int8))


def test_read_depth_deterministic_and_seed_dependent():
    inp, sel = _poisson_counts()
    a = read_depth(inp, sel, 0.1, threshold=0.5, seed=7)
    b = read_depth(inp, sel, 0.1, threshold=0.5, seed=7)
    c = read_depth(inp, sel, 0.1, threshold=0.5, seed=8)
    np.testing.assert_array_equal(a.flipped, b.flipped)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.array_equal(a.flipped, c.flipped)
    _check_result(a, read_depth(inp, sel, 1.0, threshold=0.5).labels)


def test_read_depth_unmeasured_variants_get_zero_fitness():
    inp, sel = _poisson_counts()
    res = read_depth(inp, sel, 0.01, threshold=0.5, seed=0, wt_index=0)
    assert (res.scores[inp == 0] == 0).all()
    # thinning leaves at most the original reads, so some inputs drop to zero
    assert (res.scores == 0).sum() > (inp == 0).sum()


def test_read_depth_validation():
    with pytest.raises(BadInputError, match="count_input"):
        read_depth([1, -2], [1, 1], 0.5, threshold=1.0)
    with pytest.raises(BadInputError, match="count_selected"):
        read_depth([1, 2], [1.5, 1], 0.5, threshold=1.0)
    with pytest.raises(BadInputError, match="wt_index"):
        read_depth([1, 2], [1, 1], 0.5, threshold=1.0, wt_index=5)
    with pytest.raises(BadInputError, match="wild type"):
        read_depth([0, 2], [1, 1], 0.5, threshold=1.0, wt_index=0)


def test_read_depth_wt_counts_outside_arrays():
    inp, sel = _poisson_counts()
    full = read_depth(inp, sel, 1.0, threshold=0.5, wt_index=0)
    sub = read_depth(inp[1:], sel[1:], 1.0, threshold=0.5, wt_counts=(inp[0], sel[0]))
    np.testing.assert_allclose(sub.scores, full.scores[1:])


# --------------------------------------------------------------------------- dispatcher


def _dataset(**kw):
    n = 400
    rng = np.random.default_rng(0)
    scores = rng.normal(size=n)
    base = dict(
        sequences=np.array([f"S{i}" for i in range(n)], dtype=object),
        labels=(scores > 0).astype(np.int8),
        name="toy",
    )
    return Dataset(**(base | kw)), scores


def test_apply_noise_dispatch():
    ds, scores = _dataset()
    res = apply_noise(ds, "symmetric", 0.1, seed=3)
    np.testing.assert_array_equal(res.flipped, symmetric(ds.labels, 0.1, 3).flipped)
    res = apply_noise(ds, "class-conditional", 0.2, seed=3, cc_ratio=0.5)
    np.testing.assert_array_equal(res.flipped, class_conditional(ds.labels, 0.2, 0.1, 3).flipped)
    ds2, _ = _dataset(scores=scores, threshold=0.0)
    res = apply_noise(ds2, "measurement", 0.3, seed=3)
    np.testing.assert_array_equal(res.flipped, measurement(scores, 0.0, 0.3, seed=3).flipped)
    assert set(NOISE_TYPES) == {"symmetric", "class_conditional", "measurement", "read_depth"}


def test_apply_noise_read_depth_and_subset():
    inp, sel = _poisson_counts(400)
    fit = read_depth(inp, sel, 1.0, threshold=0.5, wt_index=0).scores
    ds, _ = _dataset(
        labels=(fit > 0.5).astype(np.int8),
        scores=fit,
        threshold=0.5,
        counts={"count_input": inp, "count_selected": sel},
        extra={"wild_type": "S0"},
    )
    res = apply_noise(ds, "read_depth", 0.2, seed=1)
    # The wild type's reads are thinned on their own (as for a split part without its row).
    ref = read_depth(inp, sel, 0.2, threshold=0.5, seed=1, wt_counts=(inp[0], sel[0]))
    np.testing.assert_array_equal(res.labels, ref.labels)
    assert apply_noise(ds, "read_depth", 1.0).n_flipped == 0
    # after subsetting, the wild type is found by sequence, not by a stale index
    idx = np.arange(300)[::-1]  # row 0 (wild type) ends up last
    res = apply_noise(ds.subset(idx), "read_depth", 1.0)
    np.testing.assert_allclose(res.scores, fit[idx])
    gone = ds.subset(np.arange(1, 400))
    with pytest.raises(BadInputError, match="wild type 'S0' is not a sequence"):
        apply_noise(gone, "read_depth", 0.5)
    # ... unless its counts travel with the data, or the normalisation was resolved on the whole
    kept = ds.subset(np.arange(1, 400))
    kept.extra["wt_counts"] = (int(inp[0]), int(sel[0]))
    np.testing.assert_allclose(apply_noise(kept, "read_depth", 1.0).scores, fit[1:])
    from badlabels.noise import resolve_count_normalisation

    whole = resolve_count_normalisation(ds).to_dict()
    part = ds.subset(np.arange(1, 400))
    part.extra["count_normalisation"] = whole
    np.testing.assert_allclose(apply_noise(part, "read_depth", 1.0).scores, fit[1:])


def test_apply_noise_errors():
    ds, _ = _dataset()
    with pytest.raises(BadInputError, match="symmetric, class_conditional, measurement, read_depth"):
        apply_noise(ds, "gaussian", 0.1)
    with pytest.raises(BadInputError, match="no continuous score: pass --threshold or --quantile"):
        apply_noise(ds, "measurement", 0.1)
    with pytest.raises(BadInputError, match="count_input, count_selected"):
        apply_noise(ds, "read_depth", 0.5)
    with pytest.raises(BadInputError, match="level"):
        apply_noise(ds, "class_conditional", 1.2)
    with pytest.raises(BadInputError, match="p_neg_to_pos"):
        apply_noise(ds, "class_conditional", 0.8, cc_ratio=2.0)


def test_transition_matrix():
    clean = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    noisy = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 1])
    t = transition_matrix(clean, noisy)
    np.testing.assert_allclose(t, [[4 / 6, 2 / 6], [1 / 4, 3 / 4]])
    res = class_conditional(np.repeat([0, 1], [600, 400]), 0.25, 0.1, seed=0)
    np.testing.assert_allclose(
        transition_matrix(np.repeat([0, 1], [600, 400]), res.labels), [[0.9, 0.1], [0.25, 0.75]]
    )
    assert np.isnan(transition_matrix([0, 0], [0, 1])[1]).all()
