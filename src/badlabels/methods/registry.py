"""Training methods: how a model is trained on noisy labels (loss, filtering, batch policy).

A *method* turns (model name, model parameters, method parameters) into an unfitted
estimator with the usual ``fit`` / ``predict_proba`` contract::

    est = build_estimator("lstm", "gce", model_params={"max_epochs": 20}, method_params={"q": 0.5})
    est.fit(X, y_noisy, eval_set=(X_val, y_val_noisy))

Loss-based methods return the model itself with another loss; the others return a wrapper
(:mod:`badlabels.methods.wrappers`, :mod:`badlabels.methods.coteaching`) whose fitted
model is ``est.estimator_``. Every neural model (``lstm``, ``bilstm``, ``cnn``, ``mlp``,
``transformer``) takes every method; ``logreg`` takes only ``bce``.

=================== =========================================================================
method              defaults (see :data:`METHODS` and docs/methods.md)
=================== =========================================================================
``bce``             none
``label_smoothing`` ``smoothing=0.1``
``gce``             ``q=0.7`` (Zhang & Sabuncu 2018)
``sce``             ``alpha=0.1, beta=1.0, A=-4`` (Wang et al. 2019)
``bootstrap``       ``mode="soft", beta=0.95`` (Reed et al. 2015)
``bootstrap_hard``  ``beta=0.8`` (Reed et al. 2015, hard)
``forward``         ``matrix`` estimated (``n_folds=3``, ``estimator="logreg"``)
``coteaching``      ``forget_rate`` estimated, ``num_gradual=10``, ``exponent=1``
``cleanlab_filter`` ``n_folds=3, oof_epochs=5, filter_by="prune_by_noise_rate"``
``large_batch``     ``factor=8, lr_rule="sqrt"``
=================== =========================================================================

Hyper-parameters are chosen on the noisy validation split only: a method parameter given as
a list (``{"q": [0.5, 0.7, 0.9]}``) makes :func:`build_estimator` return a
:class:`~badlabels.methods.wrappers.SelectOnValidation` that fits each value and keeps the
one with the best AUROC on the noisy validation labels. Test labels are never used.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

from badlabels.engine.losses import BOOTSTRAP_BETA, check_transition_matrix, get_loss
from badlabels.errors import BadInputError
from badlabels.methods.coteaching import CoTeachingClassifier
from badlabels.methods.wrappers import (
    CleanlabFilterClassifier,
    ForwardCorrectionClassifier,
    SelectOnValidation,
    _model_params,
)
from badlabels.models import MODELS, make_model

Builder = Callable[[str, dict, dict, "float | None"], object]


@dataclass(frozen=True)
class Method:
    """A training method: its name, what it does, its defaults and how it builds an estimator.

    Attributes
    ----------
    name : str
    summary : str
        One line.
    defaults : dict
        Every parameter it takes, with its default.
    build : callable
        ``build(model, model_params, params, noise_rate_hint) -> estimator``; ``params`` has
        every key of ``defaults``.
    pinned : tuple of str
        Defaults that are part of an experiment cell's identity even when not given (a
        recipe's content: changing one makes new cells instead of reusing stored results).
    """

    name: str
    summary: str
    defaults: dict = field(default_factory=dict)
    build: Builder | None = None
    pinned: tuple[str, ...] = ()

    def cell_params(self, given: dict | None) -> dict:
        """The parameters an experiment cell records: the pinned defaults, then ``given``."""
        return {**{k: self.defaults[k] for k in self.pinned}, **dict(given or {})}


def _loss_method(loss: str, fixed: dict | None = None) -> Builder:
    def build(model: str, model_params: dict, params: dict, hint: float | None):
        loss_params = {**params, **(fixed or {})}
        get_loss(loss, **loss_params)  # checks the parameters now, not at fit time
        p = _model_params(model, model_params, loss=loss, loss_params=loss_params)
        return make_model(model, **p)

    return build


def _build_bce(model: str, model_params: dict, params: dict, hint: float | None):
    return make_model(model, **model_params)


def _build_forward(model: str, model_params: dict, params: dict, hint: float | None):
    if params["matrix"] is not None:
        matrix = check_transition_matrix(params["matrix"])
        p = _model_params(model, model_params, loss="forward", loss_params={"matrix": matrix})
        return make_model(model, **p)
    return ForwardCorrectionClassifier(
        model=model,
        model_params=model_params,
        matrix=None,
        n_folds=params["n_folds"],
        estimator=params["estimator"],
    )


def _build_coteaching(model: str, model_params: dict, params: dict, hint: float | None):
    return CoTeachingClassifier(
        model=model,
        model_params=model_params,
        noise_rate_hint=hint,
        **params,
    )


def _build_cleanlab_filter(model: str, model_params: dict, params: dict, hint: float | None):
    return CleanlabFilterClassifier(model=model, model_params=model_params, **params)


LR_RULES = ("sqrt", "linear", "none")
"""How ``large_batch`` scales the learning rate with the batch-size ``factor``."""


def large_batch_params(model: str, model_params: dict, factor=8, lr_rule="sqrt") -> dict:
    """The model parameters ``large_batch`` trains with: batch size x factor, lr scaled.

    ``lr_rule``: ``"sqrt"`` multiplies the learning rate by ``sqrt(factor)`` (the square-root
    rule suited to Adam), ``"linear"`` by ``factor`` (Goyal et al.; keeps SGD's noise scale,
    i.e. gives up the de-noising Rolnick et al. describe), ``"none"`` keeps it.
    """
    ok = isinstance(factor, numbers.Real) and not isinstance(factor, bool) and factor >= 1
    if not ok:
        raise BadInputError(f"large_batch: factor must be a number >= 1, got {factor!r}")
    if lr_rule not in LR_RULES:
        raise BadInputError(
            f"large_batch: lr_rule must be one of {', '.join(LR_RULES)}, got {lr_rule!r}"
        )
    defaults = make_model(model).get_params()
    if "batch_size" not in defaults or "lr" not in defaults:
        raise BadInputError(f"large_batch needs a neural model, not {model!r}")
    p = dict(model_params)
    batch = p.get("batch_size", defaults["batch_size"])
    lr = p.get("lr", defaults["lr"])
    p["batch_size"] = max(1, int(round(int(batch) * float(factor))))
    scale = {"sqrt": math.sqrt(float(factor)), "linear": float(factor), "none": 1.0}[lr_rule]
    p["lr"] = float(lr) * scale
    return p


def _build_large_batch(model: str, model_params: dict, params: dict, hint: float | None):
    return make_model(model, **large_batch_params(model, model_params, **params))


ENSEMBLE_BASES = ("bce", "label_smoothing", "gce", "sce", "bootstrap", "bootstrap_hard", "large_batch")
"""Methods an ensemble's members can be trained with (each builds one plain model)."""


