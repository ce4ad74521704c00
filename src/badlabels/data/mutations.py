"""Full protein sequences from the mutation strings of deep-mutational-scanning files.

ProteinGym substitution files name each variant in a ``mutant`` column (``"A1P:D2N"``);
MaveDB score sets name it in an ``hgvs_pro`` column in MAVE-HGVS (``"p.[Leu5Glu;Ala7Gly]"``).
Both are applied to a target (wild-type) sequence given literally or as a FASTA file.

Assumptions
-----------
- Positions are 1-based. ``offset`` N shifts the file's numbering: position ``p`` is target
  index ``p - 1 - N`` (0-based), so with ``offset=10`` the first residue of the target is
  numbered 11. Valid positions are ``N + 1`` to ``N + len(target)``.
- Only substitutions between the 20 standard amino acids (:data:`AMINO_ACIDS`) are applied.
  The wild-type residue each mutation names must be the target's residue at that position,
  and no position may be mutated twice in one variant.
- ProteinGym: ``wt pos mut`` with one-letter codes (case-insensitive), several joined by
  ``':'`` (spaces around each part are ignored). An empty cell, ``"WT"`` or ``"_wt"``
  (case-insensitive) is the wild type itself: no mutation.
- MaveDB: MAVE-HGVS protein variants with three-letter codes (``p.Leu5Glu``,
  ``p.[Leu5Glu;Ala7Gly]``), parsed by the ``mavehgvs`` package. Variants that change
  nothing at protein level -- ``p.Leu5=``, ``p.=`` and the special values ``_wt`` and
  ``_sy`` -- are synonymous (they duplicate the wild type). Missing values (empty, ``NA``)
  and variants that are not substitutions between the 20 amino acids (deletions,
  insertions, duplications, frameshifts, stops ``Ter``, ...) cannot be applied and are
  skipped; :func:`build_from_hgvs` counts both kinds.
- Errors are one-line :class:`~badlabels.errors.BadInputError` naming the file, the row, the
  column and the problem; the parsing helpers raise a short ``ValueError`` for the caller
  to place.
"""

from __future__ import annotations

import os
import re

import numpy as np

from badlabels.data.encoding import AMINO_ACIDS
from badlabels.data.layouts import MAVEDB_HGVS
from badlabels.data.validate import MISSING_TOKENS, Where, as_text
from badlabels.errors import BadInputError

__all__ = [
    "apply_mutations",
    "build_from_hgvs",
    "build_variants",
    "is_hgvs",
    "build_sequences",
    "parse_hgvs_pro",
    "parse_mutant",
    "read_target",
]

_AA_SET = frozenset(AMINO_ACIDS)
_WILD_TYPE_WORDS = frozenset({"", "wt", "_wt"})
_MUTANT_RE = re.compile(r"([A-Za-z])(\d+)([A-Za-z*])")
THREE_TO_ONE = {
    "Ala": "A",
    "Arg": "R",
    "Asn": "N",
    "Asp": "D",
    "Cys": "C",
    "Gln": "Q",
    "Glu": "E",
    "Gly": "G",
    "His": "H",
    "Ile": "I",
    "Leu": "L",
    "Lys": "K",
    "Met": "M",
    "Phe": "F",
    "Pro": "P",
    "Ser": "S",
    "Thr": "T",
    "Trp": "W",
    "Tyr": "Y",
    "Val": "V",
}
"""Three-letter codes of the 20 standard amino acids (as MAVE-HGVS writes them)."""


def _short(value: str, width: int = 60) -> str:
    return value if len(value) <= width else value[:width] + "..."


# ---------------------------------------------------------------------------------------
# Target sequence


def _clean_target(text: str, *, file: str | None = None, what: str = "target sequence") -> str:
    """Whitespace removed, upper-cased; BadInputError on an empty one or a bad character."""
    seq = "".join(str(text).split()).upper()
    if not seq:
        raise BadInputError(f"the {what} is empty", file=file)
    for pos, ch in enumerate(seq, start=1):
        if ch not in _AA_SET:
            if ch == "*":
                why = "a stop codon '*'"
            else:
                why = f"the character {ch!r}, which is not one of the 20 amino acids {AMINO_ACIDS}"
            raise BadInputError(f"the {what} has {why} at position {pos}", file=file)
    return seq


