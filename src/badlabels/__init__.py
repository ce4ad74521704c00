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


# ``badlabels.plan`` (the planner's ``plan``) is loaded on first use: the package's own
# __init__ sits below every layer, so it names the planner only through _lazy (no import
# that import-linter would count as the bottom layer importing the top one).
from badlabels._lazy import lazy_getattr  # noqa: E402

__getattr__ = lazy_getattr(__name__, {"plan": "badlabels.planner"})
