"""Which residue positions a model reads: every one, or only those that vary.

A deep mutational scan of a 500-residue protein has 500-character sequences that differ at
a handful of positions. Models read them far better (and faster) as the short strings of
the varying positions only. :func:`choose_positions` decides, :func:`project` cuts the
sequences down, and the loader records what it did (``extra["positions"]``,
``extra["full_length"]``, ``extra["template"]``) so that new full-length sequences can be
projected the same way at prediction time.

Assumptions
-----------
- Positions are 0-based column indices into equal-length sequences; a projection keeps them
  in increasing order.
- Only sequences of one length can be projected. Sequences of different lengths (indels,
  peptide libraries of several lengths) are kept whole.
- "auto" projects when every sequence has the same length, that length is at least
  :data:`AUTO_MIN_LENGTH` residues, and at most half of the positions vary (a mutational
  scan of one protein). Short libraries (random 12-mers, the four GB1 sites, however few of
  their positions vary in a given file) are left exactly as they are.
- Sequences are upper-case ASCII strings (as :func:`badlabels.data.validate.check_sequences`
  returns them).
"""

from __future__ import annotations

import numpy as np

from badlabels.data.validate import Where
from badlabels.errors import BadInputError

POSITION_MODES = ("auto", "all", "variable")
"""Values of ``positions=``: ``auto`` (project a mutational scan), ``all`` (never project),
``variable`` (always project; the sequences must have one length)."""
AUTO_MIN_LENGTH = 30
""""auto" leaves sequences shorter than this whole: projection pays off for proteins, and
short designed libraries keep their every site."""
_CHUNK = 65_536

__all__ = [
    "AUTO_MIN_LENGTH",
    "POSITION_MODES",
    "choose_positions",
    "project",
    "template",
    "variable_positions",
]


def _lengths(sequences) -> np.ndarray:
    return np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))


def _matrix(sequences, length: int) -> np.ndarray:
    """Equal-length strings as a uint8 matrix, shape (n, length)."""
    n = len(sequences)
    if n == 0:
        return np.zeros((0, length), dtype=np.uint8)
    buf = "".join(sequences).encode("ascii")
    return np.frombuffer(buf, dtype=np.uint8).reshape(n, length)


def _chunks(sequences):
    seqs = np.asarray(sequences, dtype=object)
    for start in range(0, len(seqs), _CHUNK):
        yield seqs[start : start + _CHUNK]


def variable_positions(sequences) -> np.ndarray:
    """The positions at which more than one residue occurs.

    Parameters
    ----------
    sequences : array-like of str, shape (n,)
        Sequences of one length L.

    Returns
    -------
    ndarray of int64, shape (k,)
        0-based positions, increasing; ``k <= L``.

    Raises
    ------
    BadInputError
        When the sequences differ in length (or there are none).
    """
    seqs = np.asarray(sequences, dtype=object)
    if len(seqs) == 0:
        raise BadInputError("no sequences to find varying positions in")
    lengths = _lengths(seqs)
    if (lengths != lengths[0]).any():
        i = int(np.argmax(lengths != lengths[0]))
        raise BadInputError(
            f"sequences differ in length ({int(lengths[0])} and {int(lengths[i])} residues), so "
            "only the varying positions of equal-length sequences can be used"
        )
    length = int(lengths[0])
    first = np.frombuffer(str(seqs[0]).encode("ascii"), dtype=np.uint8)
    varies = np.zeros(length, dtype=bool)
    for chunk in _chunks(seqs):
        varies |= (_matrix(chunk, length) != first).any(axis=0)
    return np.flatnonzero(varies).astype(np.int64)


def template(sequences) -> str:
    """The most common residue at each position (ties: the alphabetically first).

    Parameters
    ----------
    sequences : array-like of str, shape (n,)
        Sequences of one length L (n >= 1).

    Returns
    -------
    str
        Length L. For a mutational scan this is the wild type at every position that was
        not mutated, and the usual residue where it was.
    """
    seqs = np.asarray(sequences, dtype=object)
    length = len(seqs[0])
    counts = np.zeros((length, 256), dtype=np.int64)
    for chunk in _chunks(seqs):
        m = _matrix(chunk, length)
        for code in np.unique(m):
            counts[:, code] += (m == code).sum(axis=0)
    best = counts.argmax(axis=1).astype(np.uint8)
    return best.tobytes().decode("ascii")


