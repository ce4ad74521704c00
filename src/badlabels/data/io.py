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
from badlabels.data.validate import (
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
) -> Dataset:
    """Read a labelled sequence file into a validated :class:`Dataset`.

    The parameters are those of :func:`badlabels.data.load_data` for a file, plus ``name``
    (default: the file's name) and ``require_counts`` (fail unless the file has
    ``count_input`` and ``count_selected`` columns). Built-in datasets that are files (GB1)
    read through here.

    Raises
    ------
    BadInputError
        As :func:`badlabels.data.load_data`.
    """
    check_options(
        positive=positive,
        threshold=threshold,
        quantile=quantile,
        on_conflict=on_conflict,
        file=None if path is None else str(path),
    )
    df, fmt, where = _read(path, fmt)
    _require_column(df, seq_col, where, "--seq-col")
    _require_column(df, label_col, where, "--label-col")
    if len(df) == 0:
        raise where.error("no data rows")
    rows = df.index.to_numpy()

    sequences = check_sequences(df[seq_col], rows, where, column=seq_col, allow_stop=allow_stop)
    parsed = parse_labels(
        df[label_col],
        rows,
        where,
        column=label_col,
        positive=positive,
        threshold=threshold,
        quantile=quantile,
    )
    counts, why_no_counts = _counts(df, where)
    if require_counts and counts is None:
        raise where.error(f"read counts are needed but {why_no_counts}")
    if counts is None and why_no_counts and not why_no_counts.startswith("no count_input"):
        warnings.warn(
            f"{where.file}, {why_no_counts}; read counts not kept (read-depth noise unavailable)",
            stacklevel=3,
        )

    res = resolve_duplicates(
        sequences, parsed.labels, rows, where, scores=parsed.scores, on_conflict=on_conflict
    )
    check_two_classes(
        res.labels,
        where,
        column=label_col,
        cutoff=parsed.cutoff,
        kind=parsed.kind,
        quantile=quantile,
    )

    extra: dict = {
        "format": fmt,
        "seq_col": seq_col,
        "label_col": label_col,
        "label_kind": parsed.kind,
        "n_rows": int(len(df)),
        "n_duplicates_merged": res.n_merged,
        "n_conflicting_sequences": res.n_conflicting,
        "n_rows_dropped": res.n_dropped,
        "on_conflict": on_conflict,
    }
    if parsed.positive is not None:
        extra["positive"] = parsed.positive
    if quantile is not None:
        extra["quantile"] = float(quantile)
    if counts is None and why_no_counts and not why_no_counts.startswith("no count_input"):
        extra["counts_skipped"] = why_no_counts
    kept_counts = None if counts is None else {k: v[res.index] for k, v in counts.items()}
    if wild_type is not None:
        extra.update(_wild_type_extra(wild_type, sequences[res.index], kept_counts, where))

    return Dataset(
        sequences=sequences[res.index],
        labels=res.labels,
        name=name or Path(path).name,
        alphabet=AMINO_ACIDS + ("*" if allow_stop else ""),
        scores=res.scores,
        threshold=parsed.cutoff,
        counts=kept_counts,
        source=str(path),
        extra=extra,
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
