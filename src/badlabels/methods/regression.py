"""Training methods for continuous scores: which regression loss a regressor learns with.

A regression method is a loss (:data:`REGRESSION_METHODS`): ``mse`` (the default: the
conditional mean), ``huber`` (squared near the fit, linear beyond ``delta`` standard
deviations: an outlier pulls with a bounded force) and ``student_t`` (the negative
log-likelihood of a Student-t with ``nu`` degrees of freedom and scale ``scale``: an outlier's
pull falls off with its distance). Their parameters are fixed a priori in units of the
standardised score (the regressor standardises its training scores), never chosen on clean
labels: ``huber`` ``delta=1.0``, ``student_t`` ``nu=3, scale=1.0``.

::

    est = build_regressor("lstm", "huber", model_params={"max_epochs": 20, "random_state": 0})
    est.fit(X, scores_noisy, eval_set=(X_val, scores_val_noisy))
    est.predict(X_test)
"""

from __future__ import annotations

from badlabels.errors import BadInputError
from badlabels.models import params_for
from badlabels.models.regression import REGRESSORS, make_regressor

REGRESSION_METHODS: dict[str, tuple[str, dict]] = {
    "mse": ("mse", {}),
    "huber": ("huber", {"delta": 1.0}),
    "student_t": ("student_t", {"nu": 3.0, "scale": 1.0}),
    "mse_depth": ("mse", {"weights": "depth"}),
}
"""Method name -> (loss, its default parameters). ``mse_depth`` is ``mse`` with the training
scores weighted by their read depth (count data only), so that one grid compares the two."""


WEIGHTS_PARAM = "weights"
"""The method parameter every regression method takes besides its loss's: ``"none"`` or
``"depth"`` (count data: :func:`badlabels.data.regression.depth_weights`)."""


def split_weights(method_params: dict | None) -> tuple[str, dict]:
    """``(weights kind, the loss's parameters)`` from a regression method's parameters."""
    from badlabels.data.regression import WEIGHTS

    given = dict(method_params or {})
    kind = str(given.pop(WEIGHTS_PARAM, "none")).strip().lower()
    if kind not in WEIGHTS:
        raise BadInputError(f"unknown weights {kind!r}; choose one of {', '.join(WEIGHTS)}")
    return kind, given


def weights_kind(method: str, method_params: dict | None = None) -> str:
    """How ``method`` (with ``method_params``) weights the training scores: ``"none"`` or
    ``"depth"`` (the caller applies :func:`badlabels.data.regression.depth_weights`)."""
    spec = REGRESSION_METHODS.get(method) if isinstance(method, str) else None
    defaults = spec[1] if spec is not None else {}
    return split_weights({**defaults, **dict(method_params or {})})[0]


def regression_method_defaults(method: str) -> dict:
    """The default parameters of regression method ``method``."""
    return dict(_spec(method)[1])


def _spec(method: str) -> tuple[str, dict]:
    spec = REGRESSION_METHODS.get(method) if isinstance(method, str) else None
    if spec is None:
        raise BadInputError(
            f"unknown regression method {method!r}; choose one of {', '.join(REGRESSION_METHODS)}"
        )
    return spec


def regressor_params(model: str, params: dict | None, alphabet: str | None = None) -> dict:
    """The entries of ``params`` that regressor ``model`` accepts (the others dropped, as
    :func:`badlabels.models.params_for` does for classifiers)."""
    return params_for(model, params, alphabet, registry=REGRESSORS)


def build_regressor(model: str, method: str = "mse", *, model_params: dict | None = None,
                    method_params: dict | None = None):  # fmt: skip
    """An unfitted regressor ``model`` trained with the loss of ``method``.

    Parameters
    ----------
    model : str
        A key of :data:`badlabels.models.regression.REGRESSORS`.
    method : str
        A key of :data:`REGRESSION_METHODS` (``ridge`` takes ``mse`` only).
    model_params : dict, optional
        Constructor parameters (those the model does not take are dropped).
    method_params : dict, optional
        The loss's parameters (default: the method's), and ``weights`` (``"none"`` or
        ``"depth"``), which the caller applies (:func:`split_weights`).

    Returns
    -------
    estimator
        ``fit(X, y, eval_set=None, progress=None)``, ``predict(X) -> (n,)``.

    Raises
    ------
    BadInputError
        Unknown model, method or loss parameter; ``ridge`` with a method other than ``mse``.
    """
    loss, defaults = _spec(method)
    if model not in REGRESSORS:
        make_regressor(model)  # raises the registry's message
    params = regressor_params(model, model_params)
    _, defaults = split_weights(defaults)
    _, given = split_weights(method_params)
    if model == "ridge":
        if loss != "mse":
            raise BadInputError(
                f"method {method!r} needs a neural model; ridge is fitted by least squares only"
            )
        if given:
            raise BadInputError(f"ridge takes no method parameter {', '.join(sorted(given))}")
        return make_regressor(model, **params)
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise BadInputError(
            f"method {method!r} takes no parameter {', '.join(unknown)} (accepted: "
            + ", ".join([*defaults, WEIGHTS_PARAM]) + ")"
        )
    params.update(loss=loss, loss_params={**defaults, **given} or None)
    return make_regressor(model, **params)


__all__ = [
    "REGRESSION_METHODS",
    "WEIGHTS_PARAM",
    "split_weights",
    "weights_kind",
    "build_regressor",
    "regression_method_defaults",
    "regressor_params",
]


