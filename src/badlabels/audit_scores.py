"""Audit continuous scores: which measured scores are probably wrong, and how many?

The counterpart of :mod:`badlabels.audit` for regression data (``Dataset.task ==
"regression"``, e.g. GB1 log10 fitness):

1. **Out-of-fold predictions** (:func:`badlabels.methods.regression.out_of_fold_scores`):
   the rows are cut into ``n_folds`` shuffled folds; a fresh regressor (default the LSTM,
   trained with ``mse``) is fitted on the other folds and predicts the held-out one, so
   every score gets a prediction from a model that never saw it.
2. **cleanlab's label-quality scores for regression**
   (:func:`cleanlab.regression.rank.get_label_quality_scores`, nothing re-implemented): a
   score in [0, 1] per row, low = suspect, which orders the ranking. The default method is
   cleanlab's ``"residual"`` (``exp(-|y - y_hat|)``); cleanlab's own default ``"outre"`` (a
   k-nearest-neighbour outlier score in (score, residual) space with n/2 neighbours) needs
   memory and time quadratic in n and is offered for small data only (up to
   :data:`OUTRE_MAX_ROWS` rows).
3. **How many to flag, without clean scores** (:func:`estimate_outliers`). The noise model
   is that of :func:`badlabels.noise.outliers`: a share ``pi`` of the scores were replaced
   by values that have nothing to do with their sequence (sample swaps, failed
   measurements), i.e. draws from the distribution of the scores themselves. Under it the
   residual ``r = y - y_hat`` of a replaced row is distributed like the residual of a
   *random pairing* of a score with another row's prediction, ``y_j - y_hat_i``, which can
   be computed from the data exactly (all n^2 pairs). Beyond a cut ``t`` that correct
   scores hardly ever reach, every observed residual is an outlier, so

   ``pi_hat = P(|r - m| > t) / P(|y_j - y_hat_i - m| > t)``

   (``m`` = the median residual). ``t = tail_cut`` (4) robust standard deviations of the
   residuals (1.4826 x their median absolute deviation, over all rows, outliers included,
   which only moves ``t`` outwards); for Gaussian errors of correct scores 6 in 100,000
   exceed it. A replaced score that happens to land near its true value is not an error
   worth flagging and cannot be told from a correct one, so the number flagged is the
   estimated number of replaced scores that moved by more than ``min_shift`` (1) standard
   deviations of the scores: ``k = round(pi_hat * P(|y_i - y_j| > min_shift * sd) * n)``,
   the second factor again over all pairs of given scores. The ``k`` lowest-quality rows
   are flagged.

Assumptions
-----------
- One row per unique sequence, scores finite, on the scale the audit is read in (the
  dataset's transform, ``extra["score_transform"]``: log10 fitness for GB1).
- Replaced scores are drawn from the score distribution independently of the sequence
  ("completely at random"): ``pi_hat`` is then unbiased as long as correct scores rarely
  miss their prediction by more than ``t``. Heavier-tailed errors of correct scores (a
  weak model, a measurement floor) make ``pi_hat`` an over-estimate; outliers that depend
  on the sequence or on the score are outside the model.
- A model that explains nothing (predictions near the mean) cannot tell a replaced score
  from a correct one: ``pi_hat`` then tends to 1 and the flags are no better than chance;
  read the out-of-fold Spearman first.
- Dataset folds given with the data (``--folds-col``) are not used: the folds are random.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from badlabels._json import finite_or_none
from badlabels.data.dataset import Dataset
from badlabels.data.regression import target_units
from badlabels.errors import BadInputError
from badlabels.evaluation.metrics import auroc, regression_metrics
from badlabels.evaluation.read_depth import (  # noqa: F401  (re-exported)
    describe_read_depth,
    read_depth_check,
    read_depth_of,
)

__all__ = [
    "OUTRE_MAX_ROWS",
    "QUALITY_METHODS",
    "ScoreAuditResult",
    "audit_scores",
    "describe_read_depth",
    "estimate_outliers",
    "read_depth_check",
    "score_detection_metrics",
    "score_units",
    "score_suspects_frame",
    "write_score_audit",
]

QUALITY_METHODS: tuple[str, ...] = ("residual", "outre")
"""``method`` values of :func:`cleanlab.regression.rank.get_label_quality_scores`."""
OUTRE_MAX_ROWS = 5_000
"""Most rows ``quality_method="outre"`` accepts (its memory grows as n^2)."""
TAIL_CUT = 4.0
"""Default cut of :func:`estimate_outliers`, in robust standard deviations of the residuals."""
MIN_SHIFT = 1.0
"""Default smallest move (in standard deviations of the scores) of a replaced score that is
counted as an error worth flagging."""

Progress = Callable[..., object]


@dataclass
class ScoreAuditResult:
    """What :func:`audit_scores` found.

    Attributes
    ----------
    sequences : ndarray of str, shape (n,)
    scores : ndarray of float64, shape (n,)
        The given (possibly noisy) scores, in the audit's units.
    predicted : ndarray of float64, shape (n,)
        Out-of-fold predictions, same units.
    residual : ndarray of float64, shape (n,)
        ``scores - predicted``.
    quality : ndarray of float64, shape (n,)
        cleanlab's label-quality score in [0, 1]; low = the score is probably wrong.
    rank : ndarray of int64, shape (n,)
        1 = the most suspect score (lowest quality), n = the least.
    flagged : ndarray of bool, shape (n,)
        The ``n_flagged`` lowest-quality rows.
    outlier_fraction : float
        Estimated share of replaced (outlying) scores, ``pi_hat``.
    estimate : dict
        How the flag count was found (:func:`estimate_outliers`).
    oof_metrics : dict
        :func:`badlabels.evaluation.metrics.regression_metrics` of the predictions against the
        given scores.
    truth : ndarray of bool, shape (n,), or None
        Scores known to be wrong, when given.
    detection : dict or None
        With ``truth``: :func:`score_detection_metrics`.
    folds : list of dict
        Per fold: sizes, epochs run, best epoch, seconds.
    settings : dict
        The audit's parameters and the units of the scores.
    seconds : float
    read_depth : dict or None
        For count data (a Dataset with ``count_input``): :func:`read_depth_check`.
    """

    sequences: np.ndarray
    scores: np.ndarray
    predicted: np.ndarray
    residual: np.ndarray
    quality: np.ndarray
    rank: np.ndarray
    flagged: np.ndarray
    outlier_fraction: float
    estimate: dict
    oof_metrics: dict
    truth: np.ndarray | None = None
    detection: dict | None = None
    folds: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0
    read_depth: dict | None = None

    @property
    def n(self) -> int:
        """Number of scores audited."""
        return len(self.scores)

    @property
    def n_flagged(self) -> int:
        """Number of scores flagged."""
        return int(self.flagged.sum())

    @property
    def units(self) -> str:
        """The units of scores and predictions, in words."""
        return str(self.settings.get("units") or "the units of the given scores")

    def summary(self) -> dict:
        """A JSON-able summary (what ``audit.json`` holds); NaN becomes None."""
        out = {
            "task": "regression",
            "n": self.n,
            "n_flagged": self.n_flagged,
            "flagged_fraction": self.n_flagged / self.n if self.n else math.nan,
            "estimated_outlier_fraction": self.outlier_fraction,
            "flag_rule": self.estimate,
            "units": self.units,
            "oof_metrics_vs_given_scores": self.oof_metrics,
            "settings": self.settings,
            "folds": self.folds,
            "seconds": self.seconds,
        }
        if self.detection is not None:
            out["detection"] = self.detection
        if self.read_depth is not None:
            out["read_depth"] = self.read_depth
        return finite_or_none(out)




# ------------------------------------------------------------------------- the flag count


def _pair_tail(values: np.ndarray, centres: np.ndarray, cut: float) -> float:
    """Share of all pairs (i, j) with ``|values[j] - centres[i]| > cut`` (exact, n log n)."""
    v = np.sort(values)
    above = len(v) - np.searchsorted(v, centres + cut, side="right")
    below = np.searchsorted(v, centres - cut, side="left")
    return float((above.sum() + below.sum()) / (len(v) * len(centres)))


def _number(value, name: str, *, low: float, strict: bool = False) -> float:
    ok = (isinstance(value, int | float | np.integer | np.floating)
          and not isinstance(value, bool) and math.isfinite(float(value)))  # fmt: skip
    if not ok or (float(value) <= low if strict else float(value) < low):
        sign = ">" if strict else ">="
        raise BadInputError(f"{name} must be a number {sign} {low:g}, got {value!r}")
    return float(value)


def estimate_outliers(scores, predicted, *, tail_cut: float = TAIL_CUT,
                      min_shift: float = MIN_SHIFT) -> dict:  # fmt: skip
    """Estimate the share of replaced scores and how many rows to flag, without clean scores.

    See the module docstring for the model and the reasoning.

    Parameters
    ----------
    scores : array-like of float, shape (n,)
        The given scores.
    predicted : array-like of float, shape (n,)
        Out-of-fold predictions of them.
    tail_cut : float > 0, default 4
        The cut ``t``, in robust standard deviations of the residuals.
    min_shift : float >= 0, default 1
        A replaced score counts (is flagged) when it moved by more than this many standard
        deviations of the scores; 0 flags as many rows as there are estimated outliers.

    Returns
    -------
    dict
        ``outlier_fraction`` (``pi_hat`` in [0, 1]), ``n_flag`` (rows to flag),
        ``flag_fraction``, ``tail_cut`` (in robust sd), ``cut`` (in score units),
        ``robust_sd`` (of the residuals), ``median_residual``, ``observed_tail`` (share of
        residuals beyond the cut), ``random_pairing_tail`` (the same share for a replaced
        score), ``score_sd``, ``min_shift``, ``moved_share`` (share of replacements that move
        a score by more than ``min_shift`` sd), ``rule`` (in words).
    """
    y = np.asarray(scores, dtype=np.float64).reshape(-1)
    p = np.asarray(predicted, dtype=np.float64).reshape(-1)
    if y.shape != p.shape:
        raise BadInputError(f"{len(p)} predictions for {len(y)} scores")
    if not (np.isfinite(y).all() and np.isfinite(p).all()):
        raise BadInputError("scores and predictions must be finite numbers")
    tail_cut = _number(tail_cut, "tail_cut", low=0.0, strict=True)
    min_shift = _number(min_shift, "min_shift", low=0.0)
    n = len(y)
    r = y - p
    med = float(np.median(r)) if n else 0.0
    dev = np.abs(r - med)
    robust_sd = 1.4826 * float(np.median(dev)) if n else 0.0
    if not robust_sd > 0:  # more than half the residuals equal: fall back on the mean deviation
        robust_sd = 1.2533 * float(dev.mean()) if n else 0.0
    cut = tail_cut * robust_sd
    score_sd = float(np.std(y)) if n else 0.0
    observed = float(np.mean(dev > cut)) if n and robust_sd > 0 else 0.0
    pairing = _pair_tail(y, p + med, cut) if n and robust_sd > 0 else 0.0
    fraction = min(1.0, observed / pairing) if pairing > 0 else 0.0
    moved = _pair_tail(y, y, min_shift * score_sd) if n else 0.0
    n_flag = int(round(fraction * moved * n))
    return {
        "outlier_fraction": fraction,
        "n_flag": n_flag,
        "flag_fraction": n_flag / n if n else math.nan,
        "tail_cut": tail_cut,
        "cut": cut,
        "robust_sd": robust_sd,
        "median_residual": med,
        "observed_tail": observed,
        "random_pairing_tail": pairing,
        "score_sd": score_sd,
        "min_shift": min_shift,
        "moved_share": moved,
        "rule": (
            "outlier fraction = share of residuals beyond tail_cut robust sd / the same share "
            "for a score paired with a random row's prediction; flagged = that fraction x the "
            "share of random replacements that move a score by more than min_shift sd, x n, "
            "taken from the lowest label-quality rows"
        ),
    }


# ------------------------------------------------------------------------- detection


def score_detection_metrics(truth, flagged, quality) -> dict:
    """How well the audit finds the scores known to be wrong.

    Parameters
    ----------
    truth : array-like of bool, shape (n,)
        True where the given score is known to be wrong.
    flagged : array-like of bool, shape (n,)
    quality : array-like of float, shape (n,)
        Label-quality scores (low = suspect).

    Returns
    -------
    dict
        ``n_true`` (known wrong), ``true_fraction``, ``n_flagged``, ``true_positives``,
        ``precision``, ``recall``, ``f1`` of the flags; ``top_k`` (= ``n_true``) and
        ``top_k_precision`` (share of known-wrong scores among the ``n_true`` lowest-quality
        rows); ``auroc`` of ``-quality`` at ranking them first. NaN where undefined.
    """
    t = np.asarray(truth).astype(bool)
    f = np.asarray(flagged).astype(bool)
    q = np.asarray(quality, dtype=np.float64)
    tp = int((t & f).sum())
    n_f, n_t = int(f.sum()), int(t.sum())
    precision = tp / n_f if n_f else math.nan
    recall = tp / n_t if n_t else math.nan
    f1 = (2 * precision * recall / (precision + recall)
          if n_f and n_t and precision + recall > 0 else math.nan)  # fmt: skip
    order = np.argsort(q, kind="stable")
    top = float(t[order[:n_t]].mean()) if n_t else math.nan
    return {
        "n_true": n_t,
        "true_fraction": n_t / len(t) if len(t) else math.nan,
        "n_flagged": n_f,
        "true_positives": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "top_k": n_t,
        "top_k_precision": top,
        "auroc": auroc(t.astype(np.int8), -q),
    }


def _as_truth(truth, n: int) -> np.ndarray:
    t = np.asarray(truth)
    if t.shape != (n,):
        raise BadInputError(f"truth has shape {t.shape}, expected ({n},)")
    if t.dtype == bool:
        return t
    try:
        ok = np.isin(t, (0, 1))
    except TypeError:
        ok = np.zeros(n, dtype=bool)
    if not ok.all():
        raise BadInputError(f"truth must be 0/1 or True/False, found {t[~ok][0]!r}")
    return t.astype(bool)


# ------------------------------------------------------------------------- the audit


def score_units(dataset: Dataset | None) -> str:
    """The units a dataset's regression targets are in, in words."""
    return target_units(dataset, default="the units of the given scores")


