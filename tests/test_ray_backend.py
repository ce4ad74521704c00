"""--backend ray: the same metrics as the local backend, with a local Ray started in the test."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from badlabels.data import make_peptide12
from badlabels.experiment import GridSpec, ResultStore, RunSettings, prepare, run_cells

ray = pytest.importorskip(
    "ray", reason="Ray is not installed (pip install 'badlabels[ray]'; .ci/run installs it)"
)

METRICS = ["auroc", "auprc", "accuracy", "f1", "mcc", "noisy_test_auroc", "corrected_test_auroc"]


@pytest.fixture(scope="module")
def local_ray():
    ctx = ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False
    )
    yield ctx.address_info["address"]
    ray.shutdown()


@pytest.mark.ray
@pytest.mark.slow
def test_ray_matches_local_on_a_four_cell_cpu_grid(tmp_path):
    """No address: run_cells starts a local Ray (2 CPUs) and shuts it down at the end."""
    assert not ray.is_initialized()
    ds = make_peptide12(500)
    grid = GridSpec(
        models=["lstm", "logreg"], noise_rates=[0.0, 0.3], seeds=[0], batch_sizes=[64],
        max_epochs=2, patience=2, model_params={"lstm": {"hidden_sizes": (16, 8)}},
    )  # fmt: skip
    cells = grid.cells(ds.name, ds.fingerprint())
    assert len(cells) == 4
    prepared = prepare(ds)
    local = run_cells(cells, prepared, ResultStore(tmp_path / "local"), RunSettings.resolve("cpu"))
    store = ResultStore(tmp_path / "ray")
    remote = run_cells(cells, prepared, store, RunSettings.resolve("cpu", backend="ray", workers=2))
    assert store.ids() == {c.cell_id for c in cells}  # every record landed in the store
    by_id = {r["cell_id"]: r for r in remote}
    worst = 0.0
    for rec in local:
        other = by_id[rec["cell_id"]]
        for m in METRICS:
            a, b = rec[m], other[m]
            if math.isnan(a) and math.isnan(b):
                continue
            worst = max(worst, abs(a - b))
    assert worst <= 1e-6, worst
    assert not ray.is_initialized()  # the Ray it started is gone


@pytest.mark.ray
@pytest.mark.slow
def test_sweep_cli_joins_a_running_cluster(tmp_path, local_ray):
    """Another driver process (the CLI) joins the cluster at --ray-address."""
    cfg = tmp_path / "s.yaml"
    cfg.write_text(
        "data: {dataset: peptide12, n_sequences: 300}\n"
        "grid: {models: [logreg], noise_rates: [0.0, 0.2], seeds: [0]}\n"
        f"run: {{out: {tmp_path / 'out'}, report: false}}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "badlabels", "sweep", str(cfg), "-q", "--backend", "ray",
         "--ray-address", local_ray],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 run(s) trained" in proc.stdout
    assert len(list((tmp_path / "out" / "store").glob("*.json"))) == 2
