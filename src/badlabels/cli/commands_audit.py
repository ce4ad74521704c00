"""``badlabels audit`` and ``badlabels corrupt``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
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
    FloorOpt,
    FoldsColOpt,
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
    print_data_facts,
)
from badlabels.errors import BadInputError


class FoldProgress:
    """Folds (with ETA) and epochs of an audit, fed by the library's ``progress(event, **info)``."""

    def __init__(self, enabled: bool = True):
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=err_console,
            disable=not enabled,
        )
        self.folds = self.epochs = None

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def __call__(self, event: str, **info) -> None:
        p = self.progress
        if event == "fold_start":
            repeats = info.get("repeats", 1)
            if self.folds is None:
                self.folds = p.add_task("folds", total=info["n_folds"] * repeats, info="")
                self.epochs = p.add_task("epochs", total=1, info="")
            if info.get("stacked"):  # every fold of the unit starts now
                text = f"{info['stacked']} fold models at once, training on {info['n_train']:,} each"
                if p.tasks[self.folds].fields.get("info") != text:
                    p.update(self.folds, info=text)
                    p.reset(self.epochs, total=1, info="")
                return
            where = f"repeat {info.get('repeat', 1)}/{repeats}, " if repeats > 1 else ""
            p.update(self.folds, info=f"{where}fold {info['fold']}: training on {info['n_train']:,}")
            p.reset(self.epochs, total=1, info="")
        elif event == "epoch" and self.epochs is not None:
            val = info.get("val_loss")
            txt = f"val loss {val:.4f}" if isinstance(val, float) and not info.get("stacked") else ""
            p.update(self.epochs, completed=info.get("epoch", 0), total=info.get("max_epochs"), info=txt)
        elif event == "fold_end" and self.folds is not None:
            p.advance(self.folds)
            if not info.get("stacked"):
                p.update(self.epochs, completed=p.tasks[self.epochs].total)


def _print_read_depth(result, what: str) -> None:
    """The audit's read-depth check, one line, for count data (nothing otherwise)."""
    if result.read_depth is not None:
        from badlabels.evaluation.read_depth import describe_read_depth

        console.print("by read depth (count_input, unseen by the model): "
                      + describe_read_depth(result.read_depth, what), highlight=False)  # fmt: skip


def _command() -> str:
    return " ".join(["badlabels", *map(shlex.quote, sys.argv[1:])])


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


def _fmt(x, digits: int = 3) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return f"{v:.{digits}f}" if v == v else "n/a"