def project(
    sequences,
    positions,
    full_length: int,
    where: Where | None = None,
    what: str = "sequences",
    rows=None,
) -> np.ndarray:
    """Keep only ``positions`` of each full-length sequence.

    Parameters
    ----------
    sequences : array-like of str, shape (n,)
        Full-length sequences, each of length ``full_length``.
    positions : array-like of int, shape (k,)
        0-based positions to keep, in the order given (increasing, as
        :func:`variable_positions` returns them).
    full_length : int
        The length every sequence must have.
    where : Where, optional
        The file, for messages.
    what : str, default "sequences"
        What the sequences are, for messages (e.g. ``"sequences to predict"``).
    rows : array-like of int, shape (n,), optional
        Row number of each sequence (spreadsheet numbering), for messages.

    Returns
    -------
    ndarray of str (object), shape (n,)
        Strings of length k.

    Raises
    ------
    BadInputError
        One line when a sequence's length is not ``full_length`` (naming the row when
        ``rows`` is given), or a position lies outside it.
    """
    seqs = np.asarray(sequences, dtype=object)
    pos = np.asarray(positions, dtype=np.int64)
    full_length = int(full_length)
    if pos.size and (pos.min() < 0 or pos.max() >= full_length):
        raise BadInputError(
            f"position {int(pos.max()) + 1} is outside sequences of length {full_length}",
            file=None if where is None else where.file,
        )
    lengths = _lengths(seqs)
    wrong = lengths != full_length
    if wrong.any():
        i = int(np.argmax(wrong))
        problem = (
            f"{what}: a sequence of {int(lengths[i])} residues, but the model reads sequences "
            f"of {full_length} residues (it uses only the {pos.size} positions that varied in "
            "its training data); give full-length sequences"
        )
        row = None if rows is None else int(np.asarray(rows)[i])
        if where is not None:
            raise where.error(problem, row)
        raise BadInputError(problem, row=row)
    out = np.empty(len(seqs), dtype=object)
    at = 0
    for chunk in _chunks(seqs):
        m = _matrix(chunk, full_length)[:, pos]
        k = pos.size
        flat = np.ascontiguousarray(m).tobytes().decode("ascii")
        out[at : at + len(chunk)] = [flat[j * k : (j + 1) * k] for j in range(len(chunk))]
        at += len(chunk)
    return out


def choose_positions(sequences, mode: str = "auto") -> np.ndarray | None:
    """The positions a model should read, or None for the whole sequences.

    Parameters
    ----------
    sequences : array-like of str, shape (n,)
    mode : {"auto", "all", "variable"}, default "auto"
        ``"auto"``: the varying positions when every sequence has the same length, of at
        least :data:`AUTO_MIN_LENGTH` residues, and at most half of its positions vary (and at
        least one does); else None. ``"variable"``:
        the varying positions (an error when lengths differ). ``"all"``: None.

    Returns
    -------
    ndarray of int64, shape (k,), or None

    Raises
    ------
    BadInputError
        An unknown mode; ``"variable"`` with sequences of different lengths or with no
        position that varies.
    """
    mode = str(mode).strip().lower()
    if mode not in POSITION_MODES:
        raise BadInputError(f"positions must be one of {', '.join(POSITION_MODES)} (got {mode!r})")
    seqs = np.asarray(sequences, dtype=object)
    if mode == "all" or len(seqs) == 0:
        return None
    lengths = _lengths(seqs)
    same = bool((lengths == lengths[0]).all())
    if not same:
        if mode == "variable":
            variable_positions(seqs)  # raises, naming the two lengths
        return None
    length = int(lengths[0])
    if mode == "auto" and length < AUTO_MIN_LENGTH:
        return None
    pos = variable_positions(seqs)
    if mode == "variable":
        if pos.size == 0:
            raise BadInputError("no position varies: every sequence is the same")
        return pos
    if 0 < pos.size and 2 * pos.size <= length:
        return pos
    return None
