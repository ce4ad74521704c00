"""Training engines: how a unit of cells is trained.

The runner groups cells into *units* (:func:`plan_units`) and hands each unit to
:func:`run_unit`. The ``plain`` engine trains one cell at a time with PyTorch's own modules; a
unit is then a single cell.
"""

from __future__ import annotations

from badlabels.experiment.grid import Cell
from badlabels.experiment.runner_core import Prepared, Progress, run_cell_plain

ENGINES = ("auto", "plain")


def plan_units(cells: list[Cell], *, engine: str = "auto", device: str = "auto") -> list[list[Cell]]:
    """Group ``cells`` into units that are trained together (plain: one cell per unit)."""
    return [[c] for c in cells]


def run_unit(
    unit: list[Cell],
    prepared: Prepared,
    *,
    engine: str = "auto",
    device: str = "auto",
    progress: Progress | None = None,
) -> list[dict]:
    """Train and score every cell of ``unit``; one record per cell, in order."""
    return [run_cell_plain(c, prepared, device=device, progress=progress) for c in unit]