def _inputs(data, scores):
    """(sequences, features or None, scores float64, alphabet, units) from the arguments."""
    from badlabels.models.regression import as_targets

    if isinstance(data, Dataset):
        if scores is None:
            if not data.is_regression:
                raise BadInputError(
                    f"data {data.name!r} has binary labels, not continuous scores: audit them "
                    "with audit_labels, or load the data with task='regression'"
                )
            scores = data.targets
        seqs = data.sequences
        y = as_targets(scores, len(seqs), "scores")
        return seqs, data.features, y, data.alphabet, score_units(data)
    if isinstance(data, str | bytes):
        raise BadInputError("give a list of sequences (or a Dataset), not a single string")
    try:
        seqs = np.asarray(list(data) if not isinstance(data, np.ndarray) else data, dtype=object)
    except TypeError:
        raise BadInputError(f"give sequences or a Dataset, got {type(data).__name__}") from None
    if seqs.ndim != 1:
        raise BadInputError(
            f"sequences must be one-dimensional, got shape {seqs.shape} (pass a Dataset with "
            "features to audit on precomputed features)"
        )
    if scores is None:
        raise BadInputError("give scores with the sequences (or pass a regression Dataset)")
    y = as_targets(scores, len(seqs), "scores")
    return seqs, None, y, None, score_units(None)


