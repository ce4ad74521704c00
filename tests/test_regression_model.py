"""``badlabels train`` / ``predict`` of regression models: a predicted score column that matches
the in-memory model, and the one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import one_line_error, run_cli

from badlabels.cli import main
from badlabels.data import load_data, make_peptide12
from badlabels.errors import BadInputError
from badlabels.finalmodel import DEFAULT_SCORE_COL, predict_file, train_final
from badlabels.models.persist import load_model

GB1 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gb1_wu2016.csv.gz"
needs_gb1 = pytest.mark.skipif(not GB1.exists(), reason=f"GB1 data file not found at {GB1}")




@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A tiny CSV with a continuous, positive ``fitness`` column, and new sequences."""
    d = tmp_path_factory.mktemp("reg")
    ds = make_peptide12(120, seed=5)
    rng = np.random.default_rng(0)
    logf = np.array([0.3 * s.count("A") - 0.2 * s.count("W") for s in ds.sequences])
    fitness = 10 ** (logf + rng.normal(0, 0.1, len(logf)))
    train = d / "train.csv"
    pd.DataFrame({"sequence": ds.sequences, "fitness": fitness}).to_csv(train, index=False)
    new = d / "new.csv"
    fresh = make_peptide12(100, seed=6)
    pd.DataFrame({"id": np.arange(100), "sequence": fresh.sequences}).to_csv(new, index=False)
    return train, new, fresh.sequences


LSTM_ARGS = ["--model", "lstm", "--epochs", "2", "--batch-size", "50", "--device", "cpu",
             "--model-param", "lstm.hidden_sizes=[16,8]"]  # fmt: skip


@pytest.fixture(scope="module")
def trained(files, tmp_path_factory):
    """Models trained through the CLI: ridge and a 2-epoch LSTM, ``--task regression``."""
    root = tmp_path_factory.mktemp("models")
    out = {}
    for name, args in (("ridge", ["--model", "ridge"]), ("lstm", LSTM_ARGS)):
        d = root / name
        with pytest.raises(SystemExit) as exc:
            main(["train", "--data", str(files[0]), "--label-col", "fitness", "--task",
                  "regression", *args, "--out", str(d), "-q"])  # fmt: skip
        assert exc.value.code == 0
        out[name] = d
    return out


@pytest.mark.parametrize("name", ["ridge", "lstm"])
def test_predict_matches_the_in_memory_model(trained, files, tmp_path, capsys, name):
    model_dir = trained[name]
    cfg = json.loads((model_dir / "model.json").read_text())
    meta = cfg["metadata"]
    assert cfg["task"] == "regression" and meta["task"] == "regression"
    assert meta["method"] == "mse"
    assert meta["data"]["label_col"] == "fitness"
    assert meta["data"]["units"] == "log10(fitness)"
    assert meta["score_transform"] == {"transform": "log10", "floor": 1e-4}
    m = meta["validation"]["metrics_on_noisy_scores"]
    assert {"spearman", "pearson", "r2"} <= set(m)
    assert "metrics_on_noisy_labels" not in meta["validation"]

    out = tmp_path / "pred.csv"
    code, stdout, err = run_cli(["predict", str(model_dir), str(files[1]), "--out", str(out),
                                 "-q"], capsys)  # fmt: skip
    assert code == 0, err
    assert "predicted_score" in stdout and "log10(fitness)" in stdout
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["id", "sequence", DEFAULT_SCORE_COL]
    got = pred[DEFAULT_SCORE_COL].to_numpy()

    loaded = load_model(model_dir, device="cpu")
    np.testing.assert_allclose(got, loaded.predict(files[2]), rtol=0, atol=1e-6)

    # the same data, seed and options trained in memory give the same predictions
    ds = load_data(files[0], label_col="fitness", task="regression")
    params = {"max_epochs": 2, "batch_size": 50, "device": "cpu", "hidden_sizes": (16, 8),
              "patience": 6, "lr": 1e-3}  # fmt: skip
    est, mem_meta = train_final(ds, name, model_params=params, seed=0)
    assert mem_meta["data"]["fingerprint"] == meta["data"]["fingerprint"]
    np.testing.assert_allclose(got, est.predict(files[2]), rtol=0, atol=1e-6)


