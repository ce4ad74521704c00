"""Integer and one-hot encoding of protein sequences: the ONE place sequences are encoded.

Assumptions
-----------
- Sequences are Python strings (or a numpy ``str`` array). Loaders have already upper-cased
  and validated them; lower-case letters are still accepted here and mean the same residue
  (unless the alphabet itself holds lower-case letters).
- Token 0 is padding; residue ``alphabet[i]`` is token ``i + 1``. Sequences may differ in
  length: shorter ones are right-padded with 0 up to the longest.
- Encoding is vectorised (a numpy ``str`` array viewed as code points, then a lookup table),
  so hundreds of thousands of short sequences encode in a few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from badlabels.errors import BadInputError

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
"""The 20 standard amino acids, in the order that defines their tokens (A = 1 ... Y = 20)."""

_INVALID = -1
_LUT_SIZE = 128  # ASCII; every code point >= 128 maps to the sentinel slot below


def _check_alphabet(alphabet: str) -> str:
    if not isinstance(alphabet, str) or not alphabet:
        raise BadInputError(f"alphabet must be a non-empty string, got {alphabet!r}")
    if len(set(alphabet)) != len(alphabet):
        raise BadInputError(f"alphabet {alphabet!r} repeats a character")
    if any(ord(c) >= _LUT_SIZE or ord(c) == 0 for c in alphabet):
        raise BadInputError(f"alphabet {alphabet!r} must hold printable ASCII characters only")
    return alphabet


def _lookup_table(alphabet: str) -> np.ndarray:
    """Code point -> token; index ``_LUT_SIZE`` is the slot for every non-ASCII character."""
    lut = np.full(_LUT_SIZE + 1, _INVALID, dtype=np.int64)
    lut[0] = 0  # numpy pads str arrays with NUL: padding
    for i, ch in enumerate(alphabet):
        lut[ord(ch)] = i + 1
    for i, ch in enumerate(alphabet):
        low = ch.lower()
        if low != ch and low not in alphabet and ord(low) < _LUT_SIZE:
            lut[ord(low)] = i + 1
    return lut


def _as_str_array(sequences) -> np.ndarray:
    """A 1-D numpy ``str`` array of the sequences, checking that each one is a string."""
    if isinstance(sequences, str):
        sequences = [sequences]
    if isinstance(sequences, np.ndarray) and sequences.dtype.kind == "U":
        if sequences.ndim != 1:
            raise BadInputError(f"sequences must be one-dimensional, got shape {sequences.shape}")
        return sequences
    if not isinstance(sequences, Iterable):
        raise BadInputError(f"sequences must be a list of strings, got {type(sequences).__name__}")
    seq_list = list(sequences)
    for i, s in enumerate(seq_list):
        if not isinstance(s, str):
            raise BadInputError(
                f"sequence at index {i} is not a string: {s!r} ({type(s).__name__})"
            )
    if not seq_list:
        return np.empty(0, dtype="U1")
    return np.array(seq_list, dtype=str)


def _short(seq: str, at: int | None = None, width: int = 40) -> str:
    """The sequence, or a window of it around position ``at`` if it is long."""
    if len(seq) <= width:
        return seq
    if at is None:
        return seq[:width] + "..."
    start = max(0, at - width // 2)
    end = min(len(seq), start + width)
    return ("..." if start else "") + seq[start:end] + ("..." if end < len(seq) else "")


def encode(sequences, alphabet: str = AMINO_ACIDS) -> tuple[np.ndarray, np.ndarray]:
    """Integer-encode sequences with right padding.

    Parameters
    ----------
    sequences : sequence of str
        The sequences (list, tuple, numpy array, pandas Series). A single string is
        treated as one sequence. Lengths may differ.
    alphabet : str, default AMINO_ACIDS
        The residues; ``alphabet[i]`` becomes token ``i + 1``.

    Returns
    -------
    tokens : ndarray of int64, shape (n, L_max)
        Tokens, 0 = padding after the end of a shorter sequence.
    lengths : ndarray of int64, shape (n,)
        The length of each sequence.

    Raises
    ------
    BadInputError
        If a sequence is not a string or holds a character outside ``alphabet``
        (the message names the character, the sequence and its index).
    """
    alphabet = _check_alphabet(alphabet)
    arr = _as_str_array(sequences)
    n = arr.shape[0]
    width = arr.dtype.itemsize // 4
    if n == 0 or width == 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros(n, dtype=np.int64)
    codes = arr.view(np.uint32).reshape(n, width)
    lut = _lookup_table(alphabet)
    tokens = lut[np.minimum(codes, _LUT_SIZE)]
    bad = tokens == _INVALID
    if bad.any():
        i, pos = np.argwhere(bad)[0]
        seq = str(arr[i])
        ch = seq[pos]
        hint = " (a stop codon; allow it with --allow-stop)" if ch == "*" else ""
        raise BadInputError(
            f"character {ch!r}{hint} at position {pos + 1} of sequence {_short(seq, pos)!r} "
            f"(index {i}) is not in the alphabet {alphabet}"
        )
    lengths = np.char.str_len(arr).astype(np.int64)
    # numpy pads with NUL, so a NUL inside a sequence would silently read as padding
    if np.count_nonzero(codes) != int(lengths.sum()):
        i = int(np.flatnonzero(np.count_nonzero(codes, axis=1) != lengths)[0])
        raise BadInputError(f"sequence at index {i} contains a NUL character")
    lmax = int(lengths.max())
    if lmax < width:  # numpy gives even all-empty strings a width of 1
        tokens = np.ascontiguousarray(tokens[:, :lmax])
    return tokens, lengths


def one_hot_flat(sequences, alphabet: str = AMINO_ACIDS, length: int | None = None) -> np.ndarray:
    """Flattened one-hot encoding for linear models.

    Parameters
    ----------
    sequences : sequence of str
        The sequences; lengths may differ.
    alphabet : str, default AMINO_ACIDS
        The residues (one column per residue and position).
    length : int, optional
        The number of positions to encode (e.g. the length a model was fitted on). Shorter
        sequences are padded; default: the longest sequence given.

    Returns
    -------
    ndarray of float32, shape (n, length * len(alphabet))
        Position ``p`` and residue ``alphabet[a]`` is column ``p * len(alphabet) + a``;
        padding positions are all zero.

    Raises
    ------
    BadInputError
        For a character outside ``alphabet``, or a sequence longer than ``length``.
    """
    tokens, lengths = encode(sequences, alphabet)
    n, lmax = tokens.shape
    if length is None:
        length = lmax
    if not isinstance(length, (int, np.integer)) or length < 0:
        raise BadInputError(f"length must be a non-negative integer, got {length!r}")
    length = int(length)
    if lmax > length:
        i = int(np.argmax(lengths))
        raise BadInputError(
            f"sequence at index {i} has length {int(lengths[i])}, longer than the "
            f"{length} positions to encode"
        )
    if lmax < length:
        tokens = np.pad(tokens, ((0, 0), (0, length - lmax)))
    a = len(alphabet)
    # token t (1..a) sets column t - 1 of its position; padding (0) matches no column
    hot = tokens[:, :, None] == np.arange(1, a + 1, dtype=tokens.dtype)
    return hot.astype(np.float32).reshape(n, length * a)
