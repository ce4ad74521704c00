"""The one out-of-fold loop: stratified, shuffled folds, each held-out part predicted by a model
that never saw it.

Used by :func:`badlabels.methods.estimate.out_of_fold_proba` (the one out-of-fold routine,
also :func:`badlabels.audit.out_of_fold_proba`, which checks the arguments: folds, repeats,
labels) and by :mod:`badlabels.methods.stacked_folds` (the same folds, trained stacked).
This module checks nothing and imports nothing from badlabels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np


def stratified_folds(
    y: np.ndarray, n_folds: int, seed: int, repeats: int = 1, given: np.ndarray | None = None
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """``(repeat, fold, train_idx, held_idx)``, 0-based.

    Repeat ``r`` cuts ``n_folds`` stratified folds shuffled with ``random_state=seed + r``
    (:class:`sklearn.model_selection.StratifiedKFold`). With ``given`` (each row's fold,
    0..k-1, shape (n,): folds that came with the data, e.g. ProteinGym's ``fold_random_5``)
    those folds are used instead, once (``n_folds``, ``seed`` and ``repeats`` are ignored).
    """
    if given is not None:
        given = np.asarray(given)
        for k in np.unique(given):
            held = np.flatnonzero(given == k)
            yield 0, int(k), np.flatnonzero(given != k), held
        return
    from sklearn.model_selection import StratifiedKFold

    for r in range(repeats):
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed + r)
        for k, (train_idx, held_idx) in enumerate(splitter.split(np.zeros(len(y)), y)):
            yield r, k, train_idx, held_idx


def out_of_fold(
    y: np.ndarray,
    fit_predict: Callable[[int, int, np.ndarray, np.ndarray], np.ndarray],
    *,
    n_folds: int,
    seed: int,
    repeats: int = 1,
    given: np.ndarray | None = None,
) -> np.ndarray:
    """Out-of-fold class probabilities, averaged over ``repeats``.

    Parameters
    ----------
    y : ndarray of {0, 1}, shape (n,)
        Labels the folds are stratified on.
    fit_predict : callable
        ``fit_predict(repeat, fold, train_idx, held_idx)``: fit a fresh model on
        ``train_idx`` and return its probabilities for ``held_idx``, shape
        ``(len(held_idx), 2)``.
    n_folds, seed, repeats : int
        See :func:`stratified_folds`.
    given : ndarray of int, shape (n,), optional
        Folds given with the data (:func:`stratified_folds`); then ``repeats`` must be 1.

    Returns
    -------
    ndarray of float64, shape (n, 2)
        Each row is held out once per repeat; the mean of its ``repeats`` predictions.
    """
    total = np.zeros((len(y), 2), dtype=np.float64)
    for r, k, train_idx, held_idx in stratified_folds(y, n_folds, seed, repeats, given):
        total[held_idx] += fit_predict(r, k, train_idx, held_idx)
    return total / repeats


__all__ = ["out_of_fold", "stratified_folds"]