def _build_ensemble(model: str, model_params: dict, params: dict, hint: float | None):
    from badlabels.models import EnsembleClassifier

    base = params["base"]
    if base not in ENSEMBLE_BASES:
        raise BadInputError(
            f"ensemble: base must be one of {', '.join(ENSEMBLE_BASES)}, got {base!r}"
        )
    if model in ("logreg", "ensemble"):
        raise BadInputError(f"ensemble needs a neural model, not {model!r}")
    given = dict(params["base_params"] or {})
    combos = expand_method_params(base, given)  # checks the base's parameters
    if len(combos) != 1:
        raise BadInputError("ensemble: base_params takes single values, not lists to choose from")
    base_params = combos[0]
    member = METHODS[base].build(model, dict(model_params), base_params, hint)
    member_params = member.get_params(deep=False)
    seed = member_params.pop("random_state", None)
    return EnsembleClassifier(
        model=model, model_params=member_params, n_members=params["n_members"],
        stacked=params["stacked"], random_state=seed,
    )  # fmt: skip


ROBUST = {"n_members": 5, "base": "bce", "base_params": None, "stacked": "auto"}
ROBUST_ENCODING = "onehot+blosum"
"""The ``robust`` recipe: an ensemble of five networks of the cell's model trained with plain
``bce``, each reading residues as one-hot next to the 10 BLOSUM indices (``encoding``, unless
the model parameters name one); docs/high-noise.md has the paired evidence and how the
encoding was chosen. With ``logreg`` it is plain ``bce``."""


