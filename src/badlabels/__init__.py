"""badlabels: good sequence-to-function models from bad (noisy) assay labels.

The pipeline, one way through the package::

    data -> noise -> training (+ models) -> evaluation -> experiment -> report

The command line (``badlabels --help``) and this Python API are two faces of the
same functions.
"""

from __future__ import annotations

__version__ = "0.1.0"

from badlabels.errors import BadInputError, BadlabelsError

__all__ = ["__version__", "BadInputError", "BadlabelsError", "load_model", "plan"]


def load_model(path):
    """Load a model saved by ``badlabels train`` (safetensors + JSON, never pickle).

    Parameters
    ----------
    path : str or Path
        The model directory (holding ``model.safetensors`` and ``model.json``).
    """
    from badlabels.models.persist import load_model as _load

    return _load(path)


def plan(data, labels=None, **options):
    """What a noisy dataset is worth: :func:`badlabels.planner.plan` (same parameters).

    Returns a :class:`badlabels.planner.PlanResult`: the measured points, the fitted curve
    (``.fit``), the scenarios with intervals (``.scenarios``, ``.scenario(key)``), the
    exchange rate and the recommendation.
    """
    from badlabels.planner import plan as _plan

    return _plan(data, labels, **options)
