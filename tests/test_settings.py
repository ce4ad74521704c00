"""Run settings: resolved once, passed whole, recorded as they ran."""

from __future__ import annotations

import json

import pytest

from badlabels.data import make_peptide12
from badlabels.engine.stacked import resolve_precision
from badlabels.errors import BadInputError
from badlabels.experiment import GridSpec, RunSettings, run_experiment


def test_resolve_reads_the_environment_once(monkeypatch):
    monkeypatch.setenv("BADLABELS_PRECISION", "fp32")
    monkeypatch.setenv("BADLABELS_MAX_K", "3")
    s = RunSettings.resolve("cpu", engine="stacked")
    monkeypatch.setenv("BADLABELS_PRECISION", "bf16")  # later changes do not reach a run
    monkeypatch.setenv("BADLABELS_MAX_K", "7")
    assert (s.device, s.precision, s.precision_resolved, s.max_k) == ("cpu", "fp32", "fp32", 3)
    assert s.here() is s


def test_auto_precision_is_resolved_for_the_device(monkeypatch):
    monkeypatch.delenv("BADLABELS_PRECISION", raising=False)
    s = RunSettings.resolve("cpu")
    assert s.precision == "auto" and s.precision_resolved == resolve_precision("auto", "cpu")


@pytest.mark.parametrize(
    "env, match",
    [("BADLABELS_PRECISION", "BADLABELS_PRECISION='fp8' is not a precision"),
     ("BADLABELS_MAX_K", "BADLABELS_MAX_K must be an integer")],
)  # fmt: skip
def test_bad_environment_is_a_clear_error(monkeypatch, env, match):
    monkeypatch.setenv(env, "fp8")
    with pytest.raises(BadInputError, match=match):
        RunSettings.resolve("cpu")


def test_unknown_engine_or_device_is_a_clear_error():
    with pytest.raises(BadInputError, match="unknown engine"):
        RunSettings.resolve("cpu", engine="fast")
    with pytest.raises(BadInputError):
        RunSettings.resolve("tpu")


def test_ray_leaves_the_device_to_the_worker():
    s = RunSettings.resolve("auto", backend="ray")
    assert s.device == "auto" and s.precision_resolved is None
    here = s.here()  # what a Ray worker does before training
    assert here.device in ("cpu", "cuda") and here.precision_resolved is not None


def test_config_and_records_say_what_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("BADLABELS_PRECISION", "fp32")
    ds = make_peptide12(300)
    grid = GridSpec(
        models=["lstm", "logreg"], noise_rates=[0.0, 0.2], seeds=[0], batch_sizes=[64],
        max_epochs=1, patience=1, model_params={"lstm": {"hidden_sizes": (8, 4)}},
    )  # fmt: skip
    res = run_experiment(ds, grid, tmp_path, device="auto", report=False)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["device"] == "cpu" and config["settings"]["device_requested"] == "auto"
    assert config["settings"]["precision_resolved"] == "fp32"
    frame = res.results.set_index("model")
    assert set(frame["device"]) == {"cpu"}
    assert set(frame.loc["lstm", "engine"]) == {"stacked"}
    assert set(frame.loc["lstm", "precision"]) == {"fp32"}
    assert set(frame.loc["logreg", "precision"]) == {"fp64"}
