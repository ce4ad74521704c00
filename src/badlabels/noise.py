"""Label-noise models: corrupt clean binary labels the way real assays do.

Every function returns a :class:`NoiseResult` (noisy ``labels`` as int8, a
boolean ``flipped`` mask with ``flipped == (noisy != clean)``, and for
``read_depth`` the recomputed ``scores``). All randomness comes from
``np.random.default_rng(seed)``: the same inputs and seed give the same flips.
A rate or fraction outside [0, 1] (or NaN) raises
:class:`badlabels.errors.BadInputError` naming the parameter and its value.

The noise models and what each assumes
--------------------------------------
``symmetric(labels, rate)``
    Uniform ("completely at random") noise: exactly ``round(rate * n)`` labels,
    chosen uniformly without replacement, are flipped, whatever their class and
    whatever the sequence. Assumes errors do not depend on the class or on the
    measurement (e.g. sample swaps, transcription errors). On average each class
    sees a flip rate of ``rate``; the exact count per class varies
    (hypergeometric).

``class_conditional(labels, p_pos_to_neg, p_neg_to_pos)``
    Noise that depends on the true class only: exactly
    ``round(p_pos_to_neg * n_pos)`` positives become negatives and exactly
    ``round(p_neg_to_pos * n_neg)`` negatives become positives, chosen uniformly
    within each class. Assumes the noise is independent of the sequence given
    the class (e.g. a screen that misses a fixed share of binders). This is the
    model under which :mod:`badlabels.evaluation.correction` is exact.

``measurement(scores, threshold, scale, transform="auto")``
    Instance-dependent noise: Gaussian measurement error with standard
    deviation ``scale * std(scores)`` is added to the continuous score and the
    label re-derived as ``noisy score > threshold``. Flips concentrate near the
    cutoff, as with replicate-to-replicate variation in a real assay. Assumes
    homoscedastic additive error on the chosen scale. Heavy-tailed scores
    (e.g. GB1 fitness: many zeros, a long right tail) are poorly described by
    additive error on the raw scale, so with ``transform="auto"`` the noise is
    added on the scale ``log(score + eps)`` (``eps`` = half the smallest
    positive score) when the scores are non-negative and skewed (sample
    skewness > 2); the threshold is transformed the same way and the standard
    deviation is that of the transformed scores. ``"log"`` forces this
    transform (scores must be non-negative with at least one positive value),
    ``"none"`` never applies it. ``scale`` is a multiple of the score spread,
    not a rate: any value >= 0 is allowed; 0 means no flips.

``read_depth(count_input, count_selected, fraction, threshold=...)``
    Sequencing-depth noise for count data (deep mutational scans): each read
    of both the input and the selected library is kept independently with
    probability ``fraction`` (binomial thinning, as if the run had been
    sequenced ``fraction`` times as deep), the fitness is recomputed as
    enrichment relative to wild type, ``(sel / inp) / (sel_wt / inp_wt)``
    (wild-type counts thinned too), or relative to the library totals,
    ``(sel / inp) / (sum(sel) / sum(inp))`` (the totals of the whole library,
    thinned too, when the rows are a part of it). A variant with no input read
    left gets fitness 0 (unmeasurable, as the source data stores "0 where no
    read survived"). ``pseudocount`` is added to every variant's (and the
    wild type's) counts in a ratio, not to library totals. The label is
    re-derived as ``fitness > threshold``. Assumes reads are sampled
    independently (Poisson/binomial counting noise only, no PCR jackpotting).
    ``fraction=1`` reproduces the labels exactly.

Which normalisation a dataset's score uses
------------------------------------------
Thinning is only meaningful if the recomputed fitness is on the scale of the
dataset's own score (the threshold is a value of that score). So before
thinning anything, :func:`apply_noise` finds how the score is computed from
the unthinned counts (:func:`resolve_count_normalisation`): relative to the
wild type named in ``dataset.extra["wild_type"]`` (``--wild-type``, or the
built-in GB1's ``VDGV``); else relative to a row whose score is 1 (a wild
type scored against itself); else relative to the library totals; with a
pseudocount of 0, 0.5 or 1. A candidate is taken when the counts reproduce
the score within a relative tolerance of ``COUNT_RTOL`` (0.1 %) on at least
``COUNT_MIN_AGREEMENT`` (99 %) of the rows with input reads; if none does,
:class:`~badlabels.errors.BadInputError` says what to pass. A normalisation
resolved on the whole dataset is stored in ``dataset.extra["count_normalisation"]``
and used as it is on its parts (a split part may not hold the wild-type row).

How flips are counted for ``measurement`` and ``read_depth``
------------------------------------------------------------
A flip is a change of call caused by the perturbation: the call on the noisy
scores/thinned counts is compared with the call the same computation makes on
the unperturbed scores/counts, and the flips are applied to ``labels``
(``noisy = labels XOR flipped``). When ``labels`` is left at its default, or
agrees with that call (the normal case), the noisy labels are exactly the
re-derived calls. Counting this way guarantees that ``scale=0`` and
``fraction=1`` give no flips even if the stored labels were derived with
slightly different arithmetic (rounded fitness values in a file, a library
total computed on a subset).

Noise for continuous scores
---------------------------
For regression (``Dataset.task == "regression"``) the noise corrupts the continuous
target instead of a label. These functions return a :class:`ScoreNoiseResult` (noisy
``scores`` as float64, a boolean ``changed`` mask of the rows the noise touched, and the
``clean`` scores; ``flipped`` is an alias of ``changed``). All randomness again comes
from ``np.random.default_rng(seed)``: the same inputs and seed give the same scores.
Scores must be one-dimensional and finite.

``gaussian(scores, scale)``
    Additive homoscedastic error: ``N(0, (scale * sd)^2)`` with ``sd = np.std(scores)``
    (the population standard deviation of the clean scores) is added to every row, on
    the scale the scores are given in (for a regression dataset, the target scale, e.g.
    log10 fitness). ``scale`` is a finite multiple of the spread, >= 0; 0 changes
    nothing, any other value marks every row as changed.

``outliers(scores, fraction)``
    The regression analogue of a flip ("completely at random"): exactly
    ``round(fraction * n)`` rows, chosen uniformly without replacement, are replaced by
    draws (with replacement) from the empirical distribution of all ``n`` clean scores,
    whatever their own value (gross errors such as sample swaps). A draw may equal the
    old value; ``changed`` still marks every chosen row. Assumes the error does not
    depend on the sequence or on the score.

``apply_score_noise(dataset, noise_type, level)``
    Dispatch on :data:`SCORE_NOISE_TYPES`, acting on ``dataset.targets`` of a
    regression dataset: ``gaussian`` (``level`` = scale), ``outliers`` (``level`` =
    fraction) and ``read_depth`` (``level`` = fraction of reads kept). ``read_depth``
    thins the read counts exactly as :func:`apply_noise` does and turns the recomputed
    raw fitness into targets with the dataset's own transform
    (:func:`badlabels.data.regression.targets_of`); ``changed`` is ``noisy != clean``.
    As with label flips, a change is one the thinning causes: a row whose recomputed
    fitness equals the one from the unthinned counts keeps its clean target exactly, so
    ``fraction=1`` changes nothing even when the stored scores were rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from badlabels.errors import BadInputError

__all__ = [
    "COUNT_MIN_AGREEMENT",
    "COUNT_RTOL",
    "NOISE_TYPES",
    "CountNormalisation",
    "NoiseResult",
    "SCORE_NOISE_TYPES",
    "ScoreNoiseResult",
    "apply_noise",
    "apply_score_noise",
    "class_conditional",
    "gaussian",
    "measurement",
    "outliers",
    "read_depth",
    "resolve_count_normalisation",
    "symmetric",
    "transition_matrix",
]

NOISE_TYPES: tuple[str, ...] = ("symmetric", "class_conditional", "measurement", "read_depth")
TRANSFORMS: tuple[str, ...] = ("auto", "none", "log")
_SKEW_CUTOFF = 2.0


@dataclass(frozen=True, eq=False)
class NoiseResult:
    """Noisy labels and which of them were flipped.

    Attributes
    ----------
    labels : ndarray of int8, shape (n,)
        The noisy labels (0 or 1).
    flipped : ndarray of bool, shape (n,)
        True where the noisy label differs from the clean one.
    scores : ndarray of float, shape (n,), optional
        The recomputed continuous score (``read_depth``: the fitness from the
        thinned counts); None for the other noise types.
    """

    labels: np.ndarray
    flipped: np.ndarray
    scores: np.ndarray | None = None

    @property
    def n_flipped(self) -> int:
        """Number of flipped labels."""
        return int(np.count_nonzero(self.flipped))

    @property
    def flip_rate(self) -> float:
        """Fraction of labels flipped (NaN for no labels)."""
        n = len(self.flipped)
        return self.n_flipped / n if n else float("nan")


# --------------------------------------------------------------------------- checks


def _check_unit(name: str, value) -> float:
    """``value`` as a float in [0, 1], or BadInputError naming ``name``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise BadInputError(f"{name} must be a number between 0 and 1, got {value!r}") from None
    if not (0.0 <= x <= 1.0):  # also catches NaN
        raise BadInputError(f"{name} must be between 0 and 1, got {value!r}")
    return x


