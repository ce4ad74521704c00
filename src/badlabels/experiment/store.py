"""The result store: one JSON record per finished cell, written atomically.

Layout: ``DIR/store/<cell_id>.json``. A record is written to a temporary file in the same
folder, flushed to disk and renamed into place, so a killed process leaves either a whole
record or none; a re-run skips every cell whose record exists. Temporary files left by a
kill are ignored and cleaned up.

The readers of an output folder (:func:`read_config`, :func:`open_store`,
:func:`read_results`) live here too, so that commands reading a finished folder (``results``,
``report``) depend on the store only.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from badlabels.errors import BadInputError

# The columns every results table starts with, in this order.
RESULT_COLUMNS = [
    "dataset", "model", "method", "noise_type", "noise_rate", "realized_flip_rate", "seed",
    "batch_size", "n_train", "epochs_run", "train_seconds", "auroc", "auprc", "accuracy", "f1",
    "mcc", "noisy_test_auroc", "corrected_test_auroc",
]  # fmt: skip


class ResultStore:
    """Finished cells of a sweep, kept in ``root/store``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.path = self.root / "store"
        self.path.mkdir(parents=True, exist_ok=True)
        for stale in self.path.glob(".tmp-*"):
            # Only temporary files of dead processes: another sweep may be writing here.
            pid = stale.name.split("-")[1] if stale.name.count("-") >= 2 else ""
            if pid.isdigit() and not _alive(int(pid)):
                stale.unlink(missing_ok=True)

    def _file(self, cell_id: str) -> Path:
        return self.path / f"{cell_id}.json"

    def has(self, cell_id: str) -> bool:
        return self._file(cell_id).exists()

    def ids(self) -> set[str]:
        return {p.stem for p in self.path.glob("*.json")}

    def put(self, record: dict) -> None:
        """Write one record atomically (temporary file + fsync + rename)."""
        cell_id = record["cell_id"]
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{os.getpid()}-", dir=self.path)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(record, fh, indent=1, sort_keys=True, default=_json_default)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._file(cell_id))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, cell_id: str) -> dict:
        return json.loads(self._file(cell_id).read_text())

    def records(self) -> list[dict]:
        out = []
        for p in sorted(self.path.glob("*.json")):
            try:
                out.append(json.loads(p.read_text()))
            except (json.JSONDecodeError, OSError):
                continue  # cannot happen with atomic writes; never crash a report over it
        return out

    def frame(self) -> pd.DataFrame:
        """All records as a table, the standard columns first, sorted like the grid."""
        recs = self.records()
        if not recs:
            return pd.DataFrame(columns=RESULT_COLUMNS)
        df = pd.DataFrame(recs)
        first = [c for c in RESULT_COLUMNS if c in df.columns]
        df = df[first + [c for c in df.columns if c not in first]]
        keys = [c for c in ("dataset", "model", "method", "batch_size", "noise_rate", "seed") if c in df]
        return df.sort_values(keys, kind="stable").reset_index(drop=True)

    def export_csv(self, path: str | os.PathLike | None = None) -> Path:
        path = Path(path) if path else self.root / "results.csv"
        self.frame().to_csv(path, index=False)
        return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _json_default(obj):
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, tuple | set):
        return list(obj)
    return str(obj)


# -- reading an output folder ----------------------------------------------------------------


def read_config(out_dir: str | os.PathLike) -> dict:
    """``config.json`` of an output folder ({} when there is none)."""
    path = Path(out_dir) / "config.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}


class _StoreReader(ResultStore):
    """A ResultStore opened for reading only: unlike ``ResultStore(root)`` it neither creates
    the folder nor removes temporary files, which may belong to a sweep still running."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.path = self.root / "store"


def open_store(out_dir: str | os.PathLike) -> ResultStore:
    """The result store of an existing output folder, for reading; :class:`BadInputError` if
    the folder has none."""
    out = Path(out_dir)
    if not (out / "store").is_dir():
        raise BadInputError(
            "no result store here (expected a folder written by `badlabels experiment` or "
            "`badlabels sweep`, holding store/)",
            file=str(out),
        )
    return _StoreReader(out)


def read_results(out_dir: str | os.PathLike, *, all_records: bool = False) -> pd.DataFrame:
    """The results table of an output folder, read from its store.

    By default only the cells of the last run's grid (``config.json``'s ``cell_ids``); with
    ``all_records`` every record in the store (earlier grids, other data included).
    """
    frame = open_store(out_dir).frame()
    ids = read_config(out_dir).get("cell_ids")
    if not all_records and ids and len(frame):
        frame = frame[frame["cell_id"].isin(set(ids))].reset_index(drop=True)
    return frame
