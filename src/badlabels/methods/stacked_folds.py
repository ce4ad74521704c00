"""Cross-validation folds trained as one stacked computation (the audit's ``engine``).

Every fold of every repeat is an ``LSTMClassifier`` of the same schedule on other rows, so
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
    import torch

    from badlabels.data.encoding import AMINO_ACIDS, encode
    from badlabels.engine.stacked import fit_stacked, predict_stacked_rows
    from badlabels.engine.stacked.precision import requested_precision
    from badlabels.engine.trainer import resolve_device, to_device_data
    from badlabels.errors import BadInputError
    from badlabels.methods.stacking import max_k
    from badlabels.models.base import proba_from_p1, seed_from

    splits = list(stratified_folds(y, n_folds, seed, repeats, given))
    ests = [make_estimator(r, k) for r, k, _, _ in splits]
    key = stackable(ests)
    if key is None:
        return None
    dev = resolve_device(device)
    precision = requested_precision()

    alphabet = AMINO_ACIDS if key.alphabet is None else key.alphabet
    tokens, lengths = encode(seqs, alphabet)
    if len(lengths) and lengths.min() == 0:
        raise BadInputError(f"sequence at index {int(np.argmin(lengths))} is empty")
    data = to_device_data(tokens, lengths, device=dev)
    y_all = torch.as_tensor(y, dtype=torch.float32, device=dev)

    total = np.zeros((len(y), 2), dtype=np.float64)
    records: list[dict] = []
    limit = max_k(device)
    for first in range(0, len(splits), limit):
        unit = list(range(first, min(first + limit, len(splits))))
        t0 = time.perf_counter()
        fit_rows, val_rows = zip(*(_inner_split(splits[i][2], ests[i]) for i in unit), strict=True)
        where = [
            {"repeat": splits[i][0] + 1, "repeats": repeats, "fold": splits[i][1] + 1} for i in unit
        ]
        if progress is not None:
            for i, w in zip(unit, where, strict=True):
                progress("fold_start", n_folds=n_folds, n_train=len(splits[i][2]),
                         stacked=len(unit), **w)  # fmt: skip

        def on_event(event, model=None, _where=where, **info):
            if progress is None:
                return
            if event == "model_done":
                progress("fold_end", n_folds=n_folds, stacked=len(_where), **_where[model], **info)
            else:
                progress(event, n_folds=n_folds, stacked=len(_where), **_where[model], **info)

        has_val = all(len(r) for r in val_rows)
        result = fit_stacked(
            data.tokens,
            data.lengths,
            y_all.unsqueeze(0).expand(len(unit), -1),
            seeds=[seed_from(ests[i].random_state) for i in unit],
            val_tokens=data.tokens if has_val else None,
            val_lengths=data.lengths if has_val else None,
            val_y=y_all.unsqueeze(0).expand(len(unit), -1) if has_val else None,
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
        held = [torch.as_tensor(splits[i][3], device=dev) for i in unit]
        logits = predict_stacked_rows(result.module, data.tokens, data.lengths, held)
        seconds = time.perf_counter() - t0
        epochs = max(sum(result.epochs_run), 1)
        for pos, i in enumerate(unit):
            p1 = torch.sigmoid(logits[pos].double()).cpu().numpy()
            total[splits[i][3]] += proba_from_p1(p1)
            records.append({
                **where[pos],
                "n_train": int(len(splits[i][2])),
                "n_heldout": int(len(splits[i][3])),
                "epochs_run": int(result.epochs_run[pos]),
                "best_epoch": int(result.best_epoch[pos]),
                "seconds": float(seconds * result.epochs_run[pos] / epochs),
                "engine": "stacked",
            })  # fmt: skip
    return total / repeats, records


__all__ = ["out_of_fold_stacked", "stackable"]
