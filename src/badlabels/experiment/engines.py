"""Training engines: how a unit of cells is trained.

The runner groups cells into *units* (:func:`plan_units`) and hands each unit to
:func:`run_unit`, which returns one record per cell, in the unit's order.

``plain``
    One cell at a time with PyTorch's own modules (:func:`~badlabels.experiment.
    runner_core.run_cell_plain`); a unit is a single cell.
``stacked``
    Up to ``max_k`` LSTM cells that share the data, the architecture and the training
    schedule are trained together as one batched computation
    (:mod:`badlabels.engine.stacked`): the sequences are encoded once and stay on the
    device, each cell keeps its own noisy labels, seed, loss and early stopping. Records
    are made by the same functions as plain ones (:func:`~badlabels.experiment.runner_core.
    corrupt_part`, :func:`~badlabels.experiment.runner_core.score_cell`) and differ only
    in ``engine="stacked"``, ``train_seconds`` (the unit's wall time shared out by epochs
    run) and floating-point rounding.
``auto`` (default)
    Stacked for every group of two or more compatible cells, plain otherwise. On a GPU and
    on 2 CPU cores alike the stacked engine is the faster one (docs/performance.md: about 2x
    per model-epoch on 2 cores; the alternative, plain models in two worker processes, is
    bounded by 1.15x there since PyTorch's LSTM already uses both cores).

Device, precision and unit size come from one :class:`~badlabels.experiment.settings.
RunSettings`, resolved once per experiment and passed whole. Precision of the stacked engine:
``auto`` (TF32 products on CUDA; bfloat16 recurrent products on CPUs with native bfloat16,
float32 otherwise), or ``fp32`` / ``tf32`` / ``bf16`` through the environment variable
``BADLABELS_PRECISION`` (:data:`badlabels.engine.stacked.PRECISIONS`). Every record says
the ``device`` and ``precision`` it ran at.

Which cells can be stacked: model ``lstm`` with a method whose estimator is an
``LSTMClassifier`` (every loss-based method: ``bce``, ``label_smoothing``, ``gce``, ``sce``,
``bootstrap``, ``bootstrap_hard``, ``forward`` with a given matrix, ``large_batch``) or, on
continuous scores, an ``LSTMRegressor`` (``mse``, ``huber``, ``student_t``: each cell's
noisy scores standardised as its ``fit`` would, predictions put back in the score's units), on
the same data and split, with the same hidden sizes, batch size, learning rate, weight
decay, epochs and patience. Wrapper methods (``coteaching``, ``cleanlab_filter``, estimated
``forward``, lists of hyper-parameters) and other models always run plain.

Assumption (as for every backend): a cell's result depends only on the cell. A stacked
model starts from the weights, and draws the batches, that ``LSTMClassifier(random_state=
seed)`` would, so it does not depend on which cells share its unit.
"""

from __future__ import annotations

import time

import numpy as np

from badlabels.errors import BadInputError
from badlabels.experiment.grid import Cell
from badlabels.experiment.runner_core import (
    Prepared,
    Progress,
    corrupt_part,
    run_cell_plain,
    score_cell,
    score_cell_regression,
)
from badlabels.experiment.settings import RunSettings
from badlabels.methods.regression import REGRESSION_METHODS, weights_kind
from badlabels.methods.stacking import (  # noqa: F401  (re-exported: the engine's vocabulary)
    ENGINES,
    MAX_K,
    StackKey,
    check_engine,
    max_k,
    stack_spec,
)


def _settings(settings: RunSettings | None) -> RunSettings:
    """``settings`` resolved on this machine (the defaults where None)."""
    return (settings or RunSettings.resolve()).here()


