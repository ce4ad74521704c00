"""``badlabels experiment`` and ``badlabels demo``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from badlabels.cli import app
from badlabels.cli._backend_options import BackendOpt, NoReportOpt, RayAddressOpt, WorkersOpt
from badlabels.cli._console import console
from badlabels.cli._options import (
    AllowStopOpt,
    DataOpt,
    DatasetOpt,
    DmsIdOpt,
    FeaturesOpt,
    FloorOpt,
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
    SplitColOpt,
    TargetSeqOpt,
    TaskOpt,
    ThresholdOpt,
    TransformOpt,
    ValidColOpt,
    WildTypeOpt,
    load_data_from_options,
    parse_list,
    parse_rates,
    print_data_facts,
)
from badlabels.cli._progress import RunProgress

DEMO_RATES = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55]
DEMO_N, DEMO_EPOCHS = 8_000, 30


def _set_threads(threads: int | None) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)


def _print_data_line(ds, out) -> None:
    """What was read and where the results go: one line, then how the file was read."""
    from badlabels.data.regression import target_units

    if ds.is_regression:
        console.print(f"[bold]{ds.name}[/]: {len(ds):,} sequences, continuous scores "
                      f"(regression on {target_units(ds)}) -> {out}")  # fmt: skip
    else:
        console.print(
            f"[bold]{ds.name}[/]: {len(ds):,} sequences, {ds.positive_fraction:.1%} positive -> {out}"
        )
    print_data_facts(ds)


def _print_outcome(result) -> None:
    from badlabels.report.summary import curve_markdown

    console.print(
        f"[green]done[/]: {result.n_trained} run(s) trained, {result.n_skipped} already in the store."
    )
    regression = "spearman" in result.results and "auroc" not in result.results
    metric = "spearman" if regression else "auroc"
    if regression:
        console.print("Spearman correlation with the clean test scores:")
    console.print(curve_markdown(result.results, metric), markup=False, highlight=False)
    for name, path in result.files.items():
        console.print(f"  {name}: {path}")


@app.command()
def experiment(
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
    wild_type: WildTypeOpt = None,
    data_format: FormatOpt = None,
    reference: ReferenceOpt = None,
    dms_id: DmsIdOpt = None,
    mutant_col: MutantColOpt = None,
    target_seq: TargetSeqOpt = None,
    offset: OffsetOpt = None,
    split_col: SplitColOpt = None,
    valid_col: ValidColOpt = None,
    positions: PositionsOpt = "auto",
    features: FeaturesOpt = None,
    task: TaskOpt = "auto",
    transform: TransformOpt = "log10",
    floor: FloorOpt = 1e-4,
    noise_type: Annotated[str | None, typer.Option("--noise-type", help="Labels: symmetric (default), class_conditional, measurement or read_depth. Continuous scores (--task regression): outliers (default: a fraction of scores replaced by random draws from all scores), gaussian (noise added, in score sds) or read_depth.", rich_help_panel="Noise", show_default=False)] = None,
    noise_rates: Annotated[str | None, typer.Option("--noise-rates", help="Comma-separated levels, or START:STOP:STEP. Flip rate for labels (default 0,0.1,0.2,0.3,0.4,0.45,0.5); for measurement and gaussian: noise sd in score sds (gaussian default 0,0.25,0.5,1); outliers: fraction replaced (default 0,0.1,0.2,0.3,0.45); read_depth: fraction of reads kept (default 1,0.1,0.01,0.001).", rich_help_panel="Noise", show_default=False)] = None,
    cc_ratio: Annotated[float, typer.Option("--cc-ratio", help="class_conditional: negative-to-positive rate = ratio x the level.", rich_help_panel="Noise")] = 0.5,
    models: Annotated[str | None, typer.Option("--models", help="Comma-separated models: lstm, bilstm, cnn, mlp, transformer and logreg (labels; default lstm,logreg) or ridge (scores; default lstm,ridge).", rich_help_panel="Training", show_default=False)] = None,
    methods: Annotated[str | None, typer.Option("--methods", help="Comma-separated training methods. Labels (default bce): bce, label_smoothing, gce, sce, bootstrap, bootstrap_hard, forward, coteaching, cleanlab_filter, large_batch, ensemble, elr (docs/methods.md). Scores (default mse): mse, huber, student_t, mse_depth (count data: mse weighted by read depth) (docs/regression.md).", rich_help_panel="Training", show_default=False)] = None,
    method_param: Annotated[list[str] | None, typer.Option("--method-param", help="METHOD.KEY=VALUE, repeatable (e.g. gce.q=0.5; a JSON list, gce.q=[0.5,0.7], is chosen on the noisy validation split).", rich_help_panel="Training")] = None,
    model_param: Annotated[list[str] | None, typer.Option("--model-param", help="MODEL.KEY=VALUE, repeatable (e.g. cnn.kernel_size=7, lstm.hidden_sizes=[64,16]).", rich_help_panel="Training")] = None,
    batch_sizes: Annotated[str, typer.Option("--batch-sizes", help="Comma-separated batch sizes.", rich_help_panel="Training")] = "500",
    seeds: Annotated[str, typer.Option("--seeds", help="Comma-separated seeds (noise flips and model init).", rich_help_panel="Training")] = "0",
    epochs: Annotated[int, typer.Option("--epochs", help="Maximum epochs (early stopping on noisy validation loss).", rich_help_panel="Training")] = 40,
    patience: Annotated[int, typer.Option("--patience", help="Epochs without validation improvement before stopping.", rich_help_panel="Training")] = 6,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.", rich_help_panel="Training")] = 1e-3,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.", rich_help_panel="Training")] = "auto",
    threads: Annotated[int | None, typer.Option("--threads", help="Torch CPU threads (default: PyTorch's choice).", rich_help_panel="Training")] = None,
    engine: Annotated[str, typer.Option("--engine", help="auto, plain or stacked: stacked trains compatible LSTM runs together as one batched computation (auto: whenever two or more can be).", rich_help_panel="Training")] = "auto",
    split_seed: Annotated[int, typer.Option("--split-seed", help="Seed of the train/validation/test split.", rich_help_panel="Training")] = 0,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("runs/experiment"),
    force: Annotated[bool, typer.Option("--force", help="Re-run cells already in the store.")] = False,
    workers: WorkersOpt = None,
    backend: BackendOpt = "local",
    ray_address: RayAddressOpt = None,
    no_report: NoReportOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Train one fixed model per noise level and score it on clean labels.

    Corrupts the training and validation labels at each level of a grid, trains the same model
    at every level, evaluates every model on the clean test labels, and plots the resilience
    curve. Writes OUT/results.csv (one row per trained model), OUT/curve.png, OUT/summary.md
    and OUT/report.html. Finished runs are kept in OUT/store: re-running skips them.
    """
    from badlabels.experiment import GridSpec, run_experiment
    from badlabels.experiment.grid import task_defaults
    from badlabels.methods.registry import parse_param_assignments

    _set_threads(threads)
    ds = load_data_from_options(
        data, dataset, seq_col, label_col, positive, threshold, quantile, allow_stop,
        on_conflict, n_sequences, wild_type=wild_type, fmt=data_format, reference=reference,
        dms_id=dms_id, mutant_col=mutant_col, target_seq=target_seq, offset=offset,
        split_col=split_col, valid_col=valid_col, positions=positions, features=features,
        task=task, transform=transform, floor=floor,
    )
    defaults = task_defaults(ds.is_regression, noise_type)
    grid = GridSpec(
        models=parse_list(models, str, "--models") if models else defaults["models"],
        methods=parse_list(methods, str, "--methods") if methods else defaults["methods"],
        noise_type=defaults["noise_type"],
        noise_rates=parse_rates(noise_rates) if noise_rates else defaults["noise_rates"],
        seeds=parse_list(seeds, int, "--seeds"),
        batch_sizes=parse_list(batch_sizes, int, "--batch-sizes"),
        max_epochs=epochs,
        patience=patience,
        lr=lr,
        split_seed=split_seed,
        cc_ratio=cc_ratio,
        method_params=parse_param_assignments(method_param or [], "--method-param"),
        model_params=parse_param_assignments(model_param or [], "--model-param"),
    )
    _print_data_line(ds, out)
    with RunProgress(enabled=not quiet) as bar:
        result = run_experiment(
            ds, grid, out, device=device, force=force, progress=bar,
            command=" ".join(["badlabels", *map(shlex.quote, sys.argv[1:])]),
            backend=backend or "local", workers=workers, ray_address=ray_address,
            report=not no_report, engine=engine,
        )
    _print_outcome(result)


