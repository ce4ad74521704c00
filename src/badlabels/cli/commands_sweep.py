"""``badlabels sweep``, ``badlabels results`` and ``badlabels report``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from badlabels.cli import app
from badlabels.cli._backend_options import BackendOpt, NoReportOpt, RayAddressOpt, WorkersOpt
from badlabels.cli._console import console
from badlabels.cli._progress import RunProgress
from badlabels.errors import BadInputError


def _command() -> str:
    return " ".join(["badlabels", *map(shlex.quote, sys.argv[1:])])


@app.command()
def sweep(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="Sweep file (YAML): data, grid and run sections; see docs/sweep.md.")],
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: run.out of the file, else runs/sweep).")] = None,
    workers: WorkersOpt = None,
    backend: BackendOpt = None,
    ray_address: RayAddressOpt = None,
    device: Annotated[str | None, typer.Option("--device", help="auto, cpu or cuda.")] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="auto, plain or stacked (see badlabels experiment --help).")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="Torch CPU threads of this process.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-run cells already in the store.")] = False,
    no_report: NoReportOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Run a sweep file's grid; cells already in the store are skipped.

    The grid is the product of the listed values; each cell's id is derived from its full
    configuration and the data fingerprint. One record per finished cell goes to OUT/store
    the moment it finishes, so an interrupted sweep resumes where it stopped; adding values
    runs only the new cells. Writes OUT/results.csv, OUT/summary.md and OUT/report.html.
    """
    from badlabels.cli.commands_experiment import _print_data_line, _print_outcome
    from badlabels.experiment.sweep import load_sweep_config, load_sweep_data, run_sweep

    cfg = load_sweep_config(config)
    ds = load_sweep_data(cfg)
    target = out or Path(cfg.run["out"])
    _print_data_line(ds, target)
    with RunProgress(enabled=not quiet) as bar:
        result = run_sweep(
            cfg, dataset=ds, out=out, workers=workers, backend=backend, ray_address=ray_address,
            device=device, engine=engine, threads=threads, force=force or None,
            report=False if no_report else None, progress=bar, command=_command(),
        )  # fmt: skip
    _print_outcome(result)


@app.command()
def results(
    directory: Annotated[Path, typer.Argument(metavar="DIRECTORY", help="Output folder of an experiment or sweep.")],
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    all_records: Annotated[bool, typer.Option("--all", help="Every record in the store, not only the last grid's cells.")] = False,
) -> None:
    """Print the finished runs of an output folder.

    Reads DIR/store: by default the cells of the last run's grid, with --all every record.
    """
    from badlabels.experiment.store import read_results

    if fmt not in ("table", "csv", "json"):
        raise BadInputError(f"--format must be table, csv or json (got {fmt!r})")
    frame = read_results(directory, all_records=all_records)
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(frame.to_json(orient="records", indent=1) + "\n")
    else:
        _print_table(frame, directory)


TABLE_COLUMNS = {
    "model": "model", "method": "method", "noise_rate": "noise", "seed": "seed",
    "batch_size": "batch", "epochs_run": "epochs", "auroc": "AUROC", "auprc": "AUPRC",
    "noisy_test_auroc": "noisy-test", "corrected_test_auroc": "corrected",
    "spearman": "Spearman", "pearson": "Pearson", "r2": "R²",
    "noisy_test_spearman": "noisy-test",
}  # fmt: skip
"""Columns of ``results --format table`` (csv and json give every column)."""
WIDE_ONLY = ("epochs_run", "auprc")
"""Left out of the table on consoles narrower than 100 characters."""


def _print_table(frame, directory: Path) -> None:
    from rich.table import Table

    if not len(frame):
        console.print(f"{directory}: no finished runs yet.")
        return
    from rich import box

    cols = [c for c in TABLE_COLUMNS if c in frame.columns]
    if console.width < 100:
        cols = [c for c in cols if c not in WIDE_ONLY]
    scores = "spearman" in frame.columns and "auroc" not in frame.columns
    what = "Spearman on clean test scores" if scores else "AUROC on clean test labels"
    table = Table(
        title=f"{directory}: {len(frame)} run(s); {what}",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
    )  # fmt: skip
    for c in cols:
        table.add_column(TABLE_COLUMNS[c], justify="left" if c in ("model", "method") else "right",
                         no_wrap=True)  # fmt: skip
    for rec in frame[cols].itertuples(index=False):
        table.add_row(*[
            "n/a" if isinstance(v, float) and v != v else
            f"{v:g}" if c == "noise_rate" else
            f"{v:.3f}" if isinstance(v, float) else str(v)
            for c, v in zip(cols, rec, strict=True)
        ])  # fmt: skip
    console.print(table)


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(metavar="DIRECTORY", help="Output folder of an experiment or sweep.")],
) -> None:
    """Write DIR/report.html, one self-contained file to send.

    Figures are embedded (no network fetches, no scripts) and also written as PNG and SVG into
    DIR/figures.
    """
    from badlabels.experiment.store import open_store, read_config, read_results
    from badlabels.report.html import write_report

    open_store(directory)  # a folder without a store is a one-line error
    path = write_report(directory, frame=read_results(directory), config=read_config(directory))
    console.print(f"report: {path}")
