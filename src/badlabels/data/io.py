"""Reading sequence/label files into a validated :class:`~badlabels.data.dataset.Dataset`.

Formats, chosen by file extension unless ``fmt`` is given (gzip is detected from the
file's first bytes, so ``.csv.gz`` and friends work):

- CSV ``.csv``, TSV ``.tsv``/``.tab``, delimited text ``.txt`` (delimiter sniffed among
  ``, TAB ; |``, else whitespace);
- Parquet ``.parquet``/``.pq``;
- FASTA ``.fa``/``.fasta``/``.faa``/``.fas``: header ``>ID key=value key=value ...``; the
  first word becomes column ``id``, each ``key=value`` a column, the residues column
  ``sequence``.

Assumptions
-----------
- Text files are UTF-8 (a byte-order mark is ignored). All cells are read as text, so a
  sequence such as ``NA`` is kept, never turned into a missing value.
- Column names are stripped of surrounding whitespace; matching is exact.
- Blank lines are ignored but still counted, so row numbers match a spreadsheet
  (header = row 1, first data row = row 2). FASTA records are numbered from 1.
- When both ``count_input`` and ``count_selected`` columns exist they are kept as
  ``Dataset.counts`` (non-negative integers), so read-depth noise works on any count file.
- Files of a public layout (ProteinGym, FLIP, MaveDB) are recognised by their columns when
  ``seq_col``/``label_col`` are left at their defaults and the file lacks a ``sequence`` +
  ``label`` pair; :mod:`badlabels.data.layouts` says how each is read (ProteinGym
  duplicates are averaged, not a label conflict).
- Sequences may be built from mutation strings and a target sequence
  (:mod:`badlabels.data.mutations`); a given split, folds and precomputed features
  (:mod:`badlabels.data.features`, keyed by the full-length sequences) are read with the
  rows; the kept row of a duplicated sequence brings its split and fold.
- Last, equal-length sequences may be cut down to their varying positions
  (:mod:`badlabels.data.positions`, ``positions="auto"``); what was kept is recorded in
  ``extra["positions"]``, ``extra["full_length"]`` and ``extra["template"]``.

Public readers: :func:`read_table` (a whole table, text cells), :func:`read_table_chunks`
(the same rows in chunks, for files too big to hold), :func:`table_format` (check a file and
name its format) and :func:`load_file` (a validated :class:`Dataset`). Built-in datasets and
the front door :func:`badlabels.data.load_data` sit above these, in
:mod:`badlabels.data.builtin`.
"""

from __future__ import annotations

import csv
import gzip
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from badlabels.data.dataset import Dataset
from badlabels.data.encoding import AMINO_ACIDS
from badlabels.data.features import read_features
from badlabels.data.layouts import (
    MAVEDB_HGVS,
    PG_SCORE,
    LabelPlan,
    detect_layout,
    merge_score_duplicates,
    parse_folds,
    parse_split,
    plan_columns,
    proteingym_labels,
    read_reference,
    resolve_format,
    score_or_binary_labels,
)
from badlabels.data.mutations import build_variants, is_hgvs, read_target
from badlabels.data.positions import POSITION_MODES, choose_positions, project, template
from badlabels.data.validate import (
    MISSING_TOKENS,
    Where,
    _to_float,
    as_text,
    check_options,
    check_sequences,
    check_two_classes,
    parse_labels,
    resolve_duplicates,
)
from badlabels.errors import BadInputError

FORMATS = ("csv", "tsv", "txt", "parquet", "fasta")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "txt",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".fa": "fasta",
    ".fasta": "fasta",
    ".faa": "fasta",
    ".fas": "fasta",
}
_FMT_ALIASES = {"fa": "fasta", "faa": "fasta", "fas": "fasta", "pq": "parquet", "tab": "tsv"}
COUNT_COLUMNS = ("count_input", "count_selected")
_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 64 * 1024


# ---------------------------------------------------------------------------------------
# reading