def _check_nonneg(name: str, value) -> float:
    """``value`` as a finite float >= 0, or BadInputError naming ``name``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise BadInputError(f"{name} must be a number >= 0, got {value!r}") from None
    if not (math.isfinite(x) and x >= 0.0):
        raise BadInputError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


def _check_finite(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise BadInputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise BadInputError(f"{name} must be a finite number, got {value!r}")
    return x


def _as_labels(labels, name: str = "labels") -> np.ndarray:
    """1-D int8 array of 0/1, or BadInputError."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise BadInputError(f"{name} must be one-dimensional, got shape {y.shape}")
    if y.dtype == bool:
        return y.astype(np.int8)
    if y.size and not np.isin(y, (0, 1)).all():
        bad = y[~np.isin(y, (0, 1))][0]
        raise BadInputError(f"{name} must be 0 or 1, found {bad!r}")
    return y.astype(np.int8)


def _as_float(values, name: str) -> np.ndarray:
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise BadInputError(f"{name} must be numeric") from None
    if x.ndim != 1:
        raise BadInputError(f"{name} must be one-dimensional, got shape {x.shape}")
    if not np.isfinite(x).all():
        i = int(np.flatnonzero(~np.isfinite(x))[0])
        raise BadInputError(f"{name} must be finite, found {x[i]!r} at index {i}")
    return x


