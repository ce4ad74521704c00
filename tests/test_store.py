"""The result store: one record per cell, atomic writes, no duplicates, kill leftovers ignored."""

from __future__ import annotations

import json
import os

import pytest

from badlabels.errors import BadInputError
from badlabels.experiment.grid import Cell, GridSpec
from badlabels.experiment.store import RESULT_COLUMNS, ResultStore
from badlabels.experiment.sweep import open_store, read_results


def _record(cell_id: str, auroc: float = 0.7, **kw) -> dict:
    rec = {
        "cell_id": cell_id, "dataset": "d", "model": "logreg", "method": "bce",
        "noise_type": "symmetric", "noise_rate": 0.1, "seed": 0, "batch_size": 500,
        "auroc": auroc,
    }  # fmt: skip
    rec.update(kw)
    return rec


def test_put_get_roundtrip_and_no_temp_files(tmp_path):
    store = ResultStore(tmp_path)
    store.put(_record("a1", 0.75))
    assert store.has("a1") and not store.has("b2")
    assert store.get("a1")["auroc"] == 0.75
    assert store.ids() == {"a1"}
    assert [p.name for p in store.path.iterdir()] == ["a1.json"]


def test_same_cell_twice_is_one_record(tmp_path):
    store = ResultStore(tmp_path)
    store.put(_record("a1", 0.6))
    store.put(_record("a1", 0.8))  # --force re-runs a cell: replaced, never duplicated
    assert len(store.records()) == 1
    assert store.get("a1")["auroc"] == 0.8


def test_leftover_temp_file_of_a_kill_is_ignored_and_removed(tmp_path):
    store = ResultStore(tmp_path)
    store.put(_record("a1"))
    half = store.path / ".tmp-999999999-abc123"  # written by a process that no longer exists
    half.write_text('{"cell_id": "zz", "auroc":')  # what a kill mid-write leaves
    live = store.path / f".tmp-{os.getpid()}-inflight"  # a sweep still writing
    live.write_text("{")
    assert store.ids() == {"a1"}
    assert len(store.records()) == 1
    ResultStore(tmp_path)  # a re-run opens the store: the dead process's leftover goes
    assert not half.exists()
    assert live.exists()


def test_reader_never_removes_temp_files_of_a_running_sweep(tmp_path):
    ResultStore(tmp_path).put(_record("a1"))
    writing = tmp_path / "store" / ".tmp-inflight"
    writing.write_text("{")
    assert len(open_store(tmp_path).records()) == 1
    assert writing.exists()


def test_corrupt_record_does_not_crash_reading(tmp_path):
    store = ResultStore(tmp_path)
    store.put(_record("a1"))
    (store.path / "bad.json").write_text("{not json")
    assert [r["cell_id"] for r in store.records()] == ["a1"]


def test_failed_write_leaves_nothing(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(TypeError):
        store.put({"cell_id": "x", "bad": object.__new__(_Unserialisable)})
    assert list(store.path.iterdir()) == []


class _Unserialisable:
    def __str__(self):
        raise TypeError("cannot serialise")


def test_frame_columns_and_order(tmp_path):
    store = ResultStore(tmp_path)
    for i, rate in enumerate([0.3, 0.0, 0.1]):
        store.put(_record(f"c{i}", noise_rate=rate, extra_field=i))
    df = store.frame()
    assert list(df.columns[: 3]) == [c for c in RESULT_COLUMNS if c in df.columns][:3]
    assert df["noise_rate"].tolist() == [0.0, 0.1, 0.3]
    assert "extra_field" in df.columns
    path = store.export_csv()
    assert path == tmp_path / "results.csv" and path.read_text().startswith("dataset,")


def test_read_results_keeps_the_last_grids_cells_unless_all(tmp_path):
    store = ResultStore(tmp_path)
    for cid in ("a", "b", "c"):
        store.put(_record(cid))
    (tmp_path / "config.json").write_text(json.dumps({"cell_ids": ["a", "c"]}))
    assert sorted(read_results(tmp_path)["cell_id"]) == ["a", "c"]
    assert sorted(read_results(tmp_path, all_records=True)["cell_id"]) == ["a", "b", "c"]


def test_folder_without_store_is_a_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="no result store"):
        read_results(tmp_path)
    assert not (tmp_path / "store").exists()  # reading never creates one


def test_cell_id_is_stable_and_depends_on_everything():
    cell = GridSpec(models=["logreg"], noise_rates=[0.1], seeds=[0]).cells("d", "f" * 16)[0]
    same = Cell.from_dict(json.loads(json.dumps(cell.to_dict())))
    assert same.cell_id == cell.cell_id and len(cell.cell_id) == 16
    other_data = GridSpec(models=["logreg"], noise_rates=[0.1], seeds=[0]).cells("d", "e" * 16)[0]
    assert other_data.cell_id != cell.cell_id
    assert hash(cell) == hash(same)  # a plain, hashable configuration


def test_store_writes_are_atomic_under_os_replace(tmp_path, monkeypatch):
    """If the process dies between the temporary write and the rename, no record appears."""
    store = ResultStore(tmp_path)

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        store.put(_record("a1"))
    monkeypatch.undo()
    assert store.ids() == set() and list(store.path.iterdir()) == []