def _detect_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        f = str(fmt).lower().lstrip(".")
        f = _FMT_ALIASES.get(f, f)
        if f not in FORMATS:
            raise BadInputError(
                f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", file=str(path)
            )
        return f
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = Path(name).suffix
    if ext not in _EXTENSIONS:
        known = " ".join(sorted(_EXTENSIONS))
        raise BadInputError(
            f"unknown file format {ext or '(no extension)'!r}; use one of {known} "
            "(optionally .gz), or give the format explicitly",
            file=str(path),
        )
    return _EXTENSIONS[ext]


def _check_file(path: Path) -> bool:
    """Raise unless ``path`` is a readable file; return whether it is gzip-compressed."""
    if not path.exists():
        raise BadInputError("file not found", file=str(path))
    if path.is_dir():
        raise BadInputError("is a directory, not a file", file=str(path))
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
    except OSError as exc:
        raise BadInputError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None
    return head == _GZIP_MAGIC


def _open_text(path: Path, gz: bool):
    if gz:
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _sniff_delimiter(path: Path, gz: bool) -> str:
    with _open_text(path, gz) as fh:
        sample = fh.read(_SNIFF_BYTES)
    lines = sample.splitlines()
    header = lines[0] if lines else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        pass
    for delim in ("\t", ",", ";", "|"):
        if delim in header:
            return delim
    return r"\s+"


def _read_delimited(path: Path, gz: bool, sep: str, fmt: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            compression="gzip" if gz else None,
            encoding="utf-8-sig",
            engine="python" if len(sep) > 1 else "c",
        )
    except Exception as exc:
        raise _read_error(exc, path, fmt) from None
    return _numbered(df, 2)


def _read_error(exc: BaseException, path: Path, fmt: str) -> BaseException:
    """The one-line :class:`BadInputError` for what pandas raised reading a text table
    (other exceptions are returned unchanged, to be re-raised)."""
    if isinstance(exc, pd.errors.EmptyDataError):
        return BadInputError("file is empty", file=str(path))
    if isinstance(exc, pd.errors.ParserError):
        msg = _one_line(exc)
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            return BadInputError(
                f"expected {m.group(1)} fields (as in the header) but found {m.group(3)}; "
                "is the delimiter right?",
                file=str(path),
                row=int(m.group(2)),
            )
        return BadInputError(f"cannot parse as {fmt.upper()}: {msg}", file=str(path))
    if isinstance(exc, UnicodeDecodeError):
        return BadInputError("is not UTF-8 text; save it as UTF-8", file=str(path))
    if isinstance(exc, OSError | EOFError | gzip.BadGzipFile):
        return BadInputError(f"cannot read file: {_one_line(exc)}", file=str(path))
    return exc


def _numbered(df: pd.DataFrame, start: int) -> pd.DataFrame:
    """Index rows by the number a spreadsheet shows (from ``start``); drop blank lines (and
    lines of only delimiters), keeping the numbers of the others."""
    df.index = pd.RangeIndex(start, start + len(df))
    blank = (df == "").all(axis=1).to_numpy() if df.shape[1] else np.zeros(len(df), bool)
    return df[~blank] if blank.any() else df


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except ImportError as exc:
        raise BadInputError(f"cannot read Parquet: {_one_line(exc)}", file=str(path)) from None
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise BadInputError(f"cannot read as Parquet: {_one_line(exc)}", file=str(path)) from None
    df = df.reset_index(drop=True)
    df.index = pd.RangeIndex(2, 2 + len(df))
    return df


_HEADER_KV = re.compile(r"([^\s=]+)=(\S*)")