def _read_fasta_target(path: str) -> str:
    where = Where(path, "record")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError as err:
        raise BadInputError(
            f"cannot read the target file: {err.strerror or err}", file=path
        ) from None
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith(">")), None)
    if start is None:
        raise where.error("no FASTA record (a header line starting with '>') in the target file")
    body = []
    for line in lines[start + 1 :]:
        if line.lstrip().startswith(">"):
            break
        body.append(line)
    seq = "".join("".join(body).split())
    if not seq:
        raise where.error("the target record has no sequence", 1)
    try:
        return _clean_target(seq, what="target sequence")
    except BadInputError as err:
        raise where.error(err.problem, 1) from None


def read_target(text_or_path: str) -> str:
    """The target (wild-type) sequence, from a literal sequence or a FASTA file.

    Parameters
    ----------
    text_or_path : str
        A path to a FASTA file (its first record is used, any others are ignored), or a
        literal amino-acid sequence (case-insensitive, whitespace ignored). An existing
        file wins over the literal reading.

    Returns
    -------
    str
        The sequence, upper-case, length L.

    Raises
    ------
    BadInputError
        A file with no record or an empty record; a sequence with a character outside the
        20 amino acids (naming it and its 1-based position); an empty literal.
    """
    text = str(text_or_path)
    for candidate in (text, text.strip()):
        if candidate and os.path.isfile(candidate):
            return _read_fasta_target(candidate)
    literal = "".join(text.split())
    if any(c in literal for c in "/\\."):
        raise BadInputError(
            f"target {_short(text.strip())!r} is neither an existing file nor an amino-acid "
            "sequence"
        )
    return _clean_target(literal)


# ---------------------------------------------------------------------------------------
# ProteinGym mutant strings


def parse_mutant(text: str) -> list[tuple[str, int, str]]:
    """Parse a ProteinGym mutant string such as ``"A1P:D2N"``.

    Parameters
    ----------
    text : str
        Substitutions ``wt pos mut`` (one-letter codes, 1-based position) joined by ``':'``;
        spaces around each part are ignored. ``""``, ``"WT"`` and ``"_wt"``
        (case-insensitive) mean no mutation.

    Returns
    -------
    list of (str, int, str)
        ``(wild-type residue, position, mutant residue)`` per substitution, upper-case,
        in the order written; ``[]`` for the wild type.

    Raises
    ------
    ValueError
        A part that is not a substitution, or a residue outside the 20 amino acids.
    """
    text = str(text).strip()
    if text.lower() in _WILD_TYPE_WORDS:
        return []
    out = []
    for part in text.split(":"):
        part = part.strip()
        match = _MUTANT_RE.fullmatch(part)
        if match is None:
            if not part:
                raise ValueError("empty substitution between ':' separators")
            raise ValueError(f"{_short(part, 30)!r} is not a substitution like 'A123P'")
        wt, pos, mut = match.group(1).upper(), int(match.group(2)), match.group(3).upper()
        for kind, aa in (("wild-type", wt), ("mutant", mut)):
            if aa not in _AA_SET:
                raise ValueError(
                    f"{kind} residue {aa!r} in {part!r} is not one of the 20 amino acids"
                )
        out.append((wt, pos, mut))
    return out


# ---------------------------------------------------------------------------------------
# Applying substitutions


def _apply(target: str, mutations, offset: int) -> str:
    """``apply_mutations`` on an already clean target."""
    if not mutations:
        return target
    n = len(target)
    changes: dict[int, str] = {}
    for wt, pos, mut in mutations:
        pos = int(pos)
        index = pos - 1 - offset
        if not 0 <= index < n:
            raise ValueError(
                f"position {pos} is outside the target (positions {offset + 1} to {offset + n})"
            )
        if index in changes:
            raise ValueError(f"position {pos} is mutated twice")
        if target[index] != wt:
            raise ValueError(
                f"wild-type residue {wt} at position {pos} does not match the target's "
                f"{target[index]}"
            )
        if mut not in _AA_SET:
            raise ValueError(
                f"mutant residue {mut!r} at position {pos} is not one of the 20 amino acids"
            )
        changes[index] = mut
    if len(changes) == 1:
        ((index, mut),) = changes.items()
        return target[:index] + mut + target[index + 1 :]
    chars = list(target)
    for index, mut in changes.items():
        chars[index] = mut
    return "".join(chars)