def audit_scores(
    dataset_or_sequences,
    scores=None,
    *,
    model: str = "lstm",
    method: str = "mse",
    n_folds: int = 5,
    seed: int = 0,
    model_params: dict | None = None,
    truth=None,
    progress: Progress | None = None,
    quality_method: str = "residual",
    tail_cut: float = TAIL_CUT,
    min_shift: float = MIN_SHIFT,
    predictions=None,
    engine: str = "auto",
) -> ScoreAuditResult:
    """Find the probably wrong continuous scores of a dataset and estimate how many there are.

    Parameters
    ----------
    dataset_or_sequences : Dataset or array-like of str
        A regression Dataset (``task="regression"``: its ``targets`` are audited), or
        sequences with ``scores``.
    scores : array-like of float, shape (n,), optional
        The given scores; required with plain sequences, overrides ``Dataset.targets`` (then
        in the dataset's units).
    model : str, default "lstm"
        A regressor of :data:`badlabels.models.regression.REGRESSORS`. ``mlp`` and ``ridge``
        read a Dataset's precomputed ``features`` when it has them.
    method : str, default "mse"
        A regression loss (:data:`badlabels.methods.regression.REGRESSION_METHODS`).
    n_folds : int, default 5
    seed : int, default 0
        Seeds the folds and the fold models.
    model_params : dict, optional
        Fold model parameters (``max_epochs``, ``patience``, ``device``, ...; those the model
        does not take are dropped). For a Dataset ``alphabet`` defaults to its own.
    truth : array-like of bool, shape (n,), optional
        Scores known to be wrong: adds :func:`score_detection_metrics`.
    progress : callable, optional
        See :func:`badlabels.methods.regression.out_of_fold_scores`.
    quality_method : {"residual", "outre"}, default "residual"
        cleanlab's label-quality method (``outre`` up to :data:`OUTRE_MAX_ROWS` rows).
    tail_cut, min_shift : float
        See :func:`estimate_outliers`.
    predictions : array-like of float, shape (n,), optional
        Out-of-fold predictions made elsewhere (same units); skips training.
    engine : {"auto", "plain", "stacked"}, default "auto"
        How the fold models train (:func:`badlabels.methods.regression.out_of_fold_scores`):
        ``auto`` trains an LSTM's folds together, as one batched computation.

    Returns
    -------
    ScoreAuditResult

    Raises
    ------
    BadInputError
        Bad data, scores, truth or options (one line each), before any training.
    """
    from cleanlab.regression.rank import get_label_quality_scores

    from badlabels.methods.regression import build_regressor, out_of_fold_scores, weights_kind
    from badlabels.models.regression import REGRESSORS

    t0 = time.perf_counter()
    seqs, features, y, alphabet, units = _inputs(dataset_or_sequences, scores)
    n = len(y)
    if n < 2 or not np.ptp(y) > 0:
        raise BadInputError("the scores must hold at least two different values to audit")
    if quality_method not in QUALITY_METHODS:
        raise BadInputError(f"unknown quality method {quality_method!r}; choose one of "
                            f"{', '.join(QUALITY_METHODS)}")  # fmt: skip
    if quality_method == "outre" and n > OUTRE_MAX_ROWS:
        raise BadInputError(
            f"quality method 'outre' compares every row with half the others (memory grows "
            f"as n^2): use it for up to {OUTRE_MAX_ROWS:,} rows, not {n:,}; 'residual' scales"
        )
    _number(tail_cut, "tail_cut", low=0.0, strict=True)
    _number(min_shift, "min_shift", low=0.0)
    if isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer) or n_folds < 2:
        raise BadInputError(f"n_folds must be a whole number >= 2, got {n_folds!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise BadInputError(f"seed must be a whole number >= 0, got {seed!r}")
    truth_arr = None if truth is None else _as_truth(truth, n)
    params = dict(model_params or {})
    if alphabet is not None:
        params.setdefault("alphabet", alphabet)

    folds: list = []
    x = None
    if predictions is None:
        build_regressor(model, method, model_params=params)  # unknown model / method
        if weights_kind(method) != "none":
            raise BadInputError(f"the audit does not weight scores: audit with mse, not {method}")
        if n_folds > n:
            raise BadInputError(f"{n_folds} folds need at least {n_folds} scores; there are {n}")
        x = seqs
        if features is not None:
            if not getattr(REGRESSORS[model], "reads_features", False):
                raise BadInputError(
                    f"the data have precomputed features, which {model} does not read (mlp and "
                    "ridge do): drop the features or audit with mlp or ridge"
                )
            x = features

        def record(event, **info):
            if event == "fold_end":
                folds.append({k: info[k] for k in ("fold", "n_train", "n_heldout",
                              "epochs_run", "best_epoch", "seconds", "stacked")
                              if k in info})  # fmt: skip
            if progress is not None:
                return progress(event, **info)
            return None

        pred = out_of_fold_scores(model, method, x, y, n_folds=int(n_folds), seed=int(seed),
                                  model_params=params, progress=record, engine=engine)  # fmt: skip
    else:
        pred = np.asarray(predictions, dtype=np.float64).reshape(-1)
        if pred.shape != (n,):
            raise BadInputError(f"predictions hold {pred.size} values for {n} scores")
        if not np.isfinite(pred).all():
            raise BadInputError("predictions must be finite numbers")

    quality = np.asarray(get_label_quality_scores(y, pred, method=quality_method),
                         dtype=np.float64)  # fmt: skip
    order = np.argsort(quality, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    est = estimate_outliers(y, pred, tail_cut=tail_cut, min_shift=min_shift)
    flagged = rank <= est["n_flag"]
    detection = None
    if truth_arr is not None:
        detection = score_detection_metrics(truth_arr, flagged, quality)
    depth = read_depth_of(dataset_or_sequences, flagged, quality)
    settings = {
        "model": model,
        "method": method,
        "model_params": {k: v for k, v in params.items() if k != "alphabet"},
        "n_folds": int(n_folds) if predictions is None else None,
        "folds": "random (KFold, shuffled)" if predictions is None else None,
        "seed": int(seed),
        "engine": (None if predictions is not None
                   else "stacked" if any(f.get("stacked") for f in folds) else "plain"),
        "quality_method": quality_method,
        "out_of_fold": predictions is None,
        "input": (
            {"kind": "features", "n_features": int(features.shape[1])}
            if x is not None and x is features
            else {"kind": "sequences"}
        ),
        "units": units,
    }
    return ScoreAuditResult(
        sequences=np.asarray(seqs, dtype=object),
        scores=y,
        predicted=pred,
        residual=y - pred,
        quality=quality,
        rank=rank,
        flagged=flagged,
        outlier_fraction=float(est["outlier_fraction"]),
        estimate=est,
        oof_metrics=regression_metrics(y, pred),
        truth=truth_arr,
        detection=detection,
        folds=folds,
        settings=settings,
        seconds=time.perf_counter() - t0,
        read_depth=depth,
    )


# ------------------------------------------------------------------------- files


def score_suspects_frame(result: ScoreAuditResult, *, mapping=None, truth_col: str | None = None):
    """``suspects.csv``: one row per audited score, the most suspect first.

    Columns: ``rank`` (1 = most suspect), ``row`` (the first input-file row of the sequence,
    when ``mapping`` is given: a :class:`badlabels.audit.InputRows`), ``sequence``,
    ``given_score``, ``predicted``, ``residual`` (given - predicted), ``quality`` (cleanlab,
    low = suspect), ``flagged`` (yes/no) and, with a truth, ``truth_col`` (or ``truth``: yes/no).
    """
    import pandas as pd

    order = np.argsort(result.rank, kind="stable")
    cols = {"rank": result.rank[order]}
    if mapping is not None:
        first = np.zeros(result.n, dtype=np.int64)
        sel = np.asarray(mapping.first, dtype=bool) & (np.asarray(mapping.index) >= 0)
        first[np.asarray(mapping.index)[sel]] = np.asarray(mapping.rows)[sel]
        cols["row"] = first[order]
    cols.update(
        sequence=result.sequences[order],
        given_score=result.scores[order],
        predicted=result.predicted[order],
        residual=result.residual[order],
        quality=result.quality[order],
        flagged=np.where(result.flagged[order], "yes", "no"),
    )
    if result.truth is not None:
        cols[truth_col or "truth"] = np.where(result.truth[order], "yes", "no")
    return pd.DataFrame(cols)


def _fmt(x, digits: int = 3) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return f"{v:.{digits}f}" if math.isfinite(v) else "n/a"


def _summary_md(result: ScoreAuditResult, data_name, command, truth_col) -> str:
    s, e, m = result.settings, result.estimate, result.oof_metrics
    n, k = result.n, result.n_flagged
    how = (f"{s['n_folds']}-fold out-of-fold predictions of a {s['model']} regressor "
           f"(method {s['method']})" if s.get("out_of_fold")
           else "out-of-fold predictions given to the audit")  # fmt: skip
    lines = [
        f"# Score audit{': ' + data_name if data_name else ''}",
        "",
        f"- **{k:,} of {n:,} scores flagged** ({k / n:.1%}) as probably wrong: the "
        f"{k:,} with the lowest label-quality score (cleanlab, method {s['quality_method']}). "
        "`suspects.csv` lists every score, the most suspect first.",
        f"- **Estimated share of outlying scores: {result.outlier_fraction:.1%}** "
        f"({e['observed_tail']:.2%} of the residuals lie beyond {e['tail_cut']:g} robust sd "
        f"= {e['cut']:.3f}, where {e['random_pairing_tail']:.1%} of randomly replaced scores "
        "would). Flagged are as many as are estimated to have moved by more than "
        f"{e['min_shift']:g} sd of the scores ({e['moved_share']:.1%} of random replacements "
        "do; one that lands near its true value is harmless and cannot be told apart).",
        f"- **How well the model predicts the given scores** ({how}): Spearman "
        f"{_fmt(m['spearman'])}, Pearson {_fmt(m['pearson'])}, R^2 {_fmt(m['r2'])}. The "
        "flags are only as good as this: a model that predicts little cannot tell a wrong "
        "score from a right one.",
        f"- **Units**: scores, predictions and residuals are in {result.units}.",
    ]
    if result.detection is not None:
        d = result.detection
        col = truth_col or "truth"
        lines.append(
            f"- **Against the known wrong scores** ({col}: {d['n_true']:,}, "
            f"{d['true_fraction']:.1%}): precision {_fmt(d['precision'])}, recall "
            f"{_fmt(d['recall'])}, F1 {_fmt(d['f1'])}; among the {d['top_k']:,} most suspect "
            f"{_fmt(d['top_k_precision'])} are known wrong; AUROC of the ranking "
            f"{_fmt(d['auroc'])}."
        )
    if result.read_depth is not None:
        lines.append("- **By read depth** (`count_input`, which the model never saw): "
                     + describe_read_depth(result.read_depth) + ".")
    lines += [
        "",
        "Assumption behind the count: wrong scores are replacements that have nothing to do "
        "with their sequence (drawn from the distribution of the scores), and right scores "
        f"rarely miss their prediction by more than {e['tail_cut']:g} robust sd. Heavier "
        "tails of the model's errors make the estimate too high.",
        "",
        "Files: `suspects.csv`, `audit.json` (all figures), `residuals.png` (given vs "
        "predicted, flagged in red).",
    ]
    if command:
        lines += ["", f"Command: `{command}`"]
    return "\n".join(lines) + "\n"


def _residual_figure(result: ScoreAuditResult, path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 5.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    f = result.flagged
    ax.scatter(result.predicted[~f], result.scores[~f], s=4, c="0.55", alpha=0.4,
               linewidths=0, rasterized=True, label=f"not flagged ({int((~f).sum()):,})")  # fmt: skip
    ax.scatter(result.predicted[f], result.scores[f], s=6, c="tab:red", alpha=0.7,
               linewidths=0, rasterized=True, label=f"flagged ({int(f.sum()):,})")  # fmt: skip
    lo = float(min(result.predicted.min(), result.scores.min()))
    hi = float(max(result.predicted.max(), result.scores.max()))
    ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, ls="--", label="given = predicted")
    ax.set_xlabel("out-of-fold prediction")
    ax.set_ylabel("given score")
    ax.set_title(f"Units: {result.units}", fontsize=8)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def write_score_audit(result: ScoreAuditResult, out_dir, *, mapping=None,
                      truth_col: str | None = None, data_name: str | None = None,
                      command: str | None = None) -> dict:  # fmt: skip
    """Write ``suspects.csv``, ``audit.json``, ``summary.md`` and ``residuals.png``.

    Parameters
    ----------
    result : ScoreAuditResult
    out_dir : str or Path
        Created if missing.
    mapping : badlabels.audit.InputRows, optional
        Adds the input-file row of each sequence to ``suspects.csv``.
    truth_col : str, optional
        Name of the truth column (default ``truth``).
    data_name, command : str, optional
        Recorded in ``audit.json`` and ``summary.md``.

    Returns
    -------
    dict
        Name -> path of each file written.
    """
    import json
    from pathlib import Path

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BadInputError("exists and is not a folder", file=str(out))
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "suspects": out / "suspects.csv",
        "audit": out / "audit.json",
        "summary": out / "summary.md",
        "figure": out / "residuals.png",
    }
    score_suspects_frame(result, mapping=mapping, truth_col=truth_col).to_csv(
        files["suspects"], index=False
    )
    summary = result.summary()
    if data_name is not None:
        summary["data"] = data_name
    if command is not None:
        summary["command"] = command
    if truth_col is not None and result.truth is not None:
        summary["truth_col"] = truth_col
    files["audit"].write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n",
                              encoding="utf-8")  # fmt: skip
    files["summary"].write_text(_summary_md(result, data_name, command, truth_col),
                                encoding="utf-8")  # fmt: skip
    _residual_figure(result, files["figure"])
    return files


