"""Train/validation/test index splits: the ONE place that splits.

Assumptions
-----------
- Rows are independent items (a ``Dataset`` holds each sequence once), so a random split of
  row indices never puts one sequence in two parts.
- The split is a random permutation from ``np.random.default_rng(seed)``: the same ``n``,
  ``fractions`` and ``seed`` always give the same split. The test part is taken first, so
  for a fixed seed and test fraction the test set does not change with the validation fraction.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from badlabels.errors import BadInputError

_MIN_N_FOR_NONEMPTY = 10
MIN_ROWS_TO_SPLIT = _MIN_N_FOR_NONEMPTY
"""Fewest rows :func:`split_indices` gives every part (with a positive fraction) a row for."""


@dataclass(frozen=True)
class Split:
    """Row indices of the three parts of a split.

    Attributes
    ----------
    train, val, test : ndarray of int64
        Sorted, disjoint indices that together cover ``range(n)``.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __iter__(self) -> Iterator[np.ndarray]:
        """Unpack as ``train, val, test = split``."""
        return iter((self.train, self.val, self.test))

    @property
    def sizes(self) -> tuple[int, int, int]:
        """The number of rows in train, val and test."""
        return len(self.train), len(self.val), len(self.test)


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    try:
        fr = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise BadInputError(
            f"split fractions must be three numbers (train, val, test), got {fractions!r}"
        ) from None
    if len(fr) != 3:
        raise BadInputError(
            f"split fractions must be three numbers (train, val, test), got {len(fr)}: {fr}"
        )
    if any(not math.isfinite(f) or f < 0 for f in fr):
        raise BadInputError(f"split fractions must each be >= 0, got {fr}")
    if abs(sum(fr) - 1.0) > 1e-6:
        raise BadInputError(f"split fractions must sum to 1, got {fr} (sum {sum(fr):g})")
    return fr  # type: ignore[return-value]


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def check_splittable(n: int, *, source: str | None = None) -> None:
    """Raise a one-line BadInputError when ``n`` rows are too few for a train/validation/test split.

    Parameters
    ----------
    n : int
        Number of rows (unique sequences) to split.
    source : str, optional
        The file the rows came from, named in the message.
    """
    if n < MIN_ROWS_TO_SPLIT:
        raise BadInputError(
            f"{n} row(s) are too few to split into train, validation and test parts: the split "
            f"needs at least {MIN_ROWS_TO_SPLIT} (one row in each part), and a test AUROC worth "
            "reading needs hundreds",
            file=source,
        )


def split_indices(n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> Split:
    """Split ``range(n)`` at random into train, validation and test indices.

    Parameters
    ----------
    n : int
        Number of rows.
    fractions : (float, float, float), default (0.8, 0.1, 0.1)
        Fractions of train, validation and test; each >= 0, summing to 1. Part sizes are
        rounded (half up) for validation and test; train gets the rest. When ``n >= 10``
        a part with a positive fraction gets at least one row, and the test fraction must
        be positive.
    seed : int, default 0
        Seed of ``np.random.default_rng``; the split is deterministic given the seed.

    Returns
    -------
    Split
        ``train``, ``val``, ``test``: sorted int64 index arrays, disjoint, covering ``range(n)``.

    Raises
    ------
    BadInputError
        If ``n`` is negative or the fractions are invalid.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise BadInputError(f"number of rows to split must be an integer >= 0, got {n!r}")
    n = int(n)
    f_train, f_val, f_test = _check_fractions(fractions)
    if n >= _MIN_N_FOR_NONEMPTY and f_test == 0:
        raise BadInputError(
            f"the test fraction must be positive (fractions {fractions!r}); "
            "a held-out test set is needed to measure performance"
        )
    n_test = min(n, _round_half_up(f_test * n))
    n_val = min(n - n_test, _round_half_up(f_val * n))
    if n >= _MIN_N_FOR_NONEMPTY:
        if n_test == 0:
            n_test = 1
        if f_val > 0 and n_val == 0:
            n_val = 1
        if f_train > 0 and n - n_test - n_val == 0:
            # give train one row back from the larger of the other two
            if n_val > n_test:
                n_val -= 1
            else:
                n_test -= 1
    perm = np.random.default_rng(seed).permutation(n).astype(np.int64)
    test = np.sort(perm[:n_test])
    val = np.sort(perm[n_test : n_test + n_val])
    train = np.sort(perm[n_test + n_val :])
    return Split(train=train, val=val, test=test)