def test_train_prints_regression_metrics(files, tmp_path, capsys):
    code, out, err = run_cli(["train", "--data", str(files[0]), "--label-col", "fitness",
                              "--model", "ridge", "--out", str(tmp_path / "m"), "-q"], capsys)  # fmt: skip
    assert code == 0, err
    text = " ".join(out.split())
    assert "Task: regression" in text  # --task auto: a continuous column, no --threshold
    assert "Spearman" in text and "Pearson" in text and "R²" in text
    assert "AUROC" not in text and "positive" not in text
    meta = json.loads((tmp_path / "m" / "model.json").read_text())["metadata"]
    assert meta["task"] == "regression"


def test_transform_none_is_in_the_score_units(files, tmp_path, capsys):
    d = tmp_path / "m"
    code, _, err = run_cli(["train", "--data", str(files[0]), "--label-col", "fitness",
                            "--task", "regression", "--transform", "none", "--model", "ridge",
                            "--out", str(d), "-q"], capsys)  # fmt: skip
    assert code == 0, err
    meta = json.loads((d / "model.json").read_text())["metadata"]
    assert meta["data"]["units"] == "fitness"
    assert meta["score_transform"]["transform"] == "none"
    s = predict_file(d, files[1], tmp_path / "p.csv", device="cpu")
    assert s.task == "regression" and s.score_col == DEFAULT_SCORE_COL and s.prob_col is None
    assert s.units == "fitness" and s.column == DEFAULT_SCORE_COL


def test_classification_method_with_regression_task_is_one_line(files, tmp_path, capsys):
    base = ["train", "--data", str(files[0]), "--label-col", "fitness", "--out",
            str(tmp_path / "m"), "-q"]  # fmt: skip
    code, _, err = run_cli([*base, "--task", "regression", "--method", "bce"], capsys)
    one_line_error(code, err, "'bce'", "mse, huber, student_t")
    code, _, err = run_cli([*base, "--method", "robust", "--model", "ridge"], capsys)
    one_line_error(code, err, "'robust'", "mse, huber, student_t")
    # and the other way round: a regression method on labels
    code, _, err = run_cli([*base, "--threshold", "1", "--model", "logreg", "--method", "mse"],
                           capsys)  # fmt: skip
    one_line_error(code, err, "'mse'", "bce", "--task regression")
    ds = load_data(files[0], label_col="fitness", task="regression")
    with pytest.raises(BadInputError, match="not a regression method"):
        train_final(ds, "ridge", "gce")


def test_prob_and_score_columns_belong_to_their_kind(trained, files, tmp_path, capsys):
    code, _, err = run_cli(["predict", str(trained["ridge"]), str(files[1]), "--out",
                            str(tmp_path / "p.csv"), "--prob-col", "p", "-q"], capsys)  # fmt: skip
    one_line_error(code, err, "regression model", "--score-col")
    clf = tmp_path / "clf"
    code, out, err = run_cli(["train", "--data", str(files[0]), "--label-col", "fitness",
                              "--threshold", "1", "--model", "logreg", "--method", "bce",
                              "--out", str(clf), "-q"], capsys)  # fmt: skip
    assert code == 0, err
    assert "AUROC" in out
    meta = json.loads((clf / "model.json").read_text())["metadata"]
    assert "task" not in meta and "metrics_on_noisy_labels" in meta["validation"]
    code, _, err = run_cli(["predict", str(clf), str(files[1]), "--out",
                            str(tmp_path / "p.csv"), "--score-col", "s", "-q"], capsys)  # fmt: skip
    one_line_error(code, err, "classifier", "--prob-col")
    s = predict_file(clf, files[1], tmp_path / "p.csv")
    assert s.task == "classification" and s.prob_col == "prob_positive" and s.score_col is None
    # a predicted score column already in the input is refused, as a probability column is
    clash = tmp_path / "clash.csv"
    pd.DataFrame({"sequence": files[2][:3], "predicted_score": [1, 2, 3]}).to_csv(clash)
    code, _, err = run_cli(["predict", str(trained["ridge"]), str(clash), "--out",
                            str(tmp_path / "q.csv"), "-q"], capsys)  # fmt: skip
    one_line_error(code, err, "'predicted_score'", "--score-col")


