"""Save and load fitted estimators: ``model.safetensors`` + ``model.json``, never pickle.

``model.json`` holds::

    {"format": "badlabels-model", "format_version": 1,
     "class": "LSTMClassifier", "model": "lstm",
     "params": {...},                # get_params(), JSON-able ones
     "alphabet": "ACD...", "max_len": 12, "variable_length": true,
     "architecture": {...}, "fitted": {...epochs_run, best_epoch, history...},
     "badlabels_version": "0.1.0", "metadata": {...}}

``model.safetensors`` holds the network's state dict (or, for logistic regression,
``coef`` and ``intercept``).

A model fitted on precomputed features (``mlp``, ``logreg``) adds
``"input": {"kind": "features", "n_features": d}`` (its ``max_len`` is then 0, and an MLP's
standardisation ``mean`` / ``scale`` are buffers in its state dict); without the key, a model
reads sequences.

A fitted training-method wrapper (``forward``, ``coteaching``, ``cleanlab_filter``, selection
on the validation split; :mod:`badlabels.methods.wrappers`) is saved as the registered model
it predicts with (its ``estimator_``); ``metadata["wrappers"]`` then describes the wrapper(s),
outermost first, and ``metadata["method"]`` defaults to the outermost one's method.
``load_model`` gives back that plain model, whose ``predict_proba`` equals the wrapper's.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

import badlabels
from badlabels.errors import BadInputError

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "model.json"
FORMAT = "badlabels-model"
FORMAT_VERSION = 1


def _jsonable(value):
    """``value`` as plain JSON types, or raise TypeError."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _registry() -> dict[str, type]:
    from badlabels.models import MODELS

    return MODELS


def _saveable_classes() -> dict[type, str]:
    """Every class that can be saved -> its model name (classifiers and regressors)."""
    from badlabels.models.regression import REGRESSORS

    return {cls: name for reg in (_registry(), REGRESSORS) for name, cls in reg.items()}


def unwrap_model(model) -> tuple[object, list[dict]]:
    """The model that makes ``model``'s predictions, and the wrappers around it.

    Returns
    -------
    estimator
        ``model`` itself unless it is a badlabels training-method wrapper; then its fitted
        ``estimator_`` (followed through nested wrappers).
    wrappers : list of dict
        Per wrapper, outermost first: ``class``, ``method``, ``saved`` and what it adds
        (e.g. co-teaching's ``forget_rate`` and a ``note`` that its second network is not
        saved). Empty for a plain model.

    Raises
    ------
    BadInputError
        An unfitted wrapper.
    """
    # A training-method wrapper (badlabels.methods.wrappers, a layer above the models) is known
    # by what it offers: the description of itself that goes into the metadata.
    wrappers: list[dict] = []
    while callable(getattr(type(model), "_saved_info", None)):
        if getattr(model, "estimator_", None) is None:
            raise BadInputError(f"cannot save an unfitted {type(model).__name__}; fit it first")
        wrappers.append(model._saved_info())
        model = model.estimator_
    return model, wrappers


