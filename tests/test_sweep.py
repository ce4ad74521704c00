"""Sweeps: the YAML file, resuming, growing the grid, --force, workers, results, and the kill test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import run_cli

from badlabels.data import make_peptide12
from badlabels.errors import BadInputError
from badlabels.experiment import GridSpec, ResultStore, RunSettings, prepare, run_cells
from badlabels.experiment.backends import RAY_MISSING, balance_units, check_backend
from badlabels.experiment.engines import plan_units
from badlabels.experiment.sweep import load_sweep_config, parse_range, run_sweep

METRICS = ["auroc", "auprc", "accuracy", "f1", "mcc", "noisy_test_auroc", "corrected_test_auroc"]
TINY_LSTM = {"lstm": {"hidden_sizes": [16, 8]}}


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def logreg_sweep(tmp_path, rates="[0.0, 0.2]", seeds="[0, 1]", out="out", extra="") -> Path:
    return write_yaml(
        tmp_path / "sweep.yaml",
        f"""\
        data:
          dataset: peptide12
          n_sequences: 400
        grid:
          models: [logreg]
          noise_rates: {rates}
          seeds: {seeds}
        run:
          out: {tmp_path / out}
          report: false
        {extra}""",
    )


# -- the file ---------------------------------------------------------------------------------


def test_example_sweep_file_parses():
    example = Path(__file__).parents[1] / "examples" / "sweep.yaml"
    cfg = load_sweep_config(example)
    assert cfg.data["dataset"] == "peptide12"
    cells = cfg.grid.cells("peptide12", "0" * 16)
    assert len(cells) > 1
    assert len({c.cell_id for c in cells}) == len(cells)
    scores = load_sweep_config(example.with_name("sweep_scores.yaml"))
    assert scores.data["task"] == "regression" and scores.data["path"].endswith("gb1_wu2016.csv.gz")
    assert len(scores.grid.cells("gb1", "0" * 16)) == 3 * 3 + 3 * 3 * 2  # ridge: mse only


def test_values_lists_scalars_ranges_and_paths(tmp_path):
    (tmp_path / "sub").mkdir()
    cfg = load_sweep_config(
        write_yaml(
            tmp_path / "sub" / "s.yaml",
            """\
            data:
              path: assay.csv
              label_col: score
              quantile: 0.5
            grid:
              models: lstm, logreg
              noise_rates: "0:0.2:0.1"
              seeds: 3
              batch_sizes: [64, 128]
              epochs: 5
              split: [0.7, 0.15, 0.15]
              model_params: {lstm: {hidden_sizes: [16, 8]}}
            run:
              workers: 2
            """,
        )
    )
    assert cfg.data["path"] == str(tmp_path / "sub" / "assay.csv")  # relative to the file
    assert cfg.grid.models == ["lstm", "logreg"]
    assert cfg.grid.noise_rates == [0.0, 0.1, 0.2]
    assert cfg.grid.seeds == [3] and cfg.grid.batch_sizes == [64, 128]
    assert cfg.grid.max_epochs == 5 and cfg.grid.split == (0.7, 0.15, 0.15)
    assert cfg.run["workers"] == 2 and cfg.run["backend"] == "local"
    cells = cfg.grid.cells("x", "f" * 16)
    assert len(cells) == 3 * 2 + 3 * 2  # lstm x batch sizes x rates, logreg likewise
    assert {c for c in cells}  # hashable even with list-valued model parameters


@pytest.mark.parametrize(
    "body, needles",
    [
        ("data: {dataset: peptide12}\ngrid:\n  modles: [lstm]\n", ["line 3", "modles", "models"]),
        ("data: {dataset: peptide12}\ngrid:\n  seeds: [0, x]\n", ["line 3", "seeds", "'x'"]),
        ("data: {dataset: peptide12}\ngrid:\n  noise_rates: '0:1'\n", ["START:STOP:STEP"]),
        ("data: {dataset: peptide12}\ngrid:\n  models: []\n", ["models", "at least one"]),
        ("grid: {models: [lstm]}\n", ["path", "dataset"]),
        ("data: {dataset: peptide12}\nextra: 1\n", ["line 2", "unknown section"]),
        ("data: {dataset: peptide12}\nrun: {workers: two}\n", ["workers", "whole number"]),
        ("data: [1, 2\n", ["not valid YAML"]),
        ("data: {dataset: peptide12}\ngrid: {noise_type: cosmic}\n", ["cosmic"]),
        ("data:\n  dataset: peptide12\n  task: regresion\n", ["line 3", "task", "regression"]),
        ("data:\n  dataset: peptide12\n  transform: ln\n", ["line 3", "log10, none"]),
        ("data:\n  dataset: peptide12\n  floor: 0\n", ["line 3", "floor", "above 0"]),
    ],
)
def test_mistakes_are_one_line_errors_with_file_and_line(tmp_path, body, needles):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(BadInputError) as exc:
        load_sweep_config(path)
    msg = str(exc.value)
    assert "\n" not in msg and "bad.yaml" in msg
    for n in needles:
        assert n in msg, (n, msg)


def test_cli_reports_a_bad_file_in_one_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("data: {dataset: peptide12}\ngrid: {seeds: [a]}\n")
    code, _, err = run_cli(["sweep", path, "-q"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "bad.yaml" in err


def test_parse_range():
    assert parse_range("0:0.5:0.25") == [0.0, 0.25, 0.5]
    with pytest.raises(BadInputError):
        parse_range("0:0.5:0")


def test_ray_missing_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(BadInputError, match=r"pip install 'badlabels\[ray\]'"):
        check_backend("ray")
    cfg = logreg_sweep(tmp_path)
    code, _, err = run_cli(["sweep", cfg, "--backend", "ray", "-q"], capsys)
    assert code == 2 and RAY_MISSING in " ".join(err.split())
    assert not (tmp_path / "out" / "store").exists() or not any((tmp_path / "out" / "store").iterdir())


def test_bad_backend_options(tmp_path, capsys):
    cfg = logreg_sweep(tmp_path)
    for extra, needle in ((["--backend", "slurm"], "slurm"), (["--workers", "0"], "--workers"),
                          (["--ray-address", "x:1"], "--backend ray")):  # fmt: skip
        code, _, err = run_cli(["sweep", cfg, "-q", *extra], capsys)
        assert code == 2 and needle in err, err


# -- resuming, growing, forcing -----------------------------------------------------------------


def test_rerun_skips_growing_runs_only_new_and_force_reruns(tmp_path, capsys):
    out = tmp_path / "out"
    cfg = logreg_sweep(tmp_path)
    code, stdout, _ = run_cli(["sweep", cfg, "-q"], capsys)
    assert code == 0 and "4 run(s) trained, 0 already" in stdout
    store = ResultStore(out)
    first = {p.name: (p.stat().st_mtime_ns, p.read_text()) for p in store.path.glob("*.json")}
    assert len(first) == 4

    t0 = time.perf_counter()
    code, stdout, _ = run_cli(["sweep", cfg, "-q"], capsys)
    assert code == 0 and "0 run(s) trained, 4 already" in stdout
    assert time.perf_counter() - t0 < 10
    assert {p.name: (p.stat().st_mtime_ns, p.read_text()) for p in store.path.glob("*.json")} == first

    grown = logreg_sweep(tmp_path, rates="[0.0, 0.2, 0.4]")  # one more noise level
    code, stdout, _ = run_cli(["sweep", grown, "-q"], capsys)
    assert code == 0 and "2 run(s) trained, 4 already" in stdout
    assert len(list(store.path.glob("*.json"))) == 6
    for name, (mtime, text) in first.items():
        assert (store.path / name).stat().st_mtime_ns == mtime
        assert (store.path / name).read_text() == text
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 6 and results["cell_id"].is_unique

    code, stdout, _ = run_cli(["sweep", grown, "-q", "--force"], capsys)
    assert code == 0 and "6 run(s) trained, 0 already" in stdout
    assert len(list(store.path.glob("*.json"))) == 6
    again = json.loads((store.path / next(iter(first))).read_text())
    before = json.loads(first[next(iter(first))][1])
    assert again["auroc"] == before["auroc"]  # same cell, same seed: same result

    # `results` reads the store back in three formats.
    code, stdout, _ = run_cli(["results", out, "--format", "csv"], capsys)
    assert code == 0 and len(pd.read_csv(__import__("io").StringIO(stdout))) == 6
    code, stdout, _ = run_cli(["results", out, "--format", "json"], capsys)
    assert code == 0 and len(json.loads(stdout)) == 6
    code, stdout, _ = run_cli(["results", out], capsys)
    assert code == 0 and "logreg" in stdout and "6 run(s)" in " ".join(stdout.split())
    code, _, err = run_cli(["results", out, "--format", "xml"], capsys)
    assert code == 2 and "--format" in err


def test_experiment_flags_make_the_same_cells_as_the_sweep_file(tmp_path, capsys):
    cfg = logreg_sweep(tmp_path)
    code, _, _ = run_cli(["sweep", cfg, "-q"], capsys)
    assert code == 0
    code, stdout, _ = run_cli(
        ["experiment", "--dataset", "peptide12", "--n-sequences", "400", "--models", "logreg",
         "--noise-rates", "0,0.2", "--seeds", "0,1", "--out", tmp_path / "out", "-q",
         "--no-report"],
        capsys,
    )  # fmt: skip
    assert code == 0 and "0 run(s) trained, 4 already" in stdout


def test_results_and_report_on_a_folder_without_store(tmp_path, capsys):
    for cmd in ("results", "report"):
        code, _, err = run_cli([cmd, tmp_path], capsys)
        assert code == 2 and "no result store" in err and len(err.strip().splitlines()) == 1


def test_sweep_writes_report_by_default_and_report_command(tmp_path, capsys):
    cfg = logreg_sweep(tmp_path, seeds="[0]", extra="")
    cfg.write_text(cfg.read_text().replace("report: false", "report: true"))
    code, stdout, _ = run_cli(["sweep", cfg, "-q"], capsys)
    out = tmp_path / "out"
    assert code == 0 and (out / "report.html").is_file()
    assert (out / "sweep.yaml").read_text() == cfg.read_text()
    (out / "report.html").unlink()
    code, stdout, _ = run_cli(["report", out], capsys)
    assert code == 0 and (out / "report.html").is_file()
    text = (out / "report.html").read_text()
    assert "sweep.yaml" in text and json.loads((out / "config.json").read_text())["data_fingerprint"] in text


# -- workers ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    """Four LSTM cells: one stacked unit in this process with workers=1, split into two units
    on two processes with workers=2; every metric identical."""
    ds = make_peptide12(500)
    grid = GridSpec(
        models=["lstm"], noise_rates=[0.0, 0.3], seeds=[0, 1], batch_sizes=[64],
        max_epochs=2, patience=2, model_params=TINY_LSTM,
    )  # fmt: skip
    cells = grid.cells(ds.name, ds.fingerprint())
    assert len(plan_units(cells)) == 1
    prepared = prepare(ds)
    by_workers = {}
    for workers in (1, 2):
        store = ResultStore(tmp_path / f"w{workers}")
        recs = run_cells(cells, prepared, store, RunSettings.resolve("cpu", workers=workers))
        assert len(recs) == 4 and store.ids() == {c.cell_id for c in cells}
        by_workers[workers] = {r["cell_id"]: r for r in recs}
    for cid, rec in by_workers[1].items():
        other = by_workers[2][cid]
        for m in METRICS:
            assert rec[m] == pytest.approx(other[m], abs=1e-9, nan_ok=True), (cid, m)
        assert rec["epochs_run"] == other["epochs_run"]


def test_balance_units_splits_big_units_for_the_workers():
    units = [[1, 2, 3, 4, 5, 6, 7, 8], [9]]
    assert balance_units(units, 1) == units
    assert balance_units(units, 2) == units
    assert balance_units(units, 3) == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert balance_units(units, 4) == [[1, 2], [3, 4], [5, 6, 7, 8], [9]]
    assert balance_units([[1], [2]], 8) == [[1], [2]]
    flat = [c for u in balance_units(units, 20) for c in u]
    assert flat == list(range(1, 10))


def test_a_failing_cell_in_a_worker_surfaces(tmp_path):
    ds = make_peptide12(300)
    grid = GridSpec(models=["logreg"], noise_rates=[0.0, 0.1], seeds=[0])
    cells = grid.cells(ds.name, ds.fingerprint())
    bad = [type(c)(**{**c.__dict__, "model": "nope"}) for c in cells]
    with pytest.raises(Exception, match="nope"):
        run_cells(bad, prepare(ds), ResultStore(tmp_path), RunSettings.resolve("cpu", workers=2))


# -- the kill test ---------------------------------------------------------------------------

KILL_SWEEP = """\
data:
  dataset: peptide12
  n_sequences: 600