def _as_counts(values, name: str) -> np.ndarray:
    x = _as_float(values, name)
    if (x < 0).any() or (x != np.round(x)).any():
        i = int(np.flatnonzero((x < 0) | (x != np.round(x)))[0])
        raise BadInputError(
            f"{name} must be non-negative whole numbers, found {x[i]!r} at index {i}"
        )
    return x.astype(np.int64)


def _same_length(n: int, other: np.ndarray, name: str) -> None:
    if len(other) != n:
        raise BadInputError(f"{name} has {len(other)} entries, expected {n}")


def _flip(clean: np.ndarray, flipped: np.ndarray, scores=None) -> NoiseResult:
    noisy = (clean ^ flipped.astype(np.int8)).astype(np.int8)
    return NoiseResult(labels=noisy, flipped=flipped, scores=scores)


# --------------------------------------------------------------------------- models


def symmetric(labels, rate, seed=0) -> NoiseResult:
    """Flip exactly ``round(rate * n)`` labels chosen uniformly without replacement.

    Parameters
    ----------
    labels : array-like of 0/1, shape (n,)
    rate : float in [0, 1]
    seed : int or None, passed to ``np.random.default_rng``.
    """
    y = _as_labels(labels)
    rate = _check_unit("rate", rate)
    rng = np.random.default_rng(seed)
    n = len(y)
    k = int(round(rate * n))
    flipped = np.zeros(n, dtype=bool)
    if k:
        flipped[rng.choice(n, size=k, replace=False)] = True
    return _flip(y, flipped)


def class_conditional(labels, p_pos_to_neg, p_neg_to_pos, seed=0) -> NoiseResult:
    """Flip exactly ``round(p_pos_to_neg * n_pos)`` positives and ``round(p_neg_to_pos * n_neg)`` negatives.

    Parameters
    ----------
    labels : array-like of 0/1, shape (n,)
    p_pos_to_neg : float in [0, 1], P(noisy = 0 | clean = 1).
    p_neg_to_pos : float in [0, 1], P(noisy = 1 | clean = 0).
    seed : int or None
    """
    y = _as_labels(labels)
    p10 = _check_unit("p_pos_to_neg", p_pos_to_neg)
    p01 = _check_unit("p_neg_to_pos", p_neg_to_pos)
    rng = np.random.default_rng(seed)
    flipped = np.zeros(len(y), dtype=bool)
    for cls, p in ((1, p10), (0, p01)):
        idx = np.flatnonzero(y == cls)
        k = int(round(p * len(idx)))
        if k:
            flipped[rng.choice(idx, size=k, replace=False)] = True
    return _flip(y, flipped)


def _skewness(x: np.ndarray) -> float:
    if len(x) < 3:
        return 0.0
    d = x - x.mean()
    m2 = float(np.mean(d * d))
    if m2 <= 0:
        return 0.0
    return float(np.mean(d * d * d)) / m2**1.5


def _score_transform(scores: np.ndarray, threshold: float, transform: str):
    """(transformed scores, transformed threshold, name of the transform used)."""
    if transform not in TRANSFORMS:
        raise BadInputError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
    use_log = transform == "log"
    if transform == "auto":
        use_log = bool(len(scores)) and scores.min() >= 0 and _skewness(scores) > _SKEW_CUTOFF
    if not use_log:
        return scores, threshold, "none"
    positive = scores[scores > 0]
    if scores.size and scores.min() < 0 or positive.size == 0:
        raise BadInputError(
            "transform='log' needs non-negative scores with at least one positive value"
        )
    eps = float(positive.min()) / 2.0
    t_thr = math.log(threshold + eps) if threshold + eps > 0 else -math.inf
    return np.log(scores + eps), t_thr, "log"


def measurement(scores, threshold, scale, seed=0, labels=None, *, transform="auto") -> NoiseResult:
    """Add Gaussian measurement error to continuous scores and re-threshold.

    Parameters
    ----------
    scores : array-like of float, shape (n,)
        The continuous assay readout (label = score > threshold).
    threshold : float
        The cutoff.
    scale : float >= 0
        Noise standard deviation as a multiple of ``std(scores)`` (on the
        transformed scale when a transform applies). 0 gives no flips.
    seed : int or None
    labels : array-like of 0/1, optional
        The clean labels; default ``scores > threshold``. See the module
        docstring for how flips are applied to them.
    transform : {"auto", "none", "log"}
        Scale on which the noise is added (module docstring).
    """
    s = _as_float(scores, "scores")
    thr = _check_finite("threshold", threshold)
    scale = _check_nonneg("scale", scale)
    clean = (s > thr).astype(np.int8) if labels is None else _as_labels(labels)
    _same_length(len(s), clean, "labels")
    rng = np.random.default_rng(seed)
    z, z_thr, _ = _score_transform(s, thr, transform)
    sd = scale * float(np.std(z)) if len(z) else 0.0
    noisy_z = z + rng.normal(0.0, 1.0, size=len(z)) * sd
    flipped = (noisy_z > z_thr) != (z > z_thr)
    return _flip(clean, flipped)