def save_model(model, directory, metadata: dict | None = None) -> Path:
    """Write a fitted estimator to ``directory`` (created if missing).

    Parameters
    ----------
    model : estimator
        A fitted badlabels estimator (``LSTMClassifier``, ``LogisticRegressionClassifier``
        or another registered in ``badlabels.models.MODELS``), or a fitted training-method
        wrapper: then the model it predicts with is saved (see :func:`unwrap_model`) and
        the wrapper is recorded in the metadata.
    directory : str or Path
    metadata : dict, optional
        JSON-able extras stored under ``"metadata"`` (e.g. dataset fingerprint, noise).

    Returns
    -------
    Path
        The directory.

    Raises
    ------
    BadInputError
        Metadata that cannot be written as JSON.
    """
    directory = Path(directory)
    model, wrappers = unwrap_model(model)
    names = _saveable_classes()
    if type(model) not in names:
        raise BadInputError(f"cannot save a {type(model).__name__}: not a badlabels model")
    tensors, info = model._export()
    params = {}
    for key, value in model.get_params(deep=False).items():
        try:
            params[key] = _jsonable(value)
        except TypeError:
            continue  # not JSON-able (e.g. a RandomState): the default is used on load
    try:
        meta = _jsonable(metadata or {})
        if wrappers:
            meta.setdefault("method", wrappers[0]["method"])
            meta["wrappers"] = _jsonable(wrappers)
    except TypeError as exc:
        raise BadInputError(f"metadata cannot be saved as JSON: {exc}") from None
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "model": names[type(model)],
        "params": params,
        **_jsonable(info),
        "badlabels_version": badlabels.__version__,
        "metadata": meta,
    }
    directory.mkdir(parents=True, exist_ok=True)
    save_file(
        {k: v.detach().cpu().contiguous() for k, v in tensors.items()},
        str(directory / WEIGHTS_FILE),
        metadata={"format": "pt", "badlabels_class": type(model).__name__},
    )
    tmp = directory / (CONFIG_FILE + ".tmp")
    tmp.write_text(json.dumps(config, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(directory / CONFIG_FILE)
    return directory


def _params_from_json(params: dict) -> dict:
    """JSON lists back to tuples (estimator params are tuples, e.g. hidden_sizes)."""

    def fix(v):
        if isinstance(v, list):
            return tuple(fix(x) for x in v)
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        return v

    return {k: fix(v) for k, v in params.items()}


def load_model(directory, device: str | None = None):
    """Rebuild an estimator saved by :func:`save_model`.

    Parameters
    ----------
    directory : str or Path
        Folder holding ``model.json`` and ``model.safetensors``.
    device : str, optional
        Override the saved ``device`` parameter (e.g. ``"cpu"`` for a model trained on
        a GPU and saved with ``device="cuda"``).

    Returns
    -------
    estimator
        Fitted; its ``predict_proba`` equals the saved model's. The saved metadata is
        in ``model.metadata_`` and the whole JSON in ``model.saved_config_``.

    Raises
    ------
    BadInputError
        A missing, unreadable, corrupted or truncated file, or one that does not match
        the model it describes (one line naming the file and the problem).
    """
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    weights_path = directory / WEIGHTS_FILE
    if not directory.is_dir():
        raise BadInputError("model directory not found", file=str(directory))
    for path in (config_path, weights_path):
        if not path.is_file():
            raise BadInputError("file not found", file=str(path))

    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "the file is corrupted or truncated",
            file=str(config_path),
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read: {_one_line(exc)}", file=str(config_path)) from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise BadInputError("not a badlabels model file", file=str(config_path))
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BadInputError(
            f"model format version {version!r} is newer than this badlabels "
            f"({badlabels.__version__}) reads; upgrade badlabels",
            file=str(config_path),
        )
    registry = _registry()
    known = {(name, cls.__name__): cls for cls, name in _saveable_classes().items()}
    cls = known.get((config.get("model"), config.get("class")))
    if cls is None:
        raise BadInputError(
            f"unknown model class {config.get('class')!r} (known: {', '.join(sorted(registry))})",
            file=str(config_path),
        )
    for key in ("alphabet", "max_len", "params"):
        if key not in config:
            raise BadInputError(f"the key {key!r} is missing", file=str(config_path))

    params = _params_from_json(config["params"])
    if device is not None and "device" in params:
        params["device"] = device
    try:
        model = cls()
        valid = model.get_params(deep=False)
        model.set_params(**{k: v for k, v in params.items() if k in valid})
    except (TypeError, ValueError) as exc:
        raise BadInputError(f"bad parameters: {_one_line(exc)}", file=str(config_path)) from None

    try:
        tensors = load_file(str(weights_path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise BadInputError(
            f"cannot read the weights (corrupted or truncated?): {_one_line(exc)}",
            file=str(weights_path),
        ) from None
    try:
        model._restore(tensors, config)
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise BadInputError(
            f"weights do not match the model described in {CONFIG_FILE}: {_one_line(exc)}",
            file=str(weights_path),
        ) from None
    model.metadata_ = config.get("metadata") or {}
    model.saved_config_ = config
    return model


__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "load_model", "save_model", "unwrap_model"]
