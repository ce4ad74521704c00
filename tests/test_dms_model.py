"""A DMS file end to end: ProteinGym columns -> train -> predict on full-length sequences,
audit rows mapped through mutation strings and positions, and given folds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from badlabels.cli import main as cli_main
from badlabels.data import load_data


def main(argv) -> int:
    """The console script's exit code."""
    with pytest.raises(SystemExit) as exc:
        cli_main([*argv, "-q"])
    return int(exc.value.code or 0)

TARGET = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVDKGT"  # 44 residues
SITES = (3, 5, 20)  # 1-based; residues T, Y, S
AAS = "ACDEFGHIKLMNPQRSTVWY"


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows, seen = [], set()
    effect = {aa: i / 19 for i, aa in enumerate(AAS)}
    while len(rows) < n:
        picks = tuple(rng.choice(list(AAS), size=len(SITES)))
        if picks in seen:
            continue
        seen.add(picks)
        seq, muts = list(TARGET), []
        for site, aa in zip(SITES, picks, strict=True):
            if aa != TARGET[site - 1]:
                muts.append(f"{TARGET[site - 1]}{site}{aa}")
                seq[site - 1] = aa
        if not muts:
            continue
        score = sum(effect[a] for a in picks) + rng.normal(0, 0.2)
        rows.append((":".join(muts), "".join(seq), score))
    df = pd.DataFrame(rows, columns=["mutant", "mutated_sequence", "DMS_score"])
    df["DMS_score_bin"] = (df["DMS_score"] >= df["DMS_score"].median()).astype(int)
    df["fold_random_5"] = np.arange(len(df)) % 5
    return df


@pytest.fixture
def pg(tmp_path):
    path = tmp_path / "TEST_Smith_2020.csv"
    _frame().to_csv(path, index=False)
    return path


def test_proteingym_file_is_read_without_column_flags_and_projected(pg):
    ds = load_data(pg)
    assert ds.extra["layout"] == "proteingym"
    assert ds.extra["positions"] == [s - 1 for s in SITES]
    assert ds.extra["full_length"] == len(TARGET)
    assert {len(s) for s in ds.sequences} == {len(SITES)}
    assert ds.scores is not None
    by_mutant = load_data(pg, mutant_col="mutant", target_seq=TARGET)
    assert np.array_equal(by_mutant.sequences, ds.sequences)
    assert np.array_equal(by_mutant.labels, ds.labels)


