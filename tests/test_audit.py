"""Label audit: out-of-fold probabilities + cleanlab, the files it writes, and its input errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cleanlab.count import estimate_py_and_noise_matrices_from_probabilities
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from cli_helpers import one_line_error, run_cli

from badlabels.audit import (
    audit_labels,
    detection_metrics,
    input_rows,
    out_of_fold_proba,
    read_truth,
)
from badlabels.cli import main
from badlabels.data import load_data, make_peptide12
from badlabels.errors import BadInputError
from badlabels.evaluation.noise_estimate import estimate_noise
from badlabels.noise import symmetric


@pytest.fixture(scope="module")
def noisy():
    ds = make_peptide12(600, seed=3)
    noise = symmetric(ds.labels, 0.2, seed=1)
    return ds, noise


@pytest.fixture(scope="module")
def logreg_audit(noisy):
    ds, noise = noisy
    return audit_labels(
        ds, noise.labels, model="logreg", n_folds=3, truth=noise.flipped, n_boot=50
    )


def test_audit_result_shapes_and_invariants(noisy, logreg_audit):
    ds, noise = noisy
    r = logreg_audit
    n = len(ds)
    assert r.pred_probs.shape == (n, 2) and np.isfinite(r.pred_probs).all()
    np.testing.assert_allclose(r.pred_probs.sum(axis=1), 1.0, atol=1e-9)
    assert r.quality.shape == (n,) and ((r.quality >= 0) & (r.quality <= 1)).all()
    assert r.flagged.dtype == bool and r.n_flagged == int(r.flagged.sum()) > 0
    # rank: a permutation of 1..n, 1 = lowest quality score
    assert sorted(r.rank.tolist()) == list(range(1, n + 1))
    assert r.quality[r.rank == 1][0] == r.quality.min()
    assert np.all(np.diff(r.quality[np.argsort(r.rank)]) >= 0)
    # cleanlab's convention: columns of the noise matrix sum to 1
    np.testing.assert_allclose(r.noise_matrix.sum(axis=0), 1.0, atol=1e-9)
    assert r.flip_pos_to_neg == r.noise_matrix[0, 1]
    assert r.flip_neg_to_pos == r.noise_matrix[1, 0]
    assert 0.0 <= r.flip_rate <= 1.0
    assert len(r.folds) == 3 * 3  # 3 folds, 3 repeats (the default)
    for rep in (1, 2, 3):
        assert sum(f["n_heldout"] for f in r.folds if f["repeat"] == rep) == n
    np.testing.assert_array_equal(r.labels, noise.labels)
    assert set(r.detection) >= {"precision", "recall", "auroc", "n_true_flips"}
    assert r.detection["n_true_flips"] == noise.n_flipped


def test_audit_summary_is_strict_json(logreg_audit):
    s = logreg_audit.summary()
    text = json.dumps(s, allow_nan=False)
    back = json.loads(text)
    assert back["n_flagged"] == logreg_audit.n_flagged
    assert set(back["estimated_flip_rate"]) == {
        "overall", "positive_to_negative", "negative_to_positive",
    }  # fmt: skip
    assert "cleanlab" in back["noise_matrix"]["convention"]
    assert "detection" in back
    assert {"auroc", "auroc_lo", "auroc_hi", "accuracy"} <= set(back["noise_corrected_oof"])


def test_count_data_get_the_read_depth_check(noisy, tmp_path):
    """Labels flipped more often where reads are few: the flags gather there, and noise.json,
    audit.html and the check say so; data without counts get no check."""
    from dataclasses import replace

    from badlabels.audit import write_audit
    from badlabels.evaluation.read_depth import read_depth_check

    ds, _ = noisy
    rng = np.random.default_rng(1)
    reads = rng.integers(10, 5000, len(ds)).astype(float)
    flip = rng.random(len(ds)) < np.where(reads < 500, 0.4, 0.02)
    given = np.where(flip, 1 - ds.labels, ds.labels).astype(np.int8)
    p1 = 0.15 + 0.7 * ds.labels + rng.uniform(-0.01, 0.01, len(ds))
    probs = np.column_stack([1 - p1, p1])
    counted = replace(ds, counts={"count_input": reads, "count_selected": reads})
    r = audit_labels(counted, given, pred_probs=probs, n_boot=20)
    depth = r.read_depth
    assert depth is not None
    assert depth["by_quartile"][0]["share_flagged"] > 3 * depth["by_quartile"][-1]["share_flagged"]
    assert depth["median_input_flagged"] < depth["median_input_other"]
    files = write_audit(r, tmp_path / "a", data_name="toy")
    assert json.loads(files["noise"].read_text())["read_depth"] == depth
    assert "By read depth" in files["html"].read_text()
    bare = audit_labels(ds, given, pred_probs=probs, n_boot=20)
    assert bare.read_depth is None and "read_depth" not in bare.summary()
    # nothing flagged: the page still says what it can (no median of the flagged)
    none = replace(r, read_depth=read_depth_check(reads, np.zeros(len(ds), dtype=bool), r.quality))
    files = write_audit(none, tmp_path / "b")
    assert "no label flagged" in files["html"].read_text()


def test_audit_uses_cleanlab_on_given_probabilities(noisy):
    ds, noise = noisy
    rng = np.random.default_rng(0)
    # a calibrated model of the noisy labels: P(noisy 1 | x) = 0.2 + 0.6 * clean label
    p1 = 0.2 + 0.6 * ds.labels + rng.uniform(-0.01, 0.01, len(ds))
    probs = np.column_stack([1 - p1, p1])
    r = audit_labels(ds, noise.labels, pred_probs=probs, truth=noise.flipped, n_boot=20)
    np.testing.assert_allclose(r.quality, get_label_quality_scores(noise.labels, probs))
    np.testing.assert_array_equal(
        r.flagged, find_label_issues(noise.labels, probs, confident_joint=r.confident_joint)
    )
    assert r.folds == [] and r.settings["out_of_fold"] is False
    assert r.settings["noise_estimator"] == "anchor"
    # the anchors sit at 0.2 and 0.8: the realised noise each way is found
    e0 = noise.labels[ds.labels == 0].mean()
    e1 = 1 - noise.labels[ds.labels == 1].mean()
    assert abs(r.flip_neg_to_pos - e0) < 0.02 and abs(r.flip_pos_to_neg - e1) < 0.02
    assert abs(r.flip_rate - 0.2) < 0.02
    assert r.confident_joint.sum() == len(ds)
    np.testing.assert_array_equal(r.confident_joint.sum(axis=1), np.bincount(noise.labels))
    # probabilities that know the clean labels find the flips almost perfectly
    assert r.detection["precision"] > 0.9 and r.detection["recall"] > 0.9
    # and the noise-corrected AUROC recovers the clean one (p1 separates the clean classes)
    assert abs(r.corrected["auroc"] - 1.0) < 0.04
    assert r.corrected["auroc_lo"] <= r.corrected["auroc"] <= r.corrected["auroc_hi"]
    # cleanlab's own estimate is reported, and can be chosen instead
    assert set(r.summary()["cleanlab_confident_joint_estimate"]) >= {"flip_rate", "noise_matrix"}
    c = audit_labels(ds, noise.labels, pred_probs=probs, noise_estimator="cleanlab", n_boot=20)
    np.testing.assert_array_equal(c.flagged, find_label_issues(noise.labels, probs))
    py, nm, _, _ = estimate_py_and_noise_matrices_from_probabilities(noise.labels, probs)
    np.testing.assert_allclose(c.noise_matrix, nm)
    np.testing.assert_allclose(c.py, py)


def test_estimate_noise_anchor_and_errors():
    y = np.array([0] * 60 + [1] * 40)
    p1 = np.r_[np.full(50, 0.1), np.full(10, 0.7), np.full(5, 0.1), np.full(35, 0.7)]
    probs = np.column_stack([1 - p1, p1])
    py, nm, joint = estimate_noise(y, probs, anchor_quantile=0.05)
    # recalibrated against the labels: the low group is 5/55 positive, the high one 10/45 negative
    assert nm[1, 0] == pytest.approx(5 / 55, abs=1e-3) and nm[0, 1] == pytest.approx(10 / 45, abs=1e-3)
    np.testing.assert_allclose(nm.sum(axis=0), 1.0)
    assert py.sum() == pytest.approx(1.0)
    with pytest.raises(BadInputError, match="anchor_quantile"):
        estimate_noise(y, probs, anchor_quantile=0.7)
    with pytest.raises(BadInputError, match="estimator"):
        estimate_noise(y, probs, method="guess")


def test_out_of_fold_lstm_uses_inner_validation(noisy):
    ds, noise = noisy
    seen = []
    probs, folds = out_of_fold_proba(
        ds.sequences[:150],
        noise.labels[:150],
        model="lstm",
        model_params={"hidden_sizes": (8,), "max_epochs": 2, "batch_size": 64, "device": "cpu"},
        n_folds=3,
        progress=lambda event, **info: seen.append((event, info)),
    )
    assert probs.shape == (150, 2) and np.isfinite(probs).all()
    assert [f["fold"] for f in folds] == [1, 2, 3]
    assert all(1 <= f["epochs_run"] <= 2 for f in folds)
    events = [e for e, _ in seen]
    assert events.count("fold_start") == 3 and events.count("fold_end") == 3
    epochs = [i for e, i in seen if e == "epoch"]
    assert epochs and all(i["val_loss"] is not None and "fold" in i for i in epochs)


def test_repeated_cross_validation_averages_the_repeats(noisy):
    ds, noise = noisy
    seqs, y = ds.sequences[:300], noise.labels[:300]
    one = [out_of_fold_proba(seqs, y, model="logreg", n_folds=3, seed=s)[0] for s in (4, 5)]
    seen = []
    both, folds = out_of_fold_proba(
        seqs, y, model="logreg", n_folds=3, seed=4, repeats=2,
        progress=lambda event, **info: seen.append((event, info)),
    )  # fmt: skip
    np.testing.assert_allclose(both, (one[0] + one[1]) / 2)
    assert not np.allclose(one[0], one[1])  # the two repeats cut different folds
    assert [(f["repeat"], f["fold"]) for f in folds] == [(r, k) for r in (1, 2) for k in (1, 2, 3)]
    starts = [i for e, i in seen if e == "fold_start"]
    assert len(starts) == 6 and all(i["repeats"] == 2 for i in starts)


def test_audit_records_repeats(noisy, logreg_audit):
    assert logreg_audit.settings["repeats"] == 3
    ds, noise = noisy
    given = audit_labels(ds, noise.labels, pred_probs=logreg_audit.pred_probs, n_boot=20)
    assert given.settings["repeats"] is None  # probabilities from elsewhere: no training


def test_detection_metrics():
    truth = np.array([1, 1, 0, 0, 0, 0], bool)
    flagged = np.array([1, 0, 1, 0, 0, 0], bool)
    quality = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.7])
    d = detection_metrics(truth, flagged, quality)
    assert d["precision"] == 0.5 and d["recall"] == 0.5 and d["f1"] == 0.5
    assert d["auroc"] == 1.0
    assert d["n_true_flips"] == 2 and d["true_positives"] == 1


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"n_folds": 1}, "folds"),
        ({"n_folds": 200}, "each class"),
        ({"filter_by": "magic"}, "magic"),
        ({"quality_method": "vibes"}, "vibes"),
        ({"truth": np.zeros(3, bool)}, "truth"),
        ({"model": "nope"}, "nope"),
        ({"noise_estimator": "guess"}, "guess"),
        ({"anchor_quantile": 0}, "anchor_quantile"),
        ({"repeats": 0}, "repeats"),
        ({"repeats": 1.5}, "repeats"),
    ],
)
def test_audit_bad_options(noisy, kwargs, needle):
    ds, noise = noisy
    with pytest.raises(BadInputError, match=needle):
        audit_labels(ds.sequences[:300], noise.labels[:300], **{"model": "logreg", **kwargs})


def test_audit_bad_labels():
    with pytest.raises(BadInputError, match="0 or 1"):
        audit_labels(["ACD", "ACE"], [0, 2], model="logreg")
    with pytest.raises(BadInputError, match="same class"):
        audit_labels(["ACD", "ACE", "ACF"], [1, 1, 1], model="logreg")
    with pytest.raises(BadInputError, match="labels"):
        audit_labels(["ACD", "ACE"], None)


def test_input_rows_map_duplicates_and_dropped_rows(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("sequence,label,flip\nACDE,1,no\nacde,1,yes\nKLMN,0,no\nPQRS,1,no\nPQRS,0,no\n")
    ds = load_data(p, on_conflict="drop")
    m = input_rows(ds, p)
    assert m.rows.tolist() == [2, 3, 4, 5, 6]
    assert m.index.tolist() == [0, 0, 1, -1, -1]
    assert m.first.tolist() == [True, False, True, False, False]
    assert read_truth(m, "flip").tolist() == [False, False]
    with pytest.raises(BadInputError, match="no column 'nope'"):
        read_truth(m, "nope")


# ------------------------------------------------------------------------------ CLI


@pytest.fixture(scope="module")
def corrupted_csv(tmp_path_factory):
    d = tmp_path_factory.mktemp("audit")
    path = d / "noisy.csv"
    with pytest.raises(SystemExit) as exc:
        main(["corrupt", "--dataset", "peptide12", "--n-sequences", "500", "--rate", "0.2",
              "--out", str(path)])  # fmt: skip
    assert exc.value.code == 0
    return path


def test_cli_audit_end_to_end(tmp_path, capsys, corrupted_csv):
    out = tmp_path / "aud"
    code, stdout, err = run_cli(
        ["audit", "--data", str(corrupted_csv), "--label-col", "label_noisy",
         "--truth-col", "is_flipped", "--model", "logreg", "--folds", "3", "--n-boot", "30",
         "--out", str(out), "-q"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "flagged" in stdout and "precision" in stdout
    src = pd.read_csv(corrupted_csv)
    sus = pd.read_csv(out / "suspects.csv")
    assert len(sus) == len(src)
    assert sus["sequence"].tolist() == src["sequence"].tolist()  # input order
    assert sus["row"].tolist() == list(range(2, len(src) + 2))
    assert set(sus["flagged"]) <= {"yes", "no"}
    assert sorted(sus["rank"]) == list(range(1, len(src) + 1))
    assert (sus["is_flipped"] == src["is_flipped"]).all()
    noise = json.loads((out / "noise.json").read_text())
    assert noise["n_flagged"] == int((sus["flagged"] == "yes").sum())
    assert set(noise["priors"]) >= {"estimated_clean_positive", "given_positive"}
    assert 0 <= noise["detection"]["precision"] <= 1
    html = (out / "audit.html").read_text()
    assert "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_cli_audit_keeps_every_input_row(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ds = make_peptide12(200, seed=5)
    df = pd.DataFrame({"sequence": ds.sequences, "label": ds.labels})
    df = pd.concat([df, df.iloc[:3], pd.DataFrame({"sequence": [ds.sequences[5]],
                    "label": [1 - ds.labels[5]]})], ignore_index=True)  # fmt: skip
    df = df.iloc[rng.permutation(len(df))]
    p = tmp_path / "dups.csv"
    df.to_csv(p, index=False)
    out = tmp_path / "aud"
    code, _, err = run_cli(
        ["audit", "--data", str(p), "--on-conflict", "drop", "--model", "logreg",
         "--folds", "2", "--n-boot", "10", "--out", str(out), "-q"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    sus = pd.read_csv(out / "suspects.csv", keep_default_na=False)
    assert len(sus) == len(df)
    assert sus["sequence"].where(sus["sequence"] != "", None).dropna().isin(df["sequence"]).all()
    assert (sus["note"].str.startswith("duplicate of row")).sum() == 3
    assert (sus["note"].str.startswith("dropped")).sum() == 2
    assert set(sus.loc[sus["note"].str.startswith("dropped"), "rank"]) == {""}


@pytest.mark.parametrize(
    "extra, needles",
    [
        ([], ["--data", "--dataset"]),
        (["DATA", "--truth-col", "nope"], ["nope", "is_flipped"]),
        (["DATA", "--truth-col", "score"], ["row 2", "score"]),
        (["DATA", "--folds", "1"], ["folds"]),
        (["DATA", "--repeats", "0"], ["repeats"]),
        (["DATA", "--model", "nope"], ["nope"]),
        (["DATA", "--filter-by", "magic"], ["magic"]),
        (["--dataset", "peptide12", "--n-sequences", "200", "--truth-col", "is_flipped"],
         ["--truth-col"]),
    ],
)
def test_cli_audit_errors(tmp_path, capsys, corrupted_csv, extra, needles):
    args = ["audit", "--label-col", "label_noisy", "--model", "logreg", "--out",
            str(tmp_path / "o"), "-q"]  # fmt: skip
    args += [x for e in extra for x in (["--data", str(corrupted_csv)] if e == "DATA" else [e])]
    code, _, err = run_cli(args, capsys)
    one_line_error(code, err, *needles)


def test_stacked_folds_are_the_plain_folds(noisy, monkeypatch):
    """engine="stacked" trains every fold of every repeat at once; each fold model keeps the
    plain one's seed, inner validation split, batches and early stopping (float32: equal to
    rounding)."""
    monkeypatch.setenv("BADLABELS_PRECISION", "fp32")
    ds, noise = noisy
    seqs, y = ds.sequences[:240], noise.labels[:240]
    params = {"hidden_sizes": (8,), "max_epochs": 3, "patience": 1, "batch_size": 64,
              "device": "cpu"}  # fmt: skip
    runs = {}
    for engine in ("plain", "stacked"):
        seen = []
        probs, folds = out_of_fold_proba(
            seqs, y, model="lstm", model_params=params, n_folds=3, repeats=2, seed=2,
            engine=engine, progress=lambda event, _s=seen, **info: _s.append((event, info)),
        )  # fmt: skip
        runs[engine] = probs, folds, seen
    (p_plain, f_plain, _), (p_stacked, f_stacked, seen) = runs["plain"], runs["stacked"]
    np.testing.assert_allclose(p_stacked, p_plain, atol=1e-5)
    keys = ("repeat", "fold", "n_train", "n_heldout", "epochs_run", "best_epoch")
    assert [[f[k] for k in keys] for f in f_stacked] == [[f[k] for k in keys] for f in f_plain]
    assert {f["engine"] for f in f_plain} == {"plain"}
    assert {f["engine"] for f in f_stacked} == {"stacked"}
    events = [e for e, _ in seen]
    assert events[:6] == ["fold_start"] * 6 and events.count("fold_end") == 6
    assert all(i["stacked"] == 6 for e, i in seen if e in ("fold_start", "fold_end"))
    # a model that cannot stack (logistic regression) runs plain whatever the engine
    _, folds = out_of_fold_proba(seqs, y, model="logreg", n_folds=3, engine="stacked")
    assert {f["engine"] for f in folds} == {"plain"}


def test_cli_audit_stacked_with_progress_bars_and_a_bad_engine(tmp_path, capsys):
    out = tmp_path / "aud"
    code, stdout, err = run_cli(
        ["audit", "--dataset", "peptide12", "--n-sequences", "300", "--folds", "2",
         "--repeats", "2", "--epochs", "2", "--n-boot", "20", "--device", "cpu",
         "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "flagged" in stdout and "Traceback" not in err
    noise = json.loads((out / "noise.json").read_text())
    assert noise["settings"]["engine"] == "stacked"
    code, _, err = run_cli(
        ["audit", "--dataset", "peptide12", "--n-sequences", "300", "--engine", "magic",
         "--out", str(tmp_path / "bad"), "-q"],
        capsys,
    )  # fmt: skip
    one_line_error(code, err, "magic", "plain")
