"""Audit of continuous scores: out-of-fold predictions, cleanlab's regression quality scores,
the label-free flag count, the files it writes, the CLI and its one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cleanlab.regression.rank import get_label_quality_scores
from cli_helpers import one_line_error, run_cli
from sklearn.model_selection import KFold

from badlabels._json import finite_or_none
from badlabels.audit_scores import (
    audit_scores,
    describe_read_depth,
    estimate_outliers,
    read_depth_check,
    score_detection_metrics,
    write_score_audit,
)
from badlabels.data import Dataset
from badlabels.errors import BadInputError
from badlabels.methods.regression import build_regressor, out_of_fold_scores
from badlabels.noise import outliers

AA = np.array(list("ACDEFGHIKLMNPQRSTVWY"))


def additive_data(n=1200, length=5, noise=0.2, seed=0):
    """Unique sequences and a score that is a sum of per-site effects (ridge fits it well)."""
    rng = np.random.default_rng(seed)
    seqs = np.unique(["".join(s) for s in AA[rng.integers(0, 20, (n, length))]]).astype(object)
    effects = rng.normal(0.0, 1.0, (length, 20))
    idx = np.searchsorted(np.sort(AA), np.array([list(s) for s in seqs]))
    # AA is sorted, so searchsorted gives each residue's column
    y = effects[np.arange(length), idx].sum(axis=1) + rng.normal(0.0, noise, len(seqs))
    return seqs, (y - y.mean()) / y.std()


@pytest.fixture(scope="module")
def noisy():
    seqs, y = additive_data()
    res = outliers(y, 0.2, seed=1)
    truth = res.changed & (res.moved > y.std())  # the replacements that moved by > 1 sd
    return seqs, y, res, truth


@pytest.fixture(scope="module")
def ridge_audit(noisy):
    seqs, _, res, truth = noisy
    return audit_scores(seqs, res.scores, model="ridge", n_folds=5, seed=0, truth=truth)


def test_ridge_audit_finds_the_replaced_scores(noisy, ridge_audit):
    _, _, res, truth = noisy
    r = ridge_audit
    d = r.detection
    assert d["n_true"] == int(truth.sum()) > 50
    assert d["precision"] >= 0.8 and d["recall"] >= 0.8, d
    assert d["top_k_precision"] >= 0.8 and d["auroc"] > 0.95
    # the share of replaced scores is estimated without the truth
    assert abs(r.outlier_fraction - res.fraction_changed) < 0.05, r.outlier_fraction
    # and the flag count is close to the number that moved by more than 1 sd
    assert abs(r.n_flagged - truth.sum()) <= 0.25 * truth.sum()
    assert r.oof_metrics["spearman"] > 0.6
    assert len(r.folds) == 5 and sum(f["n_heldout"] for f in r.folds) == r.n


def test_ranking_flags_and_residuals_are_consistent(noisy, ridge_audit):
    _, _, res, _ = noisy
    r = ridge_audit
    n = r.n
    np.testing.assert_array_equal(r.scores, res.scores)
    np.testing.assert_allclose(r.residual, r.scores - r.predicted)
    np.testing.assert_allclose(r.quality, get_label_quality_scores(res.scores, r.predicted,
                                                                   method="residual"))  # fmt: skip
    assert sorted(r.rank.tolist()) == list(range(1, n + 1))
    assert r.quality[r.rank == 1][0] == r.quality.min()
    assert np.all(np.diff(r.quality[np.argsort(r.rank)]) >= 0)
    np.testing.assert_array_equal(r.flagged, r.rank <= r.n_flagged)
    assert r.n_flagged == r.estimate["n_flag"]
    # lowest quality = largest absolute residual
    assert abs(r.residual[r.rank == 1][0]) == np.abs(r.residual).max()
    s = json.loads(json.dumps(r.summary(), allow_nan=False))
    assert s["n_flagged"] == r.n_flagged and "detection" in s and s["task"] == "regression"


def test_out_of_fold_scores_predict_each_fold_from_the_others(noisy):
    seqs, _, res, _ = noisy
    events = []
    pred = out_of_fold_scores("ridge", "mse", seqs, res.scores, n_folds=3, seed=7,
                              progress=lambda e, **i: events.append((e, i)))  # fmt: skip
    assert pred.shape == (len(seqs),) and np.isfinite(pred).all()
    assert [e for e, _ in events] == ["fold_start", "fold_end"] * 3
    assert events[0][1]["fold"] == 1 and events[0][1]["n_folds"] == 3
    train, held = next(KFold(3, shuffle=True, random_state=7).split(seqs))
    est = build_regressor("ridge", "mse", model_params={"random_state": 7})
    est.fit(seqs[train], res.scores[train])
    np.testing.assert_allclose(pred[held], est.predict(seqs[held]))
    again = out_of_fold_scores("ridge", "mse", seqs, res.scores, n_folds=3, seed=7)
    np.testing.assert_array_equal(pred, again)


def test_estimate_outliers_without_labels():
    rng = np.random.default_rng(3)
    clean = rng.normal(0.0, 1.0, 4000)
    pred = clean + rng.normal(0.0, 0.2, 4000)  # a good model of the clean scores
    for fraction in (0.0, 0.1, 0.3):
        res = outliers(clean, fraction, seed=4)
        est = estimate_outliers(res.scores, pred)
        assert abs(est["outlier_fraction"] - fraction) < 0.03, (fraction, est)
        assert 0.0 <= est["moved_share"] <= 1.0
        assert est["n_flag"] == round(est["outlier_fraction"] * est["moved_share"] * 4000)
    assert estimate_outliers(clean, pred)["n_flag"] <= 4
    # min_shift=0: flag as many as the estimated outliers
    res = outliers(clean, 0.2, seed=5)
    est = estimate_outliers(res.scores, pred, min_shift=0)
    assert abs(est["n_flag"] / 4000 - 0.2) < 0.03


def test_detection_metrics_by_hand():
    truth = np.array([1, 1, 0, 0, 0], dtype=bool)
    flagged = np.array([1, 0, 1, 0, 0], dtype=bool)
    quality = np.array([0.1, 0.2, 0.15, 0.9, 0.8])
    d = score_detection_metrics(truth, flagged, quality)
    assert d["precision"] == 0.5 and d["recall"] == 0.5 and d["f1"] == 0.5
    assert d["top_k"] == 2 and d["top_k_precision"] == 0.5


def test_write_score_audit(tmp_path, noisy, ridge_audit):
    files = write_score_audit(ridge_audit, tmp_path / "out", truth_col="is_bad",
                              data_name="additive", command="badlabels audit ...")  # fmt: skip
    for path in files.values():
        assert path.exists() and path.stat().st_size > 0
    frame = pd.read_csv(files["suspects"])
    assert list(frame.columns) == ["rank", "sequence", "given_score", "predicted", "residual",
                                   "quality", "flagged", "is_bad"]  # fmt: skip
    assert len(frame) == ridge_audit.n
    assert frame["rank"].tolist() == list(range(1, ridge_audit.n + 1))
    assert frame["quality"].is_monotonic_increasing
    k = ridge_audit.n_flagged
    assert (frame["flagged"].iloc[:k] == "yes").all() and (frame["flagged"].iloc[k:] == "no").all()
    assert set(frame["is_bad"]) == {"yes", "no"}
    summary = json.loads(files["audit"].read_text())
    assert summary["data"] == "additive" and summary["n_flagged"] == k
    text = files["summary"].read_text()
    assert f"{k:,} of {ridge_audit.n:,} scores flagged" in text and "Units" in text
    assert "precision" in text and "Spearman" in text
    with pytest.raises(BadInputError, match="not a folder"):
        write_score_audit(ridge_audit, files["suspects"])


def test_lstm_folds_train_stacked_as_the_plain_ones(noisy):
    """engine auto: the LSTM's folds train together, and in float32 each fold model predicts
    what its plain LSTMRegressor does, up to rounding."""
    seqs, _, res, truth = noisy
    params = {"hidden_sizes": (16, 4), "max_epochs": 3, "patience": 2, "batch_size": 100,
              "device": "cpu"}  # fmt: skip
    events = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BADLABELS_PRECISION", "fp32")
        stacked = out_of_fold_scores("lstm", "mse", seqs, res.scores, n_folds=3, seed=2,
                                     model_params=params,
                                     progress=lambda e, **i: events.append((e, i)))  # fmt: skip
        plain = out_of_fold_scores("lstm", "mse", seqs, res.scores, n_folds=3, seed=2,
                                   model_params=params, engine="plain")  # fmt: skip
    np.testing.assert_allclose(stacked, plain, atol=2e-3, rtol=1e-3)
    assert not np.allclose(stacked, stacked.mean())  # a real prediction, not a constant
    ends = [i for e, i in events if e == "fold_end"]
    assert sorted(i["fold"] for i in ends) == [1, 2, 3]
    assert all(i["stacked"] == 3 and i["n_heldout"] > 0 and i["seconds"] > 0 for i in ends)
    audit = audit_scores(seqs, res.scores, model="lstm", n_folds=3, seed=2, model_params=params,
                         truth=truth, engine="stacked")  # fmt: skip
    assert audit.settings["engine"] == "stacked" and len(audit.folds) == 3
    ridge = audit_scores(seqs, res.scores, model="ridge", n_folds=3, seed=2)
    assert ridge.settings["engine"] == "plain"  # other models always train plain
    with pytest.raises(BadInputError, match="unknown engine"):
        out_of_fold_scores("lstm", "mse", seqs, res.scores, engine="fast")


def _seqs_scores(n=40):
    seqs, y = additive_data(n=n, seed=9)
    return seqs, y


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"model": "nope"}, "unknown regression model"),
        ({"method": "bce"}, "unknown regression method"),
        ({"method": "huber"}, "needs a neural model"),
        ({"n_folds": 1}, "n_folds"),
        ({"n_folds": 10_000}, "folds need at least"),
        ({"seed": -1}, "seed"),
        ({"truth": [True, False]}, "truth has shape"),
        ({"truth": "bad"}, "truth has shape"),
        ({"quality_method": "nope"}, "unknown quality method"),
        ({"tail_cut": 0}, "tail_cut"),
        ({"min_shift": -1}, "min_shift"),
        ({"predictions": [1.0, 2.0]}, "predictions hold"),
        ({"scores": [1.0, 2.0]}, "scores holds 2 scores"),
        ({"scores": "const"}, "at least two different values"),
        ({"scores": "nan"}, "not a finite number"),
        ({"truth": "values"}, "truth must be 0/1"),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs, needle):
    seqs, y = _seqs_scores()
    kwargs = dict(kwargs, model=kwargs.get("model", "ridge"))
    scores = kwargs.pop("scores", y)
    if isinstance(scores, str):
        scores = np.zeros(len(seqs)) if scores == "const" else np.r_[np.nan, y[1:]]
    if kwargs.get("truth") == "bad":
        kwargs["truth"] = np.zeros((len(seqs), 2), dtype=bool)
    elif kwargs.get("truth") == "values":
        kwargs["truth"] = np.full(len(seqs), 2)
    with pytest.raises(BadInputError) as exc:
        audit_scores(seqs, scores, **kwargs)
    msg = str(exc.value)
    assert needle in msg and "\n" not in msg, msg


def test_bad_inputs_are_one_line_errors():
    seqs, y = _seqs_scores()
    cases = [
        (lambda: audit_scores(seqs), "give scores"),
        (lambda: audit_scores("ACDE", [1.0]), "not a single string"),
        (lambda: audit_scores(Dataset(seqs, (y > 0).astype(int))), "binary labels"),
        (lambda: audit_scores(np.zeros((40, 3)), y), "one-dimensional"),
        (lambda: audit_scores(np.array(["A"] * 6000, dtype=object), np.arange(6000.0),
                              predictions=np.zeros(6000), quality_method="outre"), "outre"),
        (lambda: out_of_fold_scores("ridge", "mse", seqs, y[:-1]), "scores holds"),
        (lambda: out_of_fold_scores("ridge", "mse", seqs, y, n_folds=True), "n_folds"),
        (lambda: estimate_outliers(y, y[:-1]), "predictions for"),
    ]
    for call, needle in cases:
        with pytest.raises(BadInputError) as exc:
            call()
        msg = str(exc.value)
        assert needle in msg and "\n" not in msg, msg


def test_given_predictions_and_regression_dataset():
    seqs, y = _seqs_scores(300)
    ds = Dataset(seqs, (y > 0).astype(np.int8), name="toy", task="regression", targets=y,
                 extra={"score_transform": {"transform": "log10", "floor": 1e-4}})  # fmt: skip
    res = outliers(y, 0.2, seed=2)
    r = audit_scores(ds, res.scores, predictions=y, quality_method="outre")
    assert r.folds == [] and r.settings["out_of_fold"] is False
    assert "log10" in r.units
    np.testing.assert_allclose(r.quality, get_label_quality_scores(res.scores, y))
    # a perfect model: every flag is a replaced score
    assert r.flagged.any() and res.changed[r.flagged].all()


def test_read_depth_check_by_hand():
    counts = np.arange(1, 9, dtype=float)  # quarters: 1-2, 3-4, 5-6, 7-8
    flagged = np.array([1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    quality = counts / 10.0  # the fewer the reads, the more suspect
    r = read_depth_check(counts, flagged, quality)
    assert [q["share_flagged"] for q in r["by_quartile"]] == [1.0, 0.5, 0.0, 0.0]
    assert [(q["low"], q["high"]) for q in r["by_quartile"]][0] == (1.0, 2.0)
    assert r["median_input_flagged"] == 2.0 and r["median_input_other"] == 6.0
    assert r["spearman_input_quality"] == pytest.approx(1.0)
    text = describe_read_depth(r)
    assert "100.0% of the quarter with the fewest input reads (1-2)" in text and "\n" not in text
    nothing = read_depth_check(counts, np.zeros(8, dtype=bool), quality)
    none = describe_read_depth(nothing)
    assert none.startswith("no score flagged") and "1.000" in none
    assert describe_read_depth(json.loads(json.dumps(finite_or_none(nothing)))) == none


def test_count_data_get_the_read_depth_check(tmp_path):
    """Scores measured with few reads are noisier: the audit's flags gather there, and the
    summary says so (the model never sees the counts)."""
    seqs, y = additive_data(n=1200, seed=4, noise=0.05)
    rng = np.random.default_rng(0)
    reads = rng.integers(5, 2000, len(seqs)).astype(float)
    noisy = y + rng.normal(0.0, 1.0, len(seqs)) * 3.0 / np.sqrt(reads)
    ds = Dataset(seqs, (noisy > 0).astype(np.int8), name="toy", task="regression", targets=noisy,
                 counts={"count_input": reads, "count_selected": reads})  # fmt: skip
    r = audit_scores(ds, model="ridge", n_folds=5, seed=0)
    depth = r.read_depth
    assert depth is not None and len(depth["by_quartile"]) == 4
    assert depth["by_quartile"][0]["share_flagged"] > 3 * depth["by_quartile"][-1]["share_flagged"]
    assert depth["median_input_flagged"] < depth["median_input_other"]
    assert depth["spearman_input_quality"] > 0.15  # unrelated counts: 0 +- 0.03
    write_score_audit(r, tmp_path / "a", data_name="toy")
    assert json.loads((tmp_path / "a" / "audit.json").read_text())["read_depth"] == depth
    assert "By read depth" in (tmp_path / "a" / "summary.md").read_text()
    plain = audit_scores(seqs, noisy, model="ridge", n_folds=5, seed=0)  # no counts, no check
    assert plain.read_depth is None and "read_depth" not in plain.summary()


# ------------------------------------------------------------------------- the CLI




@pytest.fixture(scope="module")
def score_csv(tmp_path_factory):
    seqs, y = additive_data(n=400, seed=5)
    res = outliers(y, 0.2, seed=6)
    path = tmp_path_factory.mktemp("scores") / "scores.csv"
    pd.DataFrame({
        "sequence": seqs,
        "fitness": 10.0 ** res.scores,  # the audit reads it on the log10 scale (the default)
        "is_bad": np.where(res.changed & (res.moved > y.std()), "yes", "no"),
    }).to_csv(path, index=False)  # fmt: skip
    return path


def test_cli_audits_continuous_scores(tmp_path, capsys, score_csv):
    out = tmp_path / "audit"
    code, stdout, err = run_cli([
        "audit", "--data", str(score_csv), "--label-col", "fitness", "--task", "regression",
        "--model", "ridge", "--folds", "3", "--truth-col", "is_bad", "--out", str(out), "-q",
    ], capsys)  # fmt: skip
    assert code == 0, err
    assert "scores flagged" in stdout and "estimated share of outlying scores" in stdout
    assert "precision" in stdout and "log10" in stdout
    for name in ("suspects.csv", "audit.json", "summary.md", "residuals.png"):
        assert (out / name).exists(), name
    frame = pd.read_csv(out / "suspects.csv")
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert {"row", "sequence", "given_score", "is_bad"} <= set(frame.columns)
    summary = json.loads((out / "audit.json").read_text())
    assert summary["settings"]["model"] == "ridge" and summary["settings"]["method"] == "mse"
    assert summary["truth_col"] == "is_bad" and 0 <= summary["detection"]["recall"] <= 1
    assert "log10" in (out / "summary.md").read_text()


def test_cli_score_audit_errors_are_one_line(tmp_path, capsys, score_csv):
    base = ["audit", "--data", str(score_csv), "--label-col", "fitness", "--model", "ridge",
            "--out", str(tmp_path / "o"), "-q"]  # fmt: skip
    one_line_error(*run_cli([*base, "--method", "huber"], capsys)[::2], "needs a neural model")
    one_line_error(*run_cli([*base, "--truth-col", "nope"], capsys)[::2], "nope")
    one_line_error(*run_cli([*base, "--folds", "1"], capsys)[::2], "n_folds")
    one_line_error(*run_cli([*base, "--transform", "cube"], capsys)[::2], "transform")