def _estimator(cell: Cell, noise_rate_hint: float | None, device: str = "auto"):
    """The estimator the plain engine would build for ``cell`` (unfitted)."""
    from badlabels.methods.registry import build_estimator

    if cell.method in REGRESSION_METHODS:
        from badlabels.methods.regression import build_regressor

        return build_regressor(cell.model, cell.method, model_params=cell.estimator_params(device),
                               method_params=dict(cell.method_params))  # fmt: skip
    return build_estimator(
        cell.model,
        cell.method,
        model_params=cell.estimator_params(device),
        method_params=dict(cell.method_params),
        noise_rate_hint=noise_rate_hint,
    )


def _cell_key(cell: Cell) -> tuple | None:
    """What cells of one stacked unit share (None: this cell runs plain)."""
    if cell.model != "lstm":
        return None
    if cell.method in REGRESSION_METHODS and weights_kind(cell.method, dict(cell.method_params)) != "none":
        return None  # weighted regression cells train plain (the stacked engine has no weights)
    try:
        # The hint only feeds methods that use it; the real one is passed in run_unit.
        spec = stack_spec(_estimator(cell, noise_rate_hint=None))
    except Exception:  # e.g. a method that needs the hint: let the plain path decide
        return None
    if spec is None:
        return None
    data = (cell.dataset, cell.data_fingerprint, tuple(cell.split), cell.split_seed)
    return data, spec[0]


def plan_units(cells: list[Cell], settings: RunSettings | None = None) -> list[list[Cell]]:
    """Group ``cells`` into units that are trained together.

    ``settings.engine`` ``plain``: one cell per unit. ``auto`` / ``stacked``: compatible LSTM
    cells (see the module docstring) in units of up to ``settings.max_k`` cells, in the order
    they come; a group of one cell, and every other cell, is a unit of its own. Units come in
    the order of their first cell.
    """
    settings = settings or RunSettings.resolve()
    if settings.engine == "plain":
        return [[c] for c in cells]
    limit = settings.max_k
    groups: dict[tuple, list[list[Cell]]] = {}
    order: list[tuple[str, object]] = []
    for c in cells:
        key = _cell_key(c)
        if key is None:
            order.append(("single", c))
            continue
        units = groups.get(key)
        if units is None:
            groups[key] = units = [[]]
            order.append(("group", key))
        if len(units[-1]) >= limit:
            units.append([])
        units[-1].append(c)
    out: list[list[Cell]] = []
    for kind, item in order:
        if kind == "single":
            out.append([item])
        else:
            out.extend(groups[item])
    return out


def run_unit(
    unit: list[Cell],
    prepared: Prepared,
    settings: RunSettings | None = None,
    *,
    progress: Progress | None = None,
) -> list[dict]:
    """Train and score every cell of ``unit``; one record per cell, in order.

    A unit of two or more cells runs stacked unless ``settings.engine`` is ``plain`` (a unit
    that :func:`plan_units` made can always be stacked), at ``settings.precision_resolved``
    (see :data:`badlabels.engine.stacked.PRECISIONS`). ``settings`` defaults to
    :meth:`RunSettings.resolve` (``auto`` everything); a device left ``auto`` for Ray
    workers is resolved here.
    """
    settings = _settings(settings)
    engine = settings.engine
    if engine == "plain" or len(unit) < 2 and engine == "auto" or not unit:
        return [run_cell_plain(c, prepared, settings.device, progress=progress) for c in unit]
    return run_unit_stacked(unit, prepared, settings, progress=progress)


