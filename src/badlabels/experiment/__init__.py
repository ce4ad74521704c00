"""Grid -> cells -> runs -> the result store (see :func:`run_experiment`)."""

from badlabels.experiment.api import ExperimentResult, run_experiment
from badlabels.experiment.grid import Cell, GridSpec
from badlabels.experiment.runner import Prepared, prepare, run_cells
from badlabels.experiment.settings import RunSettings
from badlabels.experiment.store import RESULT_COLUMNS, ResultStore

__all__ = [
    "Cell", "ExperimentResult", "GridSpec", "Prepared", "RESULT_COLUMNS", "ResultStore",
    "RunSettings", "prepare", "run_cells", "run_experiment",
]  # fmt: skip
