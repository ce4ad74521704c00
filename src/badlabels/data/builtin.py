"""Built-in datasets, one registry, and :func:`load_data`: the one front door to data.

A built-in dataset is an entry of :data:`BUILTIN_DATASETS` (``register_dataset``): a name, a
one-line summary, whether it reads a file, and a loader that gets the file (or None) and the
user's :class:`LoadOptions`. :func:`load_data` looks a ``dataset=`` name up there, and reads
any other input with the file readers below it (:func:`badlabels.data.io.load_file`).

Assumptions: a loader rejects, as a one-line :class:`BadInputError`, an option that cannot
apply to its dataset (``--wild-type`` on data without counts, a file where none is read), and
silently ignores options that have no meaning for it (``--positive`` on generated data).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path

from badlabels.data.dataset import Dataset
from badlabels.data.io import load_file
from badlabels.data.layouts import LAYOUTS
from badlabels.data.regression import DEFAULT_FLOOR
from badlabels.data.validate import check_options
from badlabels.errors import BadInputError, ContinuousLabelsError


@dataclass(frozen=True)
class LoadOptions:
    """What a user asked of the data (the keyword arguments of :func:`load_data`)."""

    seq_col: str = "sequence"
    label_col: str = "label"
    positive: object = None
    threshold: float | None = None
    quantile: float | None = None
    allow_stop: bool = False
    on_conflict: str = "error"
    n_sequences: int | None = None
    seed: int = 0
    fmt: str | None = None
    wild_type: str | None = None
    layout: str | None = None
    reference: object = None
    dms_id: str | None = None
    mutant_col: str | None = None
    target_seq: str | None = None
    offset: int | None = None
    split_col: str | None = None
    valid_col: str | None = None
    folds_col: str | None = None
    positions: str | None = "auto"
    features: object = None

    def file_options(self) -> list[str]:
        """The options given that only a user's own file can take (as CLI option names)."""
        given = []
        for key in FILE_ONLY_OPTIONS:
            value = getattr(self, key)
            if value is not None and not (key == "positions" and str(value).lower() == "auto"):
                given.append("--format" if key == "layout" else "--" + key.replace("_", "-"))
        if self.fmt is not None and str(self.fmt).strip().lower() in LAYOUTS:
            given.append("--format " + str(self.fmt))
        return given


FILE_ONLY_OPTIONS = (
    "layout", "reference", "dms_id", "mutant_col", "target_seq", "offset", "split_col",
    "valid_col", "folds_col", "positions", "features",
)  # fmt: skip
"""Options of :func:`load_data` for a user's own file; a built-in dataset rejects them."""


Loader = Callable[[Path | None, LoadOptions], Dataset]


@dataclass(frozen=True)
class BuiltinDataset:
    """One registered dataset.

    Attributes
    ----------
    name : str
    summary : str
        One line, for ``--help`` and error messages.
    reads_file : bool
        True: the loader needs a file path (the dataset's own file, e.g. GB1's); False: the
        data are generated and a path is an error.
    load : callable
        ``load(path, options) -> Dataset``.
    """

    name: str
    summary: str
    reads_file: bool
    load: Loader


BUILTIN_DATASETS: dict[str, BuiltinDataset] = {}
"""The registry: name -> :class:`BuiltinDataset` (iterating gives the names)."""


def register_dataset(name: str, summary: str, *, reads_file: bool) -> Callable[[Loader], Loader]:
    """Decorator: register ``load(path, options) -> Dataset`` as the built-in ``name``."""

    def deco(load: Loader) -> Loader:
        BUILTIN_DATASETS[name] = BuiltinDataset(name, summary, reads_file, load)
        return load

    return deco


@register_dataset(
    "peptide12",
    "synthetic 12-mer peptide landscape (a stand-in for the seed experiment's data)",
    reads_file=False,
)
def _peptide12(path: Path | None, options: LoadOptions) -> Dataset:
    from badlabels.data.peptide12 import make_peptide12

    if options.wild_type is not None:
        raise BadInputError(
            "--wild-type is for count data; the built-in dataset 'peptide12' has no read counts"
        )
    if path is not None:
        raise BadInputError(
            "give either a file or the built-in dataset 'peptide12', not both", file=str(path)
        )
    if options.n_sequences is None:
        return make_peptide12(seed=options.seed)
    return make_peptide12(options.n_sequences, options.seed)


@register_dataset(
    "gb1",
    "GB1 four-site landscape with read counts (Wu et al. 2016; give its file)",
    reads_file=True,
)
def _gb1(path: Path | None, options: LoadOptions) -> Dataset:
    from badlabels.data.gb1 import load_gb1

    if path is None:
        raise BadInputError("the built-in dataset 'gb1' needs the path of gb1_wu2016.csv.gz")
    check_options(threshold=options.threshold, quantile=options.quantile, file=str(path))
    kw = {}
    if options.seq_col != "sequence":
        kw["seq_col"] = options.seq_col
    if options.label_col != "label":
        kw["label_col"] = options.label_col
    if options.threshold is None and options.quantile is not None:
        kw["quantile"] = options.quantile
    if options.wild_type is not None:
        kw["wild_type"] = options.wild_type
    return load_gb1(path, threshold=options.threshold, fmt=options.fmt, **kw)


