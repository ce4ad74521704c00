"""Train one final model on a (noisy) dataset, save it, and predict new sequences with it.

``train_final`` holds out a random noisy validation split (the labels as given, so possibly
noisy) for early stopping, trains the model on the rest and measures it on that split.
``save_final`` writes it with :func:`badlabels.models.persist.save_model` (safetensors + JSON,
never pickle) and records in ``model.json`` under ``"metadata"`` what a later ``predict``
needs to refuse input the model cannot read:

- ``alphabet``: the residues the model was trained on;
- ``length_rules``: ``max_length`` (longest training sequence), ``min_length`` and
  ``allow_shorter``; sequences longer than ``max_length`` are refused, and so are shorter ones
  when every training sequence had the same length (a model that only ever saw 12-mers says
  nothing reliable about 10-mers);
- the architecture, the training method, the training data's fingerprint, the validation
  metrics (on the noisy validation split) and the badlabels version;
- for a wrapper method (``forward``, ``coteaching``, ``cleanlab_filter``, a list of method
  parameters): ``wrappers``, what was wrapped around the saved model, which is the one the
  wrapper predicts with (co-teaching's first network);
- ``positions``: for data modelled only at the positions that vary (``--positions``, e.g. a
  full-length protein scanned at a few sites): the 0-based positions, the full length and the
  most common residue at each position; ``predict`` cuts new full-length sequences the same
  way and refuses one of another length;
- ``input``: ``{"kind": "sequences"}``, or ``{"kind": "features", "n_features": d}`` for an
  ``mlp`` / ``logreg`` trained on the dataset's precomputed features (``--features``; the rule
  is :func:`badlabels.models.base.model_input`). Such a model predicts from the features of
  the new rows (``predict --features FILE``, read by
  :func:`badlabels.data.features.read_features`: a ``.npy`` aligned to the new file's data
  rows or a table keyed by sequence), never from the sequences; the alphabet and length
  rules are then not applied.

A regression dataset (``Dataset.is_regression``: ``load_data(task="regression")``, or
``"auto"`` on a continuous label column) trains a regressor
(:func:`badlabels.methods.regression.build_regressor`, methods ``mse`` (default), ``huber``,
``student_t``) on ``Dataset.targets`` with the same validation split; its metadata adds
``task: "regression"``, ``score_transform`` (``{"transform", "floor"}``), ``data.units``
(what a prediction is in, e.g. ``log10(fitness)``), and the validation metrics
(:func:`badlabels.evaluation.metrics.regression_metrics` on the noisy validation scores,
``validation.metrics_on_noisy_scores``). Classifiers' metadata is unchanged.

``predict_file`` streams a table in chunks (CSV/TSV/text, optionally gzipped, and Parquet;
FASTA is read whole), checks every sequence against those rules and writes the input rows with
a probability column (a regression model: a predicted score column, ``predicted_score``, in
the units it was trained on).
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import badlabels
from badlabels.data.dataset import Dataset
from badlabels.data.splits import split_indices
from badlabels.errors import BadInputError
from badlabels.evaluation import binary_metrics
from badlabels.models import params_for

__all__ = [
    "DEFAULT_PROB_COL",
    "DEFAULT_SCORE_COL",
    "PredictSummary",
    "check_model_input",
    "length_rules",
    "params_for",
    "predict_file",
    "save_final",
    "score_units",
    "train_final",
]

DEFAULT_PROB_COL = "prob_positive"
"""Name of the probability column ``predict`` adds (classifiers)."""

DEFAULT_SCORE_COL = "predicted_score"
"""Name of the predicted score column ``predict`` adds (regression models)."""

Progress = Callable[..., object]


# ------------------------------------------------------------------------------ train


def length_rules(sequences) -> dict:
    """The length rules a model trained on ``sequences`` enforces at prediction time.

    Returns
    -------
    dict
        ``min_length``, ``max_length`` and ``allow_shorter`` (True when the training
        lengths varied).
    """
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64)
    lo, hi = (int(lengths.min()), int(lengths.max())) if len(lengths) else (0, 0)
    return {"min_length": lo, "max_length": hi, "allow_shorter": bool(lo < hi)}


def train_final(
    dataset: Dataset,
    model: str = "lstm",
    method: str | None = None,
    *,
    model_params: dict | None = None,
    method_params: dict | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    progress: Progress | None = None,
    weights: str = "none",
):
    """Train the final model on ``dataset`` with a noisy validation split for early stopping.

    Parameters
    ----------
    dataset : Dataset
        Sequences with their (possibly noisy) labels; with ``features`` (n, d), an ``mlp`` or
        ``logreg`` trains on those instead (a loss-based ``method`` only). A regression
        dataset (``dataset.is_regression``) trains a regressor on ``dataset.targets``
        (``mlp`` / ``ridge`` read its features, if any).
    model : str
        Passed to :func:`badlabels.methods.registry.build_estimator` (classification) or
        :func:`badlabels.methods.regression.build_regressor` (regression: a key of
        :data:`badlabels.models.regression.REGRESSORS`).
    method : str, optional
        Training method; default ``"bce"`` (classification) or ``"mse"`` (regression). A
        regression dataset takes the methods of
        :data:`badlabels.methods.regression.REGRESSION_METHODS` only, a classification one
        those of :data:`badlabels.methods.registry.METHODS`.
    model_params : dict, optional
        Model constructor parameters (``max_epochs``, ``patience``, ``batch_size``, ``lr``,
        ``device`` ...). ``random_state`` defaults to ``seed``; ``alphabet`` to the dataset's.
    method_params : dict, optional
        Parameters of the method.
    val_fraction : float, default 0.1
        Share of the rows held out (at random, seeded) as the validation split.
    seed : int, default 0
        Seeds the split and the model.
    progress : callable, optional
        Forwarded to ``fit`` (``"epoch"`` events).
    weights : {"none", "depth"}, default "none"
        Regression on count data only: ``"depth"`` weights each training score by the
        inverse of its read-count variance (:func:`badlabels.data.regression.depth_weights`),
        so that thinly measured variants count less. Recorded in ``training.weights``.

    Returns
    -------
    estimator : fitted badlabels estimator
    metadata : dict
        JSON-able facts to store with the model (see the module docstring).

    Raises
    ------
    BadInputError
        Bad options (a method of the other task among them), or too few sequences to hold
        out a validation split.
    """
    regression = dataset.is_regression
    if method is None:
        method = "mse" if regression else "bce"
    _check_method_task(method, regression)
    if regression and str(weights).strip().lower() == "none":
        from badlabels.methods.regression import weights_kind

        weights = weights_kind(method, method_params)  # mse_depth, or method param weights=...
    weight_info, sample_weight = _training_weights(dataset, weights, regression)
    try:
        vf = float(val_fraction)
    except (TypeError, ValueError):
        vf = float("nan")
    if not 0.0 < vf < 0.5:
        raise BadInputError(f"--val-fraction must be between 0 and 0.5, got {val_fraction!r}")
    n = len(dataset)
    if n < 10:
        raise BadInputError(f"{n} sequence(s) are too few to train and validate a model (need 10)")
    # split_indices is the one place that splits: its held-out part is our validation split.
    split = split_indices(n, (1.0 - vf, 0.0, vf), seed=seed)
    train_idx, val_idx = split.train, split.test
    if regression:
        est, X, val_metrics, seconds = _fit_regressor(
            dataset, model, method, model_params, method_params, seed, train_idx, val_idx,
            progress, sample_weight,
        )  # fmt: skip
        wrappers: list = []
    else:
        est, X, val_metrics, seconds, wrappers = _fit_classifier(
            dataset, model, method, model_params, method_params, seed, train_idx, val_idx,
            progress,
        )  # fmt: skip

    alphabet = getattr(est, "alphabet_", dataset.alphabet)
    architecture = est.architecture() if hasattr(est, "architecture") else {"type": model}
    extra = dataset.extra or {}
    label_col = extra.get("label_col", "label")
    if regression:
        transform = dict(extra.get("score_transform") or {"transform": "none", "floor": None})
        targets = dataset.targets
        data_task = {
            "seq_col": extra.get("seq_col", "sequence"),
            "label_col": label_col,
            "units": score_units(label_col, transform),
            "score_transform": transform,
            "targets": {
                "mean": float(np.mean(targets)), "sd": float(np.std(targets)),
                "min": float(np.min(targets)), "max": float(np.max(targets)),
            },
        }  # fmt: skip
        what, key = "scores", "metrics_on_noisy_scores"
    else:
        data_task = {
            "positive_fraction": dataset.positive_fraction,
            "seq_col": extra.get("seq_col", "sequence"),
            "label_col": label_col,
            "label_kind": extra.get("label_kind"),
            "threshold": dataset.threshold,
        }
        what, key = "labels", "metrics_on_noisy_labels"
    metadata = {
        "trained_by": "badlabels train",
        **({"task": "regression"} if regression else {}),
        "model": model,
        "method": method,
        "method_params": dict(method_params or {}),
        "alphabet": alphabet,
        "length_rules": length_rules(dataset.sequences),
        "architecture": architecture,
        "data": {
            "name": dataset.name,
            "source": dataset.source,
            "fingerprint": dataset.fingerprint(),
            "n_sequences": n,
            **data_task,
            **(
                {"mutant_col": extra["mutant_col"], "target_seq": extra["target_seq"],
                 "offset": int(extra.get("offset") or 0)}
                if extra.get("target_seq") else {}
            ),  # fmt: skip
        },
        "validation": {
            "split": f"noisy validation split: the {what} as given (possibly noisy), "
            "held out at random and used for early stopping",
            "fraction": vf,
            "seed": int(seed),
            "n_train": int(len(train_idx)),
            "n_val": int(len(val_idx)),
            key: val_metrics,
        },
        "training": {
            "epochs_run": int(getattr(est, "epochs_run_", 1)),
            "best_epoch": int(getattr(est, "best_epoch_", 1)),
            "seconds": float(seconds),
            "weights": weight_info,
        },
        "badlabels_version": badlabels.__version__,
        "input": (
            {"kind": "sequences"}
            if X is dataset.sequences
            else {"kind": "features", "n_features": int(X.shape[1])}
        ),
    }
    if regression:
        metadata["score_transform"] = data_task["score_transform"]
    if extra.get("positions") is not None:  # the model reads only these columns of its input
        metadata["positions"] = {
            "positions": [int(p) for p in extra["positions"]],
            "full_length": int(extra["full_length"]),
            "template": extra.get("template"),
        }
    if wrappers:  # what the method wrapped around the saved model (see unwrap_model)
        metadata["wrappers"] = wrappers
    return est, metadata


def score_units(label_col: str, transform: dict | None) -> str:
    """What a regression model's prediction is in: ``log10(COL)`` or ``COL`` itself.

    Parameters
    ----------
    label_col : str
        The score column trained on (GB1: ``fitness``).
    transform : dict, optional
        ``{"transform": "log10" | "none", "floor": float}`` (``Dataset.extra["score_transform"]``).
    """
    name = (transform or {}).get("transform") or "none"
    return f"log10({label_col})" if name == "log10" else str(label_col)


def _check_method_task(method, regression: bool) -> None:
    """One-line BadInputError for a training method of the other task."""
    from badlabels.methods.regression import REGRESSION_METHODS

    if regression and method not in REGRESSION_METHODS:
        raise BadInputError(
            f"method {method!r} is not a regression method; a regression model trains with "
            f"one of: {', '.join(REGRESSION_METHODS)}"
        )
    if not regression and isinstance(method, str) and method in REGRESSION_METHODS:
        from badlabels.methods.registry import METHODS

        if method not in METHODS:
            raise BadInputError(
                f"method {method!r} is for regression (continuous scores: --task regression); "
                f"a classifier trains with one of: {', '.join(METHODS)}"
            )


def _fit_classifier(dataset, model, method, model_params, method_params, seed, train_idx,
                    val_idx, progress):  # fmt: skip
    """Build, fit and measure a classifier: ``(est, X, metrics, seconds, wrappers)``."""
    from badlabels.methods.registry import build_estimator

    y = dataset.labels
    if len(np.unique(y[train_idx])) < 2:
        raise BadInputError("the training split holds only one class; use more data")
    params = params_for(model, {"random_state": seed, **(model_params or {})}, dataset.alphabet)
    est = build_estimator(model, method, model_params=params, method_params=method_params)
    from badlabels.models.base import check_features_read, model_input

    if dataset.features is not None:
        check_features_read([model])
    X = model_input(dataset, model, est, method)  # mlp / logreg: the features, if any
    t0 = time.perf_counter()
    est.fit(
        X[train_idx],
        y[train_idx],
        eval_set=(X[val_idx], y[val_idx]),
        progress=progress,
    )
    seconds = time.perf_counter() - t0
    est, wrappers = _saveable(est, method)
    prob_val = est.predict_proba(X[val_idx])[:, 1]
    return est, X, binary_metrics(y[val_idx], prob_val), seconds, wrappers


def _training_weights(dataset, weights, regression: bool) -> tuple[dict, np.ndarray | None]:
    """``(what training.weights records, per-row weights or None)`` for ``--weights``."""
    from badlabels.data.regression import WEIGHTS, depth_weights

    kind = str(weights).strip().lower()
    if kind not in WEIGHTS:
        raise BadInputError(f"unknown weights {weights!r}; choose one of {', '.join(WEIGHTS)}")
    if kind == "none":
        return {"kind": "none"}, None
    if not regression:
        raise BadInputError("--weights depth weights continuous scores: add --task regression")
    w, tau2 = depth_weights(dataset)
    return {"kind": "depth", "tau2": tau2, "min": float(w.min()), "max": float(w.max())}, w


def _fit_regressor(dataset, model, method, model_params, method_params, seed, train_idx,
                   val_idx, progress, sample_weight=None):  # fmt: skip
    """Build, fit and measure a regressor on ``dataset.targets``: ``(est, X, metrics,
    seconds)``; metrics are :func:`regression_metrics` on the (noisy) validation scores."""
    from badlabels.evaluation.metrics import regression_metrics
    from badlabels.methods.regression import build_regressor, regressor_params
    from badlabels.models.regression import REGRESSORS

    params = regressor_params(
        model, {"random_state": seed, **(model_params or {})}, dataset.alphabet
    )
    est = build_regressor(model, method, model_params=params, method_params=method_params)
    X = dataset.sequences
    if dataset.features is not None:
        if not getattr(REGRESSORS.get(model), "reads_features", False):
            readers = [k for k, cls in REGRESSORS.items() if getattr(cls, "reads_features", False)]
            raise BadInputError(
                f"precomputed features are read by {' and '.join(readers)} only, and {model} "
                f"reads sequences; drop --features or train {' or '.join(readers)}"
            )
        X = dataset.features
    y = dataset.targets
    t0 = time.perf_counter()
    w = None if sample_weight is None else sample_weight[train_idx]
    est.fit(X[train_idx], y[train_idx], eval_set=(X[val_idx], y[val_idx]), progress=progress,
            sample_weight=w)  # fmt: skip
    seconds = time.perf_counter() - t0
    pred_val = est.predict(X[val_idx])
    return est, X, regression_metrics(y[val_idx], pred_val), seconds


def _saveable(est, method: str):
    """The plain registered model that makes ``est``'s predictions, and the wrappers around it.

    Wrapper methods (forward correction, co-teaching, cleanlab filtering, selection on the
    validation split) predict with the model they trained last, their ``estimator_``; that
    model is what gets saved (:func:`badlabels.models.persist.unwrap_model`).
    """
    from badlabels.models import MODELS
    from badlabels.models.persist import unwrap_model

    inner, wrappers = unwrap_model(est)
    if type(inner) not in tuple(MODELS.values()):
        raise BadInputError(
            f"method {method!r} gives a {type(est).__name__}, which cannot be saved as one "
            "model; train with another --method"
        )
    return inner, wrappers


def save_final(estimator, metadata: dict, directory) -> Path:
    """Save a model from :func:`train_final` as ``model.safetensors`` + ``model.json``."""
    from badlabels.models.persist import save_model

    return save_model(estimator, directory, metadata=metadata)


# ------------------------------------------------------------------------------ predict


def _rules_of(model) -> tuple[str, dict]:
    """(alphabet, length rules) of a loaded model, from its metadata or its fitted state."""
    meta = getattr(model, "metadata_", None) or {}
    alphabet = str(meta.get("alphabet") or model.alphabet_)
    rules = dict(meta.get("length_rules") or {})
    rules.setdefault("max_length", int(model.max_len_))
    rules.setdefault("min_length", 1)
    rules.setdefault("allow_shorter", True)
    return alphabet, rules


def _short(seq: str, width: int = 40) -> str:
    return seq if len(seq) <= width else seq[:width] + "..."


def check_model_input(sequences, rows, alphabet: str, rules: dict, *, file=None, unit="row"):
    """Raise a one-line ``BadInputError`` for the first sequence the model cannot read.

    Parameters
    ----------
    sequences : pandas.Series of str
        Upper-cased, stripped sequences.
    rows : array-like of int
        The row (or FASTA record) number of each, as the user sees it.
    alphabet : str
    rules : dict
        ``max_length``, ``min_length``, ``allow_shorter`` (see :func:`length_rules`).
    file : str, optional
        For the message.
    unit : {"row", "record"}
    """
    rows = np.asarray(rows)

    def fail(i: int, problem: str):
        err = BadInputError(problem, file=file, row=int(rows[i]))
        if unit != "row":
            where = f"{file}, " if file else ""
            err.args = (f"{where}{unit} {int(rows[i])}: {problem}",)
        raise err

    empty = (sequences == "").to_numpy(dtype=bool)
    if empty.any():
        fail(int(np.argmax(empty)), "missing sequence")
    pattern = "[^" + "".join("\\" + c if c in "\\^]-[" else c for c in alphabet) + "]"
    bad = sequences.str.contains(pattern, regex=True).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.argmax(bad))
        seq = str(sequences.iat[i])
        pos = next(p for p, ch in enumerate(seq) if ch not in alphabet)
        fail(
            i,
            f"the model cannot read sequence {_short(seq)!r}: character {seq[pos]!r} at "
            f"position {pos + 1} is not in its alphabet {alphabet}",
        )
    lengths = sequences.str.len().to_numpy(dtype=np.int64)
    hi = int(rules["max_length"])
    too_long = lengths > hi
    if too_long.any():
        i = int(np.argmax(too_long))
        fail(
            i,
            f"the model cannot read sequence {_short(str(sequences.iat[i]))!r}: it is "
            f"{int(lengths[i])} residues long, longer than the {hi} it was trained on",
        )
    if not rules.get("allow_shorter", True):
        too_short = lengths < hi
        if too_short.any():
            i = int(np.argmax(too_short))
            fail(
                i,
                f"the model cannot read sequence {_short(str(sequences.iat[i]))!r}: it is "
                f"{int(lengths[i])} residues long, but the model was trained only on "
                f"sequences of length {hi}",
            )


@dataclass
class PredictSummary:
    """What :func:`predict_file` did.

    Attributes
    ----------
    out : Path
    n_rows : int
        Rows predicted and written.
    n_chunks : int
    prob_col : str or None
        The probability column written (a classifier), None for a regression model.
    seconds : float
    task : {"classification", "regression"}
        What the model predicts.
    score_col : str or None
        The predicted score column written (a regression model), else None.
    units : str or None
        A regression model: what its predictions are in (``log10(fitness)``: the units it
        was trained on, ``metadata["data"]["units"]``), else None.
    """

    out: Path
    n_rows: int
    n_chunks: int
    prob_col: str | None
    seconds: float
    task: str = "classification"
    score_col: str | None = None
    units: str | None = None

    @property
    def column(self) -> str:
        """The column ``predict`` added: ``prob_col`` or ``score_col``."""
        return str(self.score_col if self.task == "regression" else self.prob_col)


def _new_features(model, model_dir, features, input_path: Path, unit: str, seq_col: str, chunks):
    """The feature rows (N, d) of every input row for a model trained on features, else None.

    ``chunks()`` yields ``(chunk, sequences)`` of the input (a first pass: its sequences are
    what a keyed features file is matched on). One-line BadInputError when features are
    missing for such a model, given to a sequence model, of another width, or lacking some
    sequences.
    """
    from badlabels.models.base import FEATURES, SEQUENCES

    kind = getattr(model, "input_kind_", SEQUENCES)
    if kind != FEATURES:
        if features is not None:
            raise BadInputError(
                f"the model in {model_dir} was trained on sequences and reads no features; "
                "drop --features"
            )
        return None
    d = int(model.n_features_in_)
    if features is None:
        raise BadInputError(
            f"the model in {model_dir} was trained on precomputed features ({d} per row); give "
            "the new rows' features with --features FILE (a .npy aligned to the input's data "
            "rows, or a table keyed by sequence)"
        )
    from badlabels.data.features import read_features
    from badlabels.data.validate import Where

    parts = [seqs.to_numpy(dtype=object) for _, seqs in chunks()]
    seqs = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
    if len(seqs) == 0:
        raise BadInputError("no data rows", file=str(input_path))
    rows_x = read_features(
        features, seqs, n_input_rows=len(seqs), where=Where(str(input_path), unit),
        seq_col=seq_col,
    )  # fmt: skip
    if rows_x.shape[1] != d:
        raise BadInputError(
            f"has {rows_x.shape[1]} features per row; the model was trained on {d}",
            file=str(features),
        )
    return rows_x


def _mutation_builder(meta: dict, mutant_col, target_seq, offset, file: str):
    """A function ``(column values, rows) -> Series of sequences`` built from mutation strings,
    or None without ``mutant_col``."""
    if mutant_col is None:
        if target_seq is not None or offset is not None:
            raise BadInputError(
                "--target-seq and --offset are for building sequences from mutation strings; "
                "name their column with --mutant-col"
            )
        return None
    import pandas as pd

    from badlabels.data.mutations import build_variants, read_target
    from badlabels.data.validate import Where

    data = meta.get("data") or {}
    target = read_target(target_seq) if target_seq is not None else data.get("target_seq")
    if not target:
        raise BadInputError(
            "--mutant-col needs the target sequence the mutations apply to: give it with "
            "--target-seq (the model was not trained from mutation strings)"
        )
    shift = int(offset if offset is not None else data.get("offset") or 0)
    where = Where(file, "row")

    def build(values, rows):
        seqs, kept, _ = build_variants(
            values, target, offset=shift, rows=rows, where=where, column=mutant_col
        )
        if not kept.all():
            i = int(np.argmin(kept))
            raise where.error(
                f"variant {str(values.iat[i])!r} in column {mutant_col!r} is not a "
                "substitution the model can score (synonymous, indel or missing)",
                int(rows[i]),
            )
        return pd.Series(seqs, index=values.index, dtype=object)

    return build


def _projected(seqs, rows, cut: dict, file: str, unit: str):
    """``seqs`` (a pandas Series of full-length sequences) cut to the model's positions."""
    import pandas as pd

    from badlabels.data.positions import project
    from badlabels.data.validate import Where

    full = int(cut["full_length"])
    out = project(
        seqs.to_numpy(dtype=object), cut["positions"], full, where=Where(file, unit),
        what="sequence to predict", rows=rows,
    )  # fmt: skip
    return pd.Series(out, index=seqs.index, dtype=object)