def _enrichment(
    inp, sel, pseudocount, wt_index=None, wt_counts=None, what="", totals=None
) -> np.ndarray:
    """Fitness from counts; 0 where the input count is 0.

    Relative to the wild type (``wt_counts`` or row ``wt_index``), else to the library totals
    (``totals`` = (input, selected) of the whole library, default the sums of ``inp``/``sel``).
    """
    inp_f = inp.astype(np.float64) + pseudocount
    sel_f = sel.astype(np.float64) + pseudocount
    measured = inp > 0
    fitness = np.zeros(len(inp), dtype=np.float64)
    if wt_counts is not None or wt_index is not None:
        inp_wt, sel_wt = wt_counts if wt_counts is not None else (inp[wt_index], sel[wt_index])
        if inp_wt <= 0 or sel_wt + pseudocount <= 0:
            raise BadInputError(
                f"the wild type has {int(inp_wt)} input and {int(sel_wt)} selected reads{what}, "
                "so fitness relative to it is undefined; use a larger fraction or a pseudocount"
            )
        ratio = (sel_wt + pseudocount) / (inp_wt + pseudocount)
    else:
        total_inp, total_sel = (
            (float(inp.sum()), float(sel.sum())) if totals is None else map(float, totals)
        )
        if total_inp <= 0 or total_sel <= 0:
            return fitness
        ratio = total_sel / total_inp
    np.divide(sel_f / ratio, inp_f, out=fitness, where=measured)
    return fitness


def read_depth(
    count_input,
    count_selected,
    fraction,
    *,
    threshold,
    seed=0,
    labels=None,
    wt_index=None,
    pseudocount=0,
    wt_counts=None,
    library_totals=None,
) -> NoiseResult:
    """Binomially thin both read counts, recompute fitness and re-derive labels.

    Parameters
    ----------
    count_input, count_selected : array-like of non-negative ints, shape (n,)
        Reads per variant before and after selection.
    fraction : float in [0, 1]
        Probability that each read is kept. 1 reproduces the labels exactly.
    threshold : float
        Label = fitness > threshold.
    seed : int or None
    labels : array-like of 0/1, optional
        Clean labels; default: labels from the unthinned counts computed the
        same way. Flips are applied to them (module docstring).
    wt_index : int, optional
        Row of the wild type; fitness is enrichment relative to it. None:
        enrichment relative to the library totals.
    pseudocount : float >= 0
        Added to every count in a ratio (not to the "input count is 0" test).
    wt_counts : (int, int), optional
        Wild-type (input, selected) counts kept outside the arrays, e.g. when
        the wild-type row is not in this subset; thinned like the others.
        Takes precedence over ``wt_index``.
    library_totals : (int, int), optional
        Without a wild type: (input, selected) reads of the whole library these rows belong
        to (default: the sums over these rows). The reads outside these rows are thinned
        too, so a part of a library is normalised as the whole library would be.

    Returns
    -------
    NoiseResult with ``scores`` = the fitness recomputed from the thinned counts.
    """
    inp = _as_counts(count_input, "count_input")
    sel = _as_counts(count_selected, "count_selected")
    n = len(inp)
    _same_length(n, sel, "count_selected")
    fraction = _check_unit("fraction", fraction)
    thr = _check_finite("threshold", threshold)
    pc = _check_nonneg("pseudocount", pseudocount)
    if wt_counts is not None:
        wt = _as_counts(wt_counts, "wt_counts")
        if len(wt) != 2:
            raise BadInputError(f"wt_counts must be (input, selected), got {len(wt)} values")
        wt_counts = (int(wt[0]), int(wt[1]))
        wt_index = None
    elif wt_index is not None:
        if isinstance(wt_index, bool) or not isinstance(wt_index, int | np.integer):
            raise BadInputError(f"wt_index must be an integer row index, got {wt_index!r}")
        if not 0 <= int(wt_index) < n:
            raise BadInputError(f"wt_index {int(wt_index)} is out of range for {n} variants")
        wt_index = int(wt_index)
    totals = None
    if library_totals is not None and wt_counts is None and wt_index is None:
        tot = _as_counts(library_totals, "library_totals")
        if len(tot) != 2:
            raise BadInputError(f"library_totals must be (input, selected), got {len(tot)} values")
        if tot[0] < inp.sum() or tot[1] < sel.sum():
            raise BadInputError(
                "library_totals are smaller than the reads of these rows; give the totals of "
                "the whole library"
            )
        totals = (int(tot[0]), int(tot[1]))
    ref_call = (
        _enrichment(inp, sel, pc, wt_index, wt_counts, " in the unthinned counts", totals) > thr
    )
    clean = ref_call.astype(np.int8) if labels is None else _as_labels(labels)
    _same_length(n, clean, "labels")

    rng = np.random.default_rng(seed)
    totals_t = totals
    if fraction == 1.0:
        inp_t, sel_t, wt_t = inp.copy(), sel.copy(), wt_counts
    else:
        inp_t = rng.binomial(inp, fraction)
        sel_t = rng.binomial(sel, fraction)
        wt_t = None
        if wt_counts is not None:
            wt_t = tuple(int(v) for v in rng.binomial(np.array(wt_counts), fraction))
        if totals is not None:
            # the library's reads outside these rows, thinned like the rest
            rest = rng.binomial(np.array([totals[0] - inp.sum(), totals[1] - sel.sum()]), fraction)
            totals_t = (int(inp_t.sum() + rest[0]), int(sel_t.sum() + rest[1]))
    fitness = _enrichment(
        inp_t, sel_t, pc, wt_index, wt_t, f" after thinning to fraction={fraction:g}", totals_t
    )
    flipped = (fitness > thr) != ref_call
    return _flip(clean, flipped, scores=fitness)


