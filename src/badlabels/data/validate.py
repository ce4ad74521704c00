"""Checks and clean-up of a table of sequences and labels, with one-line errors.

Everything here works on arrays taken from a table whose index is the row number the user
sees (spreadsheet rows: header = row 1, first data row = row 2; FASTA: record 1, 2, ...), so
each error names the file, the row and the problem.

Assumptions
-----------
- Sequences are upper-cased and stripped of surrounding whitespace; anything else outside
  the alphabet (inner spaces, gaps ``-``, ``X``, ``*`` without ``allow_stop``) is an error.
- A label is yes or no in the one vocabulary (0/1, true/false, yes/no, y/n, t/f;
  case-insensitive; the audit's known-flip column reads it too, see :func:`yes_no`), one of
  two strings with ``positive`` naming the one that means 1, or a score binarised as ``score > cutoff``
  (``threshold`` or the ``quantile`` of all scores read, before duplicates are merged).
- Empty cells and ``NA``/``NaN``/``N/A``/``null``/``None`` in a label column are missing
  labels. Sequences of different lengths are allowed.
- Duplicate sequences with the same label are merged (first row kept, scores averaged);
  with different labels they are resolved by ``on_conflict``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from badlabels.data.encoding import AMINO_ACIDS
from badlabels.errors import BadInputError, ContinuousLabelsError

MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none"})
YES_TOKENS = frozenset({"1", "1.0", "true", "yes", "y", "t"})
NO_TOKENS = frozenset({"0", "0.0", "false", "no", "n", "f"})
YES_NO_WORDS = "1/0, true/false or yes/no (y/n, t/f)"
"""The one yes/no vocabulary (case-insensitive): two-valued label columns and the audit's
known-flip (``--truth-col``) column both read through :func:`yes_no`."""
CONFLICT_POLICIES = ("error", "drop", "majority")


@dataclass(frozen=True)
class Where:
    """Where values came from, to word errors: the file and how rows are counted.

    Parameters
    ----------
    file : str
        The file as the user named it.
    unit : {"row", "record"}
        ``"row"`` for tables (spreadsheet numbering), ``"record"`` for FASTA records.
    """

    file: str
    unit: str = "row"

    def place(self, number) -> str:
        """``"row 5"`` or ``"record 5"``."""
        return f"{self.unit} {int(number)}"

    def error(self, problem: str, number=None) -> BadInputError:
        """A one-line ``BadInputError`` for ``problem`` at row/record ``number`` (if given)."""
        problem = " ".join(str(problem).split("\n"))
        if number is None:
            return BadInputError(problem, file=self.file)
        number = int(number)
        err = BadInputError(problem, file=self.file, row=number)
        if self.unit != "row":
            err.args = (f"{self.file}, {self.unit} {number}: {problem}",)
        return err


def _short(value: str, width: int = 50) -> str:
    return value if len(value) <= width else value[:width] + "..."


def _show_values(values, limit: int = 5) -> str:
    shown = ", ".join(repr(_short(str(v), 30)) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


TEXT = pd.StringDtype("pyarrow")
"""The string dtype used for cell text (vectorised by pyarrow)."""


def as_text(values) -> pd.Series:
    """Cell values as stripped strings (a pyarrow string Series, 0..n-1 index, no missing).

    Missing cells become ``""``; booleans become ``"true"``/``"false"``; whole floats lose
    their ``.0`` (parquet columns of 0.0/1.0); other numbers use ``str``.
    """
    s = pd.Series(values, copy=False).reset_index(drop=True)
    if pd.api.types.is_bool_dtype(s.dtype) and not s.hasnans:
        out = pd.Series(np.where(s.to_numpy(dtype=bool), "true", "false"), dtype=TEXT)
    elif pd.api.types.is_numeric_dtype(s.dtype):
        out = pd.Series([_number_text(v) for v in s.to_numpy(dtype=object)], dtype=TEXT)
    elif isinstance(s.dtype, pd.StringDtype):
        out = s.astype(TEXT).fillna("")
    else:
        obj = s.to_numpy(dtype=object)
        is_str = np.fromiter((type(v) is str for v in obj), dtype=bool, count=len(obj))
        if not is_str.all():
            obj = obj.copy()
            for i in np.flatnonzero(~is_str):
                obj[i] = _cell_text(obj[i])
        out = pd.Series(obj, dtype=TEXT)
    return out.str.strip()


def _to_float(text: pd.Series) -> np.ndarray:
    """Text to float64; anything that is not a number becomes NaN."""
    try:
        return text.astype("float64").to_numpy(dtype=np.float64)
    except (ValueError, TypeError):
        num = pd.to_numeric(text, errors="coerce")
        return num.to_numpy(dtype=np.float64, na_value=np.nan)


def _number_text(v) -> str:
    if v is None or v is pd.NA:
        return ""
    f = float(v)
    if math.isnan(f):
        return ""
    if math.isfinite(f) and f.is_integer():
        return str(int(f))
    return str(v)


def _cell_text(v) -> str:
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return _number_text(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def check_sequences(
    values, rows: np.ndarray, where: Where, *, column: str, allow_stop: bool = False
) -> np.ndarray:
    """Upper-cased, stripped sequences; error on a missing one or a bad character.

    Parameters
    ----------
    values : array-like
        The sequence column.
    rows : ndarray of int
        Row (record) number of each value, for messages.
    where : Where
        The file, for messages.
    column : str
        Column name, for messages.
    allow_stop : bool, default False
        Accept ``*`` (stop codon) as a residue.

    Returns
    -------
    ndarray of str (object)

    Raises
    ------
    BadInputError
        For an empty/missing sequence or a character outside the alphabet.
    """
    text = as_text(values)
    seqs = text.str.upper()
    empty = (seqs == "").to_numpy(dtype=bool)
    if empty.any():
        i = int(np.argmax(empty))
        raise where.error(f"missing sequence in column {column!r}", rows[i])
    alphabet = AMINO_ACIDS + ("*" if allow_stop else "")
    pattern = "[^" + "".join("\\" + c if c in "\\^]-*" else c for c in alphabet) + "]"
    bad = seqs.str.contains(pattern, regex=True).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.argmax(bad))
        seq = seqs.iat[i]
        pos = next(p for p, ch in enumerate(seq) if ch not in alphabet)
        ch = seq[pos]
        if ch == "*":
            why = "a stop codon '*' (allow it with --allow-stop)"
        elif ch.isspace():
            why = f"a whitespace character {ch!r}"
        else:
            why = f"the character {ch!r}, which is not one of the 20 amino acids {AMINO_ACIDS}"
        raise where.error(
            f"sequence {_short(text.iat[i], 60)!r} in column {column!r} has {why} at position {pos + 1}",
            rows[i],
        )
    return seqs.to_numpy(dtype=object)


def check_options(
    *, positive=None, threshold=None, quantile=None, on_conflict: str = "error", file=None
) -> None:
    """Reject inconsistent label options before any file is read.

    Raises
    ------
    BadInputError
        Both ``threshold`` and ``quantile``; ``quantile`` outside (0, 1); a non-finite
        ``threshold``; ``positive`` together with a score cutoff; an unknown ``on_conflict``.
    """
    if threshold is not None and quantile is not None:
        raise BadInputError(
            "give either a threshold or a quantile to binarise scores, not both", file=file
        )
    if quantile is not None:
        try:
            q = float(quantile)
        except (TypeError, ValueError):
            raise BadInputError(f"quantile must be a number, got {quantile!r}", file=file) from None
        if not 0.0 < q < 1.0:
            raise BadInputError(
                f"quantile must lie strictly between 0 and 1, got {quantile!r}", file=file
            )
    if threshold is not None:
        try:
            t = float(threshold)
        except (TypeError, ValueError):
            raise BadInputError(
                f"threshold must be a number, got {threshold!r}", file=file
            ) from None
        if not math.isfinite(t):
            raise BadInputError(f"threshold must be a finite number, got {threshold!r}", file=file)
    if positive is not None and (threshold is not None or quantile is not None):
        raise BadInputError(
            "--positive names the class of string labels; it cannot be combined with a "
            "threshold or quantile on scores",
            file=file,
        )
    if on_conflict not in CONFLICT_POLICIES:
        raise BadInputError(
            f"on_conflict must be one of {', '.join(CONFLICT_POLICIES)}, got {on_conflict!r}",
            file=file,
        )


@dataclass
class Labels:
    """Parsed labels.

    Attributes
    ----------
    labels : ndarray of int8
    scores : ndarray of float64 or None
        The scores, when labels were binarised from them.
    cutoff : float or None
        The cutoff applied (``threshold``, or the ``quantile`` of the scores).
    kind : str
        ``"binary"``, ``"positive"``, ``"threshold"`` or ``"quantile"``.
    positive : str or None
        The value that meant 1 (string labels).
    """

    labels: np.ndarray
    scores: np.ndarray | None = None
    cutoff: float | None = None
    kind: str = "binary"
    positive: str | None = None


def yes_no(values) -> tuple[np.ndarray, np.ndarray]:
    """Which cells say yes and which say no, in the one vocabulary (:data:`YES_TOKENS`,
    :data:`NO_TOKENS`, case and surrounding spaces ignored).

    Parameters
    ----------
    values : array-like, shape (n,)

    Returns
    -------
    (is_yes, is_no) : two ndarrays of bool, shape (n,)
        A cell that is neither is False in both.
    """
    lower = as_text(values).str.strip().str.lower()
    return (
        lower.isin(YES_TOKENS).to_numpy(dtype=bool),
        lower.isin(NO_TOKENS).to_numpy(dtype=bool),
    )


def parse_labels(
    values,
    rows: np.ndarray,
    where: Where,
    *,
    column: str,
    positive=None,
    threshold=None,
    quantile=None,
) -> Labels:
    """Turn a label column into 0/1 labels (and scores, when binarising a score).

    Parameters
    ----------
    values : array-like
        The label column.
    rows : ndarray of int
        Row (record) number of each value, for messages.
    where : Where
        The file, for messages.
    column : str
        Column name, for messages.
    positive : str, optional
        For two string classes, the value that means 1.
    threshold : float, optional
        Binarise a numeric score: label = score > threshold.
    quantile : float, optional
        Binarise a numeric score at its ``quantile`` (in (0, 1)): label = score > cutoff.

    Returns
    -------
    Labels

    Raises
    ------
    BadInputError
        A missing label, a non-numeric score, or values that are not a recognised kind of label.
    """
    check_options(positive=positive, threshold=threshold, quantile=quantile, file=where.file)
    series = as_text(values)
    text = series.to_numpy(dtype=object)
    lower = series.str.lower()
    missing = lower.isin(MISSING_TOKENS).to_numpy(dtype=bool)
    if missing.any():
        i = int(np.argmax(missing))
        shown = f" ({text[i]!r})" if text[i] else ""
        raise where.error(f"missing label{shown} in column {column!r}", rows[i])

    if threshold is not None or quantile is not None:
        scores = _to_float(series)
        bad = ~np.isfinite(scores)
        if bad.any():
            i = int(np.argmax(bad))
            what = "not a finite number" if not np.isnan(scores[i]) else "not a number"
            raise where.error(
                f"score {text[i]!r} in column {column!r} is {what} "
                "(a threshold or quantile needs numeric scores)",
                rows[i],
            )
        if threshold is not None:
            cutoff, kind = float(threshold), "threshold"
        else:
            cutoff, kind = float(np.quantile(scores, float(quantile))), "quantile"
        return Labels((scores > cutoff).astype(np.int8), scores, cutoff, kind)

    distinct = series.unique().to_numpy(dtype=object)
    if positive is not None:
        pos = _cell_text(positive).strip()
        if pos not in set(distinct):
            raise where.error(
                f"the positive value {pos!r} does not occur in column {column!r} "
                f"(values: {_show_values(distinct)})"
            )
        if len(distinct) > 2:
            third = distinct[2]
            i = int(np.argmax(text == third))
            raise where.error(
                f"column {column!r} has {len(distinct)} distinct labels "
                f"({_show_values(distinct)}); with --positive it must hold exactly two",
                rows[i],
            )
        return Labels((text == pos).astype(np.int8), kind="positive", positive=pos)

    is_yes, is_no = yes_no(series)
    known = is_yes | is_no
    if known.all():
        return Labels(is_yes.astype(np.int8), kind="binary")

    numeric = ~np.isnan(_to_float(series))
    i = int(np.argmax(~known))
    if numeric.all():
        err = where.error(
            f"label {text[i]!r} in column {column!r} is a number other than 0/1; "
            "to binarise a score pass --threshold X or --quantile Q (or --task regression "
            "to learn the score itself)",
            rows[i],
        )
        raise ContinuousLabelsError(err.problem, file=err.file, row=err.row) if err.row else err
    if len(distinct) == 2:
        a, b = distinct
        ra = rows[int(np.argmax(text == a))]
        rb = rows[int(np.argmax(text == b))]
        raise where.error(
            f"column {column!r} holds two label values, {a!r} (first in {where.place(ra)}) "
            f"and {b!r} (first in {where.place(rb)}); pass --positive VALUE to say which one is 1"
        )
    if len(distinct) == 1:
        raise where.error(
            f"all labels in column {column!r} are {distinct[0]!r}: only one class; "
            "need both positive and negative examples"
        )
    if known.any():
        raise where.error(
            f"unrecognised label {text[i]!r} in column {column!r}; labels must be "
            + YES_NO_WORDS,
            rows[i],
        )
    third = distinct[2]
    j = int(np.argmax(text == third))
    raise where.error(
        f"column {column!r} has {len(distinct)} distinct labels ({_show_values(distinct)}); "
        "labels must be 0/1, true/false, yes/no, two values with --positive, or a numeric "
        "score with --threshold/--quantile",
        rows[j],
    )


@dataclass
class Resolved:
    """Result of duplicate resolution.

    Attributes
    ----------
    index : ndarray of int64
        Positions (into the input arrays) of the rows kept, one per unique sequence,
        in order of first appearance.
    labels : ndarray of int8
        Label of each kept sequence.
    scores : ndarray of float64 or None
        Mean score over the kept duplicate rows of each sequence.
    n_merged : int
        Duplicate rows merged into an earlier row with the same sequence and label.
    n_conflicting : int
        Sequences whose rows had conflicting labels.
    n_dropped : int
        Rows dropped because of conflicts (all copies for ``"drop"``, the minority or a
        tie for ``"majority"``).
    """

    index: np.ndarray
    labels: np.ndarray
    scores: np.ndarray | None
    n_merged: int = 0
    n_conflicting: int = 0
    n_dropped: int = 0


def resolve_duplicates(
    sequences: np.ndarray,
    labels: np.ndarray,
    rows: np.ndarray,
    where: Where,
    *,
    scores: np.ndarray | None = None,
    on_conflict: str = "error",
) -> Resolved:
    """Merge identical duplicates and resolve duplicates with conflicting labels.

    Parameters
    ----------
    sequences : ndarray of str
        Cleaned (upper-cased) sequences.
    labels : ndarray of int8
    rows : ndarray of int
        Row (record) number of each sequence, for messages.
    where : Where
        The file, for messages.
    scores : ndarray of float, optional
        Scores to average over merged duplicates.
    on_conflict : {"error", "drop", "majority"}, default "error"
        ``"error"`` raises with the number of conflicting sequences and the rows of the first
        one; ``"drop"`` drops every copy of a conflicting sequence; ``"majority"`` keeps the
        majority label (a tie drops the sequence).

    Returns
    -------
    Resolved
    """
    check_options(on_conflict=on_conflict, file=where.file)
    n = len(sequences)
    seq = pd.Series(sequences, dtype=object)
    dup = seq.duplicated(keep=False).to_numpy()
    if not dup.any():
        return Resolved(np.arange(n, dtype=np.int64), labels, scores)

    frame = pd.DataFrame({"seq": seq, "label": labels.astype(np.int64)})
    sub = frame[dup]
    n_labels = sub.groupby("seq", sort=False)["label"].nunique()
    conflicting = n_labels.index[n_labels.to_numpy() > 1]
    keep = np.ones(n, dtype=bool)
    n_dropped = 0
    if len(conflicting):
        in_conflict = seq.isin(conflicting).to_numpy()
        if on_conflict == "error":
            first = int(np.argmax(in_conflict))
            same = np.flatnonzero((seq == seq.iat[first]).to_numpy())
            shown = same[:6]
            where_rows = ", ".join(str(int(rows[k])) for k in shown) + (
                ", ..." if len(same) > len(shown) else ""
            )
            labs = ", ".join(str(int(labels[k])) for k in shown)
            unit = where.unit + "s"
            raise where.error(
                f"{len(conflicting)} sequence(s) appear more than once with conflicting labels, "
                f"e.g. {_short(seq.iat[first], 40)!r} in {unit} {where_rows} (labels {labs}); "
                "pass --on-conflict drop (drop them) or majority (keep the majority label)",
                rows[first],
            )
        if on_conflict == "drop":
            keep &= ~in_conflict
        else:  # majority
            mean = frame[in_conflict].groupby("seq", sort=False)["label"].mean()
            majority = pd.Series(np.where(mean > 0.5, 1, np.where(mean < 0.5, 0, -1)), mean.index)
            want = seq[in_conflict].map(majority).to_numpy()
            keep[np.flatnonzero(in_conflict)] = labels[in_conflict] == want
        n_dropped = int((~keep).sum())

    kept = np.flatnonzero(keep)
    kept_seq = seq.iloc[kept]
    first = ~kept_seq.duplicated(keep="first").to_numpy()
    index = kept[first].astype(np.int64)
    n_merged = int(len(kept) - len(index))
    out_scores = None
    if scores is not None:
        if n_merged:
            means = pd.Series(scores[kept]).groupby(kept_seq.to_numpy(), sort=False).mean()
            out_scores = means.reindex(seq.iloc[index].to_numpy()).to_numpy(dtype=np.float64)
        else:
            out_scores = scores[index]
    return Resolved(
        index=index,
        labels=labels[index],
        scores=out_scores,
        n_merged=n_merged,
        n_conflicting=int(len(conflicting)),
        n_dropped=n_dropped,
    )


def check_two_classes(
    labels: np.ndarray,
    where: Where,
    *,
    column: str,
    cutoff: float | None = None,
    kind: str = "binary",
    quantile=None,
) -> None:
    """Raise unless both classes occur.

    Raises
    ------
    BadInputError
        No rows at all, or every label the same (naming the class and the cutoff, if any).
    """
    n = len(labels)
    if n == 0:
        raise where.error("no data rows left to use")
    n_pos = int(labels.sum())
    if 0 < n_pos < n:
        return
    cls = "1 (positive)" if n_pos else "0 (negative)"
    if cutoff is not None:
        how = f"score > {cutoff:g}"
        if kind == "quantile":
            how += f", the {quantile:g} quantile of column {column!r}"
        else:
            how += f" on column {column!r}"
        hint = "higher" if n_pos else "lower"
        raise where.error(
            f"only one class after binarising ({how}): all {n} labels are {cls}; "
            f"choose a {hint} cutoff"
        )
    raise where.error(
        f"only one class: all {n} labels in column {column!r} are {cls}; "
        "need both positive and negative examples"
    )
