"""Cross-validation folds trained as one stacked computation (the audit's ``engine``).

Every fold of every repeat is an ``LSTMClassifier`` (or ``LSTMRegressor``: the score audit)
of the same schedule on other rows, so
up to :func:`~badlabels.methods.stacking.max_k` of them train together with
:func:`~badlabels.engine.stacked.fit_stacked` (``rows`` / ``val_rows``): the sequences are
encoded once, and each fold model keeps its own seed, inner validation split, batches and
early stopping, as the plain estimator would (tests/test_stacked.py checks this to
rounding in float32).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from badlabels.methods.folds import stratified_folds


def stackable(estimators):
    """The shared :class:`~badlabels.methods.stacking.StackKey` if every estimator can
    train stacked with the others, else None."""
    from badlabels.methods.stacking import stack_spec

    specs = [stack_spec(est) for est in estimators]
    if len(specs) < 2 or any(s is None for s in specs) or len({s[0] for s in specs}) > 1:
        return None
    return specs[0][0]


def _inner_split(train_idx: np.ndarray, est) -> tuple[np.ndarray, np.ndarray]:
    """``(fit rows, validation rows)``: the split ``est.fit`` makes of ``train_idx``."""
    from badlabels.models.base import seed_from, validation_split

    fit, val = validation_split(
        len(train_idx), est.validation_fraction, seed_from(est.random_state)
    )
    return train_idx[fit], train_idx[val]


def out_of_fold_stacked(
    seqs: np.ndarray,
    y: np.ndarray,
    make_estimator: Callable[[int, int], object],
    *,
    n_folds: int,
    seed: int,
    repeats: int,
    device: str = "auto",
    progress: Callable[..., object] | None = None,
    given: np.ndarray | None = None,
) -> tuple[np.ndarray, list[dict]] | None:
    """Out-of-fold probabilities as :func:`badlabels.audit.out_of_fold_proba` makes them,
    with the fold models trained stacked; ``None`` if they cannot be (not all plain LSTMs
    of one schedule, or a single model).

    ``make_estimator(repeat, fold)`` builds fold ``fold`` of repeat ``repeat`` (0-based);
    ``given``: folds that came with the data (:func:`~badlabels.methods.folds.stratified_folds`).
    """
    splits = list(stratified_folds(y, n_folds, seed, repeats, given))
    ests = [make_estimator(r, k) for r, k, _, _ in splits]
    where = [{"repeat": r + 1, "repeats": repeats, "fold": k + 1} for r, k, _, _ in splits]
    out = fit_predict_stacked(
        seqs, [y] * len(splits), [s[2] for s in splits], [s[3] for s in splits], ests,
        device=device, progress=progress, where=where, n_folds=n_folds,
    )  # fmt: skip
    if out is None:
        return None
    held_p1, records = out
    total = np.zeros((len(y), 2), dtype=np.float64)
    from badlabels.models.base import proba_from_p1

    for (_, _, _, held), p1 in zip(splits, held_p1, strict=True):
        total[held] += proba_from_p1(p1)
    return total / repeats, records


def fit_predict_stacked(
    seqs: np.ndarray,
    labels: list[np.ndarray],
    train_rows: list[np.ndarray],
    held_rows: list[np.ndarray],
    ests: list,
    *,
    device: str = "auto",
    progress: Callable[..., object] | None = None,
    where: list[dict] | None = None,
    n_folds: int | None = None,
    on_unit: Callable[[list[int], list[np.ndarray], list[dict]], object] | None = None,
) -> tuple[list[np.ndarray], list[dict]] | None:
    """Fit job ``j`` on ``seqs[train_rows[j]]`` with ``labels[j][train_rows[j]]`` and predict
    ``seqs[held_rows[j]]``, the jobs trained stacked; ``None`` if they cannot be.

    Each job's estimator ``ests[j]`` (unfitted, seeded) gives its seed, inner validation
    split, loss and schedule, so a job trains as ``ests[j].fit(seqs[train_rows[j]],
    labels[j][train_rows[j]])`` would (to rounding; jobs of unequal sizes top up the shorter
    ones' epochs, see :func:`~badlabels.engine.stacked.fit_stacked`: stack equal sizes).

    Parameters
    ----------
    seqs : ndarray of str, shape (n,)
    labels : list of J ndarrays of {0, 1} (regressors: float scores), shape (n,) each
        Job ``j``'s labels of every row (only its training rows are read).
    train_rows, held_rows : list of J int ndarrays
    ests : list of J unfitted estimators
    device : str
    progress : callable, optional
        ``progress("fold_start" | "epoch" | "fold_end", stacked=, **where[j], ...)``.
    where : list of J dicts, optional
        What each job's progress events carry (default ``{"fold": j + 1}``).
    n_folds : int, optional
        Carried by the progress events as ``n_folds`` (default J).
    on_unit : callable, optional
        ``on_unit(jobs, held_p1, records)`` once each stacked unit (at most
        :func:`~badlabels.methods.stacking.max_k` jobs) has finished, e.g. to store them.

    Returns
    -------
    held_p1 : list of J float64 ndarrays
        P(label = 1) of each job's held rows; for ``LSTMRegressor`` jobs, their predicted
        scores in the units of ``labels``.
    records : list of J dicts
        ``n_train``, ``n_heldout``, ``epochs_run``, ``best_epoch``, ``seconds`` (the unit's
        wall time shared out by epochs run), ``engine`` and the job's ``where``.
    """
    import torch

    from badlabels.data.encoding import AMINO_ACIDS, encode
    from badlabels.engine.stacked import fit_stacked, predict_stacked_rows
    from badlabels.engine.stacked.precision import requested_precision
    from badlabels.engine.trainer import resolve_device, to_device_data
    from badlabels.errors import BadInputError
    from badlabels.methods.stacking import max_k
    from badlabels.models.base import seed_from

    key = stackable(ests)
    if key is None:
        return None
    n_jobs = len(ests)
    where = where if where is not None else [{"fold": j + 1} for j in range(n_jobs)]
    n_folds = n_jobs if n_folds is None else n_folds
    dev = resolve_device(device)
    precision = requested_precision()

    alphabet = AMINO_ACIDS if key.alphabet is None else key.alphabet
    tokens, lengths = encode(seqs, alphabet)
    if len(lengths) and lengths.min() == 0:
        raise BadInputError(f"sequence at index {int(np.argmin(lengths))} is empty")
    data = to_device_data(tokens, lengths, device=dev)
    units_of: list[tuple[float, float]] | None = None
    if key.task == "regression":  # each job learns its training scores standardised, as fit does
        from badlabels.models.regression import standardise_targets

        units_of, z_jobs = [], []
        for j in range(n_jobs):
            scores = np.asarray(labels[j], dtype=np.float64)
            _, mean, sd = standardise_targets(scores[train_rows[j]])
            z_jobs.append((scores - mean) / sd)
            units_of.append((mean, sd))
        labels = z_jobs
    same = all(lab is labels[0] for lab in labels)
    y_jobs = [torch.as_tensor(labels[0] if same else lab, dtype=torch.float32, device=dev)
              for lab in ([labels[0]] if same else labels)]  # fmt: skip

    held_p1: list[np.ndarray | None] = [None] * n_jobs
    records: list[dict | None] = [None] * n_jobs
    limit = max_k(device)
    for first in range(0, n_jobs, limit):
        unit = list(range(first, min(first + limit, n_jobs)))
        t0 = time.perf_counter()
        fit_rows, val_rows = zip(*(_inner_split(train_rows[i], ests[i]) for i in unit), strict=True)
        here = [where[i] for i in unit]
        if progress is not None:
            for i, w in zip(unit, here, strict=True):
                progress("fold_start", n_folds=n_folds, n_train=len(train_rows[i]),
                         stacked=len(unit), **w)  # fmt: skip

        def on_event(event, model=None, _where=here, **info):
            if progress is None:
                return
            if event == "model_done":
                progress("fold_end", n_folds=n_folds, stacked=len(_where), **_where[model], **info)
            else:
                progress(event, n_folds=n_folds, stacked=len(_where), **_where[model], **info)

        if same:
            y_unit = y_jobs[0].unsqueeze(0).expand(len(unit), -1)
        else:
            y_unit = torch.stack([y_jobs[i] for i in unit])
        has_val = all(len(r) for r in val_rows)
        result = fit_stacked(
            data.tokens,
            data.lengths,
            y_unit,
            seeds=[seed_from(ests[i].random_state) for i in unit],
            val_tokens=data.tokens if has_val else None,
            val_lengths=data.lengths if has_val else None,
            val_y=y_unit if has_val else None,
            rows=[torch.as_tensor(r, device=dev) for r in fit_rows],
            val_rows=[torch.as_tensor(r, device=dev) for r in val_rows] if has_val else None,
            n_tokens=len(alphabet) + 1,
            hidden_sizes=key.hidden_sizes,
            input_map=key.input_map(),
            losses=[(ests[i].loss, ests[i].loss_params) for i in unit],
            schedule=key.schedule,
            precision=precision,
            progress=on_event,
        )
        held = [torch.as_tensor(held_rows[i], device=dev) for i in unit]
        logits = predict_stacked_rows(result.module, data.tokens, data.lengths, held)
        seconds = time.perf_counter() - t0
        epochs = max(sum(result.epochs_run), 1)
        for pos, i in enumerate(unit):
            if units_of is None:
                held_p1[i] = torch.sigmoid(logits[pos].double()).cpu().numpy()
            else:
                mean, sd = units_of[i]
                held_p1[i] = logits[pos].double().cpu().numpy() * sd + mean
            records[i] = {
                **where[i],
                "n_train": int(len(train_rows[i])),
                "n_heldout": int(len(held_rows[i])),
                "epochs_run": int(result.epochs_run[pos]),
                "best_epoch": int(result.best_epoch[pos]),
                "seconds": float(seconds * result.epochs_run[pos] / epochs),
                "engine": "stacked",
            }
        if on_unit is not None:
            on_unit(unit, [held_p1[i] for i in unit], [records[i] for i in unit])
    return held_p1, records


__all__ = ["fit_predict_stacked", "out_of_fold_stacked", "stackable"]