def out_of_fold_scores(model: str, method: str, X, y, *, n_folds: int = 5, seed: int = 0,
                       model_params: dict | None = None, progress=None,
                       engine: str = "auto"):  # fmt: skip
    """Out-of-fold predicted scores: every row predicted by a regressor that never saw it.

    The rows are cut into ``n_folds`` folds (scikit-learn's ``KFold``, shuffled with
    ``random_state=seed``); for each fold a fresh regressor (:func:`build_regressor`,
    ``random_state = seed + fold``, 0-based) is fitted on the other folds, with its own inner
    validation split for early stopping, and predicts the held-out fold.

    Parameters
    ----------
    model : str
        A key of :data:`badlabels.models.regression.REGRESSORS`.
    method : str
        A key of :data:`REGRESSION_METHODS`.
    X : array-like of str, shape (n,), or array-like of float, shape (n, d)
        Sequences, or precomputed features for a model that reads them (``mlp``, ``ridge``).
    y : array-like of float, shape (n,)
        The (possibly noisy) scores, in the units predictions are wanted in.
    n_folds : int, default 5
        At least 2 and at most n.
    seed : int, default 0
        Seeds the folds and the fold models.
    model_params : dict, optional
        Constructor parameters of every fold model (``random_state`` is set per fold).
    progress : callable, optional
        ``progress(event, **info)``: ``"fold_start"`` (fold (1-based), n_folds, repeats=1,
        n_train, n_heldout), the model's ``"epoch"`` events with ``fold=`` and ``n_folds=``
        added, and ``"fold_end"`` (fold, n_folds, n_train, n_heldout, epochs_run,
        best_epoch, seconds).
    engine : {"auto", "plain", "stacked"}, default "auto"
        ``auto`` and ``stacked`` train the folds of an ``lstm`` on sequences together, as one
        batched computation (:func:`~badlabels.methods.stacked_folds.fit_predict_stacked`:
        each fold model keeps its seed, inner validation split, batches and early stopping,
        so the two engines agree up to floating-point rounding); its ``fold_end`` events
        carry ``stacked`` and, as ``seconds``, the wall time until that fold's model
        stopped. Other models, and features, always train plain.

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    BadInputError
        Unknown model or method, bad ``n_folds``, ``X`` and ``y`` of different lengths,
        scores that are not finite numbers.
    """
    import time

    import numpy as np
    from sklearn.model_selection import KFold

    from badlabels.methods.stacking import check_engine
    from badlabels.models.base import FEATURES, as_features, as_sequences, input_kind
    from badlabels.models.regression import as_targets

    if isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer) or n_folds < 2:
        raise BadInputError(f"n_folds must be a whole number >= 2, got {n_folds!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise BadInputError(f"seed must be a whole number >= 0, got {seed!r}")
    params = dict(model_params or {})
    params.pop("random_state", None)
    build_regressor(model, method, model_params=params)  # unknown model / method: fail first
    x = as_features(X) if input_kind(X) == FEATURES else as_sequences(X)
    n = len(x)
    scores = as_targets(y, n, "scores")
    if n_folds > n:
        raise BadInputError(f"{n_folds} folds need at least {n_folds} rows; there are {n}")
    out = np.full(n, np.nan)
    folds = list(KFold(n_splits=int(n_folds), shuffle=True,
                       random_state=int(seed)).split(np.arange(n)))  # fmt: skip
    if check_engine(engine) != "plain" and input_kind(x) != FEATURES:
        stacked = _stacked_folds(model, method, x, scores, folds, params, int(seed), progress)
        if stacked is not None:
            return stacked
    for k, (train, held) in enumerate(folds):
        info = {"fold": k + 1, "n_folds": int(n_folds), "n_train": len(train),
                "n_heldout": len(held)}  # fmt: skip
        if progress is not None:
            progress("fold_start", repeats=1, **info)
        est = build_regressor(model, method,
                              model_params={**params, "random_state": int(seed) + k})  # fmt: skip
        fold_progress = None
        if progress is not None:
            def fold_progress(event, _k=k + 1, **ev):
                ev.setdefault("fold", _k)
                ev.setdefault("n_folds", int(n_folds))
                return progress(event, **ev)
        t0 = time.perf_counter()
        est.fit(x[train], scores[train], progress=fold_progress)
        out[held] = np.asarray(est.predict(x[held]), dtype=np.float64).reshape(-1)
        if progress is not None:
            progress("fold_end", epochs_run=int(getattr(est, "epochs_run_", 1)),
                     best_epoch=int(getattr(est, "best_epoch_", 1)),
                     seconds=time.perf_counter() - t0, **info)  # fmt: skip
    return out


def _stacked_folds(model, method, seqs, scores, folds, params, seed, progress):
    """:func:`out_of_fold_scores`'s folds trained stacked; None if they cannot be."""
    import time

    import numpy as np

    from badlabels.methods.stacked_folds import fit_predict_stacked

    ests = [build_regressor(model, method, model_params={**params, "random_state": seed + k})
            for k in range(len(folds))]  # fmt: skip
    sizes = {k + 1: (len(tr), len(he)) for k, (tr, he) in enumerate(folds)}
    t0 = time.perf_counter()

    def relay(event, **info):
        fold = info.get("fold")
        if fold in sizes:
            info.setdefault("n_train", sizes[fold][0])
            info.setdefault("n_heldout", sizes[fold][1])
        if event == "fold_start":
            info.setdefault("repeats", 1)
        elif event == "fold_end":
            info.setdefault("seconds", time.perf_counter() - t0)
        return progress(event, **info)

    res = fit_predict_stacked(
        seqs, [scores] * len(folds), [tr for tr, _ in folds], [he for _, he in folds], ests,
        device=params.get("device", "auto"), progress=None if progress is None else relay,
        n_folds=len(folds),
    )  # fmt: skip
    if res is None:
        return None
    out = np.full(len(scores), np.nan)
    for (_, held), pred in zip(folds, res[0], strict=True):
        out[held] = pred
    return out


__all__.append("out_of_fold_scores")