def _read_fasta(path: Path, gz: bool) -> pd.DataFrame:
    records: list[dict[str, str]] = []
    chunks: list[str] = []
    try:
        with _open_text(path, gz) as fh:
            for lineno, raw in enumerate(fh, start=1):
                line = raw.strip()
                if not line or line.startswith(";"):
                    continue
                if line.startswith(">"):
                    if records:
                        records[-1]["sequence"] = "".join(chunks)
                    chunks = []
                    header = line[1:].strip()
                    words = header.split(None, 1)
                    rec = {"id": words[0] if words and "=" not in words[0] else ""}
                    for key, value in _HEADER_KV.findall(header):
                        rec[key] = value
                    records.append(rec)
                elif not records:
                    raise BadInputError(
                        f"line {lineno} comes before the first FASTA header (a line starting "
                        "with '>')",
                        file=str(path),
                    )
                else:
                    chunks.append("".join(line.split()))
    except UnicodeDecodeError:
        raise BadInputError("is not UTF-8 text; save it as UTF-8", file=str(path)) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise BadInputError(f"cannot read file: {_one_line(exc)}", file=str(path)) from None
    if not records:
        raise BadInputError("no FASTA records (lines starting with '>') found", file=str(path))
    records[-1]["sequence"] = "".join(chunks)
    df = pd.DataFrame.from_records(records)
    # keys missing from some headers are missing values; read everything as text
    df = df.fillna("").astype(object)
    df.index = pd.RangeIndex(1, 1 + len(df))
    return df


def _read(path, fmt=None) -> tuple[pd.DataFrame, str, Where]:
    path = Path(path)
    fmt = _detect_format(path, fmt)
    gz = _check_file(path)
    where = Where(str(path), "record" if fmt == "fasta" else "row")
    if fmt == "parquet":
        df = _read_parquet(path)
    elif fmt == "fasta":
        df = _read_fasta(path, gz)
    else:
        sep = {"csv": ",", "tsv": "\t"}.get(fmt) or _sniff_delimiter(path, gz)
        df = _read_delimited(path, gz, sep, fmt)
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs.update(source=str(path), format=fmt, row_unit=where.unit)
    return df, fmt, where


