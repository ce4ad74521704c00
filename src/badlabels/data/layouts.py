"""The layouts of public deep-mutational-scanning files, given splits and folds.

A *layout* says which columns of a file hold what, for files whose column names a
benchmark fixed. :func:`badlabels.data.io.load_file` recognises them by their columns when
the user left ``seq_col``/``label_col`` at their defaults (``"sequence"``/``"label"``) and
the file does not have both of those columns; ``layout=`` forces one.

- ``proteingym``: ProteinGym DMS files (``mutant``, ``mutated_sequence``, ``DMS_score``,
  ``DMS_score_bin``, ``fold_random_5``...; indel files have no ``mutant``). The sequence is
  ``mutated_sequence``; the label is ``DMS_score_bin`` (1 = fit); ``DMS_score`` is kept as
  the score. With ProteinGym's reference file (``DMS_substitutions.csv``: ``DMS_id``,
  ``target_seq``, ``DMS_binarization_cutoff``, ``DMS_binarization_method``) and a
  ``DMS_id``, the label is recomputed from ``DMS_score`` with the assay's cutoff and the
  rows whose shipped bin disagrees are counted. Without a bin column or reference the score
  is binarised at its median (ProteinGym's ``median`` method). ProteinGym's rule is
  ``DMS_score >= cutoff`` -> 1 (``performance_DMS_benchmarks.py`` in
  OATML-Markslab/ProteinGym bins at the median as ``1 if x >= median_cutoff else 0``, and
  its README defines the bin as the score being above the fitness cutoff); a cutoff given
  with ``threshold``/``quantile`` keeps badlabels' own ``score > cutoff``. Duplicate
  sequences are averaged as ProteinGym builds its files (``DMS_file_cleanup`` in
  ``proteingym/utils/data_utils.py``: ``groupby('mutant').mean()``): mean ``DMS_score``,
  bin recomputed from the mean.
  *Clinical files* (ProteinGym's clinical benchmark: ``mutated_sequence`` and
  ``DMS_score_bin``, no ``DMS_score``) read the same way, but there the bin means
  **1 = pathogenic, 0 = benign**; pass ``positive="0"`` to make benign the positive class.
- ``flip``: FLIP split files (``sequence``, ``target``, ``set``, optionally
  ``validation``). The label is ``target`` (binarised at the given threshold/quantile, else
  at the median of all rows, when it is a continuous score); the split is ``set``
  (train/test), a true ``validation`` flag on a train row making it a validation row.
- ``mavedb``: MaveDB score sets (``accession``, ``hgvs_nt``, ``hgvs_pro``, ``score``...).
  Sequences are built from ``hgvs_pro`` and a target sequence the user gives
  (:mod:`badlabels.data.mutations`); the label is ``score``, binarised at the given
  threshold/quantile, else at its median. Rows without a score are left out and counted.

Assumptions
-----------
- Given split words are ``train``/``test`` and ``val``/``valid``/``validation``
  (case-insensitive). A validation flag is yes/no in badlabels' one vocabulary (an empty cell
  is no); it turns train rows into validation rows and leaves test rows alone.
- Folds are integers (``0..4``, ``1..5``, ``1.0``...); they are renumbered 0..k-1 in
  increasing order of the values given.
- Errors are one-line :class:`~badlabels.errors.BadInputError` naming the file, the row
  (spreadsheet numbering, header = row 1) and the problem.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from badlabels.data.validate import (
    MISSING_TOKENS,
    NO_TOKENS,
    YES_TOKENS,
    Labels,
    Where,
    _short,
    _show_values,
    _to_float,
    as_text,
    parse_labels,
    yes_no,
)
from badlabels.errors import BadInputError

LAYOUTS = ("proteingym", "flip", "mavedb")
"""Known file layouts (``layout=``, ``--format``)."""

PG_SEQUENCE, PG_SCORE, PG_BIN, PG_MUTANT = (
    "mutated_sequence",
    "DMS_score",
    "DMS_score_bin",
    "mutant",
)
FLIP_SEQUENCE, FLIP_TARGET, FLIP_SET, FLIP_VALIDATION = "sequence", "target", "set", "validation"
MAVEDB_HGVS, MAVEDB_SCORE = "hgvs_pro", "score"
REF_ID, REF_TARGET = "DMS_id", "target_seq"
REF_CUTOFF = ("DMS_binarization_cutoff", "DMS_binarization_cutoff_ProteinGym")
REF_METHOD = "DMS_binarization_method"

SPLIT_WORDS = {
    "train": "train",
    "training": "train",
    "test": "test",
    "testing": "test",
    "val": "val",
    "valid": "val",
    "validation": "val",
}
"""Split values accepted in a split column (lower-cased) and the part each means."""

__all__ = [
    "LAYOUTS",
    "LabelPlan",
    "Plan",
    "Reference",
    "detect_layout",
    "merge_score_duplicates",
    "parse_folds",
    "parse_split",
    "plan_columns",
    "proteingym_labels",
    "read_reference",
    "resolve_format",
    "score_or_binary_labels",
]


# ---------------------------------------------------------------------------------------
# which layout, which columns


def resolve_format(fmt, layout, *, file=None) -> tuple[str | None, str | None]:
    """Split a ``fmt`` that names a layout (``--format proteingym``) from a file format.

    Parameters
    ----------
    fmt : str or None
        A file format (see :data:`badlabels.data.io.FORMATS`) or a layout name.
    layout : str or None
        A layout asked for explicitly.
    file : str, optional
        The data file, for messages.

    Returns
    -------
    (fmt, layout) : the file format (None: from the extension) and the layout (None: detect).

    Raises
    ------
    BadInputError
        An unknown layout, or two different layouts.
    """
    if layout is not None:
        name = str(layout).strip().lower()
        if name not in LAYOUTS:
            raise BadInputError(
                f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}", file=file
            )
        layout = name
    if fmt is not None and str(fmt).strip().lower() in LAYOUTS:
        named = str(fmt).strip().lower()
        if layout is not None and layout != named:
            raise BadInputError(f"format {fmt!r} and layout {layout!r} disagree", file=file)
        return None, named
    return fmt, layout


def detect_layout(columns, *, seq_col: str = "sequence", label_col: str = "label") -> str | None:
    """The layout a file's columns show, or None for a plain sequence/label file.

    Only files read with the default ``seq_col``/``label_col`` are recognised, and a file that
    has both a ``sequence`` and a ``label`` column is always plain.

    Parameters
    ----------
    columns : iterable of str
    seq_col, label_col : str
        The columns the user asked for.

    Returns
    -------
    {"proteingym", "flip", "mavedb"} or None
    """
    if seq_col != "sequence" or label_col != "label":
        return None
    cols = set(columns)
    if {"sequence", "label"} <= cols:
        return None
    if PG_SEQUENCE in cols and (PG_SCORE in cols or PG_BIN in cols):
        return "proteingym"
    if {FLIP_SEQUENCE, FLIP_TARGET, FLIP_SET} <= cols:
        return "flip"
    if {MAVEDB_HGVS, MAVEDB_SCORE} <= cols:
        return "mavedb"
    return None


@dataclass
class Plan:
    """Which column holds what.

    Attributes
    ----------
    seq_col : str or None
        The column of full sequences (None when they are built from mutation strings).
    mutant_col : str or None
        The column of mutation strings (``A1P:D2N`` or ``hgvs_pro``).
    label_col : str
        The column labels are read from (ProteinGym: the bin column, or the score column
        when there is none).
    score_col, bin_col : str or None
        ProteinGym's ``DMS_score`` and ``DMS_score_bin`` where present.
    split_col, valid_col : str or None
        The given split and validation flag.
    """

    seq_col: str | None
    mutant_col: str | None
    label_col: str
    score_col: str | None = None
    bin_col: str | None = None
    split_col: str | None = None
    valid_col: str | None = None


def _need(columns, column: str, where: Where, why: str) -> None:
    if column in columns:
        return
    existing = ", ".join(repr(c) for c in columns) or "(none)"
    near = [c for c in columns if c.lower() == str(column).lower()]
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise where.error(f"no column {column!r}, which {why} (columns: {existing}){hint}", 1)


def plan_columns(
    layout: str | None,
    columns,
    where: Where,
    *,
    seq_col: str = "sequence",
    label_col: str = "label",
    mutant_col: str | None = None,
    split_col: str | None = None,
    valid_col: str | None = None,
) -> Plan:
    """The columns to read for ``layout``, checking they exist.

    Columns the user named (a non-default ``seq_col``/``label_col``, ``mutant_col``,
    ``split_col``, ``valid_col``) win over the layout's own.

    Raises
    ------
    BadInputError
        A column the layout or the user needs is missing (naming the columns there are).
    """
    cols = list(columns)
    user_seq = seq_col if seq_col != "sequence" else None
    user_label = label_col if label_col != "label" else None
    if layout == "proteingym":
        seq = None if mutant_col else (user_seq or PG_SEQUENCE)
        score = PG_SCORE if PG_SCORE in cols else None
        bin_col = user_label or (PG_BIN if PG_BIN in cols else None)
        if seq is not None:
            _need(cols, seq, where, "holds the sequences of a ProteinGym file")
        if bin_col is not None:
            _need(cols, bin_col, where, "holds the labels (--label-col)")
        if score is None and bin_col is None:
            raise where.error(
                f"a ProteinGym file needs a {PG_SCORE!r} or a {PG_BIN!r} column (columns: "
                + ", ".join(repr(c) for c in cols)
                + ")",
                1,
            )
        plan = Plan(seq, mutant_col, bin_col or PG_SCORE, score, bin_col, split_col, valid_col)
    elif layout == "flip":
        seq = None if mutant_col else seq_col
        label = user_label or FLIP_TARGET
        if seq is not None:
            _need(cols, seq, where, "holds the sequences of a FLIP file")
        _need(cols, label, where, "holds the labels of a FLIP file")
        if split_col is None:
            _need(cols, FLIP_SET, where, "holds the split of a FLIP file")
            split_col = FLIP_SET
            if valid_col is None and FLIP_VALIDATION in cols:
                valid_col = FLIP_VALIDATION
        plan = Plan(seq, mutant_col, label, split_col=split_col, valid_col=valid_col)
    elif layout == "mavedb":
        hgvs = mutant_col or MAVEDB_HGVS
        label = user_label or MAVEDB_SCORE
        _need(cols, hgvs, where, "holds the variants of a MaveDB score set")
        _need(cols, label, where, "holds the scores of a MaveDB score set")
        plan = Plan(None, hgvs, label, split_col=split_col, valid_col=valid_col)
    else:
        seq = None if mutant_col else seq_col
        plan = Plan(seq, mutant_col, label_col, split_col=split_col, valid_col=valid_col)
        if seq is not None and seq not in cols:
            return plan  # the loader's own check words this one
    if plan.mutant_col is not None:
        _need(cols, plan.mutant_col, where, "holds the mutation strings (--mutant-col)")
    for col, opt in ((plan.split_col, "--split-col"), (plan.valid_col, "--valid-col")):
        if col is not None:
            _need(cols, col, where, f"holds the given split ({opt})")
    return plan


# ---------------------------------------------------------------------------------------
# ProteinGym's reference file


@dataclass(frozen=True)
class Reference:
    """One assay's row of ProteinGym's reference file.

    Attributes
    ----------
    dms_id : str
    target_seq : str or None
        The assay's target (wild-type) sequence.
    cutoff : float or None
        ``DMS_binarization_cutoff`` (None where the file gives none, e.g. clinical files).
    method : str or None
        ``DMS_binarization_method`` (``manual`` or ``median``).
    file : str
        The reference file, as named.
    """

    dms_id: str
    target_seq: str | None
    cutoff: float | None
    method: str | None
    file: str


def _stem(path) -> str:
    name = Path(str(path)).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return Path(name).stem


def read_reference(path, dms_id: str | None = None, data_path=None) -> Reference:
    """Read one assay's entry of ProteinGym's reference file (``DMS_substitutions.csv``).

    Parameters
    ----------
    path : str or Path
        The reference file (columns ``DMS_id``, ``target_seq``, ``DMS_binarization_cutoff``,
        ``DMS_binarization_method``, ...).
    dms_id : str, optional
        The assay. Default: the data file's name without extensions (ProteinGym names its
        files ``DMS_id.csv``), when the reference lists it.
    data_path : str or Path, optional
        The data file, to guess ``dms_id`` from.

    Returns
    -------
    Reference

    Raises
    ------
    BadInputError
        A missing column; an unknown ``DMS_id`` (listing a few near ids); a cutoff that is
        not a number.
    """
    from badlabels.data.io import read_table
    from badlabels.data.mutations import read_target

    table = read_table(path)
    where = Where(str(path), table.attrs.get("row_unit", "row"))
    for col in (REF_ID, REF_TARGET):
        _need(list(table.columns), col, where, "a ProteinGym reference file has")
    ids = as_text(table[REF_ID]).to_numpy(dtype=object)
    if dms_id is None or not str(dms_id).strip():
        guess = _stem(data_path) if data_path is not None else None
        if guess is None or guess not in set(ids):
            raise where.error(
                "give the assay's DMS_id with --dms-id (the data file's name"
                + (f" {guess!r}" if guess else "")
                + " is not one of its DMS_id values)"
            )
        dms_id = guess
    dms_id = str(dms_id).strip()
    hits = np.flatnonzero(ids == dms_id)
    if hits.size == 0:
        hits = np.flatnonzero(np.char.lower(ids.astype(str)) == dms_id.lower())
    if hits.size == 0:
        near = difflib.get_close_matches(dms_id, list(ids), n=4, cutoff=0.4)
        if not near:
            prefix = dms_id.split("_")[0].lower()
            near = [i for i in ids if str(i).lower().startswith(prefix)][:4]
        shown = ", ".join(repr(n) for n in near) if near else _show_values(list(ids), 3)
        label = "near ids" if near else "ids there"
        raise where.error(f"unknown DMS_id {dms_id!r} ({len(ids)} assays listed); {label}: {shown}")
    i = int(hits[0])
    row_number = table.index[i]
    row = table.iloc[i]
    target = str(as_text(pd.Series([row[REF_TARGET]])).iat[0])
    target_seq = None
    if target and target.lower() not in MISSING_TOKENS:
        try:
            target_seq = read_target(target)
        except BadInputError as exc:
            raise where.error(f"target_seq of {dms_id!r}: {exc.problem}", row_number) from None
    cutoff = None
    cut_col = next((c for c in REF_CUTOFF if c in table.columns), None)
    if cut_col is not None:
        text = str(as_text(pd.Series([row[cut_col]])).iat[0])
        if text and text.lower() not in MISSING_TOKENS:
            value = _to_float(pd.Series([text]))[0]
            if not math.isfinite(value):
                raise where.error(f"{cut_col} {text!r} of {dms_id!r} is not a number", row_number)
            cutoff = float(value)
    method = None
    if REF_METHOD in table.columns:
        text = str(as_text(pd.Series([row[REF_METHOD]])).iat[0])
        method = text or None
    return Reference(str(ids[i]), target_seq, cutoff, method, str(path))


# ---------------------------------------------------------------------------------------
# labels


@dataclass
class LabelPlan:
    """Labels as a layout reads them.

    Attributes
    ----------
    labels : ndarray of int8, shape (n,)
    scores : ndarray of float64, shape (n,), or None
    threshold : float or None
        ``Dataset.threshold``: ``labels == (scores > threshold)`` where scores decide labels.
    kind : str
        ``"binary"``, ``"positive"``, ``"threshold"``, ``"quantile"``, ``"median"``,
        ``"bin"`` (ProteinGym's shipped bins) or ``"reference"`` (recomputed with the
        reference cutoff).
    cutoff : float or None
        The cutoff as the rule states it (for messages).
    rebin : callable or None
        ``rebin(mean_scores) -> labels`` for merged duplicates; None where labels do not come
        from scores by a known cutoff.
    positive : str or None
    extra : dict
        JSON-friendly facts for ``Dataset.extra``.
    """

    labels: np.ndarray
    scores: np.ndarray | None = None
    threshold: float | None = None
    kind: str = "binary"
    cutoff: float | None = None
    rebin: Callable[[np.ndarray], np.ndarray] | None = None
    positive: str | None = None
    extra: dict = field(default_factory=dict)


def _numeric(values, rows, where: Where, column: str) -> np.ndarray:
    text = as_text(values)
    out = _to_float(text)
    bad = ~np.isfinite(out)
    if bad.any():
        i = int(np.argmax(bad))
        cell = str(text.iat[i])
        what = (
            "missing"
            if cell.lower() in MISSING_TOKENS
            else f"{_short(cell, 30)!r} is not a finite number"
        )
        raise where.error(f"score in column {column!r} is {what}", rows[i])
    return out


def _ge_threshold(cutoff: float) -> float:
    """The ``t`` with ``score > t`` exactly when ``score >= cutoff`` (float64)."""
    return float(np.nextafter(float(cutoff), -np.inf))


def proteingym_labels(
    df: pd.DataFrame,
    rows: np.ndarray,
    where: Where,
    plan: Plan,
    *,
    positive=None,
    threshold=None,
    quantile=None,
    reference: Reference | None = None,
) -> LabelPlan:
    """Labels and scores of a ProteinGym file (see the module docstring for the rules).

    Parameters
    ----------
    df : DataFrame
        The file's rows (text cells), index = spreadsheet row.
    rows : ndarray of int, shape (n,)
    where : Where
    plan : Plan
        From :func:`plan_columns` with ``layout="proteingym"``.
    positive : str, optional
        ``"1"`` (default meaning) or ``"0"``: the bin value that means positive. ``"0"`` is
        for clinical files (1 = pathogenic) and needs a file without ``DMS_score``.
    threshold, quantile : float, optional
        Binarise ``DMS_score`` here instead (``score > cutoff``).
    reference : Reference, optional
        Recompute the bins with its cutoff (``DMS_score >= cutoff``).

    Returns
    -------
    LabelPlan
    """
    score_col, bin_col = plan.score_col, plan.bin_col
    scores = _numeric(df[score_col], rows, where, score_col) if score_col else None
    extra: dict = {"score_col": score_col, "bin_col": bin_col}
    if threshold is not None or quantile is not None:
        if scores is None:
            raise where.error(
                f"--threshold/--quantile binarise {PG_SCORE!r}, and this file has no such column"
            )
        p = parse_labels(
            df[score_col], rows, where, column=score_col, threshold=threshold, quantile=quantile
        )
        cutoff = float(p.cutoff)
        out = LabelPlan(
            p.labels, scores, cutoff, p.kind, cutoff, lambda s: (s > cutoff).astype(np.int8)
        )
        extra["binarization"] = (
            f"{score_col} > {cutoff:g} (--{'threshold' if threshold is not None else 'quantile'})"
        )
        extra["label_col"] = score_col
    elif reference is not None and reference.cutoff is not None and scores is not None:
        cutoff = reference.cutoff
        labels = (scores >= cutoff).astype(np.int8)
        out = LabelPlan(labels, scores, _ge_threshold(cutoff), "reference", cutoff,
                        lambda s: (s >= cutoff).astype(np.int8))  # fmt: skip
        extra["binarization"] = (
            f"{score_col} >= {cutoff:g}, the {reference.method or 'given'} cutoff of "
            f"{reference.dms_id} in {Path(reference.file).name} (ProteinGym's rule)"
        )
        extra["label_col"] = score_col
        if bin_col is not None:
            shipped = parse_labels(df[bin_col], rows, where, column=bin_col).labels
            extra["bin_disagreements"] = int((shipped != labels).sum())
    elif bin_col is not None:
        labels = parse_labels(df[bin_col], rows, where, column=bin_col).labels
        out = LabelPlan(labels, scores, None, "bin")
        extra["label_col"] = bin_col
        extra["binarization"] = f"{bin_col} as shipped"
        if scores is not None:
            lo, hi = scores[labels == 0], scores[labels == 1]
            if lo.size and hi.size and lo.max() < hi.min():
                # The shipped bins are "score > t" for t = the highest score binned 0: keep it,
                # so that re-derived labels (merged duplicates, measurement noise) agree.
                t = float(lo.max())
                out.threshold = t
                out.cutoff = t
                out.rebin = lambda s: (s > t).astype(np.int8)
                extra["threshold_from_bins"] = t
    else:
        cutoff = float(np.median(scores))
        labels = (scores >= cutoff).astype(np.int8)
        out = LabelPlan(labels, scores, _ge_threshold(cutoff), "median", cutoff,
                        lambda s: (s >= cutoff).astype(np.int8))  # fmt: skip
        extra["binarization"] = (
            f"{score_col} >= {cutoff:g}, its median (ProteinGym's 'median' method; no "
            f"{PG_BIN!r} column and no reference file)"
        )
        extra["label_col"] = score_col
    if scores is not None:
        out.extra["median_score"] = float(np.median(scores))
    if positive is not None:
        p = str(positive).strip().lower()
        if p in NO_TOKENS:
            if scores is not None:
                raise where.error(
                    f"--positive 0 turns ProteinGym's bins around, which is for clinical files "
                    f"(no {PG_SCORE!r}; bin 1 = pathogenic); with scores, bin 1 = fit is the "
                    "positive class"
                )
            out.labels = (1 - out.labels).astype(np.int8)
            out.positive = "0"
        elif p in YES_TOKENS:
            out.positive = "1"
        else:
            raise where.error(
                f"--positive must be 1 or 0 for a ProteinGym file (the {PG_BIN} value that "
                f"means positive), got {positive!r}"
            )
    if scores is None:
        extra["bin_meaning"] = "1 = pathogenic, 0 = benign if this is a clinical file"
    out.extra = {**out.extra, **extra}
    return out


def score_or_binary_labels(
    values,
    rows: np.ndarray,
    where: Where,
    *,
    column: str,
    positive=None,
    threshold=None,
    quantile=None,
) -> LabelPlan:
    """Labels from a column that is either 0/1 or a continuous score (FLIP ``target``,
    MaveDB ``score``): a score is binarised at ``threshold``/``quantile`` if given, else at
    its median (``score > median``, recorded).

    Returns
    -------
    LabelPlan
    """
    if threshold is None and quantile is None and positive is None:
        is_yes, is_no = yes_no(values)
        if not (is_yes | is_no).all():
            text = as_text(values)
            nums = _to_float(text)
            if np.isfinite(nums).all():
                p = parse_labels(values, rows, where, column=column, quantile=0.5)
                cutoff = float(p.cutoff)
                return LabelPlan(
                    p.labels, p.scores, cutoff, "median", cutoff,
                    lambda s: (s > cutoff).astype(np.int8), None,
                    {"binarization": f"{column} > {cutoff:g}, its median over all rows "
                                     "(no --threshold or --quantile given)"},
                )  # fmt: skip
    p: Labels = parse_labels(
        values,
        rows,
        where,
        column=column,
        positive=positive,
        threshold=threshold,
        quantile=quantile,
    )
    out = LabelPlan(p.labels, p.scores, p.cutoff, p.kind, p.cutoff, None, p.positive)
    if p.cutoff is not None:
        cutoff = float(p.cutoff)
        out.rebin = lambda s: (s > cutoff).astype(np.int8)
    return out


def merge_score_duplicates(
    sequences: np.ndarray, scores: np.ndarray, labels: np.ndarray, rebin
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Average duplicate sequences as ProteinGym does: one row per sequence, mean score.

    Parameters
    ----------
    sequences : ndarray of str, shape (n,)
    scores : ndarray of float64, shape (n,)
    labels : ndarray of int8, shape (n,)
    rebin : callable or None
        ``rebin(mean_scores) -> labels``: the bin of each mean by the cutoff in use. None
        (bins shipped, no cutoff known): copies that agree keep their bin; copies that
        disagree get ``mean >= median`` of all scores.

    Returns
    -------
    index : ndarray of int64, shape (k,)
        First row of each sequence, in order of first appearance.
    labels : ndarray of int8, shape (k,)
    scores : ndarray of float64, shape (k,)
        Mean score per sequence.
    n_merged : int
        Rows merged into an earlier one (``n - k``).
    """
    n = len(sequences)
    codes, _ = pd.factorize(pd.Series(sequences, dtype=object), sort=False)
    first = ~pd.Series(codes).duplicated(keep="first").to_numpy()
    index = np.flatnonzero(first).astype(np.int64)
    if index.size == n:
        return index, labels, scores, 0
    k = index.size
    means = np.bincount(codes, weights=scores, minlength=k) / np.bincount(codes, minlength=k)
    if rebin is not None:
        new = np.asarray(rebin(means), dtype=np.int8)
    else:
        new = labels[index].astype(np.int8).copy()
        lo = np.full(k, 2, dtype=np.int64)
        hi = np.full(k, -1, dtype=np.int64)
        np.minimum.at(lo, codes, labels.astype(np.int64))
        np.maximum.at(hi, codes, labels.astype(np.int64))
        split = lo != hi
        if split.any():
            median = float(np.median(scores))
            new[split] = (means[split] >= median).astype(np.int8)
    return index, new, means.astype(np.float64), int(n - k)


