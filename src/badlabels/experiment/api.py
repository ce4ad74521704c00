"""One call that runs a whole experiment and writes its outputs."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from badlabels.data import Dataset
from badlabels.data.regression import target_units
from badlabels.data.splits import check_splittable
from badlabels.experiment.grid import GridSpec
from badlabels.experiment.runner import Progress, check_noise, prepare, run_cells
from badlabels.experiment.settings import RunSettings
from badlabels.experiment.store import ResultStore


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` produced."""

    out_dir: Path
    results: pd.DataFrame
    n_trained: int
    n_skipped: int
    files: dict[str, Path]


def run_experiment(
    dataset: Dataset,
    grid: GridSpec,
    out_dir: str | os.PathLike,
    *,
    device: str = "auto",
    force: bool = False,
    progress: Progress | None = None,
    command: str | None = None,
    notes: list[str] | None = None,
    backend: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    report: bool = True,
    engine: str = "auto",
) -> ExperimentResult:
    """Corrupt, train and evaluate every cell of ``grid`` on ``dataset``.

    Writes into ``out_dir``: ``store/`` (one record per finished cell), ``results.csv``,
    ``curve.png`` (and ``.svg``), ``summary.md``, ``config.json`` and ``report.html``. Cells already in the
    store are not trained again unless ``force``.

    Parameters
    ----------
    dataset : Dataset
        Clean (as-measured) labels; the test split is never corrupted.
    grid : GridSpec
        Models, methods, noise type and levels, seeds, batch sizes, epochs.
    out_dir : path
        Output folder (created).
    device : {"auto", "cpu", "cuda"}
        Resolved once (:class:`~badlabels.experiment.settings.RunSettings`); ``config.json``
        records the device and precision that ran.
    force : bool
        Re-run cells that already have a record.
    progress : callable, optional
        ``progress(event, **info)`` for a progress display.
    command, notes : optional
        Recorded in the outputs (the command line; lines for the summary).
    backend, workers, ray_address : optional
        Where the cells run: ``"local"`` with ``workers`` processes, or ``"ray"`` (a local Ray
        instance, or the cluster at ``ray_address``); see :mod:`badlabels.experiment.backends`.
    report : bool, default True
        Write ``report.html`` (and ``figures/``) at the end (:func:`badlabels.report.html.write_report`).
    engine : {"auto", "plain", "stacked"}
        How cells are trained (:mod:`badlabels.experiment.engines`): ``auto`` trains
        compatible LSTM cells together as one stacked computation, ``plain`` one at a time.
    """
    from badlabels.experiment.backends import check_backend
    from badlabels.report.figures import plot_curve
    from badlabels.report.html import package_versions
    from badlabels.report.summary import write_summary

    check_backend(backend, workers, ray_address)  # e.g. Ray missing: fail before any work
    settings = RunSettings.resolve(
        device, engine=engine, backend=backend, workers=workers, ray_address=ray_address
    )
    check_splittable(len(dataset), source=dataset.source)
    check_task(dataset, grid)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(out)
    cells = grid.cells(dataset.name, dataset.fingerprint())
    normalisation = None
    if str(grid.noise_type).strip().lower().replace("-", "_") == "read_depth":
        # Resolved on the whole data (a split part may lack the wild-type row), checked against
        # the data's own score before anything is thinned; the parts carry it in ``extra``.
        from badlabels.noise import resolve_count_normalisation

        normalisation = resolve_count_normalisation(dataset)
        dataset = replace(
            dataset, extra={**dataset.extra, "count_normalisation": normalisation.to_dict()}
        )
        notes = [*(notes or []), normalisation.describe()]
    prepared = prepare(dataset, grid.split, grid.split_seed)
    check_noise(prepared, cells)  # bad levels or missing scores fail now, before any training
    config = {
        "command": command,
        "dataset": dataset.name,
        "source": dataset.source,
        "n_sequences": len(dataset),
        "positive_fraction": dataset.positive_fraction,
        "data_fingerprint": dataset.fingerprint(),
        "grid": asdict(grid),
        "device": settings.device,
        "backend": backend,
        "engine": engine,
        "workers": workers,
        "settings": settings.to_dict(),
        "versions": package_versions(),
        "python": platform.python_version(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "cell_ids": [c.cell_id for c in cells],
    }
    if dataset.is_regression:
        config["task"] = "regression"
        config["score_transform"] = dataset.extra.get("score_transform")
        config["units"] = target_units(dataset)
    if normalisation is not None:
        config["count_normalisation"] = normalisation.to_dict()
    (out / "config.json").write_text(json.dumps(config, indent=1, default=str))
    new = run_cells(cells, prepared, store, settings, force=force, progress=progress)
    wanted = {c.cell_id for c in cells}
    frame = store.frame()
    frame = frame[frame["cell_id"].isin(wanted)].reset_index(drop=True) if len(frame) else frame
    files = {"results": out / "results.csv"}
    frame.to_csv(files["results"], index=False)
    if dataset.is_regression:
        from badlabels.report.html import write_report
        from badlabels.report.regression import plot_regression_curve, write_regression_summary

        files["curve"] = plot_regression_curve(frame, out / "curve.png")
        files["summary"] = write_regression_summary(
            frame, out / "summary.md", dataset=dataset, command=command, notes=notes
        )
        if report:
            files["report"] = write_report(out, frame=frame, config=config)
        return ExperimentResult(out, frame, len(new), len(cells) - len(new), files)
    ceiling = prepared.ceiling_auroc
    files["curve"] = plot_curve(frame, out / "curve.png", ceiling=ceiling)
    files["summary"] = write_summary(
        frame, out / "summary.md", dataset=dataset, ceiling=ceiling, command=command, notes=notes
    )
    if report:
        from badlabels.report.html import write_report

        files["report"] = write_report(out, frame=frame, config=config)
    return ExperimentResult(out, frame, len(new), len(cells) - len(new), files)


def _check_weights(dataset: Dataset, grid: GridSpec, noise: str) -> None:
    """Depth weights (method parameter ``weights=depth``) need read counts, and the counts
    as measured: read-depth noise thins them, and its cells would be weighted by the unthinned
    ones."""
    from badlabels.errors import BadInputError
    from badlabels.methods.regression import weights_kind

    for method in grid.methods:
        if weights_kind(method, (grid.method_params or {}).get(method)) != "depth":
            continue
        counts = dataset.counts or {}
        if "count_input" not in counts or "count_selected" not in counts:
            raise BadInputError(
                f"{method}.weights=depth needs read counts: the file must have count_input and "
                "count_selected columns"
            )
        if noise == "read_depth":
            raise BadInputError(
                f"{method}.weights=depth with read_depth noise would weight the thinned scores "
                "by the unthinned counts: use outliers or gaussian noise"
            )


def check_task(dataset: Dataset, grid: GridSpec) -> None:
    """One-line errors for a grid that does not fit the data's task: label noise or
    classification methods on scores (regression), or score noise / regression methods on
    labels."""
    from badlabels.errors import BadInputError
    from badlabels.methods.registry import METHODS
    from badlabels.methods.regression import REGRESSION_METHODS
    from badlabels.models import MODELS
    from badlabels.models.regression import REGRESSORS
    from badlabels.noise import NOISE_TYPES, SCORE_NOISE_TYPES

    noise = str(grid.noise_type).strip().lower().replace("-", "_")
    if dataset.is_regression:
        if noise not in SCORE_NOISE_TYPES:
            raise BadInputError(
                f"noise type {grid.noise_type!r} corrupts yes/no labels; for continuous scores "
                f"choose one of {', '.join(SCORE_NOISE_TYPES)}"
            )
        bad = [m for m in grid.methods if m not in REGRESSION_METHODS]
        if bad:
            raise BadInputError(
                f"method {bad[0]!r} trains a classifier; for continuous scores choose among "
                f"{', '.join(REGRESSION_METHODS)}"
            )
        bad = [m for m in grid.models if m not in REGRESSORS]
        if bad:
            hint = " (ridge is the linear baseline)" if bad[0] == "logreg" else ""
            raise BadInputError(
                f"model {bad[0]!r} has no regression form; choose among "
                f"{', '.join(REGRESSORS)}{hint}"
            )
        _check_weights(dataset, grid, noise)
        return
    if noise not in NOISE_TYPES:
        raise BadInputError(
            f"noise type {grid.noise_type!r} corrupts continuous scores: pass --task regression "
            f"(or choose one of {', '.join(NOISE_TYPES)})"
        )
    bad = [m for m in grid.methods if m not in METHODS]
    if bad and bad[0] in REGRESSION_METHODS:
        raise BadInputError(
            f"method {bad[0]!r} is a regression loss: pass --task regression for continuous scores"
        )
    bad = [m for m in grid.models if m not in MODELS]
    if bad and bad[0] in REGRESSORS:
        raise BadInputError(
            f"model {bad[0]!r} is a regressor: pass --task regression for continuous scores "
            "(or use logreg)"
        )