# --------------------------------------------------------------------------- count normalisation

COUNT_RTOL = 1e-3
"""Relative tolerance within which counts must reproduce a dataset's score (0.1 %)."""
COUNT_MIN_AGREEMENT = 0.99
"""Share of the rows with input reads on which they must do so (the rest: e.g. rows a file
merged from another measurement)."""
_PSEUDOCOUNTS = (0.0, 0.5, 1.0)
_MAX_UNIT_ROWS = 5


@dataclass(frozen=True)
class CountNormalisation:
    """How a dataset's score is computed from its read counts (what read-depth noise redoes).

    Attributes
    ----------
    kind : {"wild_type", "library_totals"}
        Enrichment relative to the wild type, or to the library totals.
    reference : (int, int)
        (input, selected) reads of the wild type, or of the whole library.
    wild_type : str or None
        The wild-type sequence (kind ``"wild_type"``).
    pseudocount : float
        Added to each variant's (and the wild type's) counts in the ratio.
    n_checked, n_agree : int
        Rows with input reads whose score was compared, and how many of them the counts
        reproduce within ``rtol``.
    rtol : float
        The relative tolerance of that check.
    found_by : str
        ``"given"`` (``--wild-type`` or the built-in dataset), ``"score of 1"`` (the row scored 1)
        or ``"library totals"``.
    """

    kind: str
    reference: tuple[int, int]
    wild_type: str | None = None
    pseudocount: float = 0.0
    n_checked: int = 0
    n_agree: int = 0
    rtol: float = COUNT_RTOL
    found_by: str = "given"

    @property
    def agreement(self) -> float:
        """Share of the checked rows that the counts reproduce (NaN if none were checked)."""
        return self.n_agree / self.n_checked if self.n_checked else float("nan")

    def describe(self) -> str:
        """One sentence for summaries and reports."""
        if self.kind == "wild_type":
            how = (
                f"enrichment relative to the wild type {self.wild_type} "
                f"({self.reference[0]:,} input / {self.reference[1]:,} selected reads"
                + (", found as the row scored 1" if self.found_by == "score of 1" else "")
                + ")"
            )
        else:
            how = (
                f"enrichment relative to the library totals ({self.reference[0]:,} input / "
                f"{self.reference[1]:,} selected reads)"
            )
        pc = f", pseudocount {self.pseudocount:g}" if self.pseudocount else ""
        return (
            f"Read-depth noise recomputes the score as {how}{pc}; from the unthinned counts this "
            f"reproduces the given score on {self.n_agree:,} of {self.n_checked:,} rows with "
            f"input reads ({self.agreement:.2%}, within {self.rtol:.1%})."
        )

    def to_dict(self) -> dict:
        """JSON-friendly form (``config.json``, ``Dataset.extra``)."""
        return {
            "kind": self.kind,
            "reference": [int(self.reference[0]), int(self.reference[1])],
            "wild_type": self.wild_type,
            "pseudocount": float(self.pseudocount),
            "n_checked": int(self.n_checked),
            "n_agree": int(self.n_agree),
            "rtol": float(self.rtol),
            "found_by": self.found_by,
        }

    @classmethod
    def from_dict(cls, d: dict) -> CountNormalisation:
        ref = d["reference"]
        return cls(
            kind=str(d["kind"]),
            reference=(int(ref[0]), int(ref[1])),
            wild_type=d.get("wild_type"),
            pseudocount=float(d.get("pseudocount", 0.0)),
            n_checked=int(d.get("n_checked", 0)),
            n_agree=int(d.get("n_agree", 0)),
            rtol=float(d.get("rtol", COUNT_RTOL)),
            found_by=str(d.get("found_by", "given")),
        )