@app.command()
def demo(
    full: Annotated[bool, typer.Option("--full", help="The seed's full scale: 250,000 sequences.")] = False,
    n_sequences: NSeqOpt = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Maximum epochs.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("runs/demo"),
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    engine: Annotated[str, typer.Option("--engine", help="auto, plain or stacked (auto: plain on CPU, stacked on GPU).")] = "auto",
    force: Annotated[bool, typer.Option("--force", help="Re-run cells already in the store.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Run the seed experiment on the built-in peptide12 landscape.

    LSTM and logistic regression, symmetric flips at 0-45 % by 5 %, plus 50 % and 55 %,
    scored on clean test labels.

    Default scale finishes in a few minutes on 2 CPU cores; --full uses 250,000 sequences.
    """
    from badlabels.data import make_peptide12
    from badlabels.engine.trainer import resolve_device
    from badlabels.experiment import GridSpec, run_experiment

    if engine == "auto" and resolve_device(device).type == "cpu":
        # Noisy cells stop early on their own; in one stack they would run as long as the 0 % one.
        engine = "plain"
    n = n_sequences or (250_000 if full else DEMO_N)
    max_epochs = epochs or DEMO_EPOCHS
    ds = make_peptide12(n)
    grid = GridSpec(
        models=["lstm", "logreg"], noise_rates=DEMO_RATES, seeds=[0], batch_sizes=[500],
        max_epochs=max_epochs, patience=6,
    )
    note = (
        f"Scale: {n:,} peptide12 sequences, at most {max_epochs} epochs with early stopping "
        "on the noisy validation loss (patience 6), batch 500, one seed."
    )
    console.print(f"[bold]badlabels demo[/]: {note}")
    with RunProgress(enabled=not quiet) as bar:
        result = run_experiment(
            ds, grid, out, device=device, force=force, progress=bar,
            command=" ".join(["badlabels", *map(shlex.quote, sys.argv[1:])]), notes=[note],
            engine=engine,
        )
    _print_outcome(result)
