"""Run the cells of a grid that are not in the store yet, unit by unit."""

from __future__ import annotations

from badlabels.experiment.backends import execute
from badlabels.experiment.engines import plan_units, run_unit  # noqa: F401  (run_unit re-exported)
from badlabels.experiment.grid import Cell
from badlabels.experiment.runner_core import (  # noqa: F401  (re-exported)
    Prepared,
    Progress,
    check_noise,
    corrupt_part,
    noise_seed,
    prepare,
    run_cell_plain,
    score_cell,
)
from badlabels.experiment.settings import RunSettings
from badlabels.experiment.store import ResultStore


def run_cells(
    cells: list[Cell],
    prepared: Prepared,
    store: ResultStore,
    settings: RunSettings | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> list[dict]:
    """Run every cell not yet in ``store`` (all of them with ``force``); return new records.

    Units from :func:`plan_units` run where ``settings`` say (see
    :mod:`badlabels.experiment.backends`: ``"local"`` with ``settings.workers`` processes, or
    ``"ray"``, joining ``settings.ray_address`` if given; default: :meth:`RunSettings.resolve`).
    Each record is put in the store as soon as its unit comes back.
    """
    settings = settings or RunSettings.resolve()
    todo = [c for c in cells if force or not store.has(c.cell_id)]
    if progress is not None:
        progress("start", total=len(cells), todo=len(todo), skipped=len(cells) - len(todo))
    new = []

    def on_start(unit):
        if progress is not None:
            for cell in unit:
                progress("cell_start", cell=cell, index=len(new), total=len(todo))

    units = plan_units(todo, settings)
    for unit, records in execute(units, prepared, settings, progress=progress, on_start=on_start):
        for cell, record in zip(unit, records, strict=True):
            store.put(record)  # each record lands as soon as its unit is done
            new.append(record)
            if progress is not None:
                progress("cell_end", cell=cell, record=record, index=len(new) - 1, total=len(todo))
    return new
