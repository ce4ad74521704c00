"""Noise for continuous scores (regression targets): gaussian, outliers, read depth."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import badlabels.noise as noise_module
from badlabels.data.dataset import Dataset
from badlabels.data.regression import as_regression, targets_of
from badlabels.errors import BadInputError
from badlabels.noise import (
    SCORE_NOISE_TYPES,
    ScoreNoiseResult,
    apply_noise,
    apply_score_noise,
    gaussian,
    outliers,
)

CLEAN = np.linspace(-3.0, 5.0, 101)  # distinct values


def _sequences(n: int) -> list[str]:
    return ["".join(p) for p in itertools.islice(itertools.product("ACDEFGHIKL", repeat=4), n)]


def count_dataset(n: int = 300, seed: int = 0, digits: int | None = None) -> Dataset:
    """Counts with a wild type in row 0; scores = enrichment relative to it (pseudocount 0)."""
    rng = np.random.default_rng(seed)
    inp = rng.integers(20, 400, size=n)
    sel = rng.integers(0, 600, size=n)
    sel[::17] = 0  # zero fitness: floored by log10
    inp[0], sel[0] = 2000, 1500
    scores = (sel / inp) / (sel[0] / inp[0])
    if digits is not None:  # a file's rounded fitness
        scores = np.array([float(f"{v:.{digits}g}") for v in scores])
    seqs = _sequences(n)
    threshold = float(np.median(scores))
    return Dataset(
        sequences=seqs,
        labels=(scores > threshold).astype(np.int8),
        name="counts",
        scores=scores,
        threshold=threshold,
        counts={"count_input": inp, "count_selected": sel},
        extra={"wild_type": seqs[0]},
    )


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg
    return msg


# --------------------------------------------------------------------------- result


def test_result_properties():
    res = ScoreNoiseResult(
        scores=np.array([1.0, 2.5, 3.0, -1.0]),
        changed=np.array([False, True, False, True]),
        clean=np.array([1.0, 2.0, 3.0, 1.0]),
    )
    assert res.n_changed == 2
    assert res.fraction_changed == 0.5
    assert res.flipped is res.changed
    assert res.flipped.mean() == 0.5
    np.testing.assert_array_equal(res.moved, [0.0, 0.5, 0.0, 2.0])
    empty = ScoreNoiseResult(np.zeros(0), np.zeros(0, bool), np.zeros(0))
    assert np.isnan(empty.fraction_changed) and empty.n_changed == 0


# --------------------------------------------------------------------------- gaussian


def test_gaussian_sd_matches_scale():
    rng = np.random.default_rng(1)
    clean = rng.gamma(2.0, 3.0, size=200_000)
    for scale in (0.1, 0.5, 2.0):
        res = gaussian(clean, scale, seed=3)
        delta = res.scores - clean
        assert np.std(delta) == pytest.approx(scale * np.std(clean), rel=0.01)
        assert abs(np.mean(delta)) < 0.01 * scale * np.std(clean)
        assert res.changed.all() and res.changed.dtype == bool
        assert res.scores.dtype == np.float64
        np.testing.assert_array_equal(res.clean, clean)


def test_gaussian_scale_zero_changes_nothing():
    res = gaussian(CLEAN, 0.0, seed=5)
    np.testing.assert_array_equal(res.scores, CLEAN)
    assert not res.changed.any() and res.n_changed == 0
    assert res.scores is not CLEAN


def test_gaussian_deterministic_and_seed_dependent():
    a, b, c = gaussian(CLEAN, 0.3, seed=7), gaussian(CLEAN, 0.3, seed=7), gaussian(CLEAN, 0.3, 8)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.array_equal(a.scores, c.scores)


def test_gaussian_does_not_modify_input():
    clean = CLEAN.copy()
    gaussian(clean, 1.0, seed=0)
    outliers(clean, 0.5, seed=0)
    np.testing.assert_array_equal(clean, CLEAN)


# --------------------------------------------------------------------------- outliers


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.025, 0.1, 0.333, 0.5, 0.99, 1.0])
def test_outliers_exact_count(fraction):
    n = len(CLEAN)
    res = outliers(CLEAN, fraction, seed=2)
    assert res.n_changed == round(fraction * n)
    np.testing.assert_array_equal(res.scores[~res.changed], CLEAN[~res.changed])


def test_outliers_rounding_is_round():
    clean = np.arange(10.0)
    assert outliers(clean, 0.25, seed=0).n_changed == round(2.5) == 2
    assert outliers(clean, 0.35, seed=0).n_changed == round(3.5) == 4


def test_outliers_draw_from_the_clean_values():
    rng = np.random.default_rng(0)
    clean = rng.normal(size=5_000)
    res = outliers(clean, 0.4, seed=1)
    drawn = res.scores[res.changed]
    assert np.isin(drawn, clean).all()
    # drawn from all rows, not just the row's own value: most chosen rows move
    assert np.mean(drawn != clean[res.changed]) > 0.99
    # with replacement from the empirical distribution: its quantiles match the clean ones
    qs = [0.1, 0.5, 0.9]
    np.testing.assert_allclose(np.quantile(drawn, qs), np.quantile(clean, qs), atol=0.1)


def test_outliers_changed_marks_chosen_rows_even_if_value_is_the_same():
    clean = np.array([1.0, 1.0, 1.0, 1.0, 2.0])
    res = outliers(clean, 1.0, seed=0)
    assert res.changed.all()
    assert np.isin(res.scores, clean).all()


def test_outliers_fraction_zero_changes_nothing():
    res = outliers(CLEAN, 0.0, seed=9)
    np.testing.assert_array_equal(res.scores, CLEAN)
    assert not res.changed.any()


def test_outliers_deterministic_and_seed_dependent():
    a, b, c = outliers(CLEAN, 0.3, seed=7), outliers(CLEAN, 0.3, seed=7), outliers(CLEAN, 0.3, 8)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.changed, b.changed)
    assert not np.array_equal(a.changed, c.changed)


def test_empty_scores():
    for res in (gaussian([], 1.0), outliers([], 0.5)):
        assert len(res.scores) == 0 and len(res.changed) == 0


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), -float("inf"), "x", None])
def test_gaussian_bad_scale(bad):
    with pytest.raises(BadInputError) as exc:
        gaussian(CLEAN, bad)
    msg = _one_line(exc)
    assert "scale" in msg and repr(bad) in msg


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "x", None])
def test_outliers_bad_fraction(bad):
    with pytest.raises(BadInputError) as exc:
        outliers(CLEAN, bad)
    msg = _one_line(exc)
    assert "fraction" in msg and repr(bad) in msg


@pytest.mark.parametrize("fn, level", [(gaussian, 0.5), (outliers, 0.5)])
@pytest.mark.parametrize(
    "scores, needle",
    [
        ([[1.0, 2.0], [3.0, 4.0]], "one-dimensional"),
        ([1.0, float("nan"), 2.0], "finite"),
        ([1.0, float("inf")], "finite"),
        (["a", "b"], "numeric"),
    ],
)
def test_bad_scores(fn, level, scores, needle):
    with pytest.raises(BadInputError, match=needle) as exc:
        fn(scores, level)
    _one_line(exc)


# --------------------------------------------------------------------------- dispatch


def test_score_noise_types():
    assert SCORE_NOISE_TYPES == ("gaussian", "outliers", "read_depth")
    for name in ("SCORE_NOISE_TYPES", "ScoreNoiseResult", "apply_score_noise", "gaussian",
                 "outliers"):  # fmt: skip
        assert name in noise_module.__all__


def test_apply_score_noise_gaussian_and_outliers_act_on_targets():
    reg = as_regression(count_dataset())
    res = apply_score_noise(reg, "gaussian", 0.4, seed=3)
    np.testing.assert_array_equal(res.clean, reg.targets)
    np.testing.assert_array_equal(res.scores, gaussian(reg.targets, 0.4, seed=3).scores)
    res = apply_score_noise(reg, "outliers", 0.2, seed=3)
    np.testing.assert_array_equal(res.scores, outliers(reg.targets, 0.2, seed=3).scores)
    assert res.n_changed == round(0.2 * len(reg))


def test_apply_score_noise_names_are_forgiving():
    reg = as_regression(count_dataset())
    a = apply_score_noise(reg, " Gaussian ", 0.4, seed=1)
    b = apply_score_noise(reg, "gaussian", 0.4, seed=1)
    np.testing.assert_array_equal(a.scores, b.scores)
    c = apply_score_noise(reg, "READ-DEPTH", 0.3, seed=1)
    d = apply_score_noise(reg, "read_depth", 0.3, seed=1)
    np.testing.assert_array_equal(c.scores, d.scores)


def test_apply_score_noise_read_depth_is_thinned_fitness_as_targets():
    base = count_dataset()
    reg = as_regression(base)
    assert reg.extra["score_transform"]["transform"] == "log10"
    res = apply_score_noise(reg, "read_depth", 0.2, seed=4)
    thinned = apply_noise(reg, "read_depth", 0.2, seed=4).scores
    expected = targets_of(reg, thinned)
    np.testing.assert_allclose(res.scores, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.changed, res.scores != reg.targets)
    np.testing.assert_array_equal(res.clean, reg.targets)
    assert res.fraction_changed > 0.9  # the wild type is thinned too: almost every row moves
    # zero fitness is floored, not -inf
    assert np.isfinite(res.scores).all()
    assert res.scores.min() >= np.log10(reg.extra["score_transform"]["floor"])


def test_apply_score_noise_read_depth_fraction_one_changes_nothing():
    for digits in (None, 5):  # exact scores, and rounded ones as a file stores them
        reg = as_regression(count_dataset(digits=digits))
        res = apply_score_noise(reg, "read_depth", 1.0, seed=11)
        np.testing.assert_array_equal(res.scores, reg.targets)
        assert not res.changed.any()


def test_apply_score_noise_read_depth_deterministic_and_seed_dependent():
    reg = as_regression(count_dataset())
    a = apply_score_noise(reg, "read_depth", 0.3, seed=5)
    b = apply_score_noise(reg, "read_depth", 0.3, seed=5)
    c = apply_score_noise(reg, "read_depth", 0.3, seed=6)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.array_equal(a.scores, c.scores)


def test_apply_score_noise_read_depth_no_transform():
    reg = as_regression(count_dataset(), transform="none")
    res = apply_score_noise(reg, "read_depth", 0.5, seed=0)
    thinned = apply_noise(reg, "read_depth", 0.5, seed=0).scores
    np.testing.assert_allclose(res.scores, thinned, rtol=1e-12, atol=0)


def test_apply_score_noise_lower_fraction_moves_more():
    reg = as_regression(count_dataset(n=400))
    moved = [
        np.mean([apply_score_noise(reg, "read_depth", f, seed=s).moved.mean() for s in range(5)])
        for f in (0.9, 0.5, 0.1)
    ]
    assert moved[0] < moved[1] < moved[2]


def test_apply_score_noise_unknown_type():
    reg = as_regression(count_dataset())
    with pytest.raises(BadInputError) as exc:
        apply_score_noise(reg, "symmetric", 0.1)
    msg = _one_line(exc)
    assert "'symmetric'" in msg
    assert all(name in msg for name in SCORE_NOISE_TYPES)


def test_apply_score_noise_needs_a_regression_dataset():
    with pytest.raises(BadInputError) as exc:
        apply_score_noise(count_dataset(), "gaussian", 0.1)
    assert "--task regression" in _one_line(exc)


def test_apply_score_noise_read_depth_needs_counts():
    base = count_dataset()
    base.counts = None
    reg = as_regression(base)
    with pytest.raises(BadInputError, match="read counts") as exc:
        apply_score_noise(reg, "read_depth", 0.5)
    _one_line(exc)
    # the other types do not need counts
    assert apply_score_noise(reg, "outliers", 0.5).n_changed == round(0.5 * len(reg))


@pytest.mark.parametrize(
    "kind, level, needle",
    [
        ("gaussian", -1.0, "scale"),
        ("gaussian", float("nan"), "scale"),
        ("outliers", 1.5, "fraction"),
        ("read_depth", -0.5, "fraction"),
        ("read_depth", 2.0, "fraction"),
        ("read_depth", "half", "fraction"),
    ],
)
def test_apply_score_noise_bad_levels(kind, level, needle):
    reg = as_regression(count_dataset())
    with pytest.raises(BadInputError, match=needle) as exc:
        apply_score_noise(reg, kind, level)
    _one_line(exc)