def run_unit_stacked(
    unit: list[Cell],
    prepared: Prepared,
    settings: RunSettings | None = None,
    *,
    progress: Progress | None = None,
) -> list[dict]:
    """Train the cells of ``unit`` as one stacked computation and score each one.

    Cells that turn out not to be stackable with the first one (another schedule or
    architecture) are run plain, so any list of cells gives correct records.
    """
    import torch

    from badlabels.data.encoding import AMINO_ACIDS, encode
    from badlabels.engine.stacked import fit_stacked, predict_stacked
    from badlabels.engine.trainer import to_device_data

    t0 = time.perf_counter()
    settings = _settings(settings)
    device = settings.device
    dev = torch.device(device)
    precision = settings.precision_resolved

    regression = prepared.dataset.is_regression
    # Noisy labels (scores), estimators and losses, exactly as the plain engine makes them.
    noises, specs = [], []
    for cell in unit:
        train_noise = corrupt_part(prepared.train, cell, "train")
        val_noise = corrupt_part(prepared.val, cell, "val")
        hint = None if regression else float(val_noise.flipped.mean())
        est = _estimator(cell, hint, device=device)
        noises.append((train_noise, val_noise))
        specs.append(stack_spec(est))
    first = next((s for s in specs if s is not None), None)
    members = (
        [i for i, s in enumerate(specs) if s is not None and s[0] == first[0]] if first else []
    )
    if len(members) < 1:
        return [run_cell_plain(c, prepared, device, progress=progress) for c in unit]

    key: StackKey = first[0]
    alphabet = AMINO_ACIDS if key.alphabet is None else key.alphabet

    def encoded(part, what):
        tokens, lengths = encode(part.sequences, alphabet)
        if len(lengths) and lengths.min() == 0:
            raise BadInputError(f"{what}: sequence at index {int(np.argmin(lengths))} is empty")
        return to_device_data(tokens, lengths, device=dev)

    train = encoded(prepared.train, "training data")
    val = encoded(prepared.val, "validation data") if len(prepared.val) else None
    test = encoded(prepared.test, "test data")

    units: list[tuple[float, float]] = []
    if regression:  # each model learns its noisy scores standardised, as LSTMRegressor.fit does
        from badlabels.models.regression import standardise_targets

        train_y, val_y_np = [], []
        for i in members:
            z, mean, sd = standardise_targets(noises[i][0].scores)
            train_y.append(z)
            val_y_np.append((noises[i][1].scores - mean) / sd)
            units.append((mean, sd))
    else:
        train_y = [noises[i][0].labels for i in members]
        val_y_np = [noises[i][1].labels for i in members]
    y_t = torch.as_tensor(np.stack(train_y).astype(np.float32)).to(dev)
    val_y = None
    if val is not None:
        val_y = torch.as_tensor(np.stack(val_y_np).astype(np.float32)).to(dev)

    def on_epoch(event, model=None, **info):
        if progress is not None and event == "epoch":  # a cell's end is reported with its record
            progress(event, cell=unit[members[model]], **info)

    result = fit_stacked(
        train.tokens,
        train.lengths,
        y_t,
        seeds=[unit[i].seed for i in members],
        val_tokens=None if val is None else val.tokens,
        val_lengths=None if val is None else val.lengths,
        val_y=val_y,
        n_tokens=len(alphabet) + 1,
        hidden_sizes=key.hidden_sizes,
        input_map=key.input_map(),
        losses=[specs[i][1] for i in members],
        schedule=key.schedule,
        precision=precision,
        progress=on_epoch if progress is not None else None,
    )
    logits = predict_stacked(result.module, test.tokens, test.lengths)
    if regression:
        out = logits.double().cpu().numpy()
        out = np.stack([out[pos] * sd + mean for pos, (mean, sd) in enumerate(units)])
    else:
        out = torch.sigmoid(logits.double()).cpu().numpy()
    seconds = time.perf_counter() - t0

    records: dict[int, dict] = {}
    total_epochs = max(sum(result.epochs_run), 1)
    score = score_cell_regression if regression else score_cell
    for pos, i in enumerate(members):
        train_noise, val_noise = noises[i]
        records[i] = score(
            unit[i],
            prepared,
            out[pos],
            train_noise=train_noise,
            val_noise=val_noise,
            epochs_run=result.epochs_run[pos],
            best_epoch=result.best_epoch[pos],
            train_seconds=seconds * result.epochs_run[pos] / total_epochs,
            device=str(dev),
            engine="stacked",
            precision=result.precision,
        )
    for i, cell in enumerate(unit):
        if i not in records:
            records[i] = run_cell_plain(cell, prepared, device, progress=progress)
    return [records[i] for i in range(len(unit))]
