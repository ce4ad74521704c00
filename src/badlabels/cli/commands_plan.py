"""``badlabels plan``: what a noisy dataset is worth, and what the next measurements should buy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from badlabels.cli import app
from badlabels.cli._console import console, err_console
from badlabels.cli._options import (
    AllowStopOpt,
    DataOpt,
    DatasetOpt,
    DmsIdOpt,
    FeaturesOpt,
    FormatOpt,
    LabelColOpt,
    MutantColOpt,
    NSeqOpt,
    OffsetOpt,
    OnConflictOpt,
    PositionsOpt,
    PositiveOpt,
    QuantileOpt,
    ReferenceOpt,
    SeqColOpt,
    TargetSeqOpt,
    ThresholdOpt,
    load_data_from_options,
    print_data_facts,
)
from badlabels.cli.commands_audit import _set_threads
from badlabels.errors import BadInputError


class PlanProgress:
    """The plan's models (weighted by their training rows, with ETA), epochs, then the bootstrap."""

    def __init__(self, enabled: bool = True):
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=err_console,
            disable=not enabled,
        )
        self.models = self.epochs = self.boot = None
        self.n_jobs = self.done_jobs = 0

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def __call__(self, event: str, **info) -> None:
        p = self.progress
        if event == "plan_start":
            self.n_jobs = info["jobs"]
            self.done_jobs = info["jobs"] - info["todo"]
            note = f"{self.done_jobs} already done" if self.done_jobs else ""
            self.models = p.add_task("models", total=info["work_total"],
                                     completed=info["work_done"], info=note)  # fmt: skip
            self.epochs = p.add_task("epochs", total=1, info="", visible=False)
        elif event == "plan_unit" and self.models is not None:
            what = (f"{info['jobs']} models at once on {info['n_train']:,} labels each "
                    f"(fraction {info['fraction']:g})")  # fmt: skip
            p.update(self.models, info=what)
            p.reset(self.epochs, total=1, info="", visible=True)
        elif event == "epoch" and self.epochs is not None:
            p.update(self.epochs, completed=info.get("epoch", 0), total=info.get("max_epochs"))
        elif event == "plan_job_done" and self.models is not None:
            self.done_jobs += 1
            p.advance(self.models, info["work"])
        elif event == "plan_boot":
            if self.epochs is not None:
                p.update(self.epochs, visible=False)
            self.boot = p.add_task("bootstrap", total=info["total"], info="")
        elif event == "plan_boot_step" and self.boot is not None:
            p.update(self.boot, completed=info["done"])


def _numbers(values: list[str] | None, option: str, default) -> tuple:
    if not values:
        return tuple(default)
    out = []
    for v in values:
        for part in str(v).split(","):
            part = part.strip()
            if not part:
                continue
            scale = 1.0
            if part.endswith("%"):
                part, scale = part[:-1], 0.01
            try:
                out.append(float(part) * scale)
            except ValueError:
                raise BadInputError(f"{option} takes numbers separated by commas, got {v!r}") from None
    return tuple(out)