# ---------------------------------------------------------------------------------------
# given splits and folds


def parse_split(
    split_values,
    valid_values,
    rows: np.ndarray,
    where: Where,
    *,
    split_col: str | None,
    valid_col: str | None,
    n: int,
) -> np.ndarray:
    """Each row's part of a given split.

    Parameters
    ----------
    split_values : array-like, shape (n,), or None
        The split column: train / test / val (valid, validation), case-insensitive. None:
        every row is a train row (a validation flag then picks the validation rows).
    valid_values : array-like, shape (n,), or None
        A validation flag (yes/no, 1/0, true/false; empty = no): true on a train row makes it
        a validation row.
    rows : ndarray of int, shape (n,)
    where : Where
    split_col, valid_col : str or None
        Column names, for messages.
    n : int

    Returns
    -------
    ndarray of str (object), shape (n,)
        ``"train"``, ``"val"`` or ``"test"``.

    Raises
    ------
    BadInputError
        Any other split value, or a validation flag that is not yes/no (naming the row).
    """
    if split_values is not None:
        text = as_text(split_values)
        low = pd.Series(text.str.lower().to_numpy(dtype=object))
        parts = low.map(SPLIT_WORDS)
        bad = parts.isna().to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            cell = str(text.iat[i])
            shown = f"split value {_short(cell, 30)!r}" if cell else "missing split value"
            raise where.error(
                f"{shown} in column {split_col!r}; use train, test or val (valid, validation)",
                rows[i],
            )
        out = parts.to_numpy(dtype=object)
    else:
        out = np.full(n, "train", dtype=object)
    if valid_values is not None:
        text = as_text(valid_values)
        is_yes, is_no = yes_no(valid_values)
        empty = (text == "").to_numpy(dtype=bool)
        bad = ~(is_yes | is_no | empty)
        if bad.any():
            i = int(np.argmax(bad))
            raise where.error(
                f"validation flag {_short(str(text.iat[i]), 30)!r} in column {valid_col!r} is "
                "not True/False (1/0, yes/no)",
                rows[i],
            )
        out[is_yes & (out == "train")] = "val"
    return out


