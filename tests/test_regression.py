"""Continuous scores: loading with a task, the regressors, and a small regression experiment."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_regressor

from badlabels.data import load_data
from badlabels.data.dataset import Dataset
from badlabels.data.regression import as_regression, transform_scores
from badlabels.errors import BadInputError
from badlabels.methods.regression import build_regressor
from badlabels.models import load_model, save_model
from badlabels.models.regression import REGRESSORS, LSTMRegressor, RidgeRegressor

AA = np.array(list("ACDEFGHIKLMNPQRSTVWY"))


def _landscape(n=600, length=5, seed=0):
    """Sequences whose (log-scale) score is additive in the residues, plus a little noise."""
    rng = np.random.default_rng(seed)
    seqs = np.array(["".join(rng.choice(AA, length)) for _ in range(n * 2)], dtype=object)
    seqs = np.unique(seqs)[:n]
    effects = rng.normal(size=(length, 20))
    idx = np.array([[np.searchsorted(AA, c) for c in s] for s in seqs])
    log_score = effects[np.arange(length), idx].sum(axis=1) / 2 + rng.normal(scale=0.1, size=n)
    return seqs, 10.0 ** log_score


@pytest.fixture
def score_csv(tmp_path):
    seqs, score = _landscape()
    path = tmp_path / "scores.csv"
    pd.DataFrame({"sequence": seqs, "label": score}).to_csv(path, index=False)
    return path


# -- data --------------------------------------------------------------------------------------


def test_transform_log10_floor_and_none():
    assert np.allclose(transform_scores([0.0, 1e-6, 1.0, 100.0]), [-4, -4, 0, 2])
    assert np.allclose(transform_scores([0.0, 2.0], "none"), [0.0, 2.0])
    with pytest.raises(BadInputError, match="negative"):
        transform_scores([-1.0, 1.0])
    with pytest.raises(BadInputError, match="floor must be"):
        transform_scores([1.0], floor=0)
    with pytest.raises(BadInputError, match="unknown score transform"):
        transform_scores([1.0], "sqrt")


def test_load_task_auto_picks_regression_for_continuous_labels(score_csv):
    ds = load_data(score_csv, task="auto")
    assert ds.is_regression and ds.targets is not None
    assert "continuous" in ds.extra["task_reason"]
    assert np.allclose(ds.targets, np.log10(np.maximum(ds.scores, 1e-4)))
    assert abs(ds.positive_fraction - 0.5) < 0.01  # labels = targets > median
    # the default stays classification: a continuous column without a cutoff is an error
    with pytest.raises(BadInputError, match="--task regression"):
        load_data(score_csv)
    # a cutoff means classification, also under auto
    assert not load_data(score_csv, task="auto", quantile=0.5).is_regression


def test_load_regression_rejects_a_cutoff_and_bad_task(score_csv):
    with pytest.raises(BadInputError, match="drop --threshold"):
        load_data(score_csv, task="regression", threshold=1.0)
    with pytest.raises(BadInputError, match="unknown task"):
        load_data(score_csv, task="ranking")


def test_regression_dataset_subset_and_fingerprint():
    base = Dataset(sequences=["AC", "AD", "AE", "AF"], labels=[0, 1, 0, 1],
                   scores=np.array([0.0, 1.0, 10.0, 100.0]))  # fmt: skip
    ds = as_regression(base)
    assert ds.task == "regression" and ds.extra["score_transform"]["transform"] == "log10"
    sub = ds.subset([1, 2])
    assert sub.is_regression and np.allclose(sub.targets, [0.0, 1.0])
    assert ds.fingerprint() != base.fingerprint()
    assert ds.fingerprint() != as_regression(base, "none").fingerprint()
    with pytest.raises(ValueError):
        Dataset(sequences=["A"], labels=[0], task="regression")


# -- models ------------------------------------------------------------------------------------


def test_regressors_state_mse_default_and_clone():
    for name, cls in REGRESSORS.items():
        est = cls()
        params = est.get_params()
        if name != "ridge":
            assert params["loss"] == "mse", name
        assert type(clone(est)) is cls
        assert is_regressor(est), name
    assert LSTMRegressor(loss="huber").get_params()["loss"] == "huber"


def test_lstm_regressor_learns_and_predicts_in_score_units():
    seqs, score = _landscape(n=800)
    y = np.log10(score) * 3 + 7  # any units: standardised inside, reported back
    est = LSTMRegressor(hidden_sizes=(32, 8), batch_size=32, lr=3e-3, max_epochs=30, patience=5,
                        random_state=0, device="cpu")  # fmt: skip
    est.fit(seqs[:600], y[:600])
    pred = est.predict(seqs[600:])
    assert abs(est.target_mean_ - y[:600].mean()) < 1e-9
    assert np.corrcoef(pred, y[600:])[0, 1] > 0.5
    assert abs(pred.mean() - y[600:].mean()) < 1.0
    with pytest.raises(BadInputError, match="predicts scores"):
        est.predict_proba(seqs[:3])


def test_regressor_input_errors_are_one_line():
    est = LSTMRegressor(max_epochs=1, device="cpu")
    with pytest.raises(BadInputError, match="not a finite number"):
        est.fit(["AC", "AD"], [1.0, float("nan")])
    with pytest.raises(BadInputError, match="every training score is the same"):
        est.fit(["AC", "AD", "AE"], [1.0, 1.0, 1.0])
    with pytest.raises(BadInputError, match="not a regression loss"):
        LSTMRegressor(loss="bce").fit(["AC", "AD"], [0.0, 1.0])
    with pytest.raises(BadInputError, match="unknown regression method"):
        build_regressor("lstm", "gce")
    with pytest.raises(BadInputError, match="ridge is fitted by least squares"):
        build_regressor("ridge", "huber")
    with pytest.raises(BadInputError, match="unknown regression model"):
        build_regressor("logreg")


def test_a_classifier_refuses_a_regression_loss():
    from badlabels.models import LSTMClassifier

    with pytest.raises(BadInputError, match="is a regression loss"):
        LSTMClassifier(loss="huber", max_epochs=1).fit(["AC", "AD"], [0, 1])


def test_ridge_fits_an_additive_landscape_and_refuses_other_lengths():
    seqs, score = _landscape(n=600)
    y = np.log10(score)
    est = RidgeRegressor().fit(seqs[:500], y[:500])
    assert np.corrcoef(est.predict(seqs[500:]), y[500:])[0, 1] > 0.9
    with pytest.raises(BadInputError, match="length"):
        est.predict(["ACD"])


@pytest.mark.parametrize("name", ["lstm", "ridge", "cnn"])
def test_save_load_regressor_round_trip(tmp_path, name):
    seqs, score = _landscape(n=300)
    y = np.log10(score)
    est = build_regressor(name, "huber" if name == "cnn" else "mse",
                          model_params={"max_epochs": 2, "random_state": 0, "device": "cpu"})  # fmt: skip
    est.fit(seqs, y)
    save_model(est, tmp_path / name)
    info = json.loads((tmp_path / name / "model.json").read_text())
    assert info["task"] == "regression"
    back = load_model(tmp_path / name)
    assert type(back) is type(est)
    assert np.max(np.abs(back.predict(seqs) - est.predict(seqs))) < 1e-6


# -- experiment --------------------------------------------------------------------------------


def test_regression_experiment_end_to_end(score_csv, tmp_path):
    from badlabels.experiment import GridSpec, run_experiment

    ds = load_data(score_csv, task="regression")
    grid = GridSpec(models=["ridge", "lstm"], methods=["mse", "huber"], noise_type="outliers",
                    noise_rates=[0.0, 0.3], seeds=[0, 1], max_epochs=2, patience=2,
                    model_params={"lstm": {"hidden_sizes": (16, 4)}})  # fmt: skip
    res = run_experiment(ds, grid, tmp_path / "exp", device="cpu")
    frame = res.results
    assert len(frame) == 2 * 2 + 2 * 2 * 2  # ridge: mse only
    assert set(frame["task"]) == {"regression"}
    for col in ("spearman", "pearson", "r2", "ndcg", "top10_recall", "noisy_test_spearman"):
        assert col in frame
    ridge0 = frame.query("model == 'ridge' and noise_rate == 0")
    assert (ridge0["spearman"] > 0.8).all()
    assert np.allclose(frame.query("noise_rate == 0")["realized_flip_rate"], 0)
    assert np.allclose(frame.query("noise_rate == 0.3")["realized_flip_rate"], 0.3, atol=0.01)
    summary = (tmp_path / "exp" / "summary.md").read_text()
    assert "Clean-test Spearman" in summary and "paired over seeds" in summary
    html = (tmp_path / "exp" / "report.html").read_text()
    assert "Resilience to score noise" in html and "Methods compared (paired)" in html
    # resumable: nothing trains again
    again = run_experiment(ds, grid, tmp_path / "exp", device="cpu")
    assert again.n_trained == 0
    # the folder's report and table are redrawn from it
    from badlabels.cli import main

    (tmp_path / "exp" / "report.html").unlink()
    for args in (["report", str(tmp_path / "exp")], ["results", str(tmp_path / "exp")]):
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 0
    assert "Resilience to score noise" in (tmp_path / "exp" / "report.html").read_text()


def test_stacked_regression_cells_are_the_plain_ones(score_csv):
    """LSTM regression cells train stacked (one unit), and in float32 each is its plain
    LSTMRegressor up to rounding: same epochs, same metrics to 1e-3."""
    from badlabels.experiment import GridSpec
    from badlabels.experiment.engines import plan_units, run_unit
    from badlabels.experiment.runner_core import prepare
    from badlabels.experiment.settings import RunSettings

    ds = load_data(score_csv, task="regression")
    grid = GridSpec(models=["lstm", "ridge"], methods=["mse", "huber"], noise_type="outliers",
                    noise_rates=[0.0, 0.3], seeds=[0, 1], batch_sizes=[100], max_epochs=4,
                    patience=2, model_params={"lstm": {"hidden_sizes": (16, 4)}})  # fmt: skip
    cells = grid.cells(ds.name, ds.fingerprint())
    prepared = prepare(ds)
    units = plan_units(cells, RunSettings.resolve("cpu"))
    lstm = [c for c in cells if c.model == "lstm"]
    assert sorted(len(u) for u in units) == [1] * (len(cells) - len(lstm)) + [len(lstm)]
    unit = next(u for u in units if len(u) > 1)
    stacked = run_unit(unit, prepared, RunSettings.resolve("cpu", precision="fp32"))
    plain = [run_unit([c], prepared, RunSettings.resolve("cpu", engine="plain"))[0] for c in unit]
    assert {r["engine"] for r in stacked} == {"stacked"} and {r["engine"] for r in plain} == {"plain"}
    for s, p in zip(stacked, plain, strict=True):
        assert set(s) == set(p) and s["cell_id"] == p["cell_id"]
        assert s["epochs_run"] == p["epochs_run"] and s["best_epoch"] == p["best_epoch"]
        assert s["realized_flip_rate"] == p["realized_flip_rate"]
        for key in ("spearman", "pearson", "r2", "ndcg", "noisy_test_spearman"):
            assert s[key] == pytest.approx(p[key], abs=1e-3), key
    assert len({round(r["spearman"], 6) for r in stacked}) == len(stacked)  # eight models


def test_regression_grid_errors(score_csv, tmp_path):
    from badlabels.experiment import GridSpec, run_experiment

    ds = load_data(score_csv, task="regression")
    for kw, msg in [
        (dict(noise_type="symmetric"), "corrupts yes/no labels"),
        (dict(noise_type="outliers", methods=["gce"]), "trains a classifier"),
        (dict(noise_type="outliers", models=["logreg"], methods=["mse"]), "ridge is the linear"),
    ]:
        with pytest.raises(BadInputError, match=msg):
            run_experiment(ds, GridSpec(**{"methods": ["mse"], **kw}), tmp_path / "bad")
    labels = load_data(score_csv, quantile=0.5)
    with pytest.raises(BadInputError, match="pass --task regression"):
        run_experiment(labels, GridSpec(noise_type="outliers"), tmp_path / "bad2")
    with pytest.raises(BadInputError, match="regression loss"):
        run_experiment(labels, GridSpec(methods=["huber"]), tmp_path / "bad3")


def test_cli_experiment_regression(score_csv, tmp_path, capsys):
    from badlabels.cli import main

    out = tmp_path / "cli"
    with pytest.raises(SystemExit) as exc:
        main(["experiment", "--data", str(score_csv), "--models", "ridge", "--noise-type",
              "gaussian", "--noise-rates", "0,1", "--out", str(out), "--quiet"])  # fmt: skip
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "Task: regression" in text and "Spearman" in text
    frame = pd.read_csv(out / "results.csv")
    assert list(frame["noise_type"].unique()) == ["gaussian"]
    # gaussian noise at 1 sd hurts the clean-test Spearman less than it hurts the noisy one
    one = frame[frame["noise_rate"] == 1].iloc[0]
    assert one["spearman"] > one["noisy_test_spearman"]
    with pytest.raises(SystemExit) as exc:
        main(["experiment", "--data", str(score_csv), "--task", "regression", "--methods", "bce",
              "--out", str(tmp_path / "x"), "--quiet"])  # fmt: skip
    assert exc.value.code == 2


def test_sweep_file_on_scores_takes_the_regression_defaults(score_csv, tmp_path, capsys):
    from badlabels.cli import main
    from badlabels.experiment.sweep import load_sweep_config, load_sweep_data

    path = tmp_path / "sweep.yaml"
    path.write_text(f"data:\n  path: {score_csv.name}\n  transform: log10\n"
                    "grid:\n  models: [ridge]\n  noise_rates: [0, 0.3]\n"
                    f"run:\n  out: {tmp_path / 'sw'}\n")  # fmt: skip
    cfg = load_sweep_config(path)
    ds = load_sweep_data(cfg)  # task auto: a continuous label column is a score
    assert ds.is_regression
    grid = cfg.grid_for(ds)
    assert grid.models == ["ridge"] and grid.noise_rates == [0.0, 0.3]  # as written
    assert grid.methods == ["mse"] and grid.noise_type == "outliers"  # the score defaults
    labels = load_data(score_csv, quantile=0.5)
    assert cfg.grid_for(labels) is cfg.grid  # labels: the grid as written
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(path), "-q"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "continuous scores" in text and "regression on log10" in text
    frame = pd.read_csv(tmp_path / "sw" / "results.csv")
    assert set(frame["task"]) == {"regression"} and set(frame["noise_type"]) == {"outliers"}
    assert sorted(frame["noise_rate"]) == [0.0, 0.3]
    assert frame.query("noise_rate == 0")["spearman"].iloc[0] > 0.8
    # a classification method on scores is the same one-line error as in `experiment`
    path.write_text(path.read_text().replace("models: [ridge]", "methods: [gce]"))
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(path), "-q"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "trains a classifier" in err and len(err.strip().splitlines()) == 1


@pytest.mark.browser
def test_regression_report_renders_in_chromium(score_csv, tmp_path):
    from test_report import render_in_chromium

    from badlabels.experiment import GridSpec, run_experiment

    ds = load_data(score_csv, task="regression")
    grid = GridSpec(models=["ridge"], methods=["mse"], noise_type="outliers",
                    noise_rates=[0.0, 0.2, 0.45], seeds=[0])  # fmt: skip
    run_experiment(ds, grid, tmp_path / "exp", device="cpu")
    render_in_chromium(tmp_path / "exp" / "report.html", tmp_path)


def test_cli_corrupt_scores_then_audit(score_csv, tmp_path, capsys):
    from badlabels.cli import main

    noisy = tmp_path / "noisy.csv"
    with pytest.raises(SystemExit) as exc:
        main(["corrupt", "--data", str(score_csv), "--rate", "0.2", "--seed", "3",
              "--out", str(noisy)])  # fmt: skip
    assert exc.value.code == 0
    frame = pd.read_csv(noisy)
    assert list(frame.columns) == ["sequence", "score", "score_noisy", "is_changed", "moved_1sd"]
    assert frame["is_changed"].sum() == round(0.2 * len(frame))
    moved = (frame["score_noisy"] - frame["score"]).abs() > frame["score"].std(ddof=0)
    assert (frame["moved_1sd"].astype(bool) == (moved & frame["is_changed"].astype(bool))).all()
    assert "scores changed" in capsys.readouterr().out
    # the file holds log10 scores: auditing it with the default log10 says what to pass
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--data", str(noisy), "--label-col", "score_noisy", "--model", "ridge",
              "--out", str(tmp_path / "wrong")])  # fmt: skip
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    first_negative = frame.loc[frame["score_noisy"] < 0, "sequence"].iloc[0]
    assert len(err.splitlines()) == 1 and "--transform none" in err
    assert f"sequence {first_negative}" in err and "noisy.csv" in err
    out = tmp_path / "audit"
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--data", str(noisy), "--label-col", "score_noisy", "--transform", "none",
              "--truth-col", "moved_1sd", "--model", "ridge", "--out", str(out)])  # fmt: skip
    assert exc.value.code == 0
    summary = json.loads((out / "audit.json").read_text())
    # the additive landscape is easy: the replaced scores stand out
    assert summary["task"] == "regression" and summary["detection"]["precision"] > 0.6
    suspects = pd.read_csv(out / "suspects.csv")
    top = suspects.head(int(frame["moved_1sd"].sum()))
    assert (top["moved_1sd"] == "yes").mean() > 0.6