@app.command()
def plan(
    data: DataOpt = None,
    dataset: DatasetOpt = None,
    seq_col: SeqColOpt = "sequence",
    label_col: LabelColOpt = "label",
    positive: PositiveOpt = None,
    threshold: ThresholdOpt = None,
    quantile: QuantileOpt = None,
    allow_stop: AllowStopOpt = False,
    on_conflict: OnConflictOpt = "error",
    n_sequences: NSeqOpt = None,
    data_format: FormatOpt = None,
    reference: ReferenceOpt = None,
    dms_id: DmsIdOpt = None,
    mutant_col: MutantColOpt = None,
    target_seq: TargetSeqOpt = None,
    offset: OffsetOpt = None,
    positions: PositionsOpt = "auto",
    features: FeaturesOpt = None,
    noise_rate: Annotated[float | None, typer.Option("--noise-rate", help="The labels' flip rate if you know it (symmetric); default: estimated from the data, as `badlabels audit` does.", rich_help_panel="Plan")] = None,
    remeasure: Annotated[list[str] | None, typer.Option("--remeasure", help="Re-measurement budgets to predict: counts or fractions of the rows, comma-separated (default 5%,10%,20%).", rich_help_panel="Plan")] = None,
    collect: Annotated[list[str] | None, typer.Option("--collect", help="More variants to measure at the same noise, as multiples of the current size (default 1,2: twice and three times the data).", rich_help_panel="Plan")] = None,
    fractions: Annotated[list[str] | None, typer.Option("--fractions", help="Nested subsamples of each fold's training rows for the learning curve (default 0.125,0.25,0.5; 1 is always added).", rich_help_panel="Plan")] = None,
    extra_noise: Annotated[list[str] | None, typer.Option("--extra-noise", help="Extra symmetric flip rates added to the training labels for the noise response (default 0.1,0.2,0.3).", rich_help_panel="Plan")] = None,
    noise_fraction: Annotated[float, typer.Option("--noise-fraction", help="Fraction of each fold's training rows the noise response trains on.", rich_help_panel="Plan")] = 0.5,
    shape: Annotated[float | None, typer.Option("--shape", help="Hold the curve's steepness c at this value (default: fitted); the intervals draw it from 0.5-3 either way (docs/plan.md).", rich_help_panel="Plan")] = None,
    model: Annotated[str, typer.Option("--model", help="The model to plan for (lstm, cnn, logreg, ...).", rich_help_panel="Training")] = "lstm",
    method: Annotated[str, typer.Option("--method", help="Its training method (default bce: one network; robust, an ensemble of 5, costs about 5x).", rich_help_panel="Training")] = "bce",
    folds: Annotated[int, typer.Option("--folds", help="Cross-validation folds of the design.", rich_help_panel="Training")] = 5,
    repeats: Annotated[int, typer.Option("--repeats", help="Repeats of the learning-curve points (new folds each): they steady the curve, rank the suspects and measure model-to-model spread.", rich_help_panel="Training")] = 3,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Maximum epochs per model (default: the model's own).", rich_help_panel="Training")] = None,
    patience: Annotated[int | None, typer.Option("--patience", help="Early-stopping patience (default: the model's own).", rich_help_panel="Training")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds, subsamples, extra flips, models and bootstrap.", rich_help_panel="Training")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.", rich_help_panel="Training")] = "auto",
    threads: Annotated[int | None, typer.Option("--threads", help="Torch CPU threads.", rich_help_panel="Training")] = None,
    engine: Annotated[str, typer.Option("--engine", help="auto, plain or stacked: the LSTMs of one size train together as one batched computation unless plain.", rich_help_panel="Training")] = "auto",
    n_boot: Annotated[int, typer.Option("--boot", help="Bootstrap resamples for the intervals.", rich_help_panel="Training")] = 200,
    out: Annotated[Path, typer.Option("--out", help="Output folder (finished models are kept in OUT/jobs: run the same command again to resume).")] = Path("runs/plan"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """What are my noisy labels worth? Clean them, re-measure the suspects, or collect more?

    From the noisy data alone: a learning curve (models on nested subsamples, scored
    out-of-fold against the noisy labels and corrected for the estimated noise), a noise
    response (extra flips added), one curve of AUROC against effective size fitted through
    both, and the scenarios read off it with bootstrap intervals: the same labels clean, the
    most suspect re-measured, more variants at the same noise, and how many clean labels the
    set is worth. Writes OUT/plan.md, OUT/plan.html, OUT/plan.json and OUT/remeasure.csv
    (the most suspect labels, in the order to re-measure them). docs/plan.md explains it.
    """
    from badlabels.audit import input_rows
    from badlabels.planner import DEFAULTS, write_plan
    from badlabels.planner import plan as run_plan

    _set_threads(threads)
    ds = load_data_from_options(
        data, dataset, seq_col, label_col, positive, threshold, quantile, allow_stop,
        on_conflict, n_sequences, fmt=data_format, reference=reference, dms_id=dms_id,
        mutant_col=mutant_col, target_seq=target_seq, offset=offset, positions=positions,
        features=features,
    )  # fmt: skip
    mapping = input_rows(ds, data, seq_col=seq_col)
    model_params = {"device": device}
    if epochs is not None:
        model_params["max_epochs"] = epochs
    if patience is not None:
        model_params["patience"] = patience
    console.print(
        f"[bold]{ds.name}[/]: {len(ds):,} sequences, {ds.positive_fraction:.1%} positive; "
        f"planning for {model}/{method} -> {out}"
    )
    print_data_facts(ds)
    with PlanProgress(enabled=not quiet) as bar:
        result = run_plan(
            ds, model=model, method=method, model_params=model_params, noise_rate=noise_rate,
            fractions=_numbers(fractions, "--fractions", DEFAULTS["fractions"]),
            extra_noise=_numbers(extra_noise, "--extra-noise", DEFAULTS["extra_noise"]),
            n_folds=folds, repeats=repeats, noise_fraction=noise_fraction, shape=shape,
            shape_range=(min(DEFAULTS["shape_range"][0], shape or 1.0),
                         max(DEFAULTS["shape_range"][1], shape or 1.0)),
            remeasure=_numbers(remeasure, "--remeasure", DEFAULTS["remeasure"]),
            collect=_numbers(collect, "--collect", DEFAULTS["collect"]),
            n_boot=n_boot, seed=seed, engine=engine, out=out, progress=bar,
        )  # fmt: skip
    files = write_plan(result, out, mapping=mapping,
                       config={"name": ds.name, "source": ds.source, "file": str(data) if data else None})  # fmt: skip
    console.print(f"[green]done[/] in {result.seconds:.0f}s", highlight=False)
    console.print(result.recommendation, highlight=False)
    for s in result.scenarios:
        console.print(f"  {s['label']}: AUROC {s['auroc']:.3f} [{s['lo']:.3f}, {s['hi']:.3f}]",
                      highlight=False)  # fmt: skip
    for name, path in files.items():
        console.print(f"  {name}: {path}")