def load_data(
    path=None,
    *,
    dataset: str | None = None,
    seq_col: str = "sequence",
    label_col: str = "label",
    positive=None,
    threshold=None,
    quantile=None,
    allow_stop: bool = False,
    on_conflict: str = "error",
    n_sequences: int | None = None,
    seed: int = 0,
    fmt: str | None = None,
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
    task: str = "classification",
    transform: str = "log10",
    floor: float = DEFAULT_FLOOR,
) -> Dataset:
    """Load a labelled sequence file, or a built-in dataset, as a validated ``Dataset``.

    Parameters
    ----------
    path : str or Path, optional
        The file (CSV/TSV/TXT, Parquet or FASTA, optionally gzipped). Required unless
        ``dataset="peptide12"``.
    dataset : str, optional
        A built-in dataset (a name in :data:`BUILTIN_DATASETS`) instead of a plain file:
        ``"peptide12"`` is generated (``n_sequences``, ``seed``); ``"gb1"`` reads the GB1
        file at ``path`` with :func:`~badlabels.data.gb1.load_gb1`.
    seq_col, label_col : str
        Columns holding the sequences and the labels (FASTA: ``sequence`` and a header key).
    positive : str, optional
        For labels given as two strings, the one that means 1. ProteinGym files: ``"1"``
        or ``"0"``, the ``DMS_score_bin`` value that means 1 (``"0"`` for clinical files,
        whose bin 1 means pathogenic, to make benign the positive class).
    threshold : float, optional
        Binarise a numeric score column: label = score > threshold.
    quantile : float, optional
        Binarise at the ``quantile`` (in (0, 1)) of the scores; ``extra["quantile"]`` records it.
    allow_stop : bool, default False
        Accept ``*`` in sequences.
    on_conflict : {"error", "drop", "majority"}, default "error"
        What to do with a sequence that occurs with different labels (identical duplicates
        are always merged: first row kept, scores averaged). ProteinGym files with a
        ``DMS_score`` average duplicates instead, as ProteinGym does (mean score, bin of
        the mean), and never conflict.
    n_sequences : int, optional
        Number of sequences for ``dataset="peptide12"`` (default 250,000).
    seed : int, default 0
        Seed for ``dataset="peptide12"``.
    fmt : str, optional
        Force the file format (see :func:`~badlabels.data.io.read_table`); a layout name
        (``"proteingym"``, ``"flip"``, ``"mavedb"``) is taken as ``layout``.
    wild_type : str, optional
        For count data: the wild-type sequence (one of the file's sequences) that the score
        is enrichment relative to; read-depth noise normalises by it
        (:func:`badlabels.noise.resolve_count_normalisation`). Kept as ``extra["wild_type"]``,
        ``extra["wt_index"]`` and ``extra["wt_counts"]``. Default: found from the score.
    layout : {"proteingym", "flip", "mavedb"}, optional
        The file's layout (:mod:`badlabels.data.layouts`). Default: recognised from the
        columns when ``seq_col``/``label_col`` are left at their defaults; else a plain file.
        ``extra["layout"]`` records it.
    reference : str or Path, optional
        ProteinGym's reference file (``DMS_substitutions.csv``): the labels are recomputed
        from ``DMS_score`` with the assay's cutoff (``DMS_score >= cutoff``, ProteinGym's
        rule), ``extra["bin_disagreements"]`` counts the rows whose shipped bin differs, and
        its ``target_seq`` serves ``mutant_col``.
    dms_id : str, optional
        The assay in ``reference`` (default: the data file's name without extension). An
        unknown id is an error listing near ones.
    mutant_col : str, optional
        Build the sequences from mutation strings in this column instead of reading a
        sequence column: ProteinGym ``A1P:D2N`` strings, or MaveDB ``hgvs_pro`` (a column of
        that name, or strings starting ``p.``; synonymous and non-substitution rows are left
        out, counted in ``extra["n_synonymous"]`` and ``extra["n_skipped_variants"]``).
    target_seq : str, optional
        The target (wild-type) sequence the mutations apply to: the sequence itself or a
        FASTA file. Needed for ``mutant_col`` and MaveDB files (unless ``reference`` gives it).
    offset : int, optional
        Numbering shift of the mutation strings: position ``p`` is target residue
        ``p - offset`` (1-based). Default 0.
    split_col : str, optional
        A given split: values train / test / val (valid, validation), case-insensitive; fills
        ``Dataset.split`` and ``extra["split_source"]``. FLIP files use ``set``.
    valid_col : str, optional
        A validation flag (True/False, 1/0): a true value on a train row makes it a
        validation row (FLIP's ``validation``).
    folds_col : str, optional
        Given cross-validation folds (integers, e.g. ProteinGym's ``fold_random_5``), renumbered
        0..k-1 into ``Dataset.folds``.
    positions : {"auto", "all", "variable"}, default "auto"
        ``"variable"``: keep only the positions where sequences differ (they must have one
        length); ``"auto"``: do so when all sequences have one length and at most half the
        positions vary (a mutational scan); ``"all"``: keep whole sequences. A projection is
        recorded as ``extra["positions"]`` (0-based), ``extra["full_length"]`` and
        ``extra["template"]`` (the most common residue at each position).
    features : str or Path, optional
        Precomputed features (:func:`badlabels.data.features.read_features`): a ``.npy``
        array with one row per data row of the file, or a table keyed by sequence. Fills
        ``Dataset.features`` (float32, shape (n, d)).

    task : {"classification", "regression", "auto"}, default "classification"
        ``"regression"``: the models learn the continuous score of ``label_col`` (GB1:
        fitness) through ``transform`` (:func:`badlabels.data.regression.as_regression`);
        no cutoff may be given. ``"auto"``: regression when the label column holds numbers
        other than 0/1 and no ``threshold`` / ``quantile`` / ``positive`` is given, else
        classification; ``extra["task_reason"]`` says why.
    transform : {"log10", "none"}, default "log10"
        Regression only: the scale the score is learnt and reported on.
    floor : float, default 1e-4
        Regression with ``log10`` only: scores below it (zero fitness) are set to it first.

    Returns
    -------
    Dataset
        Unique upper-cased sequences with int8 labels. Binarised scores keep ``scores`` and
        ``threshold``; files with ``count_input`` and ``count_selected`` keep ``counts``.
        ``extra`` holds JSON-friendly facts: format, columns, label kind, ``quantile``,
        ``positive``, row and duplicate counts; for the new inputs also ``layout``,
        ``binarization``, ``bin_disagreements``, ``split_source``, ``n_folds``,
        ``positions``/``full_length``/``template``, ``features``/``n_features``. A given split
        fills ``split``, given folds ``folds``, features ``features``.

    Raises
    ------
    BadInputError
        For every problem with the options or the file, as one line naming the file, the
        row (or FASTA record) and the problem.
    """

    from badlabels.data.regression import TASKS, as_regression, check_score_transform

    chosen = str(task).strip().lower()
    if chosen not in TASKS:
        raise BadInputError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    cut_given = threshold is not None or quantile is not None or positive is not None
    if chosen == "regression" and cut_given:
        raise BadInputError(
            "--task regression learns the score itself: drop --threshold / --quantile / "
            "--positive (or use --task classification)"
        )
    if chosen != "classification":
        check_score_transform(transform, floor)
    if chosen == "auto" and cut_given:
        chosen = "classification"
    if chosen == "regression":
        quantile = 0.5  # keeps the scores; labels are re-made from the targets
    options = LoadOptions(
        seq_col=seq_col, label_col=label_col, positive=positive, threshold=threshold,
        quantile=quantile, allow_stop=allow_stop, on_conflict=on_conflict,
        n_sequences=n_sequences, seed=seed, fmt=fmt, wild_type=wild_type, layout=layout,
        reference=reference, dms_id=dms_id, mutant_col=mutant_col, target_seq=target_seq,
        offset=offset, split_col=split_col, valid_col=valid_col, folds_col=folds_col,
        positions=positions, features=features,
    )  # fmt: skip

    def load(q):
        return _load_labels(path, dataset, replace(options, quantile=q))

    try:
        ds = load(quantile)
    except ContinuousLabelsError:
        if chosen != "auto":
            raise
        chosen = "regression"
        ds = load(0.5)
        ds.extra["task_reason"] = (
            f"the label column {label_col!r} holds continuous scores and no cutoff was given"
        )
    if chosen == "regression":
        ds = as_regression(ds, transform, floor)
        ds.extra.setdefault("task_reason", "--task regression")
    return ds


def _load_labels(path, dataset: str | None, options: LoadOptions) -> Dataset:
    """Load as :func:`load_data` does for classification (labels; scores kept)."""
    names = ", ".join(BUILTIN_DATASETS)
    if dataset is not None:
        entry = BUILTIN_DATASETS.get(str(dataset).lower())
        if entry is None:
            raise BadInputError(f"unknown dataset {dataset!r}; built-in datasets: {names}")
        given = options.file_options()
        if given:
            raise BadInputError(
                f"{given[0]} is for your own data file; the built-in dataset {entry.name!r} "
                "cannot take it"
            )
        return entry.load(None if path is None else Path(path), options)
    if path is None:
        raise BadInputError(f"no input: give a data file, or a built-in dataset ({names})")
    file_kw = {f.name: getattr(options, f.name) for f in fields(options)
               if f.name not in ("n_sequences", "seed")}  # generated data only  # fmt: skip
    return load_file(path, **file_kw)


__all__ = [
    "BUILTIN_DATASETS",
    "FILE_ONLY_OPTIONS",
    "BuiltinDataset",
    "LoadOptions",
    "load_data",
    "register_dataset",
]
