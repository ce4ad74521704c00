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


# --- residue encodings: one-hot and amino-acid descriptor scales --------------------------
# Each descriptor set comes from the maintained ``peptides`` package (its ``tables``); the
# columns are z-scored over the 20 standard amino acids so that every scale weighs the same.
DESCRIPTOR_SETS = {
    "blosum": ("BLOSUM", "BLOSUM indices (Georgiev 2009): 10 factors of the BLOSUM62 matrix"),
    "vhse": ("VHSE", "VHSE (Mei et al. 2005): 8 scales of hydrophobicity, steric, electronic"),
    "zscales": ("Z_SCALES", "Z-scales (Sandberg et al. 1998): 5 scales, z1 lipophilicity"),
    "kidera": ("KIDERA", "Kidera factors (1985): 10 orthogonal physico-chemical factors"),
    "atchley": ("ATCHLEY", "Atchley factors (2005): 5 factors, polarity to charge"),
    "tscales": ("T_SCALES", "T-scales (Tian et al. 2007): 5 topological scales"),
    "stscales": ("ST_SCALES", "ST-scales (Yang et al. 2010): 8 structural scales"),
    "protfp": ("PROTFP", "ProtFP (van Westen et al. 2013): 8 PCA descriptors"),
    "fasgai": ("FASGAI", "FASGAI (Liang et al. 2008): 6 factors, hydrophobicity to bulk"),
    "mswhim": ("MSWHIM", "MS-WHIM (Zaliani and Gancia 1999): 3 electrostatic scores"),
}
"""Descriptor sets an ``encoding`` may name: name -> (``peptides.tables`` attribute, summary)."""

ENCODINGS = {"onehot": "one-hot: one column per residue (the default)"} | {
    name: summary for name, (_, summary) in DESCRIPTOR_SETS.items()
}
"""Every part an ``encoding`` may join with ``+``, with a one-line summary."""


def encoding_parts(encoding) -> tuple[str, ...]:
    """The parts of an ``encoding`` such as ``"onehot+vhse"``, checked.

    Raises
    ------
    BadInputError
        If ``encoding`` is not a string of known parts joined by ``+`` (each once).
    """
    if not isinstance(encoding, str) or not encoding.strip():
        raise BadInputError(f"encoding must be a string such as 'onehot+vhse', got {encoding!r}")
    parts = tuple(p.strip().lower() for p in encoding.split("+"))
    for p in parts:
        if p not in ENCODINGS:
            raise BadInputError(
                f"encoding {encoding!r}: unknown part {p!r}; join one or more of "
                f"{', '.join(ENCODINGS)} with '+'"
            )
    if len(set(parts)) != len(parts):
        raise BadInputError(f"encoding {encoding!r} names a part twice")
    return parts


def is_onehot(encoding) -> bool:
    """Whether ``encoding`` (checked) is plain one-hot: the networks read tokens directly."""
    return encoding_parts(encoding) == ("onehot",)


def _descriptor_table(name: str) -> dict[str, np.ndarray]:
    """Residue -> z-scored descriptor vector of the set ``name`` (20 standard residues)."""
    try:
        from peptides import tables
    except ImportError:  # pragma: no cover - a declared dependency
        raise BadInputError(
            f"encoding {name!r} needs the 'peptides' package: pip install peptides"
        ) from None
    scales = getattr(tables, DESCRIPTOR_SETS[name][0])
    columns = sorted(scales, key=lambda s: (len(s), s))  # VHSE1 .. VHSE8, KF1 .. KF10
    values = np.array([[scales[c][a] for c in columns] for a in AMINO_ACIDS], dtype=np.float64)
    values = (values - values.mean(axis=0)) / values.std(axis=0)
    return {a: values[i] for i, a in enumerate(AMINO_ACIDS)}


def encoding_matrix(encoding: str = "onehot", alphabet: str = AMINO_ACIDS) -> np.ndarray:
    """The residue -> feature map of an ``encoding``: row ``i`` encodes ``alphabet[i]``.

    A network's input at a position is the row of its residue (padding: all zero), so
    one-hot is the identity and ``"onehot+vhse"`` the identity next to 8 VHSE columns.

    Parameters
    ----------
    encoding : str, default "onehot"
        One or more of :data:`ENCODINGS` joined by ``+``.
    alphabet : str, default AMINO_ACIDS
        The residues. A residue outside the 20 standard amino acids (e.g. ``*``) has all
        descriptor columns 0, the mean of the standard residues.

    Returns
    -------
    ndarray of float32, shape (len(alphabet), d)
        ``d`` = ``len(alphabet)`` for one-hot plus the size of each descriptor set.
    """
    alphabet = _check_alphabet(alphabet)
    blocks = []
    for part in encoding_parts(encoding):
        if part == "onehot":
            blocks.append(np.eye(len(alphabet)))
            continue
        table = _descriptor_table(part)
        width = len(next(iter(table.values())))
        blocks.append(np.stack([table.get(a.upper(), np.zeros(width)) for a in alphabet]))
    return np.concatenate(blocks, axis=1).astype(np.float32)


def encoded_flat(
    sequences, encoding: str = "onehot", alphabet: str = AMINO_ACIDS, length: int | None = None
) -> np.ndarray:
    """Flattened features of an ``encoding`` for linear models (one-hot: :func:`one_hot_flat`).

    Returns
    -------
    ndarray of float32, shape (n, length * d)
        Position ``p``'s ``d`` features (the rows of :func:`encoding_matrix`) are columns
        ``p * d`` to ``p * d + d - 1``; padding positions are all zero.
    """
    flat = one_hot_flat(sequences, alphabet, length)
    if is_onehot(encoding):
        return flat
    matrix = encoding_matrix(encoding, alphabet)
    n, a = flat.shape[0], len(alphabet)
    return (flat.reshape(n, -1, a) @ matrix).reshape(n, -1).astype(np.float32)