def apply_mutations(target: str, mutations, offset: int = 0) -> str:
    """The target with substitutions applied.

    Parameters
    ----------
    target : str
        Upper-case wild-type sequence, length L (as :func:`read_target` returns it).
    mutations : iterable of (str, int, str)
        ``(wild-type residue, position, mutant residue)``, as :func:`parse_mutant` or
        :func:`parse_hgvs_pro` return them.
    offset : int, default 0
        Position ``p`` is target index ``p - 1 - offset``: with ``offset=10`` the first
        residue of the target is numbered 11.

    Returns
    -------
    str
        The mutated sequence, length L.

    Raises
    ------
    ValueError
        A position outside ``offset + 1 .. offset + L`` (the message gives that range), a
        wild-type residue that is not the target's, a position mutated twice, or a mutant
        residue outside the 20 amino acids.
    """
    return _apply(str(target), list(mutations), int(offset))


def _default_rows(n: int, rows) -> np.ndarray:
    if rows is None:
        return np.arange(2, n + 2)
    rows = np.asarray(rows)
    if len(rows) != n:
        raise ValueError(f"got {len(rows)} row numbers for {n} values")
    return rows


def _error(where: Where | None, problem: str, row) -> BadInputError:
    if where is None:
        return BadInputError(" ".join(problem.split("\n")), row=int(row))
    return where.error(problem, row)


def build_sequences(
    mutants,
    target: str,
    *,
    offset: int = 0,
    rows=None,
    where: Where | None = None,
    column: str = "mutant",
) -> np.ndarray:
    """Full sequences from a column of ProteinGym mutant strings.

    Parameters
    ----------
    mutants : array-like of str, shape (n,)
        One mutant string per data row (see :func:`parse_mutant`); a missing cell counts
        as empty, i.e. the wild type.
    target : str
        Wild-type sequence, length L (cleaned as :func:`read_target` does).
    offset : int, default 0
        Numbering shift (see :func:`apply_mutations`).
    rows : array-like of int, shape (n,), optional
        Spreadsheet row number of each entry, for messages; default 2, 3, ... (header =
        row 1).
    where : Where, optional
        The file, for messages.
    column : str, default "mutant"
        Column name, for messages.

    Returns
    -------
    ndarray of str (object), shape (n,)
        Each a sequence of length L.

    Raises
    ------
    BadInputError
        One line naming the file, row, column and problem of the first bad entry.
    """
    target = _clean_target(target, file=where.file if where is not None else None)
    offset = int(offset)
    texts = as_text(mutants).to_numpy(dtype=object)
    rows = _default_rows(len(texts), rows)
    out = np.empty(len(texts), dtype=object)
    for i, text in enumerate(texts):
        try:
            out[i] = _apply(target, parse_mutant(text), offset)
        except ValueError as err:
            raise _error(
                where, f"mutant {_short(text, 40)!r} in column {column!r}: {err}", rows[i]
            ) from None
    return out


# ---------------------------------------------------------------------------------------
# MaveDB protein HGVS


def parse_hgvs_pro(text: str) -> list[tuple[str, int, str]] | None:
    """Parse a MAVE-HGVS protein variant such as ``"p.[Leu5Glu;Ala7Gly]"``.

    Parameters
    ----------
    text : str
        A MaveDB ``hgvs_pro`` value (three-letter amino-acid codes).

    Returns
    -------
    list of (str, int, str) or None
        ``(wild-type residue, position, mutant residue)`` per substitution, one-letter
        codes, in position order; ``[]`` for a variant that changes nothing at protein
        level (``p.Leu5=``, ``p.=``, ``_wt``, ``_sy``; ``=`` parts of a multi-variant are
        dropped); ``None`` for a missing value (empty, ``NA``) or a variant that is not a
        substitution between the 20 amino acids (deletion, insertion, duplication,
        frameshift, stop ``Ter``, ...).

    Raises
    ------
    ValueError
        Text that is not valid MAVE-HGVS, or a variant that is not a protein (``p.``) one.
    """
    if text is None:
        return None
    text = str(text).strip()
    low = text.lower()
    if low in MISSING_TOKENS:
        return None
    if low in ("_wt", "_sy"):
        return []

    from mavehgvs import MaveHgvsParseError, Variant

    try:
        variant = Variant(text)
    except MaveHgvsParseError as err:
        raise ValueError(f"{_short(text, 40)!r} is not valid MAVE-HGVS ({err})") from None
    if variant.prefix != "p":
        raise ValueError(f"{_short(text, 40)!r} is not a protein variant (expected 'p.')")
    out = []
    for vtype, position, seqs in variant.variant_tuples():
        if vtype == "equal":
            continue
        if vtype != "sub":
            return None
        wt, mut = THREE_TO_ONE.get(seqs[0]), THREE_TO_ONE.get(seqs[1])
        if wt is None or mut is None:
            return None
        out.append((wt, int(position.position), mut))
    return out


