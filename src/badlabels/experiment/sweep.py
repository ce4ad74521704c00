"""A sweep described in a YAML file: the data, the grid, and how to run it.

The grid is the product of the listed values (noise rates x seeds x batch sizes x models x
methods); every cell gets an id derived from its full configuration and the data fingerprint
(:class:`~badlabels.experiment.grid.Cell`), so re-running a sweep skips the finished cells,
adding values runs only the new cells, and editing the data runs everything again. The schema
(documented with an example in ``docs/sweep.md``, shipped as ``examples/sweep.yaml``)::

    data:                      # everything `badlabels experiment` takes as data options
      dataset: peptide12       # a built-in dataset, or
      path: assay.csv          # a file, relative to the YAML file
      n_sequences: 10000
    grid:
      models: [lstm, logreg]
      methods: [bce]
      noise_type: symmetric
      noise_rates: "0:0.5:0.1" # a list, or START:STOP:STEP (both ends included)
      seeds: [0, 1, 2]
      batch_sizes: [100, 500]
      epochs: 30
    run:                       # each can be overridden on the command line
      out: runs/sweep
      workers: 2
      backend: local

Nothing here trains: :func:`run_sweep` loads the data and calls
:func:`~badlabels.experiment.api.run_experiment`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from badlabels.data.regression import DEFAULT_FLOOR, SCORE_TRANSFORMS, TASKS
from badlabels.errors import BadInputError
from badlabels.experiment.api import ExperimentResult, run_experiment
from badlabels.experiment.grid import GridSpec, task_defaults
from badlabels.experiment.runner import Progress

# The output-folder readers live beside the store; importable from here as before.
from badlabels.experiment.store import open_store, read_config, read_results  # noqa: F401

DATA_KEYS = {
    "path": (str, None),
    "dataset": (str, None),
    "format": (str, None),
    "seq_col": (str, "sequence"),
    "label_col": (str, "label"),
    "positive": (str, None),
    "threshold": (float, None),
    "quantile": (float, None),
    "allow_stop": (bool, False),
    "on_conflict": (str, "error"),
    "n_sequences": (int, None),
    "seed": (int, 0),
    "wild_type": (str, None),
    "reference": (str, None),
    "dms_id": (str, None),
    "mutant_col": (str, None),
    "target_seq": (str, None),
    "offset": (int, None),
    "split_col": (str, None),
    "valid_col": (str, None),
    "positions": (str, "auto"),
    "features": (str, None),
    "task": (str, "auto"),
    "transform": (str, "log10"),
    "floor": (float, DEFAULT_FLOOR),
}
"""Keys of the ``data`` section: (type, default); the same as ``load_data``'s keywords."""
_DATA_PATH_KEYS = ("path", "reference", "features")
"""Keys holding a file path, resolved relative to the sweep file."""

GRID_LIST_KEYS = {
    "models": str,
    "methods": str,
    "noise_rates": float,
    "seeds": int,
    "batch_sizes": int,
}
GRID_SCALAR_KEYS = {
    "noise_type": str,
    "epochs": int,
    "patience": int,
    "lr": float,
    "split_seed": int,
    "cc_ratio": float,
}
GRID_OTHER_KEYS = ("split", "model_params", "method_params")

RUN_KEYS = {
    "out": (str, "runs/sweep"),
    "device": (str, "auto"),
    "engine": (str, "auto"),
    "backend": (str, "local"),
    "workers": (int, None),
    "ray_address": (str, None),
    "threads": (int, None),
    "report": (bool, True),
    "force": (bool, False),
}
"""Keys of the ``run`` section: (type, default). Command-line flags override them."""

SECTIONS = ("data", "grid", "run")


@dataclass
class SweepConfig:
    """A parsed sweep file.

    Attributes
    ----------
    data : dict
        Keyword arguments of :func:`badlabels.data.load_data` (``path`` resolved against the
        YAML file's folder).
    grid : GridSpec
        As written; :meth:`grid_for` gives the one run on a dataset.
    run : dict
        ``out``, ``device``, ``engine``, ``backend``, ``workers``, ``ray_address``, ``threads``,
        ``report``, ``force``.
    source : Path or None
        The YAML file.
    text : str
        The YAML text as read (copied into the output folder as ``sweep.yaml``).
    """

    data: dict
    grid: GridSpec
    run: dict
    source: Path | None = None
    text: str = ""
    extra: dict = field(default_factory=dict)
    grid_keys: frozenset = frozenset()

    def grid_for(self, dataset) -> GridSpec:
        """The grid for the loaded data: on continuous scores, what the ``grid`` section left
        out takes the regression defaults (:func:`~badlabels.experiment.grid.task_defaults`:
        lstm + ridge, mse, outliers at 0-45 %), as ``badlabels experiment`` does."""
        if not getattr(dataset, "is_regression", False):
            return self.grid
        given = self.grid_keys
        defaults = task_defaults(True, self.grid.noise_type if "noise_type" in given else None)
        keep = {k: v for k, v in defaults.items() if k not in given}
        return replace(self.grid, **keep) if keep else self.grid


