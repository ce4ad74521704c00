"""``badlabels train`` and ``badlabels predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from badlabels.cli import app
from badlabels.cli._console import console, err_console
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
    load_data_from_options,
    print_data_facts,
)


class EpochProgress:
    """One bar of epochs, fed by the estimator's ``progress("epoch", ...)``."""

    def __init__(self, enabled: bool = True):
        self.progress = Progress(
            TextColumn("[bold]epochs"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=err_console,
            disable=not enabled,
        )
        self.task = None

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def __call__(self, event: str, **info) -> None:
        if event != "epoch":
            return
        if self.task is None:
            self.task = self.progress.add_task("epochs", total=info.get("max_epochs"), info="")
        val = info.get("val_loss")
        txt = f"val loss {val:.4f}" if isinstance(val, float) else ""
        if info.get("n_members"):  # an ensemble: its members report in turn (or together)
            txt = f"member {int(info.get('member', 0)) + 1}/{info['n_members']}  {txt}"
        self.progress.update(
            self.task, completed=info.get("epoch", 0), total=info.get("max_epochs"), info=txt
        )


def _own_params(parsed: dict[str, dict], name: str, option: str, chosen: str) -> dict:
    """The ``name.KEY=VALUE`` assignments of ``option``; one for another name is an error."""
    from badlabels.errors import BadInputError

    other = sorted(set(parsed) - {name})
    if other:
        raise BadInputError(
            f"{option} {other[0]}.…: this run trains {chosen} {name}; write {name}.KEY=VALUE"
        )
    return dict(parsed.get(name, {}))


@app.command()
def train(
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
    split_col: SplitColOpt = None,
    valid_col: ValidColOpt = None,
    positions: PositionsOpt = "auto",
    features: FeaturesOpt = None,
    task: TaskOpt = "auto",
    transform: TransformOpt = "log10",
    floor: FloorOpt = 1e-4,
    model: Annotated[str, typer.Option("--model", help="Model: lstm, logreg, ... (regression: lstm, bilstm, cnn, mlp, transformer, ridge).", rich_help_panel="Training")] = "lstm",
    method: Annotated[str | None, typer.Option("--method", help="Training method (default robust: an ensemble of 5 networks reading one-hot + BLOSUM indices, docs/high-noise.md; bce: one one-hot network). Regression: mse (default), huber or student_t.", rich_help_panel="Training")] = None,
    epochs: Annotated[int, typer.Option("--epochs", help="Maximum epochs (early stopping on the noisy validation loss).", rich_help_panel="Training")] = 40,
    patience: Annotated[int, typer.Option("--patience", help="Epochs without validation improvement before stopping.", rich_help_panel="Training")] = 6,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Mini-batch size.", rich_help_panel="Training")] = 500,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.", rich_help_panel="Training")] = 1e-3,
    val_fraction: Annotated[float, typer.Option("--val-fraction", help="Share held out as the (noisy) validation split.", rich_help_panel="Training")] = 0.1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the validation split and the model.", rich_help_panel="Training")] = 0,
    weights: Annotated[str, typer.Option("--weights", help="Continuous scores from read counts: depth weights each training score by the inverse of its count variance, 1/(tau2 + 1/(count_selected+0.5) + 1/(count_input+0.5)) with tau2 the median variance, so thinly measured variants count less (docs/regression.md); none weighs all alike.", rich_help_panel="Training")] = "none",
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.", rich_help_panel="Training")] = "auto",
    threads: Annotated[int | None, typer.Option("--threads", help="Torch CPU threads.", rich_help_panel="Training")] = None,
    model_param: Annotated[list[str] | None, typer.Option("--model-param", help="MODEL.KEY=VALUE for the model, repeatable (e.g. lstm.encoding=onehot+vhse, cnn.kernel_size=7).", rich_help_panel="Training")] = None,
    method_param: Annotated[list[str] | None, typer.Option("--method-param", help="METHOD.KEY=VALUE for the method, repeatable (e.g. robust.n_members=3, gce.q=0.5).", rich_help_panel="Training")] = None,
    out: Annotated[Path, typer.Option("--out", help="Model folder to write (model.safetensors + model.json).")] = Path("runs/model"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train one final model on all the data (less a noisy validation split) and save it.

    Writes OUT/model.safetensors (weights, no pickle) and OUT/model.json (alphabet, length
    rules, architecture, method, data fingerprint, validation metrics on the noisy validation
    split, badlabels version). Use it with `badlabels predict OUT FILE`.

    A regression task (--task regression, or auto on a label column of continuous scores)
    trains a regressor on the score (after --transform) and reports Spearman, Pearson and
    R² on the noisy validation split; model.json says "task": "regression" and the units.
    """
    from badlabels.errors import BadInputError
    from badlabels.finalmodel import save_final, train_final
    from badlabels.methods.registry import parse_param_assignments

    extra_model = _own_params(parse_param_assignments(model_param or [], "--model-param"),
                              model, "--model-param", "--model")  # fmt: skip
    parsed_method = parse_param_assignments(method_param or [], "--method-param")
    if method is not None or str(task).strip().lower() == "classification":
        method_params = _own_params(parsed_method, method or "robust", "--method-param",
                                    "--method")  # fmt: skip

    if threads:
        import torch

        torch.set_num_threads(threads)
    if out.exists() and not out.is_dir():
        raise BadInputError("exists and is not a folder", file=str(out))
    ds = load_data_from_options(
        data, dataset, seq_col, label_col, positive, threshold, quantile, allow_stop,
        on_conflict, n_sequences, fmt=data_format, reference=reference, dms_id=dms_id,
        mutant_col=mutant_col, target_seq=target_seq, offset=offset, split_col=split_col,
        valid_col=valid_col, positions=positions, features=features, task=task,
        transform=transform, floor=floor,
    )  # fmt: skip
    if method is None:
        method = "mse" if ds.is_regression else "robust"
    method_params = _own_params(parsed_method, method, "--method-param", "--method")
    if ds.is_regression:
        from badlabels.finalmodel import score_units

        units = score_units((ds.extra or {}).get("label_col", "label"),
                            (ds.extra or {}).get("score_transform"))  # fmt: skip
        console.print(
            f"[bold]{ds.name}[/]: {len(ds):,} sequences, regression on {units}; "
            f"training {model}/{method} -> {out}",
            highlight=False,
        )
    else:
        console.print(
            f"[bold]{ds.name}[/]: {len(ds):,} sequences, {ds.positive_fraction:.1%} positive; "
            f"training {model}/{method} -> {out}"
        )
    print_data_facts(ds)
    params = {
        "max_epochs": epochs, "patience": patience, "batch_size": batch_size, "lr": lr,
        "device": device, **extra_model,
    }  # fmt: skip
    with EpochProgress(enabled=not quiet) as bar:
        est, meta = train_final(
            ds, model, method, model_params=params, method_params=method_params or None,
            val_fraction=val_fraction, seed=seed, progress=bar, weights=weights,
        )  # fmt: skip
    save_final(est, meta, out)
    w = meta["training"]["weights"]
    if w["kind"] == "depth":
        console.print(f"weighted by read depth: tau2 {w['tau2']:.4g}, weights "
                      f"{w['min']:.3g} to {w['max']:.3g} (mean 1)", highlight=False)  # fmt: skip
    if ds.is_regression:
        m = meta["validation"]["metrics_on_noisy_scores"]
        console.print(
            f"[green]saved[/] {out}: {meta['training']['epochs_run']} epochs (best "
            f"{meta['training']['best_epoch']}); on the noisy validation split Spearman "
            f"{_num(m['spearman'])}, Pearson {_num(m['pearson'])}, R² {_num(m['r2'])} "
            f"(scores as given, possibly noisy; {meta['data']['units']})",
            highlight=False,
        )
        return
    m = meta["validation"]["metrics_on_noisy_labels"]
    console.print(
        f"[green]saved[/] {out}: {meta['training']['epochs_run']} epochs (best "
        f"{meta['training']['best_epoch']}); on the noisy validation split AUROC "
        f"{m['auroc']:.3f}, accuracy {m['accuracy']:.3f} (labels as given, possibly noisy)",
        highlight=False,
    )


def _num(value) -> str:
    """A metric for the console: 3 decimals, or ``nan`` where undefined."""
    try:
        return f"{float(value):.3f}"
    except (TypeError, ValueError):
        return "nan"


@app.command()
def predict(
    model_dir: Annotated[Path, typer.Argument(metavar="MODEL_DIR", help="Model folder written by `badlabels train`.")],
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV/TSV (gzip too), Parquet or FASTA of sequences to score.")],
    seq_col: Annotated[str | None, typer.Option("--seq-col", help="Column holding the sequences (default: the training column).")] = None,
    out: Annotated[Path, typer.Option("--out", help="CSV to write: the input rows plus the probability column (a regression model: the predicted_score column, in the units it was trained on, e.g. log10 fitness).")] = Path("predictions.csv"),
    prob_col: Annotated[str | None, typer.Option("--prob-col", help="Name of the probability column (classifiers; default prob_positive).")] = None,
    score_col: Annotated[str | None, typer.Option("--score-col", help="Name of the predicted score column of a regression model (default predicted_score), in the units the model was trained on (model.json: metadata.data.units, e.g. log10(fitness)).")] = None,
    chunksize: Annotated[int, typer.Option("--chunksize", help="Rows read and predicted at a time.")] = 100_000,
    device: Annotated[str | None, typer.Option("--device", help="cpu or cuda (default: as saved, auto).")] = None,
    features: Annotated[Path | None, typer.Option("--features", metavar="FILE", help="Precomputed features of the input's rows, for a model trained with --features: a .npy aligned to the input's data rows, or a table keyed by sequence.")] = None,
    mutant_col: Annotated[str | None, typer.Option("--mutant-col", help="Build the sequences from mutation strings in this column (A1P:D2N or hgvs_pro) applied to the target sequence (default: the one the model was trained with).")] = None,
    target_seq: Annotated[str | None, typer.Option("--target-seq", help="With --mutant-col: the target sequence or a FASTA file (default: the model's training target).")] = None,
    offset: Annotated[int | None, typer.Option("--offset", help="With --mutant-col: position P is residue P - N of the target (default: as in training).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress line.")] = False,
) -> None:
    """Score new sequences with a saved model: P(label = 1) for every input row.

    A regression model (trained with --task regression) writes a predicted_score column
    instead, in the units it was trained on (e.g. log10 fitness), and no probability.

    Sequences are checked against the model's alphabet and length rules first: a sequence
    it cannot read stops the run with its row named. Large files are streamed in chunks.
    A model trained on precomputed features (train --features) needs the new rows' features
    (--features FILE) and reads those instead of the sequences. --mutant-col builds the
    sequences from mutation strings, as training did.
    """
    from badlabels.finalmodel import predict_file

    with Progress(
        TextColumn("[bold]rows"), TextColumn("{task.completed:,}"), TimeElapsedColumn(),
        console=err_console, disable=quiet,
    ) as bar:  # fmt: skip
        task = bar.add_task("rows", total=None)

        def on_chunk(event, **info):
            bar.update(task, completed=info.get("total_rows", 0))

        summary = predict_file(
            model_dir, input_file, out, seq_col=seq_col, prob_col=prob_col,
            chunksize=chunksize, device=device, progress=on_chunk, features=features,
            mutant_col=mutant_col, target_seq=target_seq, offset=offset, score_col=score_col,
        )  # fmt: skip
    if summary.task == "regression":
        console.print(
            f"[green]wrote[/] {summary.out}: {summary.n_rows:,} rows with {summary.score_col} "
            f"(predicted {summary.units}, the units the model was trained on) "
            f"({summary.seconds:.1f}s)",
            highlight=False,
        )
        return
    console.print(
        f"[green]wrote[/] {summary.out}: {summary.n_rows:,} rows with {summary.prob_col} "
        f"({summary.seconds:.1f}s)"
    )
