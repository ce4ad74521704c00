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
):
    """Load a Dataset from the shared data options (one library call)."""
    from badlabels.data import load_data

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
    return load_data(data, dataset=dataset, **kwargs)


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