def parse_folds(values, rows: np.ndarray, where: Where, *, column: str) -> tuple[np.ndarray, list]:
    """Given cross-validation folds, renumbered 0..k-1.

    Parameters
    ----------
    values : array-like, shape (n,)
        Integer fold labels (``fold_random_5``: 0..4); ``1.0`` counts as 1.
    rows : ndarray of int, shape (n,)
    where : Where
    column : str

    Returns
    -------
    folds : ndarray of int64, shape (n,)
        0..k-1, in increasing order of the values given.
    values : list of int
        The k values given, in that order.

    Raises
    ------
    BadInputError
        A value that is missing or not an integer (naming the row), or fewer than two folds.
    """
    text = as_text(values)
    v = _to_float(text)
    bad = ~np.isfinite(v) | (v != np.round(v))
    if bad.any():
        i = int(np.argmax(bad))
        cell = str(text.iat[i])
        shown = f"fold {_short(cell, 30)!r}" if cell else "missing fold"
        raise where.error(f"{shown} in column {column!r}; folds must be integers", rows[i])
    given, folds = np.unique(v.astype(np.int64), return_inverse=True)
    if given.size < 2:
        raise where.error(f"column {column!r} holds one fold ({int(given[0])}); need at least two")
    return folds.astype(np.int64), [int(g) for g in given]