def test_train_then_predict_full_length_sequences(pg, tmp_path, capsys):
    model_dir = tmp_path / "model"
    rc = main(["train", "--data", str(pg), "--model", "logreg", "--method", "bce",
               "--out", str(model_dir)])  # fmt: skip
    assert rc == 0
    meta = json.loads((model_dir / "model.json").read_text())["metadata"]
    assert meta["positions"]["positions"] == [s - 1 for s in SITES]
    assert meta["positions"]["full_length"] == len(TARGET)
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model_dir), str(pg), "--out", str(out)]) == 0
    pred = pd.read_csv(out)
    from badlabels.models.persist import load_model

    model = load_model(model_dir)
    short = load_data(pg).sequences  # the same rows, projected by the loader
    want = model.predict_proba(short)[:, 1]
    assert np.allclose(pred["prob_positive"].to_numpy(), want, atol=1e-6)
    # a sequence of another length is refused with one line naming its row
    bad = tmp_path / "bad.csv"
    rows = pd.read_csv(pg).head(5)
    rows.loc[3, "mutated_sequence"] = rows.loc[3, "mutated_sequence"] + "A"
    rows.to_csv(bad, index=False)
    capsys.readouterr()
    assert main(["predict", str(model_dir), str(bad),
                 "--out", str(tmp_path / "p2.csv")]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "row 5" in err and "45 residues" in err, err


def test_audit_maps_rows_of_a_mutation_string_file(pg, tmp_path):
    df = pd.read_csv(pg)[["mutant", "DMS_score", "DMS_score_bin"]]
    path = tmp_path / "mutants.csv"
    df.to_csv(path, index=False)
    from badlabels.audit import input_rows

    ds = load_data(path, seq_col="mutant", label_col="DMS_score_bin", mutant_col="mutant",
                   target_seq=TARGET, positions="variable")  # fmt: skip
    mapping = input_rows(ds, path)
    assert (mapping.index >= 0).all()
    assert np.array_equal(ds.sequences[mapping.index], load_data(pg).sequences)


def test_given_folds_are_the_audit_folds(pg):
    from badlabels.methods.folds import stratified_folds

    ds = load_data(pg, folds_col="fold_random_5")
    folds = list(stratified_folds(ds.labels, 5, 0, 1, given=ds.folds))
    assert len(folds) == 5
    for _, k, train_idx, held_idx in folds:
        assert (ds.folds[held_idx] == k).all() and (ds.folds[train_idx] != k).all()


def test_audit_uses_the_given_folds(pg, tmp_path, capsys):
    out = tmp_path / "audit"
    rc = main(["audit", "--data", str(pg), "--folds-col", "fold_random_5", "--model", "logreg",
               "--out", str(out)])  # fmt: skip
    assert rc == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "5 folds from column 'fold_random_5'" in printed
    summary = json.loads((out / "noise.json").read_text())
    assert summary["settings"]["folds"] == "given with the data (column 'fold_random_5')"
    assert summary["settings"]["repeats"] == 1
    assert len(pd.read_csv(out / "suspects.csv")) > 0


def test_flip_file_test_rows_are_the_set_test_rows_and_never_corrupted(tmp_path, monkeypatch):
    """A FLIP split file through the experiment at 45 % flips: the test part is exactly the
    ``set == test`` rows with their own labels, and no model is fitted on a test row."""
    from badlabels.experiment.api import run_experiment
    from badlabels.experiment.grid import GridSpec
    from badlabels.models.logreg import LogisticRegressionClassifier

    frame = _frame(n=400, seed=1)
    rng = np.random.default_rng(0)
    flip = pd.DataFrame({
        "sequence": frame["mutated_sequence"],
        "target": frame["DMS_score"],
        "set": rng.choice(["train", "test"], size=len(frame), p=[0.7, 0.3]),
    })  # fmt: skip
    flip["validation"] = (flip["set"] == "train") & (rng.random(len(flip)) < 0.15)
    path = tmp_path / "gb1_like_split.csv"
    flip.to_csv(path, index=False)
    ds = load_data(path)
    assert ds.extra["layout"] == "flip"
    fitted = []
    real_fit = LogisticRegressionClassifier.fit

    def spy(self, X, y, *a, **k):
        fitted.append(set(np.asarray(X).tolist()))
        return real_fit(self, X, y, *a, **k)

    monkeypatch.setattr(LogisticRegressionClassifier, "fit", spy)
    grid = GridSpec(models=["logreg"], methods=["bce"], noise_rates=[0.45], seeds=[0])
    res = run_experiment(ds, grid, tmp_path / "out", report=False)
    from badlabels.experiment.runner_core import prepare

    prep = prepare(ds)
    test_seqs = set(ds.sequences[ds.split == "test"])
    # sequences are cut to the varying positions; map the file's test rows the same way
    from badlabels.data.positions import project

    want = set(project(flip.loc[flip["set"] == "test", "sequence"].to_numpy(object),
                       ds.extra["positions"], ds.extra["full_length"]))  # fmt: skip
    assert set(prep.test.sequences) == test_seqs == want
    label_of = dict(zip(ds.sequences, ds.labels, strict=True))
    assert all(label_of[s] == y for s, y in zip(prep.test.sequences, prep.test.labels, strict=True))
    assert fitted and not any(f & test_seqs for f in fitted)
    assert int(res.results["n_test"].iloc[0]) == int((flip["set"] == "test").sum())
    assert int(res.results["n_val"].iloc[0]) == int(flip["validation"].sum())
    assert res.results["split_source"].iloc[0].startswith("column 'set'")


def test_a_sweep_file_takes_the_dms_options(pg, tmp_path):
    from badlabels.experiment.sweep import load_sweep_config, load_sweep_data

    sub = tmp_path / "sweeps"
    sub.mkdir()
    (sub / "s.yaml").write_text(
        "data:\n"
        f"  path: {pg}\n"
        "  positions: all\n"
        "  mutant_col: mutant\n"
        f"  target_seq: {TARGET}\n"
        "grid:\n  models: logreg\n  noise_rates: 0\n"
    )
    cfg = load_sweep_config(sub / "s.yaml")
    ds = load_sweep_data(cfg)
    assert ds.extra["layout"] == "proteingym" and "positions" not in ds.extra
    assert {len(s) for s in ds.sequences} == {len(TARGET)}
    assert ds.extra["mutant_col"] == "mutant"


def test_predict_builds_sequences_from_mutation_strings(pg, tmp_path, capsys):
    """A model trained from mutation strings predicts from mutation strings (its target and
    numbering are saved with it), the same as from the full sequences."""
    df = pd.read_csv(pg)
    muts = tmp_path / "mutants.csv"
    df[["mutant", "DMS_score", "DMS_score_bin"]].to_csv(muts, index=False)
    model_dir = tmp_path / "model"
    assert main(["train", "--data", str(muts), "--mutant-col", "mutant", "--target-seq", TARGET,
                 "--label-col", "DMS_score_bin", "--model", "logreg", "--method", "bce",
                 "--positions", "variable", "--out", str(model_dir)]) == 0  # fmt: skip
    meta = json.loads((model_dir / "model.json").read_text())["metadata"]
    assert meta["data"]["target_seq"] == TARGET and meta["data"]["mutant_col"] == "mutant"
    out_m, out_s = tmp_path / "by_mutant.csv", tmp_path / "by_sequence.csv"
    assert main(["predict", str(model_dir), str(muts), "--mutant-col", "mutant",
                 "--out", str(out_m)]) == 0  # fmt: skip
    assert main(["predict", str(model_dir), str(pg), "--seq-col", "mutated_sequence",
                 "--out", str(out_s)]) == 0  # fmt: skip
    a, b = pd.read_csv(out_m)["prob_positive"], pd.read_csv(out_s)["prob_positive"]
    assert len(a) == len(df) and np.allclose(a, b, atol=1e-12)
    bad = tmp_path / "bad.csv"
    rows = df[["mutant"]].head(6).copy()
    rows.loc[4, "mutant"] = "A3G"  # the target has T at position 3
    rows.to_csv(bad, index=False)
    capsys.readouterr()
    assert main(["predict", str(model_dir), str(bad), "--mutant-col", "mutant",
                 "--out", str(tmp_path / "p.csv")]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "row 6" in err and "does not match" in err, err
