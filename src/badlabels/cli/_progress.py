"""A Rich progress display fed by the library's ``progress(event, **info)`` callback."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from badlabels.cli._console import err_console


class RunProgress:
    """Two bars: runs (cells) with ETA, and epochs of the run in flight."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=err_console,
            disable=not enabled,
            transient=False,
        )
        self.runs = None
        self.epochs = None

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def __call__(self, event: str, **info) -> None:
        p = self.progress
        if event == "start":
            skipped = info.get("skipped", 0)
            note = f"({skipped} already done)" if skipped else ""
            self.runs = p.add_task("runs", total=info["todo"], info=note)
            self.epochs = p.add_task("epochs", total=1, info="", visible=False)
        elif event == "cell_start":
            c = info["cell"]
            desc = f"{c.model}/{c.method} noise={c.noise_rate:g} seed={c.seed} batch={c.batch_size}"
            p.update(self.runs, info=desc)
            p.reset(self.epochs, total=c.max_epochs if c.model not in ("logreg", "ridge") else 1, visible=True)
            p.update(self.epochs, info="")
        elif event == "epoch":
            val = info.get("val_loss")
            txt = f"val loss {val:.4f}" if isinstance(val, float) else ""
            p.update(self.epochs, completed=info.get("epoch", 0), total=info.get("max_epochs"), info=txt)
        elif event == "cell_end":
            rec = info["record"]
            p.advance(self.runs)
            p.update(self.epochs, completed=p.tasks[self.epochs].total)
            if not self.enabled:
                return
            p.console.print(
                f"{rec['model']}/{rec['method']} noise={rec['noise_rate']:g} seed={rec['seed']}: "
                + (f"AUROC {rec['auroc']:.3f} (clean test), " if "auroc" in rec else
                   f"Spearman {rec.get('spearman', float('nan')):.3f} (clean test), ")
                + ("" if rec["model"] in ("logreg", "ridge") else  # no epochs to count
                   f"{rec['epochs_run']} epoch{'s' if rec['epochs_run'] != 1 else ''}, ")
                + f"{rec['train_seconds']:.1f}s"
            )