def _build_robust(model: str, model_params: dict, params: dict, hint: float | None):
    params = dict(params)
    encoding = params.pop("encoding")
    model_params = dict(model_params)
    model_params.setdefault("encoding", encoding)
    return _build_ensemble(model, model_params, {**ROBUST, **params}, hint)


def _build_elr(model: str, model_params: dict, params: dict, hint: float | None):
    from badlabels.methods.elr import ELRClassifier

    est = ELRClassifier(model=model, model_params=model_params, **params)
    est._network()  # checks beta, lam and the model now, not at fit time
    return est


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("bce", "plain binary cross-entropy", {}, _build_bce),
        Method(
            "label_smoothing",
            "BCE against targets pulled towards 0.5",
            {"smoothing": 0.1},
            _loss_method("label_smoothing"),
        ),
        Method(
            "gce",
            "generalized cross-entropy (Zhang & Sabuncu 2018)",
            {"q": 0.7},
            _loss_method("gce"),
        ),
        Method(
            "sce",
            "symmetric cross-entropy (Wang et al. 2019)",
            {"alpha": 0.1, "beta": 1.0, "A": -4.0},
            _loss_method("sce"),
        ),
        Method(
            "bootstrap",
            "bootstrapping, soft by default (Reed et al. 2015)",
            {"beta": None, "mode": "soft"},
            _loss_method("bootstrap"),
        ),
        Method(
            "bootstrap_hard",
            "hard bootstrapping (Reed et al. 2015)",
            {"beta": BOOTSTRAP_BETA["hard"]},
            _loss_method("bootstrap", {"mode": "hard"}),
        ),
        Method(
            "forward",
            "forward loss correction with a given or anchor-estimated transition matrix",
            {"matrix": None, "n_folds": 3, "estimator": "logreg"},
            _build_forward,
        ),
        Method(
            "coteaching",
            "co-teaching: two networks exchange small-loss samples (Han et al. 2018)",
            {
                "forget_rate": None,
                "num_gradual": 10,
                "exponent": 1.0,
                "n_folds": 3,
                "estimator": "logreg",
            },
            _build_coteaching,
        ),
        Method(
            "cleanlab_filter",
            "drop the labels cleanlab flags on out-of-fold probabilities, retrain",
            {"n_folds": 3, "oof_epochs": 5, "filter_by": "prune_by_noise_rate"},
            _build_cleanlab_filter,
        ),
        Method(
            "large_batch",
            "batch size x factor, learning rate x sqrt(factor) (Rolnick et al. 2017)",
            {"factor": 8, "lr_rule": "sqrt"},
            _build_large_batch,
        ),
        Method(
            "ensemble",
            "K networks differing only in seed, mean probability (members trained with base)",
            {"n_members": 5, "base": "bce", "base_params": None, "stacked": "auto"},
            _build_ensemble,
        ),
        Method(
            "robust",
            "the recommended recipe for noisy labels: an ensemble of 5 bce networks reading "
            "one-hot + BLOSUM indices",
            {"n_members": ROBUST["n_members"], "encoding": ROBUST_ENCODING,
             "stacked": ROBUST["stacked"]},  # fmt: skip
            _build_robust,
            pinned=("encoding",),
        ),
        Method(
            "elr",
            "early-learning regularisation towards running-mean targets (Liu et al. 2020)",
            {"beta": 0.7, "lam": 3.0},
            _build_elr,
        ),
    )
}
"""Method name -> :class:`Method` (names accepted by :func:`build_estimator` and ``--methods``)."""


def method_defaults(method: str) -> dict:
    """The documented default parameters of ``method``."""
    return dict(_method(method).defaults)


def _method(method: str) -> Method:
    try:
        return METHODS[method]
    except (KeyError, TypeError):
        raise BadInputError(
            f"unknown method {method!r}; choose one of: {', '.join(METHODS)}"
        ) from None


def _is_candidates(key: str, value) -> bool:
    """A list of values to choose from on the validation split (not a single value)."""
    if not isinstance(value, list | tuple) or not value:
        return False
    if key == "matrix":  # a matrix is itself nested: candidates are a list of matrices
        return all(
            isinstance(m, list | tuple) and all(isinstance(r, list | tuple) for r in m)
            for m in value
        )
    return True