grid:
  models: [lstm, logreg]
  noise_rates: [0.0, 0.2, 0.4]
  seeds: [0, 1]
  batch_sizes: [64]
  epochs: 2
  patience: 2
  model_params: {{lstm: {{hidden_sizes: [16, 8]}}}}
run:
  out: {out}
  device: cpu
  engine: plain   # one record per cell as it finishes, so the kill lands between cells
"""


def _snapshot(store_dir: Path) -> dict[str, tuple[int, str]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_text()) for p in store_dir.glob("*.json")}


@pytest.mark.slow
def test_kill_and_resume_twelve_cells(tmp_path, capsys):
    out = tmp_path / "out"
    cfg = tmp_path / "kill.yaml"
    cfg.write_text(KILL_SWEEP.format(out=out))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "badlabels", "sweep", str(cfg), "-q", "--no-report"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env=env,
    )  # fmt: skip
    store_dir = out / "store"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            if store_dir.is_dir() and len(list(store_dir.glob("*.json"))) >= 2:
                break
            if proc.poll() is not None:
                pytest.fail(f"sweep ended before the kill: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.02)
        else:
            pytest.fail("no two finished cells within 240 s")
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = _snapshot(store_dir)
    assert 2 <= len(before) < 12, "the kill must land mid-sweep"
    for _, text in before.values():
        json.loads(text)  # every record whole

    code, stdout, _ = run_cli(["sweep", cfg, "-q", "--no-report"], capsys)
    assert code == 0
    assert f"{12 - len(before)} run(s) trained, {len(before)} already in the store" in stdout

    files = sorted(store_dir.iterdir())
    assert not [p for p in files if p.name.startswith(".tmp-")]
    records = [json.loads(p.read_text()) for p in files]
    assert len(records) == 12
    ids = [r["cell_id"] for r in records]
    assert len(set(ids)) == 12
    assert set(ids) == set(json.loads((out / "config.json").read_text())["cell_ids"])
    after = _snapshot(store_dir)
    for name, snap in before.items():
        assert after[name] == snap  # not trained again: same bytes, same mtime

    # A finished sweep: nothing trains, back in well under 10 s (report included).
    t0 = time.perf_counter()
    code, stdout, _ = run_cli(["sweep", cfg, "-q"], capsys)
    elapsed = time.perf_counter() - t0
    assert code == 0 and "0 run(s) trained, 12 already" in stdout
    assert elapsed < 10, elapsed
    assert _snapshot(store_dir) == after
    print(f"\nkill test: {len(before)} record(s) before SIGKILL, {12 - len(before)} trained on "
          f"resume, 12 records at the end; finished re-run {elapsed:.1f} s")  # fmt: skip
    assert len(pd.read_csv(out / "results.csv")) == 12


def test_run_sweep_api_overrides_file(tmp_path):
    cfg = load_sweep_config(logreg_sweep(tmp_path, rates="[0.0]", seeds="[0]"))
    result = run_sweep(cfg, out=tmp_path / "elsewhere", report=False)
    assert result.n_trained == 1 and (tmp_path / "elsewhere" / "store").is_dir()
    assert not (tmp_path / "out").exists()
