"""Training methods: how a model is trained on noisy labels (loss, filtering, batch policy).

A *method* turns (model name, model parameters, method parameters) into an unfitted
estimator with the usual ``fit`` / ``predict_proba`` contract. Loss-based methods pass a
loss to the neural estimator; wrapper methods return an estimator that wraps others.
"""

from __future__ import annotations

from badlabels.errors import BadInputError
from badlabels.models import make_model

METHODS = ("bce",)
"""Names accepted by :func:`build_estimator`."""


def build_estimator(
    model: str,
    method: str = "bce",
    *,
    model_params: dict | None = None,
    method_params: dict | None = None,
    noise_rate_hint: float | None = None,
):
    """An unfitted estimator for ``model`` trained with ``method``.

    Parameters
    ----------
    model : str
        Model name (see :data:`badlabels.models.MODELS`).
    method : str
        Method name (see :data:`METHODS`).
    model_params : dict, optional
        Constructor parameters of the model (batch_size, lr, max_epochs, random_state, ...).
    method_params : dict, optional
        Hyper-parameters of the method.
    noise_rate_hint : float, optional
        The noise rate, when a method may use it (never taken from test labels).
    """
    model_params = dict(model_params or {})
    if method not in METHODS:
        raise BadInputError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    if method_params:
        raise BadInputError(f"method {method!r} takes no parameters (got {sorted(method_params)})")
    if model == "logreg":
        model_params = {
            k: v for k, v in model_params.items() if k in make_model("logreg").get_params()
        }
    return make_model(model, **model_params)