@app.command()
def audit(
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
    folds_col: FoldsColOpt = None,
    task: TaskOpt = "auto",
    transform: TransformOpt = "log10",
    floor: FloorOpt = 1e-4,
    truth_col: Annotated[str | None, typer.Option("--truth-col", help="Column marking labels (or, for continuous scores, scores) known to be wrong (1/0, yes/no), e.g. is_flipped from `badlabels corrupt`: adds detection precision, recall and AUROC.", rich_help_panel="Data")] = None,
    model: Annotated[str, typer.Option("--model", help="Model for the out-of-fold probabilities (lstm, logreg, ...) or, for continuous scores, predictions (lstm, ridge, ...).", rich_help_panel="Training")] = "lstm",
    method: Annotated[str | None, typer.Option("--method", help="Training method (default bce; for continuous scores mse, huber or student_t, default mse).", rich_help_panel="Training", show_default=False)] = None,
    folds: Annotated[int, typer.Option("--folds", help="Number of cross-validation folds.", rich_help_panel="Training")] = 5,
    epochs: Annotated[int, typer.Option("--epochs", help="Maximum epochs per fold (early stopping on an inner noisy validation split).", rich_help_panel="Training")] = 40,
    patience: Annotated[int, typer.Option("--patience", help="Epochs without validation improvement before stopping (the noisy validation loss is itself noisy: be patient).", rich_help_panel="Training")] = 10,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Mini-batch size.", rich_help_panel="Training")] = 500,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.", rich_help_panel="Training")] = 1e-3,
    repeats: Annotated[int, typer.Option("--repeats", help="Repeated cross-validation: average the out-of-fold probabilities over this many different cuts into folds (better flags; each repeat costs a full cross-validation). 1 for a quick look.", rich_help_panel="Training")] = 3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds, the models and the bootstrap.", rich_help_panel="Training")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.", rich_help_panel="Training")] = "auto",
    threads: Annotated[int | None, typer.Option("--threads", help="Torch CPU threads.", rich_help_panel="Training")] = None,
    engine: Annotated[str, typer.Option("--engine", help="auto, plain or stacked: auto and stacked train the LSTM's fold models together as one batched computation (about 2x faster on 2 CPU cores, far more on a GPU); plain trains them one after another. Other models always run plain.", rich_help_panel="Training")] = "auto",
    noise_estimator: Annotated[str, typer.Option("--noise-estimator", help="How the noise matrix is estimated: anchor (anchor points of the out-of-fold probabilities) or cleanlab (its confident joint). cleanlab's estimate is reported either way.", rich_help_panel="cleanlab")] = "anchor",
    filter_by: Annotated[str, typer.Option("--filter-by", help="cleanlab's flagging rule: prune_by_noise_rate, prune_by_class, both, confident_learning, predicted_neq_given.", rich_help_panel="cleanlab")] = "prune_by_noise_rate",
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples for the corrected AUROC/accuracy interval.", rich_help_panel="cleanlab")] = 200,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("runs/audit"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Find the probably mislabelled sequences and estimate how noisy the labels are.

    Trains the model on K-1 folds and predicts the K-th (out-of-fold probabilities), then
    uses cleanlab for label-quality scores, flags and the noise matrix, and corrects the
    out-of-fold AUROC/accuracy for the estimated noise. Writes OUT/suspects.csv (every input
    row, in input order), OUT/noise.json and OUT/audit.html.

    Continuous scores (--task regression, or auto with a numeric label column and no
    cutoff): out-of-fold predicted scores, cleanlab's regression label-quality scores and an
    estimate of the share of outlying scores; writes OUT/suspects.csv (most suspect first),
    OUT/audit.json, OUT/summary.md and OUT/residuals.png.
    """
    from badlabels.audit import audit_labels, input_rows, read_truth, write_audit

    _set_threads(threads)
    ds = load_data_from_options(
        data, dataset, seq_col, label_col, positive, threshold, quantile, allow_stop,
        on_conflict, n_sequences, fmt=data_format, reference=reference,
        dms_id=dms_id, mutant_col=mutant_col, target_seq=target_seq, offset=offset,
        split_col=split_col, valid_col=valid_col, positions=positions, features=features,
        folds_col=folds_col, task=task, transform=transform, floor=floor,
    )  # fmt: skip
    if ds.is_regression:
        return _audit_scores(
            ds, data=data, seq_col=seq_col, truth_col=truth_col, model=model,
            method=method or "mse", folds=folds, seed=seed, out=out, quiet=quiet, engine=engine,
            model_params={
                "max_epochs": epochs, "patience": patience, "batch_size": batch_size,
                "lr": lr, "device": device,
            },
        )  # fmt: skip
    method = method or "bce"
    if truth_col is not None and data is None:
        raise BadInputError("--truth-col needs a data file (--data)")
    mapping = input_rows(ds, data, seq_col=seq_col)
    truth = read_truth(mapping, truth_col, file=str(data)) if truth_col else None
    if ds.folds is not None:
        folds, repeats = len(set(ds.folds.tolist())), 1
        how = f"{folds} folds from column {folds_col!r}"
    else:
        how = f"{folds}-fold" + (f", {repeats} repeats" if repeats > 1 else "")
    console.print(
        f"[bold]{ds.name}[/]: {len(ds):,} sequences, {ds.positive_fraction:.1%} positive; "
        f"{how} {model} -> {out}"
    )
    print_data_facts(ds)
    with FoldProgress(enabled=not quiet) as bar:
        result = audit_labels(
            ds,
            model=model,
            method=method,
            model_params={
                "max_epochs": epochs, "patience": patience, "batch_size": batch_size,
                "lr": lr, "device": device,
            },  # fmt: skip
            n_folds=folds,
            repeats=repeats,
            seed=seed,
            filter_by=filter_by,
            noise_estimator=noise_estimator,
            truth=truth,
            n_boot=n_boot,
            progress=bar,
            engine=engine,
        )
    files = write_audit(
        result, out, mapping=mapping, truth_col=truth_col, data_name=ds.name, command=_command()
    )
    c = result.corrected
    console.print(
        f"[green]done[/] in {result.seconds:.0f}s: {result.n_flagged:,} of {result.n:,} labels "
        f"flagged ({result.n_flagged / result.n:.1%}); estimated flip rate "
        f"{result.flip_rate:.3f} (positive->negative {result.flip_pos_to_neg:.3f}, "
        f"negative->positive {result.flip_neg_to_pos:.3f})"
    )
    console.print(
        f"out-of-fold AUROC {_fmt(result.oof_metrics['auroc'])} on the given labels; "
        f"noise-corrected {_fmt(c['auroc'])} [{_fmt(c['auroc_lo'])}, {_fmt(c['auroc_hi'])}], "
        f"accuracy {_fmt(c['accuracy'])} [{_fmt(c['accuracy_lo'])}, {_fmt(c['accuracy_hi'])}]",
        highlight=False,
    )
    if result.detection is not None:
        d = result.detection
        console.print(
            f"known flips ({truth_col}): precision {_fmt(d['precision'])}, recall "
            f"{_fmt(d['recall'])}, AUROC {_fmt(d['auroc'])}",
            highlight=False,
        )
    _print_read_depth(result, "label")
    for name, path in files.items():
        console.print(f"  {name}: {path}")


def _audit_scores(ds, *, data, seq_col, truth_col, model, method, folds, seed, out, quiet,
                  model_params, engine="auto") -> None:  # fmt: skip
    """``badlabels audit`` on continuous scores (a regression dataset)."""
    from badlabels.audit import input_rows, read_truth
    from badlabels.audit_scores import audit_scores, write_score_audit

    if ds.folds is not None:
        raise BadInputError("--folds-col is not used for continuous scores yet: drop it "
                            "(the folds are random)")  # fmt: skip
    if truth_col is not None and data is None:
        raise BadInputError("--truth-col needs a data file (--data)")
    mapping = input_rows(ds, data, seq_col=seq_col)
    truth = read_truth(mapping, truth_col, file=str(data)) if truth_col else None
    console.print(
        f"[bold]{ds.name}[/]: {len(ds):,} continuous scores; {folds}-fold {model} "
        f"({method}) -> {out}",
        highlight=False,
    )
    print_data_facts(ds)
    with FoldProgress(enabled=not quiet) as bar:
        result = audit_scores(
            ds, model=model, method=method, n_folds=folds, seed=seed,
            model_params=model_params, truth=truth, progress=bar, engine=engine,
        )  # fmt: skip
    files = write_score_audit(
        result, out, mapping=mapping, truth_col=truth_col, data_name=ds.name, command=_command()
    )
    m = result.oof_metrics
    console.print(
        f"[green]done[/] in {result.seconds:.0f}s: {result.n_flagged:,} of {result.n:,} scores "
        f"flagged ({result.n_flagged / result.n:.1%}); estimated share of outlying scores "
        f"{result.outlier_fraction:.3f}",
        highlight=False,
    )
    console.print(
        f"out-of-fold Spearman {_fmt(m['spearman'])}, R^2 {_fmt(m['r2'])} on the given scores "
        f"(units: {result.units})",
        highlight=False,
    )
    if result.detection is not None:
        d = result.detection
        console.print(
            f"known wrong ({truth_col}): precision {_fmt(d['precision'])}, recall "
            f"{_fmt(d['recall'])}, F1 {_fmt(d['f1'])}, AUROC {_fmt(d['auroc'])}",
            highlight=False,
        )
    _print_read_depth(result, "score")
    for name, path in files.items():
        console.print(f"  {name}: {path}")


@app.command()
def corrupt(
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
    noise_type: Annotated[str | None, typer.Option("--noise-type", help="Labels: symmetric (default), class_conditional, measurement or read_depth. Continuous scores (--task regression): outliers (default), gaussian or read_depth.", rich_help_panel="Noise", show_default=False)] = None,
    rate: Annotated[float, typer.Option("--rate", help="Flip rate (symmetric, class_conditional: positive-to-negative), noise scale (measurement, gaussian: in score sds), fraction of scores replaced (outliers) or fraction of reads kept (read_depth).", rich_help_panel="Noise")] = 0.2,
    cc_ratio: Annotated[float, typer.Option("--cc-ratio", help="class_conditional: negative-to-positive rate = ratio x the rate.", rich_help_panel="Noise")] = 0.5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the flips (and of a generated dataset).", rich_help_panel="Noise")] = 0,
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (.csv.gz compresses).")] = Path("corrupted.csv"),
) -> None:
    """Write the data with simulated label noise: clean label, noisy label and is_flipped.

    The CSV has the sequence column, `label` (clean), `label_noisy`, `is_flipped` (1/0) and,
    for scored data, `score`. Audit it with
    `badlabels audit --data FILE --label-col label_noisy --truth-col is_flipped`.

    Continuous scores (--task regression, or auto on a numeric label column): `score` and
    `score_noisy` in the units learnt (e.g. log10 fitness), `is_changed` and `moved_1sd` (1/0).
    Audit it with `badlabels audit --data FILE --label-col score_noisy --transform none
    --truth-col moved_1sd`.
    """
    from badlabels.audit import corrupted_frame

    ds = load_data_from_options(
        data, dataset, seq_col, label_col, positive, threshold, quantile, allow_stop,
        on_conflict, n_sequences, seed=seed, wild_type=wild_type, fmt=data_format,
        reference=reference, dms_id=dms_id, mutant_col=mutant_col, target_seq=target_seq,
        offset=offset, split_col=split_col, valid_col=valid_col, positions=positions,
        features=features, task=task, transform=transform, floor=floor,
    )  # fmt: skip
    if out.exists() and out.is_dir():
        raise BadInputError("is a folder; give a file name for --out", file=str(out))
    if data is not None and out.exists() and out.resolve() == Path(data).resolve():
        raise BadInputError("--out would overwrite the input data", file=str(out))
    if ds.is_regression:
        from badlabels.audit_scores import corrupted_score_frame

        noise_type = noise_type or "outliers"
        frame = corrupted_score_frame(ds, noise_type, rate, seed=seed)
        if out.parent and not out.parent.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
        n_changed, n_moved = int(frame["is_changed"].sum()), int(frame["moved_1sd"].sum())
        console.print(
            f"[green]wrote[/] {out}: {len(frame):,} sequences, {n_changed:,} scores changed "
            f"({n_changed / len(frame):.1%}, {noise_type} at {rate:g}, seed {seed}), {n_moved:,} "
            "of them by more than 1 sd"
        )
        from badlabels.data.regression import target_units

        console.print(
            f"[dim]scores in the units learnt ({target_units(ds)}): audit with --label-col "
            "score_noisy --transform none --truth-col moved_1sd[/]"
        )
        return
    noise_type = noise_type or "symmetric"
    frame = corrupted_frame(ds, noise_type, rate, seed=seed, cc_ratio=cc_ratio)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    n_flip = int(frame["is_flipped"].sum())
    console.print(
        f"[green]wrote[/] {out}: {len(frame):,} sequences, {n_flip:,} labels flipped "
        f"({n_flip / len(frame):.1%}, {noise_type} at {rate:g}, seed {seed})"
    )
    if noise_type.strip().lower().replace("-", "_") == "read_depth":
        from badlabels.noise import resolve_count_normalisation

        console.print(resolve_count_normalisation(ds).describe(), highlight=False)
