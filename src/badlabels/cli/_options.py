"""Options shared by commands that read data, and small parsing helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from badlabels.errors import BadInputError

DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="CSV/TSV (gzip too), Parquet or FASTA file of sequences and labels.", rich_help_panel="Data"),
]
DatasetOpt = Annotated[
    str | None,
    typer.Option("--dataset", help="Built-in dataset: peptide12 (synthetic 12-mers) or gb1 (needs --data).", rich_help_panel="Data"),
]
SeqColOpt = Annotated[str, typer.Option("--seq-col", help="Column holding the sequences.", rich_help_panel="Data")]
LabelColOpt = Annotated[str, typer.Option("--label-col", help="Column holding the labels or scores.", rich_help_panel="Data")]
PositiveOpt = Annotated[
    str | None,
    typer.Option("--positive", help="Label value that means positive, for two-string labels.", rich_help_panel="Data"),
]
ThresholdOpt = Annotated[
    float | None,
    typer.Option("--threshold", help="Binarise a continuous score: label = score > X.", rich_help_panel="Data"),
]
QuantileOpt = Annotated[
    float | None,
    typer.Option("--quantile", help="Binarise a continuous score at its Q-quantile: label = score > quantile.", rich_help_panel="Data"),
]
AllowStopOpt = Annotated[bool, typer.Option("--allow-stop", help="Allow '*' (stop) in sequences.", rich_help_panel="Data")]
OnConflictOpt = Annotated[
    str,
    typer.Option("--on-conflict", help="Duplicate sequences with conflicting labels: drop, majority or error.", rich_help_panel="Data"),
]
NSeqOpt = Annotated[
    int | None,
    typer.Option("--n-sequences", help="Size of a built-in synthetic dataset (peptide12 default 250,000).", rich_help_panel="Data"),
]
WildTypeOpt = Annotated[
    str | None,
    typer.Option("--wild-type", help="Count data: the wild-type sequence the score is enrichment relative to (read_depth noise normalises by it; default: found from the score).", rich_help_panel="Data"),
]

TaskOpt = Annotated[
    str,
    typer.Option("--task", help="What the models learn: classification (yes/no labels), regression (the continuous score itself) or auto (regression when the label column holds numbers other than 0/1 and no --threshold/--quantile/--positive is given).", rich_help_panel="Data"),
]
TransformOpt = Annotated[
    str,
    typer.Option("--transform", help="Regression: the scale the score is learnt and reported on: log10 (of max(score, --floor); for fitness and enrichment) or none.", rich_help_panel="Data"),
]
FloorOpt = Annotated[
    float,
    typer.Option("--floor", help="Regression with --transform log10: scores below this (zero fitness) are set to it first.", rich_help_panel="Data"),
]

FormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="File format (csv, tsv, txt, parquet, fasta; default: from the extension) or a public layout: proteingym (mutated_sequence, DMS_score, DMS_score_bin), flip (sequence, target, set, validation) or mavedb (hgvs_pro, score; needs --target-seq). Layouts are recognised from their columns anyway when --seq-col/--label-col are left at their defaults.", rich_help_panel="Data"),
]
ReferenceOpt = Annotated[
    Path | None,
    typer.Option("--reference", help="ProteinGym reference file (DMS_substitutions.csv): labels are recomputed from DMS_score with the assay's cutoff (DMS_score >= cutoff) and disagreeing shipped bins are counted; its target_seq serves --mutant-col.", rich_help_panel="Data"),
]
DmsIdOpt = Annotated[
    str | None,
    typer.Option("--dms-id", help="The assay's DMS_id in --reference (default: the data file's name without extension).", rich_help_panel="Data"),
]
MutantColOpt = Annotated[
    str | None,
    typer.Option("--mutant-col", help="Build sequences from mutation strings in this column instead of a sequence column: ProteinGym A1P:D2N (1-based) or MaveDB hgvs_pro (p.Leu5Glu); needs --target-seq.", rich_help_panel="Data"),
]
TargetSeqOpt = Annotated[
    str | None,
    typer.Option("--target-seq", help="Target (wild-type) protein sequence the mutation strings apply to: the sequence itself or a FASTA file.", rich_help_panel="Data"),
]
OffsetOpt = Annotated[
    int | None,
    typer.Option("--offset", help="Numbering shift of the mutation strings: position P is residue P - N of the target (default 0: the first residue is position 1).", rich_help_panel="Data"),
]
SplitColOpt = Annotated[
    str | None,
    typer.Option("--split-col", help="Column with a given split: train, test or val (valid, validation), case-insensitive. The test rows are then exactly those rows (FLIP files: 'set', used by default).", rich_help_panel="Data"),
]
ValidColOpt = Annotated[
    str | None,
    typer.Option("--valid-col", help="Column flagging validation rows (True/False, 1/0, as FLIP's 'validation'): a true value on a train row makes it a validation row.", rich_help_panel="Data"),
]
FoldsColOpt = Annotated[
    str | None,
    typer.Option("--folds-col", help="Column with given cross-validation folds (integers, e.g. ProteinGym's fold_random_5), used instead of random folds.", rich_help_panel="Data"),
]
PositionsOpt = Annotated[
    str,
    typer.Option("--positions", help="Which residues models read: auto (only the varying positions of equal-length sequences of 30+ residues when at most half vary, as in a mutational scan), variable (always only the varying positions) or all (whole sequences).", rich_help_panel="Data"),
]
FeaturesOpt = Annotated[
    Path | None,
    typer.Option("--features", help="Precomputed features: a .npy array with one row per data row of --data, in file order, or a CSV/TSV/Parquet table keyed by a 'sequence' column with one numeric column per feature.", rich_help_panel="Data"),
]

FILE_FORMATS = ("csv", "tsv", "txt", "parquet", "fasta")
LAYOUT_NAMES = ("proteingym", "flip", "mavedb")
_FORMAT_ALIASES = ("tab", "pq", "fa", "faa", "fas")


def format_option(value: str | None) -> tuple[str | None, str | None]:
    """``--format`` as ``(fmt, layout)``: a file format or a layout name."""
    if value is None:
        return None, None
    v = str(value).strip().lower().lstrip(".")
    if v in LAYOUT_NAMES:
        return None, v
    if v in FILE_FORMATS or v in _FORMAT_ALIASES:
        return v, None
    raise BadInputError(
        f"--format must be a file format ({', '.join(FILE_FORMATS)}) or a layout "
        f"({', '.join(LAYOUT_NAMES)}), got {value!r}"
    )



def load_data_from_options(
    data: Path | None,
    dataset: str | None,
    seq_col: str,
    label_col: str,
    positive: str | None,
    threshold: float | None,
    quantile: float | None,
    allow_stop: bool,
    on_conflict: str,
    n_sequences: int | None,
    seed: int = 0,
    wild_type: str | None = None,
    *,
    fmt: str | None = None,
    reference: Path | None = None,
    dms_id: str | None = None,
    mutant_col: str | None = None,
    target_seq: str | None = None,
    offset: int | None = None,
    split_col: str | None = None,
    valid_col: str | None = None,
    folds_col: str | None = None,
    positions: str | None = "auto",
    features: Path | None = None,
    task: str = "classification",
    transform: str = "log10",
    floor: float = 1e-4,
):
    """Load a Dataset from the shared data options (one library call).

    ``fmt`` is the ``--format`` value (a file format or a layout); the other keyword
    arguments are those of :func:`badlabels.data.load_data`, None/"auto" when not given.
    """
    from badlabels.data import load_data

    file_fmt, layout = format_option(fmt)
    mode = "auto" if positions is None else str(positions).strip().lower()
    if mode not in ("auto", "all", "variable"):
        raise BadInputError(f"--positions must be auto, all or variable (got {positions!r})")
    if data is None and dataset is None:
        raise BadInputError("give --data PATH (your file) or --dataset NAME (e.g. peptide12)")
    if on_conflict not in ("drop", "majority", "error"):
        raise BadInputError(f"--on-conflict must be drop, majority or error (got {on_conflict!r})")
    kwargs = dict(
        seq_col=seq_col,
        label_col=label_col,
        positive=positive,
        threshold=threshold,
        quantile=quantile,
        allow_stop=allow_stop,
        on_conflict=on_conflict,
        seed=seed,
    )
    if n_sequences is not None:
        kwargs["n_sequences"] = n_sequences
    if wild_type is not None:
        kwargs["wild_type"] = wild_type
    given = dict(
        fmt=file_fmt, layout=layout, reference=reference, dms_id=dms_id, mutant_col=mutant_col,
        target_seq=target_seq, offset=offset, split_col=split_col, valid_col=valid_col,
        folds_col=folds_col, features=features,
    )  # fmt: skip
    kwargs.update({k: v for k, v in given.items() if v is not None})
    if mode != "auto":
        kwargs["positions"] = mode
    ds = load_data(data, dataset=dataset, task=task, transform=transform, floor=floor, **kwargs)
    if str(task).strip().lower() == "auto" and ds.is_regression:
        from badlabels.cli._console import console

        console.print(f"  [dim]Task: regression ({ds.extra.get('task_reason', '')}).[/]",
                      highlight=False)  # fmt: skip
    return ds


def parse_list(text: str, kind: type, option: str) -> list:
    """Parse a comma-separated option value ("0,0.05,0.1") into a list of ``kind``."""
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise BadInputError(f"{option} needs at least one value")
    out = []
    for t in items:
        try:
            out.append(kind(t))
        except ValueError:
            raise BadInputError(f"{option}: {t!r} is not a valid {kind.__name__}") from None
    return out


def parse_rates(text: str, option: str = "--noise-rates") -> list[float]:
    """Rates as a list, or a range written START:STOP:STEP (both ends included)."""
    if ":" in text and "," not in text:
        parts = parse_list(text.replace(":", ","), float, option)
        if len(parts) != 3 or parts[2] <= 0:
            raise BadInputError(f"{option}: write a range as START:STOP:STEP (got {text!r})")
        start, stop, step = parts
        n = int(round((stop - start) / step)) + 1
        return [round(start + i * step, 10) for i in range(n)]
    return parse_list(text, float, option)


def print_data_facts(ds) -> None:
    """Print how a file was read (layout, positions, given split, features), one dim line each."""
    from rich.markup import escape

    from badlabels.cli._console import console
    from badlabels.report.summary import data_facts

    lines = data_facts(ds.extra or {})
    if ds.split is not None and ds.extra.get("split_source"):
        lines.append(f"Split: given by {ds.extra['split_source']}.")
    for line in lines:
        console.print(f"  [dim]{escape(line)}[/]", highlight=False)