def corrupted_score_frame(dataset: Dataset, noise_type: str, level, *, seed: int = 0):
    """A regression dataset with noisy scores added, as ``badlabels corrupt`` writes it.

    Parameters
    ----------
    dataset : Dataset
        ``task="regression"``.
    noise_type : str
        One of :data:`badlabels.noise.SCORE_NOISE_TYPES`.
    level : float
        See :func:`badlabels.noise.apply_score_noise`.
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        The sequence column, ``score`` (clean) and ``score_noisy``, both in the units learnt
        (the dataset's transform: audit the file with ``--label-col score_noisy --transform
        none``), ``is_changed`` (1/0: the rows the noise touched) and ``moved_1sd`` (1/0:
        changed by more than one standard deviation of the clean scores, the truth the
        audit's detection is judged against).
    """
    import pandas as pd

    from badlabels.noise import apply_score_noise

    res = apply_score_noise(dataset, noise_type, level, seed=seed)
    seq_col = (dataset.extra or {}).get("seq_col") or "sequence"
    if seq_col in ("score", "score_noisy", "is_changed", "moved_1sd"):
        seq_col = "sequence"
    sd = float(np.std(dataset.targets))
    return pd.DataFrame({
        seq_col: dataset.sequences,
        "score": dataset.targets,
        "score_noisy": res.scores,
        "is_changed": res.changed.astype(np.int8),
        "moved_1sd": (res.changed & (res.moved > sd)).astype(np.int8),
    })  # fmt: skip


__all__.append("corrupted_score_frame")
