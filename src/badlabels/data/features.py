"""Precomputed features for the sequences of a dataset (``--features``).

Labs often have a per-variant embedding (from a protein language model, say) or hand-made
descriptors. :func:`read_features` reads them from one of two kinds of file:

- a NumPy ``.npy`` file holding a 2-D array aligned to the data file: array row i belongs to
  the i-th data row of the data file (header and blank lines not counted), in file order;
- a table (CSV/TSV/text, Parquet, gzip too) keyed by sequence: one column names the sequence
  (``sequence``, or the data's sequence column), every other column is one numeric feature.
  Every sequence must have a row; extra rows are fine.

Assumptions
-----------
- Features are finite numbers, stored as float32.
- Table keys are matched like the data's sequences: stripped and upper-cased, full length
  (the sequences as read, before any projection onto varying positions).
- A key that occurs twice must carry the same features both times.
- Errors are one-line :class:`~badlabels.errors.BadInputError` naming the features file and,
  where it helps, the data file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from badlabels.data.validate import MISSING_TOKENS, Where, _short, _to_float, as_text
from badlabels.errors import BadInputError

__all__ = ["read_features"]


def _check_path(path: Path) -> None:
    if not path.exists():
        raise BadInputError("features file not found", file=str(path))
    if path.is_dir():
        raise BadInputError("is a directory; give the features file", file=str(path))


def _is_npy(path: Path) -> bool:
    return path.suffix.lower() == ".npy"


def read_features(
    path,
    sequences,
    *,
    input_rows=None,
    n_input_rows: int | None = None,
    where: Where | None = None,
    seq_col: str | None = None,
) -> np.ndarray:
    """The feature matrix for ``sequences``, one row each.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` 2-D array aligned to the data file's data rows, or a table keyed by
        sequence (see the module docstring).
    sequences : array-like of str, shape (n,)
        The sequences that need features (upper-case, full length).
    input_rows : array-like of int, shape (n,), optional
        ``.npy`` only: for each sequence, the 0-based position of its row among the data
        file's data rows (the rows kept after duplicates were merged). Default: the array's
        rows are the sequences, in order.
    n_input_rows : int, optional
        ``.npy`` only: the number of data rows in the data file; the array must have exactly
        that many rows. Default: ``n``.
    where : Where, optional
        The data file, for messages.
    seq_col : str, optional
        Table only: the data's sequence column, tried after ``sequence`` as the key column.

    Returns
    -------
    ndarray of float32, shape (n, d)

    Raises
    ------
    BadInputError
        The file is missing or unreadable; an array that is not 2-D or not numeric; a wrong
        number of rows; a value that is missing, not a number or not finite (naming its row
        and column); a sequence with no row in a table (naming it and how many are missing).
    """
    path = Path(path)
    _check_path(path)
    seqs = np.asarray(sequences, dtype=object)
    if _is_npy(path):
        return _from_npy(path, len(seqs), input_rows, n_input_rows, where)
    return _from_table(path, seqs, where, seq_col)


# ---------------------------------------------------------------------------------------
# .npy aligned to the data rows


def _from_npy(path: Path, n: int, input_rows, n_input_rows, where: Where | None) -> np.ndarray:
    name = str(path)
    try:
        arr = np.load(path, allow_pickle=False, mmap_mode="r")
    except ValueError as exc:
        msg = " ".join(str(exc).split())
        if "pickle" in msg.lower():
            msg = "holds Python objects, not numbers"
        raise BadInputError(f"cannot read as a NumPy .npy array: {msg}", file=name) from None
    except (OSError, EOFError) as exc:
        raise BadInputError(f"cannot read as a NumPy .npy array: {exc}", file=name) from None
    if arr.ndim != 2:
        raise BadInputError(
            f"is a {arr.ndim}-D array of shape {tuple(arr.shape)}; features must be a 2-D "
            "array, one row per data row and one column per feature",
            file=name,
        )
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise BadInputError(f"holds {arr.dtype} values; features must be numbers", file=name)
    if arr.shape[1] == 0:
        raise BadInputError("has no feature columns (shape (n, 0))", file=name)
    data = Path(where.file).name if where is not None else "the data"
    if n_input_rows is not None:
        if arr.shape[0] != int(n_input_rows):
            raise BadInputError(
                f"has {arr.shape[0]} rows, {data} has {int(n_input_rows)} data rows; give one "
                "row per data row, in file order (or a table keyed by sequence)",
                file=name,
            )
    elif input_rows is None and arr.shape[0] != n:
        raise BadInputError(
            f"has {arr.shape[0]} rows for {n} sequences; give one row per sequence, in order "
            "(or a table keyed by sequence)",
            file=name,
        )
    if input_rows is not None:
        idx = np.asarray(input_rows, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= arr.shape[0]):
            raise BadInputError(
                f"has {arr.shape[0]} rows, too few for the data rows of {data}", file=name
            )
        out = np.asarray(arr[idx], dtype=np.float32)
    else:
        idx = np.arange(arr.shape[0], dtype=np.int64)
        out = np.asarray(arr, dtype=np.float32)
    bad = ~np.isfinite(out)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        value = np.asarray(arr[idx[r], c]).item()
        raise BadInputError(
            f"non-finite value {value!r} in array row {int(idx[r])}, column {c} (0-based); "
            "features must be finite numbers",
            file=name,
        )
    return np.ascontiguousarray(out)


# ---------------------------------------------------------------------------------------
# a table keyed by sequence


def _from_table(path: Path, seqs: np.ndarray, where: Where | None, seq_col) -> np.ndarray:
    from badlabels.data.io import read_table

    name = str(path)
    table = read_table(path)
    fwhere = Where(name, table.attrs.get("row_unit", "row"))
    candidates = ["sequence"] + ([seq_col] if seq_col and seq_col != "sequence" else [])
    key = next((c for c in candidates if c in table.columns), None)
    if key is None:
        wanted = " or ".join(repr(c) for c in candidates)
        cols = ", ".join(repr(c) for c in table.columns) or "(none)"
        raise fwhere.error(
            f"no column {wanted} to match feature rows to sequences (columns: {cols}); name "
            "the key column 'sequence', or give a .npy array aligned to the data rows",
            1 if fwhere.unit == "row" else None,
        )
    feature_cols = [c for c in table.columns if c != key]
    if not feature_cols:
        raise fwhere.error(f"no feature columns besides {key!r}")
    if len(table) == 0:
        raise fwhere.error("no data rows")
    rows = table.index.to_numpy()
    values = np.empty((len(table), len(feature_cols)), dtype=np.float64)
    for j, col in enumerate(feature_cols):
        raw = table[col]
        if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
            v = raw.to_numpy(dtype=np.float64, na_value=np.nan)
            text = None
        else:
            text = as_text(raw)
            v = _to_float(text)
        bad = ~np.isfinite(v)
        if bad.any():
            i = int(np.argmax(bad))
            cell = str(v[i]) if text is None else str(text.iat[i])
            if np.isnan(v[i]) and (text is None or cell.lower() in MISSING_TOKENS):
                why = "missing value"
            elif np.isnan(v[i]):
                why = f"{_short(cell, 30)!r} is not a number"
            else:
                why = f"non-finite value {cell!r}"
            raise fwhere.error(
                f"{why} in feature column {col!r}; features must be finite numbers", rows[i]
            )
        values[:, j] = v
    values32 = values.astype(np.float32)
    if not np.isfinite(values32).all():
        r, c = (int(v) for v in np.argwhere(~np.isfinite(values32))[0])
        raise fwhere.error(
            f"value in feature column {feature_cols[c]!r} is too large for 32-bit floats", rows[r]
        )

    keys = as_text(table[key]).str.upper().to_numpy(dtype=object)
    key_index = pd.Index(keys)
    if not key_index.is_unique:
        first = ~pd.Series(keys).duplicated(keep="first").to_numpy()
        firsts = pd.Index(keys[first])
        ref = firsts.get_indexer(keys)
        first_rows = np.flatnonzero(first)
        differ = (values32 != values32[first_rows[ref]]).any(axis=1)
        if differ.any():
            i = int(np.argmax(differ))
            j = int(first_rows[ref[i]])
            raise fwhere.error(
                f"sequence {_short(keys[i], 40)!r} has two rows with different features "
                f"({fwhere.place(rows[j])} and {fwhere.place(rows[i])}); keep one",
                rows[i],
            )
        keys, values32 = keys[first], values32[first]
        key_index = pd.Index(keys)
    found = key_index.get_indexer(seqs)
    missing = found < 0
    if missing.any():
        i = int(np.argmax(missing))
        data = f" of {Path(where.file).name}" if where is not None else ""
        raise BadInputError(
            f"{int(missing.sum())} of {len(seqs)} sequences{data} have no row here, e.g. "
            f"{_short(str(seqs[i]), 40)!r}; add a row for every sequence (key column {key!r})",
            file=name,
        )
    return np.ascontiguousarray(values32[found])