def build_from_hgvs(
    hgvs,
    target: str,
    *,
    offset: int = 0,
    rows=None,
    where: Where | None = None,
    column: str = "hgvs_pro",
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Full sequences from a column of MaveDB ``hgvs_pro`` values.

    Synonymous rows (:func:`parse_hgvs_pro` gives ``[]``) duplicate the wild type and are
    skipped; rows it gives ``None`` for (missing, not substitutions) are skipped too. Both
    are counted.

    Parameters
    ----------
    hgvs : array-like of str, shape (n,)
        One ``hgvs_pro`` value per data row.
    target : str
        Wild-type sequence, length L (cleaned as :func:`read_target` does).
    offset : int, default 0
        Numbering shift (see :func:`apply_mutations`).
    rows : array-like of int, shape (n,), optional
        Spreadsheet row number of each entry, for messages; default 2, 3, ... (header =
        row 1).
    where : Where, optional
        The file, for messages.
    column : str, default "hgvs_pro"
        Column name, for messages.

    Returns
    -------
    sequences : ndarray of str (object), shape (k,)
        Sequences of the kept rows (each length L), in input order.
    kept : ndarray of bool, shape (n,)
        Which input rows were kept; ``kept.sum() == k``.
    counts : dict
        ``{"synonymous": int, "skipped": int}``; with k they add up to n.

    Raises
    ------
    BadInputError
        One line naming the file, row, column and problem of the first bad entry.
    """
    target = _clean_target(target, file=where.file if where is not None else None)
    offset = int(offset)
    texts = as_text(hgvs).to_numpy(dtype=object)
    rows = _default_rows(len(texts), rows)
    kept = np.zeros(len(texts), dtype=bool)
    seqs = []
    synonymous = skipped = 0
    parsed: dict[str, list | None] = {}  # nucleotide-level score sets repeat hgvs_pro values
    for i, text in enumerate(texts):
        try:
            if text in parsed:
                mutations = parsed[text]
            else:
                mutations = parsed[text] = parse_hgvs_pro(text)
            if mutations is None:
                skipped += 1
                continue
            if not mutations:
                synonymous += 1
                continue
            seqs.append(_apply(target, mutations, offset))
        except ValueError as err:
            raise _error(
                where, f"variant {_short(text, 40)!r} in column {column!r}: {err}", rows[i]
            ) from None
        kept[i] = True
    out = np.empty(len(seqs), dtype=object)
    out[:] = seqs
    return out, kept, {"synonymous": synonymous, "skipped": skipped}


def is_hgvs(column: str, values) -> bool:
    """Whether ``values`` are MaveDB ``hgvs_pro`` strings (the column is named ``hgvs_pro``,
    or its first filled cell starts with ``p.``) rather than ProteinGym ``A1P:D2N`` ones."""
    if column == MAVEDB_HGVS:
        return True
    text = as_text(values)
    filled = text[~text.str.lower().isin(MISSING_TOKENS)]
    return bool(len(filled)) and str(filled.iat[0]).startswith("p.")


def build_variants(
    values, target: str, *, offset: int = 0, rows=None, where: Where | None = None,
    column: str = "mutant",
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Sequences from a column of mutation strings of either kind (:func:`is_hgvs`).

    ProteinGym strings go through :func:`build_sequences` (every row kept), ``hgvs_pro``
    strings through :func:`build_from_hgvs`.

    Returns
    -------
    sequences : ndarray of str (object), shape (k,)
        The kept rows' sequences.
    kept : ndarray of bool, shape (n,)
    counts : dict
        ``{"synonymous": ..., "skipped": ...}`` (both 0 for ProteinGym strings).
    """
    if is_hgvs(column, values):
        return build_from_hgvs(values, target, offset=offset, rows=rows, where=where,
                               column=column)  # fmt: skip
    seqs = build_sequences(values, target, offset=offset, rows=rows, where=where, column=column)
    return seqs, np.ones(len(seqs), dtype=bool), {"synonymous": 0, "skipped": 0}