def _data_name(dataset) -> str:
    return str(getattr(dataset, "source", None) or getattr(dataset, "name", "the data"))


def _count_arrays(dataset) -> tuple[np.ndarray, np.ndarray]:
    counts = dataset.counts or {}
    missing = [c for c in ("count_input", "count_selected") if c not in counts]
    if missing:
        raise BadInputError(
            f"read_depth noise needs read counts, but data {dataset.name!r} lacks column(s) "
            f"{', '.join(missing)} (needed: count_input, count_selected)"
        )
    return (
        _as_counts(counts["count_input"], "count_input"),
        _as_counts(counts["count_selected"], "count_selected"),
    )


def resolve_count_normalisation(dataset, *, pseudocount=None) -> CountNormalisation:
    """Find how ``dataset.scores`` is computed from its read counts, and check it.

    Parameters
    ----------
    dataset : Dataset
        With ``counts`` (``count_input``, ``count_selected``, shape (n,)) and ``scores``
        (shape (n,)). ``extra["count_normalisation"]`` (a resolved normalisation's
        ``to_dict()``) is returned as it is; ``extra["wild_type"]`` (with
        ``extra["wt_counts"]`` when the row may be absent) names the wild type to use.
    pseudocount : float, optional
        The pseudocount of the score; default: whichever of 0, 0.5 and 1 reproduces it.

    Returns
    -------
    CountNormalisation
        The first candidate (module docstring) whose counts reproduce the score within
        :data:`COUNT_RTOL` on at least :data:`COUNT_MIN_AGREEMENT` of the rows with input reads.

    Raises
    ------
    BadInputError
        One line naming the data, the best candidate and what to pass, when no candidate
        reproduces the score, when the given wild type is not in the data, or when the data
        have no counts or no score.
    """
    extra = dataset.extra or {}
    stored = extra.get("count_normalisation")
    if stored is not None:
        return (
            stored
            if isinstance(stored, CountNormalisation)
            else CountNormalisation.from_dict(stored)
        )
    inp, sel = _count_arrays(dataset)
    name = _data_name(dataset)
    if dataset.scores is None:
        raise BadInputError(
            f"read_depth noise needs the score the labels were cut from, to check that the "
            f"counts reproduce it, but {name} has none: give the score column with --label-col "
            "and --threshold or --quantile"
        )
    scores = _as_float(dataset.scores, "scores")
    pcs = _PSEUDOCOUNTS if pseudocount is None else (_check_nonneg("pseudocount", pseudocount),)
    measured = inp > 0
    n_checked = int(measured.sum())
    if n_checked == 0:
        raise BadInputError(f"read_depth noise: no row of {name} has input reads")
    atol = 1e-12 * float(np.abs(scores[measured]).max() or 1.0)

    def agree(kind, ref, pc) -> int:
        wt = ref if kind == "wild_type" else None
        tot = ref if kind == "library_totals" else None
        fit = _enrichment(inp, sel, pc, None, wt, " in the unthinned counts", tot)
        ok = np.abs(fit - scores) <= COUNT_RTOL * np.abs(scores) + atol
        return int(np.count_nonzero(ok & measured))

    candidates: list[tuple[str, tuple[int, int], str | None, str]] = []
    wild_type = extra.get("wild_type")
    if wild_type is not None:
        wild_type = str(wild_type).strip().upper()
        hits = np.flatnonzero(dataset.sequences == wild_type)
        if extra.get("wt_counts") is not None:
            ref = tuple(int(v) for v in extra["wt_counts"])
        elif hits.size:
            ref = (int(inp[hits[0]]), int(sel[hits[0]]))
        else:
            raise BadInputError(
                f"the wild type {wild_type!r} is not a sequence of {name}; pass --wild-type with "
                "a sequence of the file"
            )
        candidates.append(("wild_type", ref, wild_type, "given"))
    elif extra.get("wt_counts") is not None:  # counts kept without a name
        candidates.append(("wild_type", tuple(int(v) for v in extra["wt_counts"]), None, "given"))
    else:
        unit = np.flatnonzero(np.isclose(scores, 1.0, rtol=1e-6, atol=0.0) & measured)
        unit = unit[np.argsort(-inp[unit], kind="stable")][:_MAX_UNIT_ROWS]
        for i in unit:
            candidates.append(
                ("wild_type", (int(inp[i]), int(sel[i])), str(dataset.sequences[i]), "score of 1")
            )
        candidates.append(
            ("library_totals", (int(inp.sum()), int(sel.sum())), None, "library totals")
        )
    best = None
    for kind, ref, wt, how in candidates:
        if kind == "wild_type" and ref[0] <= 0:
            continue
        for pc in pcs:
            n_ok = agree(kind, ref, pc)
            if best is None or n_ok > best[0]:
                best = (n_ok, kind, ref, wt, pc)
            if n_ok >= COUNT_MIN_AGREEMENT * n_checked:
                return CountNormalisation(
                    kind, ref, wt, float(pc), n_checked, n_ok, COUNT_RTOL, how
                )
    n_ok, kind, ref, wt, pc = best if best is not None else (0, "wild_type", (0, 0), wild_type, 0)
    tried = (
        f"relative to the wild type {wt}"
        if kind == "wild_type"
        else "relative to the library totals"
    )
    fix = (
        "check --wild-type and the count columns"
        if wild_type is not None
        else "if the score is enrichment relative to a wild type, pass --wild-type SEQ"
    )
    raise BadInputError(
        f"read_depth noise: the read counts of {name} do not reproduce its score "
        f"(best: enrichment {tried}, pseudocount {pc:g}, agrees within {COUNT_RTOL:.1%} on "
        f"{n_ok:,} of {n_checked:,} rows with input reads; {COUNT_MIN_AGREEMENT:.0%} needed); "
        f"{fix}, or use --noise-type measurement"
    )