def test_predict_checks_input_as_for_classifiers(trained, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("sequence\nACDEFGHIKLMN\nACDEFGHIKLMB\n")
    code, _, err = run_cli(["predict", str(trained["lstm"]), str(bad), "--out",
                            str(tmp_path / "p.csv"), "-q"], capsys)  # fmt: skip
    one_line_error(code, err, "row 3", "'B'")
    assert not (tmp_path / "p.csv").exists()


@needs_gb1
def test_gb1_ridge_round_trip(tmp_path, capsys):
    d = tmp_path / "gb1"
    part = tmp_path / "gb1_part.csv"
    pd.read_csv(GB1, nrows=3000).to_csv(part, index=False)  # GB1's first rows, the wild type too
    code, _, err = run_cli(["train", "--dataset", "gb1", "--data", str(part), "--task",
                            "regression", "--model", "ridge", "--out", str(d), "-q"], capsys)  # fmt: skip
    assert code == 0, err
    new = tmp_path / "new.csv"
    frame = pd.read_csv(GB1, nrows=4000).iloc[3000:]
    frame[["variant"]].to_csv(new, index=False)
    s = predict_file(d, new, tmp_path / "p.csv")
    got = pd.read_csv(s.out)[DEFAULT_SCORE_COL].to_numpy()
    model = load_model(d)
    np.testing.assert_allclose(got, model.predict(frame["variant"].to_numpy(object)), atol=1e-6)
    assert s.units == "log10(fitness)"


def test_depth_weights_by_hand():
    from badlabels.data import Dataset
    from badlabels.data.regression import depth_weights

    cs, ci = np.array([0.0, 9.5, 99.5, 999.5]), np.array([9.5, 99.5, 99.5, 999.5])
    ds = Dataset(np.array(["AC", "AD", "AE", "AF"], dtype=object), np.array([0, 0, 1, 1]),
                 name="toy", counts={"count_input": ci, "count_selected": cs})  # fmt: skip
    w, tau2 = depth_weights(ds)
    v = 1 / (cs + 0.5) + 1 / (ci + 0.5)
    assert tau2 == pytest.approx(np.median(v))
    raw = 1 / (tau2 + v)
    np.testing.assert_allclose(w, raw / raw.mean())
    assert np.all(np.diff(w) > 0)  # the better counted, the heavier
    with pytest.raises(BadInputError, match="need read counts"):
        depth_weights(Dataset(ds.sequences, ds.labels, name="toy"))
    bad = Dataset(ds.sequences, ds.labels, name="toy",
                  counts={"count_input": ci, "count_selected": -cs})  # fmt: skip
    with pytest.raises(BadInputError, match="sequence AD"):
        depth_weights(bad)


def _count_file(path, n=600, seed=3):
    """A count file: sequences, count_input, count_selected and fitness = their ratio."""
    ds = make_peptide12(n, seed=seed)
    rng = np.random.default_rng(seed)
    ci = rng.integers(5, 3000, n)
    logf = np.array([0.3 * s.count("A") - 0.2 * s.count("W") for s in ds.sequences])
    cs = rng.poisson(ci * 10 ** logf / 2)
    pd.DataFrame({"variant": ds.sequences, "count_input": ci, "count_selected": cs,
                  "fitness": (cs + 0.5) / (ci + 0.5)}).to_csv(path, index=False)  # fmt: skip
    return path


def test_train_weights_by_read_depth(tmp_path, capsys):
    """--weights depth: a different model from the same seed, recorded in model.json; one-line
    errors for labels, files without counts and unknown kinds."""
    part = _count_file(tmp_path / "counts.csv")
    base = ["train", "--data", str(part), "--seq-col", "variant", "--label-col", "fitness",
            *LSTM_ARGS, "-q"]  # fmt: skip
    metas, preds = {}, {}
    for kind in ("none", "depth"):
        d = tmp_path / kind
        code, out, err = run_cli([*base, "--weights", kind, "--out", str(d)], capsys)
        assert code == 0, err
        metas[kind] = json.loads((d / "model.json").read_text())["metadata"]["training"]["weights"]
        preds[kind] = load_model(d).predict(pd.read_csv(part)["variant"].to_numpy(object)[:50])
        assert ("weighted by read depth" in out) == (kind == "depth")
    assert metas["none"] == {"kind": "none"}
    assert metas["depth"]["kind"] == "depth" and metas["depth"]["tau2"] > 0
    assert metas["depth"]["min"] < 1 < metas["depth"]["max"]
    assert not np.allclose(preds["none"], preds["depth"])
    no_counts = tmp_path / "no_counts.csv"
    pd.read_csv(part)[["variant", "fitness"]].to_csv(no_counts, index=False)
    cases = [
        ([*base, "--weights", "depth", "--quantile", "0.5"], "add --task regression"),
        ([*base, "--weights", "heavy"], "unknown weights"),
        (["train", "--data", str(no_counts), "--seq-col", "variant", "--label-col", "fitness",
          "--weights", "depth", "-q"], "need read counts"),
    ]  # fmt: skip
    for args, needle in cases:
        code, _, err = run_cli([*args, "--out", str(tmp_path / "x")], capsys)
        one_line_error(code, err, needle)


def test_mse_depth_in_an_experiment(tmp_path):
    """mse_depth: the same cells as mse but weighted (different numbers), trained plain; refused
    without counts, with read-depth noise, and by the audit."""
    from badlabels.audit_scores import audit_scores
    from badlabels.experiment import GridSpec, run_experiment

    part = _count_file(tmp_path / "counts.csv")
    ds = load_data(part, seq_col="variant", label_col="fitness", task="regression")
    assert ds.counts is not None
    grid = GridSpec(models=["ridge", "lstm"], methods=["mse", "mse_depth"], noise_type="outliers",
                    noise_rates=[0.0], seeds=[0, 1], max_epochs=2, patience=2,
                    model_params={"lstm": {"hidden_sizes": (16, 4)}})  # fmt: skip
    frame = run_experiment(ds, grid, tmp_path / "exp", device="cpu").results
    assert len(frame) == 8  # ridge fits both squared losses
    for model in ("ridge", "lstm"):
        a = frame.query(f"model == '{model}' and method == 'mse'").sort_values("seed")
        b = frame.query(f"model == '{model}' and method == 'mse_depth'").sort_values("seed")
        assert not np.allclose(a["spearman"].to_numpy(), b["spearman"].to_numpy())
    assert set(frame.query("method == 'mse_depth'")["engine"]) == {"plain"}
    assert set(frame.query("model == 'lstm' and method == 'mse'")["engine"]) == {"stacked"}
    plain = load_data(part, seq_col="variant", label_col="fitness", task="regression")
    plain.counts = None
    cases = [
        (plain, dict(noise_type="outliers"), "needs read counts"),
        (ds, dict(noise_type="read_depth", noise_rates=[0.1]), "unthinned counts"),
        (ds, dict(noise_type="outliers", method_params={"mse": {"weights": "heavy"}}),
         "unknown weights"),
    ]  # fmt: skip
    for data, kw, needle in cases:
        g = GridSpec(models=["ridge"], methods=["mse", "mse_depth"], **{"noise_rates": [0.0], **kw})
        with pytest.raises(BadInputError, match=needle):
            run_experiment(data, g, tmp_path / "bad", device="cpu")
    with pytest.raises(BadInputError, match="does not weight"):
        audit_scores(ds, model="ridge", method="mse_depth")