# -- reading ---------------------------------------------------------------------------------


def load_sweep_config(path: str | os.PathLike) -> SweepConfig:
    """Read and validate a sweep YAML file; every mistake is a one-line :class:`BadInputError`."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError("sweep file not found", file=str(path))
    text = path.read_text()
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BadInputError(f"{where}not valid YAML ({problem})", file=str(path)) from None
    return parse_sweep_config(raw, source=path, text=text, node=node)


def parse_sweep_config(
    raw, *, source: Path | None = None, text: str = "", node=None
) -> SweepConfig:
    """Validate a sweep mapping (as :func:`yaml.safe_load` returns it) into a SweepConfig."""
    err = _Errors(source, node)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        err.fail((), "a sweep file is a mapping with sections data, grid and run")
    for key in raw:
        if key not in SECTIONS:
            err.fail((key,), f"unknown section {key!r}; the sections are {', '.join(SECTIONS)}")
    sections = {}
    for name in SECTIONS:
        value = raw.get(name) or {}
        if not isinstance(value, dict):
            err.fail((name,), f"section {name!r} must be a mapping of keys to values")
        sections[name] = value
    base = source.parent if source is not None else Path.cwd()
    data = _parse_data(sections["data"], err, base)
    grid = _parse_grid(sections["grid"], err)
    run = _parse_run(sections["run"], err)
    return SweepConfig(data=data, grid=grid, run=run, source=source, text=text,
                       grid_keys=frozenset(sections["grid"]))  # fmt: skip


class _Errors:
    """Raise BadInputError naming the file and, where the YAML node is known, the line."""

    def __init__(self, source, node):
        self.source = None if source is None else str(source)
        self.node = node

    def line(self, keys: tuple) -> int | None:
        node = self.node
        found = None
        for key in keys:
            if not isinstance(node, yaml.MappingNode):
                break
            for k, v in node.value:
                if k.value == str(key):
                    found, node = k, v
                    break
            else:
                break
        return None if found is None else found.start_mark.line + 1

    def fail(self, keys: tuple, problem: str):
        line = self.line(keys)
        where = f"line {line}: " if line is not None else ""
        raise BadInputError(f"{where}{problem}", file=self.source)


def _convert(value, kind, keys, err: _Errors):
    name = ".".join(map(str, keys))
    if value is None:
        return None
    if kind is bool:
        if isinstance(value, bool):
            return value
        err.fail(keys, f"{name} must be true or false (got {value!r})")
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            err.fail(keys, f"{name} must be a whole number (got {value!r})")
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            err.fail(keys, f"{name} must be a number (got {value!r})")
        return float(value)
    if isinstance(value, dict | list):
        err.fail(keys, f"{name} must be a single value (got {value!r})")
    return str(value)


def _unknown(section: str, mapping: dict, known, err: _Errors):
    for key in mapping:
        if key not in known:
            err.fail(
                (section, key),
                f"unknown key {key!r} in {section}; known keys: {', '.join(sorted(known))}",
            )


def _parse_data(d: dict, err: _Errors, base: Path) -> dict:
    _unknown("data", d, DATA_KEYS, err)
    out = {}
    for key, (kind, default) in DATA_KEYS.items():
        value = _convert(d.get(key, default), kind, ("data", key), err)
        if key == "positive" and key in d and d[key] is not None:
            value = str(d[key])  # YAML reads `positive: 1` as a number; labels are strings
        out[key] = value
    if out["path"] is None and out["dataset"] is None:
        err.fail(("data",), "data needs a path (your file) or a dataset (e.g. peptide12)")
    for key in _DATA_PATH_KEYS:
        if out[key] is not None:
            p = Path(os.path.expanduser(out[key]))
            out[key] = str(p if p.is_absolute() else base / p)
    if out["on_conflict"] not in ("drop", "majority", "error"):
        err.fail(("data", "on_conflict"), "data.on_conflict must be drop, majority or error")
    if out["task"] not in TASKS:
        err.fail(("data", "task"), f"data.task must be one of {', '.join(TASKS)}")
    if out["transform"] not in SCORE_TRANSFORMS:
        err.fail(("data", "transform"), f"data.transform must be one of {', '.join(SCORE_TRANSFORMS)}")
    if out["floor"] is None or not out["floor"] > 0:
        err.fail(("data", "floor"), "data.floor must be a number above 0")
    return out


def parse_range(text: str, key: str = "noise_rates") -> list[float]:
    """``"START:STOP:STEP"`` (both ends included) as a list of floats."""
    parts = str(text).split(":")
    try:
        start, stop, step = (float(p) for p in parts)
    except ValueError:
        raise BadInputError(f"{key}: write a range as START:STOP:STEP (got {text!r})") from None
    if step <= 0 or stop < start:
        raise BadInputError(f"{key}: write a range as START:STOP:STEP with STEP > 0 (got {text!r})")
    n = int(round((stop - start) / step)) + 1
    return [round(start + i * step, 10) for i in range(n)]


def _as_list(value, kind, key, err: _Errors) -> list:
    keys = ("grid", key)
    if isinstance(value, str) and kind is float and ":" in value:
        try:
            return parse_range(value, f"grid.{key}")
        except BadInputError as exc:
            err.fail(keys, exc.problem)
    if isinstance(value, str) and "," in value:
        value = [v.strip() for v in value.split(",") if v.strip()]
        if kind is not str:
            conv = []
            for v in value:
                try:
                    conv.append(kind(v))
                except ValueError:
                    err.fail(keys, f"grid.{key}: {v!r} is not a valid {kind.__name__}")
            value = conv
    if not isinstance(value, list):
        value = [value]
    if not value:
        err.fail(keys, f"grid.{key} needs at least one value")
    return [_convert(v, kind, keys, err) for v in value]


def _freeze_lists(obj):
    """Lists inside model/method parameters become tuples, so a Cell stays hashable."""
    if isinstance(obj, list | tuple):
        return tuple(_freeze_lists(v) for v in obj)
    if isinstance(obj, dict):
        return {str(k): _freeze_lists(v) for k, v in obj.items()}
    return obj


def _parse_grid(g: dict, err: _Errors) -> GridSpec:
    known = {**GRID_LIST_KEYS, **GRID_SCALAR_KEYS, **dict.fromkeys(GRID_OTHER_KEYS)}
    _unknown("grid", g, known, err)
    spec = GridSpec()
    kw = {}
    for key, kind in GRID_LIST_KEYS.items():
        if key in g:
            kw[key] = _as_list(g[key], kind, key, err)
    for key, kind in GRID_SCALAR_KEYS.items():
        if key in g:
            value = _convert(g[key], kind, ("grid", key), err)
            if value is None:
                err.fail(("grid", key), f"grid.{key} needs a value")
            kw["max_epochs" if key == "epochs" else key] = value
    if "split" in g:
        split = g["split"]
        ok = isinstance(split, list) and len(split) == 3
        ok = ok and all(isinstance(x, int | float) and not isinstance(x, bool) for x in split)
        if not ok or abs(sum(split) - 1) > 1e-6 or min(split) <= 0:
            err.fail(("grid", "split"), "grid.split must be three positive fractions summing to 1")
        kw["split"] = tuple(float(x) for x in split)
    for key in ("model_params", "method_params"):
        if key in g and g[key] is not None:
            value = g[key]
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                err.fail(("grid", key), f"grid.{key} maps a name to a mapping of parameters")
            kw[key] = _freeze_lists(value)
    for key, value in kw.items():
        setattr(spec, key, value)
    try:
        spec.validate()
    except BadInputError as exc:
        err.fail(("grid",), exc.problem)
    return spec


def _parse_run(r: dict, err: _Errors) -> dict:
    _unknown("run", r, RUN_KEYS, err)
    return {
        key: _convert(r.get(key, default), kind, ("run", key), err)
        for key, (kind, default) in RUN_KEYS.items()
    }


# -- running ---------------------------------------------------------------------------------


def load_sweep_data(config: SweepConfig):
    """The Dataset a sweep file names (one call to :func:`badlabels.data.load_data`)."""
    from badlabels.data import load_data

    d = dict(config.data)
    path = d.pop("path")
    fmt = d.pop("format")
    n = d.pop("n_sequences")
    if n is not None:
        d["n_sequences"] = n
    return load_data(path, fmt=fmt, **d)


def run_sweep(
    config: SweepConfig,
    *,
    out: str | os.PathLike | None = None,
    device: str | None = None,
    engine: str | None = None,
    backend: str | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    threads: int | None = None,
    force: bool | None = None,
    report: bool | None = None,
    progress: Progress | None = None,
    command: str | None = None,
    dataset=None,
) -> ExperimentResult:
    """Run a sweep; arguments given here override the file's ``run`` section.

    Writes everything :func:`~badlabels.experiment.api.run_experiment` writes, plus
    ``sweep.yaml`` (the file as read) in the output folder.
    """
    run = dict(config.run)
    for key, value in dict(
        out=out, device=device, engine=engine, backend=backend, workers=workers,
        ray_address=ray_address,
        threads=threads, force=force, report=report,
    ).items():  # fmt: skip
        if value is not None:
            run[key] = value
    if run["threads"]:
        import torch

        torch.set_num_threads(int(run["threads"]))
    ds = dataset if dataset is not None else load_sweep_data(config)
    out_dir = Path(run["out"])
    out_dir.mkdir(parents=True, exist_ok=True)
    if config.text:
        (out_dir / "sweep.yaml").write_text(config.text)
    return run_experiment(
        ds, config.grid_for(ds), out_dir, device=run["device"], force=bool(run["force"]),
        progress=progress, command=command, backend=run["backend"], workers=run["workers"],
        ray_address=run["ray_address"], report=bool(run["report"]), engine=run["engine"],
    )  # fmt: skip


# -- reading results back --------------------------------------------------------------------