# --------------------------------------------------------------------------- dispatch


def apply_noise(
    dataset,
    noise_type: str,
    level,
    seed=0,
    *,
    cc_ratio=0.5,
    transform="auto",
    pseudocount=None,
) -> NoiseResult:
    """Corrupt ``dataset.labels`` with one of :data:`NOISE_TYPES` at ``level``.

    ``level`` means: ``symmetric`` the flip rate; ``class_conditional``
    ``p_pos_to_neg`` (with ``p_neg_to_pos = cc_ratio * level``);
    ``measurement`` the noise scale (needs ``dataset.scores`` and
    ``dataset.threshold``); ``read_depth`` the fraction of reads kept (needs
    ``dataset.counts`` with ``count_input`` and ``count_selected`` and the score
    they give; the normalisation is found and checked by
    :func:`resolve_count_normalisation`, ``pseudocount`` None = found there too).
    Names are case-insensitive and ``-`` may stand for ``_``.
    """
    kind = str(noise_type).strip().lower().replace("-", "_")
    if kind not in NOISE_TYPES:
        raise BadInputError(
            f"unknown noise type {noise_type!r}; choose one of {', '.join(NOISE_TYPES)}"
        )
    labels = dataset.labels
    if kind == "symmetric":
        return symmetric(labels, level, seed)
    if kind == "class_conditional":
        level = _check_unit("level", level)
        ratio = _check_nonneg("cc_ratio", cc_ratio)
        return class_conditional(labels, level, ratio * level, seed)
    if kind == "measurement":
        if dataset.scores is None or dataset.threshold is None:
            raise BadInputError(
                f"measurement noise needs a continuous score, but data {dataset.name!r} has no "
                "continuous score: pass --threshold or --quantile"
            )
        return measurement(
            dataset.scores, dataset.threshold, level, seed, labels, transform=transform
        )
    # read_depth
    inp, sel = _count_arrays(dataset)
    if dataset.threshold is None:
        raise BadInputError(
            f"read_depth noise needs a fitness threshold, but data {dataset.name!r} has none: "
            "pass --threshold or --quantile"
        )
    norm = resolve_count_normalisation(dataset, pseudocount=pseudocount)
    wild = norm.kind == "wild_type"
    return read_depth(
        inp,
        sel,
        level,
        threshold=dataset.threshold,
        seed=seed,
        labels=labels,
        pseudocount=norm.pseudocount,
        wt_counts=norm.reference if wild else None,
        library_totals=None if wild else norm.reference,
    )


def transition_matrix(clean, noisy) -> np.ndarray:
    """2x2 matrix ``T[i, j] = P(noisy = j | clean = i)`` (rows sum to 1; NaN row if class i is absent)."""
    c = _as_labels(clean, "clean")
    z = _as_labels(noisy, "noisy")
    _same_length(len(c), z, "noisy")
    counts = np.zeros((2, 2), dtype=np.float64)
    np.add.at(counts, (c.astype(np.intp), z.astype(np.intp)), 1.0)
    rows = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / rows


# --------------------------------------------------------------------------- continuous scores

SCORE_NOISE_TYPES: tuple[str, ...] = ("gaussian", "outliers", "read_depth")
"""Noise types for continuous scores (regression targets), see :func:`apply_score_noise`."""


@dataclass(frozen=True, eq=False)
class ScoreNoiseResult:
    """Noisy continuous scores and which rows the noise touched.

    Attributes
    ----------
    scores : ndarray of float64, shape (n,)
        The noisy scores.
    changed : ndarray of bool, shape (n,)
        True for the rows the noise touched (``gaussian``: all rows unless ``scale`` is 0;
        ``outliers``: the chosen rows, even where a draw equals the old value;
        ``read_depth``: the rows whose score differs).
    clean : ndarray of float64, shape (n,)
        The scores before the noise.
    """

    scores: np.ndarray
    changed: np.ndarray
    clean: np.ndarray

    @property
    def flipped(self) -> np.ndarray:
        """Alias of :attr:`changed` (so code written for :class:`NoiseResult` reads it)."""
        return self.changed

    @property
    def n_changed(self) -> int:
        """Number of changed rows."""
        return int(np.count_nonzero(self.changed))

    @property
    def fraction_changed(self) -> float:
        """Fraction of rows changed (NaN for no rows)."""
        n = len(self.changed)
        return self.n_changed / n if n else float("nan")

    @property
    def moved(self) -> np.ndarray:
        """``abs(noisy - clean)`` per row, shape (n,)."""
        return np.abs(self.scores - self.clean)