def read_table(path, fmt: str | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/text, Parquet or FASTA file into a DataFrame, without validation.

    Parameters
    ----------
    path : str or Path
        The file. ``.gz`` compression is detected from the content.
    fmt : {"csv", "tsv", "txt", "parquet", "fasta"}, optional
        Force a format instead of guessing it from the extension (``"txt"`` sniffs the
        delimiter).

    Returns
    -------
    pandas.DataFrame
        Text files give string cells (empty string = empty cell). The index is the number a
        user would look up: spreadsheet row (header = row 1, first data row = row 2;
        blank lines are skipped but counted) or, for FASTA, the record number (from 1).
        ``df.attrs`` holds ``source``, ``format`` and ``row_unit`` (``"row"``/``"record"``).

    Raises
    ------
    BadInputError
        File not found or unreadable, unknown format, or a malformed file.
    """
    return _read(path, fmt)[0]


def table_format(path, fmt: str | None = None) -> str:
    """Check that ``path`` is a readable file and name its format.

    Parameters
    ----------
    path : str or Path
    fmt : str, optional
        A format to use instead of the one the extension says (checked).

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    BadInputError
        File not found, a directory, unreadable, or of an unknown format.
    """
    path = Path(path)
    fmt = _detect_format(path, fmt)
    _check_file(path)
    return fmt


def read_table_chunks(
    path, fmt: str | None = None, chunksize: int = 100_000
) -> Iterator[pd.DataFrame]:
    """Read a table as :func:`read_table` does, in chunks of at most ``chunksize`` rows.

    CSV, TSV and single-character-delimited text, and Parquet, are streamed; FASTA and
    whitespace-delimited text come as one chunk.

    Parameters
    ----------
    path : str or Path
    fmt : str, optional
        Force a format (see :func:`read_table`).
    chunksize : int, default 100,000

    Yields
    ------
    pandas.DataFrame
        Text cells (Parquet: its own types), indexed by the row number a user sees, as in
        :func:`read_table`; column names stripped.

    Raises
    ------
    BadInputError
        As :func:`read_table`, when the chunk that holds the problem is read.
    """
    path = Path(path)
    fmt = table_format(path, fmt)
    gz = _check_file(path)
    for chunk in _chunks(path, fmt, gz, int(chunksize)):
        chunk.columns = [str(c).strip() for c in chunk.columns]
        yield chunk


def _chunks(path: Path, fmt: str, gz: bool, chunksize: int) -> Iterator[pd.DataFrame]:
    if fmt == "fasta":
        yield _read_fasta(path, gz)
        return
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
            start = 2
            for batch in pf.iter_batches(batch_size=chunksize):
                df = batch.to_pandas()
                df.index = pd.RangeIndex(start, start + len(df))
                start += len(df)
                yield df
        except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
            raise BadInputError(
                f"cannot read as Parquet: {_one_line(exc)}", file=str(path)
            ) from None
        return
    sep = {"csv": ",", "tsv": "\t"}.get(fmt) or _sniff_delimiter(path, gz)
    if len(sep) > 1:  # whitespace-delimited: no streaming with the python engine's regex
        yield _read_delimited(path, gz, sep, fmt)
        return
    try:
        reader = pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, na_filter=False,
            skip_blank_lines=False, compression="gzip" if gz else None, encoding="utf-8-sig",
            chunksize=chunksize,
        )  # fmt: skip
        start = 2
        for df in reader:
            n = len(df)
            yield _numbered(df, start)
            start += n
    except Exception as exc:
        raise _read_error(exc, path, fmt) from None


# ---------------------------------------------------------------------------------------
# loading


def _require_column(df: pd.DataFrame, column: str, where: Where, option: str) -> None:
    if column in df.columns:
        return
    existing = ", ".join(repr(c) for c in df.columns) or "(none)"
    near = [c for c in df.columns if c.lower() == str(column).lower()]
    hint = f"; did you mean {near[0]!r}?" if near else f"; choose one with {option}"
    header = 1 if where.unit == "row" else None
    raise where.error(f"no column {column!r} (columns: {existing}){hint}", header)


def _counts(df: pd.DataFrame, where: Where) -> tuple[dict[str, np.ndarray] | None, str | None]:
    """The count columns as int64 arrays, or ``(None, why)`` when absent or invalid."""
    if not all(c in df.columns for c in COUNT_COLUMNS):
        return None, "no count_input and count_selected columns"
    out = {}
    for col in COUNT_COLUMNS:
        raw = as_text(df[col])
        values = _to_float(raw)
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
        if bad.any():
            i = int(np.argmax(bad))
            return None, (
                f"{where.place(df.index[i])}: count {str(raw.iat[i])!r} in column {col!r} "
                "is not a non-negative integer"
            )
        out[col] = values.astype(np.int64)
    return out, None


def load_file(
    path,
    *,
    seq_col: str = "sequence",
    label_col: str = "label",
    positive=None,
    threshold=None,
    quantile=None,
    allow_stop: bool = False,
    on_conflict: str = "error",
    fmt: str | None = None,
    name: str | None = None,
    require_counts: bool = False,
    wild_type: str | None = None,
    layout: str | None = None,
    reference=None,
    dms_id: str | None = None,
    mutant_col: str | None = None,
    target_seq: str | None = None,
    offset: int | None = None,
    split_col: str | None = None,
    valid_col: str | None = None,
    folds_col: str | None = None,
    positions: str | None = "auto",
    features=None,
) -> Dataset:
    """Read a labelled sequence file into a validated :class:`Dataset`.

    The parameters are those of :func:`badlabels.data.load_data` for a file, plus ``name``
    (default: the file's name) and ``require_counts`` (fail unless the file has
    ``count_input`` and ``count_selected`` columns). Built-in datasets that are files (GB1)
    read through here.

    Steps: read the table; recognise its layout (:mod:`badlabels.data.layouts`); take the
    sequences from a column or build them from mutation strings
    (:mod:`badlabels.data.mutations`); parse labels, the given split and folds; merge
    duplicates; read ``features``; project onto the varying positions
    (:mod:`badlabels.data.positions`).

    Raises
    ------
    BadInputError
        As :func:`badlabels.data.load_data`.
    """
    file = None if path is None else str(path)
    check_options(
        positive=positive,
        threshold=threshold,
        quantile=quantile,
        on_conflict=on_conflict,
        file=file,
    )
    fmt, layout = resolve_format(fmt, layout, file=file)
    mode = "auto" if positions is None else str(positions).strip().lower()
    if mode not in POSITION_MODES:
        raise BadInputError(
            f"positions must be one of {', '.join(POSITION_MODES)} (got {positions!r})", file=file
        )
    offset = _check_offset(offset, file)
    if dms_id is not None and reference is None:
        raise BadInputError(
            "--dms-id picks an assay of ProteinGym's reference file; give that file with "
            "--reference too",
            file=file,
        )
    df, fmt, where = _read(path, fmt)
    if len(df) == 0:
        raise where.error("no data rows")
    n_data_rows = int(len(df))
    detected = layout is None
    if layout is None:
        layout = detect_layout(df.columns, seq_col=seq_col, label_col=label_col)
    if layout == "mavedb" and mutant_col is None:
        mutant_col = MAVEDB_HGVS
    plan = plan_columns(
        layout, df.columns, where, seq_col=seq_col, label_col=label_col,
        mutant_col=mutant_col, split_col=split_col, valid_col=valid_col,
    )  # fmt: skip
    if plan.seq_col is not None:
        _require_column(df, plan.seq_col, where, "--seq-col")
    if layout is None:
        _require_column(df, plan.label_col, where, "--label-col")
    if folds_col is not None:
        _require_column(df, folds_col, where, "--folds-col")
    ref = None
    if reference is not None:
        ref = read_reference(reference, dms_id, data_path=path)

    extra: dict = {}
    if layout is not None:
        extra["layout"] = layout
        extra["layout_detected"] = bool(detected)
    rows = df.index.to_numpy()
    pos = np.arange(n_data_rows, dtype=np.int64)  # position among the file's data rows

    # -- sequences: a column, or mutation strings applied to a target
    if plan.mutant_col is not None:
        target = _target(target_seq, ref, plan.mutant_col, layout, where)
        values = df[plan.mutant_col]
        extra.update(
            mutant_col=plan.mutant_col, target_length=len(target), offset=offset,
            target_seq=target,
        )  # fmt: skip
        sequences, kept, counted = build_variants(
            values, target, offset=offset, rows=rows, where=where, column=plan.mutant_col
        )
        if is_hgvs(plan.mutant_col, values):
            extra["n_synonymous"] = int(counted["synonymous"])
            extra["n_skipped_variants"] = int(counted["skipped"])
        if not kept.all():
            df, rows, pos = df[kept], rows[kept], pos[kept]
        if len(df) == 0:
            raise where.error(
                f"no rows left: every variant in column {plan.mutant_col!r} is synonymous "
                "or not a substitution"
            )
        extra["sequence_source"] = (
            f"mutations in column {plan.mutant_col!r} applied to the target sequence"
        )
    else:
        if target_seq is not None or offset:
            opt = "--target-seq" if target_seq is not None else "--offset"
            raise where.error(
                f"{opt} is for building sequences from mutation strings; name their column "
                "with --mutant-col"
            )
        sequences = check_sequences(
            df[plan.seq_col], rows, where, column=plan.seq_col, allow_stop=allow_stop
        )
    if layout == "mavedb":
        missing = as_text(df[plan.label_col]).str.lower().isin(MISSING_TOKENS).to_numpy(bool)
        extra["n_rows_missing_score"] = int(missing.sum())
        if missing.any():
            keep = ~missing
            df, rows, pos, sequences = df[keep], rows[keep], pos[keep], sequences[keep]
            if len(df) == 0:
                raise where.error(
                    f"no rows left: every score in column {plan.label_col!r} is missing"
                )

    # -- labels (and scores)
    if layout == "proteingym":
        lab = proteingym_labels(
            df, rows, where, plan, positive=positive, threshold=threshold, quantile=quantile,
            reference=ref,
        )  # fmt: skip
        label_col_used = lab.extra.get("label_col", plan.label_col)
    elif layout in ("flip", "mavedb"):
        lab = score_or_binary_labels(
            df[plan.label_col], rows, where, column=plan.label_col, positive=positive,
            threshold=threshold, quantile=quantile,
        )  # fmt: skip
        label_col_used = plan.label_col
    else:
        p = parse_labels(
            df[plan.label_col], rows, where, column=plan.label_col, positive=positive,
            threshold=threshold, quantile=quantile,
        )  # fmt: skip
        lab = LabelPlan(p.labels, p.scores, p.cutoff, p.kind, p.cutoff, None, p.positive)
        label_col_used = plan.label_col
    if ref is not None:
        extra.update(reference=str(reference), dms_id=ref.dms_id, cutoff=ref.cutoff,
                     binarization_method=ref.method)  # fmt: skip

    # -- given split, folds, read counts
    split = None
    if plan.split_col is not None or plan.valid_col is not None:
        split = parse_split(
            None if plan.split_col is None else df[plan.split_col],
            None if plan.valid_col is None else df[plan.valid_col],
            rows, where, split_col=plan.split_col, valid_col=plan.valid_col, n=len(df),
        )  # fmt: skip
    folds = fold_values = None
    if folds_col is not None:
        folds, fold_values = parse_folds(df[folds_col], rows, where, column=folds_col)
    counts, why_no_counts = _counts(df, where)
    if require_counts and counts is None:
        raise where.error(f"read counts are needed but {why_no_counts}")
    if counts is None and why_no_counts and not why_no_counts.startswith("no count_input"):
        warnings.warn(
            f"{where.file}, {why_no_counts}; read counts not kept (read-depth noise unavailable)",
            stacklevel=3,
        )

    # -- duplicates
    if layout == "proteingym" and lab.scores is not None:
        index, labels, scores, n_merged = merge_score_duplicates(
            sequences, lab.scores, lab.labels, lab.rebin
        )
        n_conflicting = n_dropped = 0
        if n_merged:
            extra["duplicates"] = f"averaged: mean {PG_SCORE}, bin of the mean (as ProteinGym)"
    else:
        res = resolve_duplicates(
            sequences, lab.labels, rows, where, scores=lab.scores, on_conflict=on_conflict
        )
        index, labels, scores = res.index, res.labels, res.scores
        n_merged, n_conflicting, n_dropped = res.n_merged, res.n_conflicting, res.n_dropped
    check_two_classes(
        labels,
        where,
        column=label_col_used,
        cutoff=lab.cutoff,
        kind="quantile" if lab.kind == "quantile" else "threshold",
        quantile=quantile,
    )

    extra = {
        "format": fmt,
        "seq_col": plan.seq_col,
        "label_col": label_col_used,
        "label_kind": lab.kind,
        "n_rows": n_data_rows,
        "n_duplicates_merged": n_merged,
        "n_conflicting_sequences": n_conflicting,
        "n_rows_dropped": n_dropped,
        "on_conflict": on_conflict,
        **extra,
        **lab.extra,
    }
    if "label_col" in lab.extra:
        extra["label_col"] = lab.extra["label_col"]
    if lab.positive is not None:
        extra["positive"] = lab.positive
    if quantile is not None:
        extra["quantile"] = float(quantile)
    if counts is None and why_no_counts and not why_no_counts.startswith("no count_input"):
        extra["counts_skipped"] = why_no_counts
    full = sequences[index]
    kept_counts = None if counts is None else {k: v[index] for k, v in counts.items()}
    if wild_type is not None:
        extra.update(_wild_type_extra(wild_type, full, kept_counts, where))
    if split is not None:
        split = split[index]
        src = f"column {plan.split_col!r}" if plan.split_col else "all rows train"
        if plan.valid_col:
            src += f" (+ {plan.valid_col!r})"
        extra.update(split_col=plan.split_col, valid_col=plan.valid_col, split_source=src,
                     split_counts={p: int((split == p).sum()) for p in ("train", "val", "test")})  # fmt: skip
    if folds is not None:
        folds = folds[index]
        extra.update(folds_col=folds_col, n_folds=len(fold_values), fold_values=fold_values)

    # -- features (keyed by the full-length sequences), then positions
    feats = None
    if features is not None:
        feats = read_features(
            features, full, input_rows=pos[index], n_input_rows=n_data_rows, where=where,
            seq_col=plan.seq_col,
        )  # fmt: skip
        extra.update(features=str(features), n_features=int(feats.shape[1]))
    out_sequences = full
    try:
        chosen = choose_positions(full, mode)
    except BadInputError as exc:
        raise where.error(f"--positions {mode}: {exc.problem}") from None
    if chosen is not None:
        out_sequences = project(full, chosen, len(full[0]), where=where)
        extra.update(
            positions_mode=mode,
            positions=[int(i) for i in chosen],
            full_length=len(full[0]),
            template=template(full),
        )
        if "wild_type" in extra and len(extra["wild_type"]) == len(full[0]):
            extra["wild_type_full"] = extra["wild_type"]
            extra["wild_type"] = str(project([extra["wild_type"]], chosen, len(full[0]))[0])

    return Dataset(
        sequences=out_sequences,
        labels=labels,
        name=name or Path(path).name,
        alphabet=AMINO_ACIDS + ("*" if allow_stop else ""),
        scores=scores,
        threshold=lab.threshold,
        counts=kept_counts,
        source=str(path),
        split=split,
        folds=folds,
        features=feats,
        extra=extra,
    )


def _check_offset(offset, file) -> int:
    if offset is None:
        return 0
    try:
        value = int(offset)
    except (TypeError, ValueError):
        raise BadInputError(f"offset must be an integer, got {offset!r}", file=file) from None
    if value != offset and not isinstance(offset, str):
        raise BadInputError(f"offset must be an integer, got {offset!r}", file=file)
    return value


def _target(target_seq, ref, column: str, layout, where: Where) -> str:
    """The target sequence mutations apply to: ``--target-seq``, else the reference's."""
    if target_seq is not None:
        return read_target(target_seq)
    if ref is not None and ref.target_seq:
        return ref.target_seq
    if layout == "mavedb":
        raise where.error(
            f"a MaveDB score set names variants ({column!r}), not sequences: give the target "
            "(wild-type) protein sequence with --target-seq SEQUENCE or a FASTA file"
        )
    raise where.error(
        f"building sequences from the mutation strings in column {column!r} needs the target "
        "(wild-type) sequence: give --target-seq SEQUENCE or a FASTA file (or ProteinGym's "
        "--reference with --dms-id)"
    )


def _wild_type_extra(wild_type, sequences: np.ndarray, counts, where: Where) -> dict:
    """``extra`` entries for the wild type a user named: its sequence, row and read counts.

    The wild type is what read-depth noise normalises by; it must be one of the sequences read,
    and only count data has a use for it.
    """
    wt = str(wild_type).strip().upper()
    if not wt:
        raise BadInputError("--wild-type is empty; give the wild-type sequence", file=where.file)
    if counts is None:
        raise where.error(
            "--wild-type is used by read_depth noise, which needs count_input and "
            "count_selected columns, and this file has none"
        )
    hits = np.flatnonzero(sequences == wt)
    if hits.size == 0:
        raise where.error(
            f"the wild type {wt!r} given with --wild-type is not one of its sequences"
        )
    i = int(hits[0])
    return {
        "wild_type": wt,
        "wt_index": i,
        "wt_counts": (int(counts["count_input"][i]), int(counts["count_selected"][i])),
    }


__all__ = ["FORMATS", "load_file", "read_table", "read_table_chunks", "table_format"]
