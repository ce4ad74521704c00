"""Sequence classifiers with the scikit-learn interface, and their registry.

Every model takes sequences (array-like of str) and binary labels::

    model = make_model("lstm", max_epochs=10, random_state=0)
    model.fit(X, y, eval_set=(X_val, y_val), progress=callback)
    model.predict_proba(X_test)          # (n, 2)
    save_model(model, "runs/model")      # model.safetensors + model.json
    load_model("runs/model")
"""

from __future__ import annotations

from badlabels.errors import BadInputError
from badlabels.models.base import NeuralClassifier, SequenceClassifier
from badlabels.models.bilstm import BiLSTMClassifier
from badlabels.models.cnn import CNNClassifier
from badlabels.models.ensemble import EnsembleClassifier
from badlabels.models.logreg import LogisticRegressionClassifier
from badlabels.models.lstm import LSTMClassifier
from badlabels.models.mlp import MLPClassifier
from badlabels.models.persist import load_model, save_model
from badlabels.models.transformer import TransformerClassifier

MODELS: dict[str, type] = {
    "lstm": LSTMClassifier,
    "bilstm": BiLSTMClassifier,
    "cnn": CNNClassifier,
    "mlp": MLPClassifier,
    "transformer": TransformerClassifier,
    "logreg": LogisticRegressionClassifier,
    "ensemble": EnsembleClassifier,
}
"""Model name -> estimator class (names used by the CLI and ``make_model``)."""


def make_model(name: str, **params):
    """Create an unfitted estimator by name.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS` (``"lstm"``, ``"bilstm"``, ``"cnn"``, ``"mlp"``,
        ``"transformer"``, ``"logreg"``).
    **params
        Constructor parameters of that estimator.

    Returns
    -------
    estimator

    Raises
    ------
    BadInputError
        Unknown name, or a parameter the model does not take.
    """
    try:
        cls = MODELS[name]
    except (KeyError, TypeError):
        raise BadInputError(
            f"unknown model {name!r}; choose one of: {', '.join(sorted(MODELS))}"
        ) from None
    valid = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise BadInputError(
            f"model {name!r} takes no parameter {', '.join(unknown)} (accepted: {', '.join(valid)})"
        )
    return cls(**params)


def params_for(model: str, params: dict | None, alphabet: str | None = None, *,
               registry: dict[str, type] | None = None) -> dict:  # fmt: skip
    """The entries of ``params`` that estimator ``model`` accepts (others dropped silently).

    Lets one set of command-line training options (epochs, batch size, ...) serve every
    model: logistic regression simply ignores the neural ones. ``alphabet`` is added when the
    model takes one and ``params`` does not set it. An unknown model name is left for
    :func:`badlabels.methods.registry.build_estimator` to report.

    Parameters
    ----------
    model : str
        A key of :data:`MODELS`.
    params : dict or None
        Candidate constructor parameters.
    alphabet : str, optional
        The data's alphabet.
    registry : dict, optional
        Name -> class to look ``model`` up in (default :data:`MODELS`; the regressors pass
        :data:`badlabels.models.regression.REGRESSORS`).

    Returns
    -------
    dict
        The accepted parameters.
    """
    params = dict(params or {})
    cls = (MODELS if registry is None else registry).get(model)
    if cls is None:
        return params
    accepted = cls().get_params(deep=False)
    if alphabet is not None and "alphabet" in accepted:
        params.setdefault("alphabet", alphabet)
    return {k: v for k, v in params.items() if k in accepted}


__all__ = [
    "MODELS",
    "BiLSTMClassifier",
    "CNNClassifier",
    "EnsembleClassifier",
    "LSTMClassifier",
    "LogisticRegressionClassifier",
    "MLPClassifier",
    "NeuralClassifier",
    "SequenceClassifier",
    "TransformerClassifier",
    "load_model",
    "make_model",
    "params_for",
    "save_model",
]