def _open_out(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "wt", encoding="utf-8", newline="")
    return open(path, "w", encoding="utf-8", newline="")


def predict_file(
    model_dir,
    input_path,
    out,
    *,
    seq_col: str | None = None,
    prob_col: str | None = None,
    chunksize: int = 100_000,
    fmt: str | None = None,
    device: str | None = None,
    progress: Progress | None = None,
    features=None,
    mutant_col: str | None = None,
    target_seq: str | None = None,
    offset: int | None = None,
    score_col: str | None = None,
) -> PredictSummary:
    """Predict every sequence of a table with a saved model, streaming in chunks.

    A classifier adds the probability column ``prob_col``; a regression model (its
    ``model.json`` says ``"task": "regression"``) adds the predicted score column
    ``score_col`` instead, in the units the model was trained on (e.g. log10 fitness,
    ``metadata["data"]["units"]``), and never a probability.

    Parameters
    ----------
    model_dir : str or Path
        Folder written by ``badlabels train`` (or :func:`save_final`).
    input_path : str or Path
        CSV/TSV/text (gzip detected), Parquet or FASTA.
    out : str or Path
        CSV to write (gzipped when it ends with ``.gz``): the input rows, blank lines
        dropped, plus ``prob_col`` (or ``score_col``).
    seq_col : str, optional
        Column of sequences; default the column the model was trained from (else
        ``"sequence"``).
    prob_col : str, optional
        Name of the probability column (P(label = 1)) of a classifier; default
        ``"prob_positive"``. Refused for a regression model.
    chunksize : int, default 100000
        Rows read, checked and predicted at a time.
    fmt : str, optional
        Force the input format.
    device : str, optional
        Run the model on this device (``"cpu"``, ``"cuda"``).
    progress : callable, optional
        ``progress("chunk", rows=, total_rows=)`` after each chunk.
    features : str or Path, optional
        The precomputed features of the input's rows, for a model trained on features (and
        only for one): a ``.npy`` array of shape (rows, d) aligned to the input's data rows,
        or a table keyed by sequence (:func:`badlabels.data.features.read_features`). The
        input is then read twice (its sequences first, to fetch their features).
    mutant_col : str, optional
        Build each row's sequence from the mutation strings in this column (``A1P:D2N`` or
        MaveDB ``hgvs_pro``) applied to ``target_seq`` (default: the target the model was
        trained with, ``metadata["data"]["target_seq"]``), numbered with ``offset`` (default:
        as in training). Rows that are not substitutions (synonymous, indels) are refused.
    target_seq : str, optional
        The target sequence or a FASTA file, with ``mutant_col``.
    offset : int, optional
        With ``mutant_col``: position P is residue P - ``offset`` of the target.
    score_col : str, optional
        Name of the predicted score column of a regression model; default
        ``"predicted_score"``. Refused for a classifier.

    Returns
    -------
    PredictSummary

    Raises
    ------
    BadInputError
        Unreadable model or input, a missing column, a sequence the model cannot read (named
        with its row), features missing for a model trained on them (or given to one that
        was not), features of the wrong width or missing for some sequences, ``prob_col``
        for a regression model or ``score_col`` for a classifier. A partly written output is
        removed.
    """
    from badlabels.data.io import read_table_chunks, table_format
    from badlabels.models.persist import load_model

    t0 = time.perf_counter()
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise BadInputError(f"--chunksize must be a whole number >= 1, got {chunksize!r}")
    if prob_col is not None and not str(prob_col).strip():
        raise BadInputError("the probability column needs a name")
    if score_col is not None and not str(score_col).strip():
        raise BadInputError("the predicted score column needs a name")
    model = load_model(model_dir, device=device)
    alphabet, rules = _rules_of(model)
    meta = getattr(model, "metadata_", None) or {}
    from badlabels.models.regression import is_regressor_model

    regression = is_regressor_model(model)
    if regression:
        if prob_col is not None:
            raise BadInputError(
                f"the model in {model_dir} is a regression model: it writes a predicted score, "
                "not a probability; name its column with --score-col"
            )
        col, opt = str(score_col or DEFAULT_SCORE_COL), "--score-col"
        units = (meta.get("data") or {}).get("units") or "the units of its training scores"
    else:
        if score_col is not None:
            raise BadInputError(
                f"the model in {model_dir} is a classifier: it writes P(label = 1), not a "
                "score; name its column with --prob-col"
            )
        col, opt, units = str(prob_col or DEFAULT_PROB_COL), "--prob-col", None
    if seq_col is None:
        seq_col = (meta.get("data") or {}).get("seq_col") or "sequence"
    input_path = Path(input_path)
    out = Path(out)
    fmt = table_format(input_path, fmt)
    if out.exists() and out.resolve() == input_path.resolve():
        raise BadInputError(
            "the output would overwrite the input; choose another --out", file=str(out)
        )
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    unit = "record" if fmt == "fasta" else "row"
    cut = meta.get("positions")

    from badlabels.data.validate import as_text

    build = _mutation_builder(meta, mutant_col, target_seq, offset, str(input_path))
    if build is not None:
        seq_col = mutant_col

    def chunks():
        for chunk in read_table_chunks(input_path, fmt, chunksize):
            if seq_col not in chunk.columns:
                cols = ", ".join(repr(c) for c in chunk.columns) or "(none)"
                raise BadInputError(
                    f"no column {seq_col!r} (columns: {cols}); choose one with --seq-col",
                    file=str(input_path),
                    row=1 if unit == "row" else None,
                )
            if build is None:
                seqs = as_text(chunk[seq_col]).str.upper()
            else:
                seqs = build(chunk[seq_col], chunk.index.to_numpy())
            if cut is not None:
                seqs = _projected(seqs, chunk.index.to_numpy(), cut, str(input_path), unit)
            yield chunk, seqs

    rows_x = _new_features(model, model_dir, features, input_path, unit, seq_col, chunks)
    n_rows = n_chunks = 0
    ok = False
    try:
        with _open_out(out) as fh:
            for chunk, seqs in chunks():
                if col in chunk.columns:
                    raise BadInputError(
                        f"the input already has a column {col!r}; name the output column "
                        f"differently with {opt}",
                        file=str(input_path),
                    )
                if rows_x is None:
                    check_model_input(
                        seqs, chunk.index.to_numpy(), alphabet, rules, file=str(input_path),
                        unit=unit,
                    )  # fmt: skip
                    values = seqs.to_numpy(dtype=object)
                else:  # a model of precomputed features reads this chunk's feature rows
                    values = rows_x[n_rows : n_rows + len(seqs)]
                if not len(values):
                    pred = np.zeros(0)
                elif regression:  # the score, in the units the model was trained on
                    pred = np.asarray(model.predict(values), dtype=np.float64)
                else:
                    pred = model.predict_proba(values)[:, 1]
                outc = chunk.reset_index(drop=True)
                outc[col] = pred
                outc.to_csv(fh, header=n_chunks == 0, index=False)
                n_rows += len(outc)
                n_chunks += 1
                if progress is not None:
                    progress("chunk", rows=len(outc), total_rows=n_rows)
            if n_rows == 0:
                raise BadInputError("no data rows", file=str(input_path))
        ok = True
    finally:
        if not ok and out.exists():
            out.unlink()
    return PredictSummary(
        out=out, n_rows=n_rows, n_chunks=n_chunks, prob_col=None if regression else col,
        seconds=time.perf_counter() - t0, task="regression" if regression else "classification",
        score_col=col if regression else None, units=units,
    )  # fmt: skip