def expand_method_params(method: str, method_params: dict | None) -> list[dict]:
    """Every parameter combination ``method_params`` asks for, defaults filled in.

    Raises
    ------
    BadInputError
        A parameter the method does not take.
    """
    spec = _method(method)
    given = dict(method_params or {})
    unknown = sorted(set(given) - set(spec.defaults))
    if unknown:
        accepted = ", ".join(spec.defaults) or "none"
        raise BadInputError(
            f"method {method!r} takes no parameter {', '.join(unknown)} (accepted: {accepted})"
        )
    keys = list(given)
    options = [list(given[k]) if _is_candidates(k, given[k]) else [given[k]] for k in keys]
    return [
        {**spec.defaults, **dict(zip(keys, combo, strict=True))}
        for combo in itertools.product(*options)
    ]


def _tuples(value):
    """JSON lists -> tuples (hashable cell configurations); dicts kept."""
    if isinstance(value, list | tuple):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def parse_param_assignments(items, option: str = "--method-param") -> dict[str, dict]:
    """Parse ``["gce.q=0.5", "cnn.kernel_size=7"]`` into ``{"gce": {"q": 0.5}, ...}``.

    Each value is read as JSON when it parses (numbers, ``null``, ``true``, lists, nested
    lists) and kept as a string otherwise; lists become tuples. A list given for a method
    parameter means "choose among these on the noisy validation split".

    Raises
    ------
    BadInputError
        An item not written ``NAME.KEY=VALUE``.
    """
    import json

    out: dict[str, dict] = {}
    for item in items:
        head, eq, raw = str(item).partition("=")
        name, dot, key = head.strip().partition(".")
        if not eq or not dot or not name or not key.strip():
            raise BadInputError(f"{option}: write NAME.KEY=VALUE (e.g. gce.q=0.5), got {item!r}")
        raw = raw.strip()
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        out.setdefault(name, {})[key.strip()] = _tuples(value)
    return out


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
        Hyper-parameters of the method (defaults: :func:`method_defaults`). A list value
        means "choose among these on the noisy validation split".
    noise_rate_hint : float, optional
        A known noise rate. Only ``coteaching`` with ``forget_rate="hint"`` uses it; every
        other method estimates what it needs from the noisy training labels.

    Returns
    -------
    estimator
        Unfitted; ``fit(X, y, eval_set=None, progress=None)``, ``predict_proba``.

    Raises
    ------
    BadInputError
        Unknown model, method or parameter, or ``logreg`` with a method other than ``bce``
        (``robust`` means ``bce`` for it).
    """
    model_params = dict(model_params or {})
    spec = _method(method)
    if model == "ensemble":
        raise BadInputError(
            "ensemble is a training method, not a model: use --methods ensemble (or robust) "
            "with a model such as lstm"
        )
    if model not in MODELS:
        make_model(model)  # raises the registry's message
    if model == "logreg":
        if method == "robust":  # a convex model has no seed lottery to average away
            method, spec, method_params = "bce", METHODS["bce"], None
        if method != "bce":
            raise BadInputError(
                f"method {method!r} needs a neural model; logreg is trained with bce only"
            )
        valid = make_model("logreg").get_params()
        model_params = {k: v for k, v in model_params.items() if k in valid}
    combos = expand_method_params(method, method_params)
    estimators = [spec.build(model, model_params, p, noise_rate_hint) for p in combos]
    if len(estimators) == 1:
        return estimators[0]
    given = dict(method_params or {})
    tuned = [k for k in given if _is_candidates(k, given[k])]
    labels = [",".join(f"{k}={p[k]}" for k in tuned) for p in combos]
    seed = model_params.get("random_state")
    return SelectOnValidation(
        candidates=estimators, labels=labels, random_state=0 if seed is None else seed
    )


__all__ = [
    "LR_RULES",
    "METHODS",
    "Method",
    "build_estimator",
    "expand_method_params",
    "large_batch_params",
    "method_defaults",
    "parse_param_assignments",
]