def gaussian(scores, scale, seed=0) -> ScoreNoiseResult:
    """Add Gaussian error ``N(0, (scale * std(scores))^2)`` to every score.

    Parameters
    ----------
    scores : array-like of float, shape (n,)
        The clean continuous scores (finite).
    scale : float >= 0
        Noise standard deviation as a multiple of the population standard deviation
        ``np.std(scores)``. 0 returns the scores unchanged.
    seed : int or None, passed to ``np.random.default_rng``.

    Returns
    -------
    ScoreNoiseResult
        ``changed`` is all True, or all False when ``scale`` is 0.
    """
    clean = _as_float(scores, "scores")
    scale = _check_nonneg("scale", scale)
    n = len(clean)
    if scale == 0.0 or n == 0:
        return ScoreNoiseResult(clean.copy(), np.zeros(n, dtype=bool), clean)
    rng = np.random.default_rng(seed)
    sd = scale * float(np.std(clean))
    noisy = clean + rng.normal(0.0, 1.0, size=n) * sd
    return ScoreNoiseResult(noisy, np.ones(n, dtype=bool), clean)


def outliers(scores, fraction, seed=0) -> ScoreNoiseResult:
    """Replace exactly ``round(fraction * n)`` scores by draws from the clean scores.

    Parameters
    ----------
    scores : array-like of float, shape (n,)
        The clean continuous scores (finite).
    fraction : float in [0, 1]
        Share of rows replaced; they are chosen uniformly without replacement and each
        gets a value drawn with replacement from all ``n`` clean scores.
    seed : int or None, passed to ``np.random.default_rng``.

    Returns
    -------
    ScoreNoiseResult
        ``changed`` marks the chosen rows (a draw may equal the old value).
    """
    clean = _as_float(scores, "scores")
    fraction = _check_unit("fraction", fraction)
    n = len(clean)
    k = int(round(fraction * n))
    noisy = clean.copy()
    changed = np.zeros(n, dtype=bool)
    if k:
        rng = np.random.default_rng(seed)
        rows = rng.choice(n, size=k, replace=False)
        noisy[rows] = clean[rng.integers(0, n, size=k)]
        changed[rows] = True
    return ScoreNoiseResult(noisy, changed, clean)


def apply_score_noise(
    dataset, noise_type: str, level, seed=0, *, pseudocount=None
) -> ScoreNoiseResult:
    """Corrupt ``dataset.targets`` of a regression dataset with one of :data:`SCORE_NOISE_TYPES`.

    Parameters
    ----------
    dataset : Dataset
        A regression dataset (``dataset.is_regression``), targets shape (n,).
    noise_type : {"gaussian", "outliers", "read_depth"}
        Case-insensitive; ``-`` may stand for ``_``.
    level : float
        ``gaussian``: the scale (multiple of ``std(targets)``, >= 0); ``outliers``: the
        fraction of rows replaced, in [0, 1]; ``read_depth``: the fraction of reads kept, in
        [0, 1] (needs ``dataset.counts``; thinned as by :func:`apply_noise`).
    seed : int or None
    pseudocount : float, optional
        ``read_depth`` only: as for :func:`apply_noise` (None = found from the data).

    Returns
    -------
    ScoreNoiseResult
        Noisy and clean targets, shape (n,). For ``read_depth`` the noisy targets are the
        dataset's transform of the fitness recomputed from the thinned counts, except that a
        row whose recomputed fitness is unchanged by the thinning keeps its clean target.

    Raises
    ------
    BadInputError
        An unknown noise type, a dataset that is not a regression dataset, a bad level, or
        ``read_depth`` on data without read counts.
    """
    kind = str(noise_type).strip().lower().replace("-", "_")
    if kind not in SCORE_NOISE_TYPES:
        raise BadInputError(
            f"unknown score noise type {noise_type!r}; choose one of {', '.join(SCORE_NOISE_TYPES)}"
        )
    if not getattr(dataset, "is_regression", False):
        raise BadInputError(
            f"{kind} score noise needs a regression dataset, but data {dataset.name!r} has "
            "binary labels: pass --task regression"
        )
    clean = _as_float(dataset.targets, "targets")
    if kind == "gaussian":
        return gaussian(clean, level, seed)
    if kind == "outliers":
        return outliers(clean, level, seed)
    # read_depth: thin exactly as label noise does, then transform the recomputed fitness
    from badlabels.data.regression import targets_of

    fraction = _check_unit("fraction", level)
    thinned = apply_noise(dataset, "read_depth", fraction, seed, pseudocount=pseudocount).scores
    unthinned = apply_noise(dataset, "read_depth", 1.0, seed, pseudocount=pseudocount).scores
    noisy = np.where(thinned == unthinned, clean, targets_of(dataset, thinned))
    return ScoreNoiseResult(noisy, noisy != clean, clean)
