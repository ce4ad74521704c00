"""Run the cells of a grid that are not in the store yet, unit by unit."""

from __future__ import annotations

from badlabels.experiment.engines import plan_units, run_unit
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
from badlabels.experiment.store import ResultStore


def run_cells(
    cells: list[Cell],
    prepared: Prepared,
    store: ResultStore,
    *,
    device: str = "auto",
    engine: str = "auto",
    force: bool = False,
    progress: Progress | None = None,
) -> list[dict]:
    """Run every cell not yet in ``store`` (all of them with ``force``); return new records."""
    todo = [c for c in cells if force or not store.has(c.cell_id)]
    if progress is not None:
        progress("start", total=len(cells), todo=len(todo), skipped=len(cells) - len(todo))
    new = []
    done = 0
    for unit in plan_units(todo, engine=engine, device=device):
        if progress is not None:
            for cell in unit:
                progress("cell_start", cell=cell, index=done, total=len(todo))
        records = run_unit(unit, prepared, engine=engine, device=device, progress=progress)
        for cell, record in zip(unit, records, strict=True):
            store.put(record)  # each record lands as soon as its unit is done
            new.append(record)
            done += 1
            if progress is not None:
                progress("cell_end", cell=cell, record=record, index=done - 1, total=len(todo))
    return new
