"""Encoding (the one place sequences are encoded) and splits (the one place data are split)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from badlabels.data import AMINO_ACIDS, Split, encode, load_data, one_hot_flat, split_indices
from badlabels.errors import BadInputError


def decode(tokens, lengths, alphabet=AMINO_ACIDS):
    return [
        "".join(alphabet[t - 1] for t in row[:n]) for row, n in zip(tokens, lengths, strict=True)
    ]


# ---------------------------------------------------------------------------------------
# encode


def test_encode_tokens_and_padding():
    tokens, lengths = encode(["ACD", "Y", ""])
    assert tokens.dtype == np.int64 and lengths.dtype == np.int64
    assert tokens.tolist() == [[1, 2, 3], [20, 0, 0], [0, 0, 0]]
    assert lengths.tolist() == [3, 1, 0]


def test_encode_accepts_arrays_series_and_lowercase():
    import pandas as pd

    expected = encode(["ACD", "EFG"])[0]
    for seqs in (
        np.array(["ACD", "EFG"]),
        np.array(["ACD", "EFG"], dtype=object),
        pd.Series(["ACD", "EFG"]),
        ("acd", "efg"),
    ):
        np.testing.assert_array_equal(encode(seqs)[0], expected)
    assert encode("ACD")[0].shape == (1, 3)
    tokens, lengths = encode([])
    assert tokens.shape == (0, 0) and lengths.shape == (0,)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=AMINO_ACIDS, max_size=30), max_size=20))
def test_encode_round_trip_variable_lengths(seqs):
    tokens, lengths = encode(seqs)
    assert tokens.shape == (len(seqs), max((len(s) for s in seqs), default=0))
    assert lengths.tolist() == [len(s) for s in seqs]
    assert decode(tokens, lengths) == seqs
    mask = np.arange(tokens.shape[1]) >= lengths[:, None]
    assert (tokens[mask] == 0).all() and (tokens[~mask] > 0).all()


def test_encode_custom_alphabet_and_stop():
    tokens, _ = encode(["AC*"], AMINO_ACIDS + "*")
    assert tokens.tolist() == [[1, 2, 21]]
    assert encode(["BAB"], "AB")[0].tolist() == [[2, 1, 2]]


@pytest.mark.parametrize(
    "seqs,needle",
    [
        (["ACD", "AXD"], "'X'"),
        (["AC*"], "--allow-stop"),
        (["ACé"], "'é'"),
        (["AC", None], "not a string"),
        (["A\x00C"], "NUL"),
    ],
)
def test_encode_rejects_bad_input(seqs, needle):
    with pytest.raises(BadInputError) as info:
        encode(seqs)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_encode_is_fast():
    rng = np.random.default_rng(0)
    letters = np.frombuffer(AMINO_ACIDS.encode(), dtype="S1")
    seqs = letters[rng.integers(0, 20, size=(250_000, 12))].view("S12").ravel()
    seqs = seqs.astype("U12").tolist()
    elapsed = float("inf")
    for _ in range(2):  # best of two, against a noisy shared machine
        start = time.perf_counter()
        tokens, lengths = encode(seqs)
        elapsed = min(elapsed, time.perf_counter() - start)
    assert tokens.shape == (250_000, 12) and (lengths == 12).all()
    assert elapsed < 0.5, f"encoding 250,000 12-mers took {elapsed:.2f} s"


# ---------------------------------------------------------------------------------------
# one_hot_flat


def test_one_hot_flat_layout_and_padding():
    x = one_hot_flat(["AC", "Y"], AMINO_ACIDS)
    assert x.dtype == np.float32 and x.shape == (2, 2 * 20)
    assert x[0, 0] == 1 and x[0, 20 + 1] == 1 and x[0].sum() == 2
    assert x[1, 19] == 1 and x[1].sum() == 1 and not x[1, 20:].any()
    x = one_hot_flat(["AC"], length=4)
    assert x.shape == (1, 80) and x.sum() == 2
    with pytest.raises(BadInputError, match="longer than"):
        one_hot_flat(["ACDEF"], length=4)
    with pytest.raises(BadInputError, match="'B'"):
        one_hot_flat(["AB"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(alphabet=AMINO_ACIDS, min_size=1, max_size=10), min_size=1, max_size=10))
def test_one_hot_flat_matches_tokens(seqs):
    tokens, lengths = encode(seqs)
    x = one_hot_flat(seqs).reshape(len(seqs), tokens.shape[1], 20)
    assert (x.sum(axis=2) == (tokens > 0)).all()
    rows, pos = np.nonzero(tokens)
    assert (x[rows, pos, tokens[rows, pos] - 1] == 1).all()


# ---------------------------------------------------------------------------------------
# splits


def test_split_sizes_cover_and_disjoint():
    s = split_indices(1000)
    assert isinstance(s, Split)
    assert s.sizes == (800, 100, 100)
    allidx = np.concatenate([s.train, s.val, s.test])
    assert sorted(allidx.tolist()) == list(range(1000))
    for part in s:
        assert part.dtype == np.int64
        assert (np.diff(part) > 0).all()  # sorted, no repeats
    train, val, test = s
    assert not set(train) & set(test) and not set(val) & set(test) and not set(train) & set(val)


def test_split_is_deterministic_and_seeded():
    a, b = split_indices(500, seed=7), split_indices(500, seed=7)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = split_indices(500, seed=8)
    assert not np.array_equal(a.test, c.test)
    # the test set does not depend on the validation fraction
    d = split_indices(500, (0.7, 0.2, 0.1), seed=7)
    np.testing.assert_array_equal(a.test, d.test)
    with pytest.raises(AttributeError):
        a.train = np.arange(3)  # frozen


@settings(max_examples=50, deadline=None)
@given(
    st.integers(10, 400),
    st.sampled_from(
        [(0.8, 0.1, 0.1), (0.6, 0.2, 0.2), (0.98, 0.01, 0.01), (0.5, 0.0, 0.5), (0.0, 0.5, 0.5)]
    ),
)
def test_split_test_nonempty_for_n_ge_10(n, fractions):
    s = split_indices(n, fractions, seed=1)
    assert len(s.test) >= 1
    assert sum(s.sizes) == n
    if fractions[1] > 0:
        assert len(s.val) >= 1
    if fractions[0] > 0:
        assert len(s.train) >= 1


def test_split_small_and_invalid():
    assert split_indices(0).sizes == (0, 0, 0)
    assert sum(split_indices(3).sizes) == 3
    for fractions in [
        (0.5, 0.5, 0.5),
        (0.8, 0.3, -0.1),
        (0.5, 0.5),
        (1.0, 0.0, 0.0),
        (float("nan"), 0.5, 0.5),
        "abc",
    ]:
        with pytest.raises(BadInputError):
            split_indices(100, fractions)
    with pytest.raises(BadInputError):
        split_indices(-1)


def test_no_sequence_in_two_splits(tmp_path):
    rng = np.random.default_rng(0)
    letters = np.array(list(AMINO_ACIDS))
    seqs = ["".join(r) for r in letters[rng.integers(0, 4, size=(400, 3))]]  # many repeats
    labels = [len(s) % 2 if s < "C" else 1 - (s.count("A") % 2) for s in seqs]
    lines = ["sequence,label"] + [f"{s},{lab}" for s, lab in zip(seqs, labels, strict=True)]
    path = tmp_path / "dups.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = load_data(path, on_conflict="drop")
    assert len(ds) < len(seqs)
    s = split_indices(len(ds), seed=3)
    parts = [set(ds.sequences[idx].tolist()) for idx in s]
    assert sum(len(p) for p in parts) == len(ds)
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
