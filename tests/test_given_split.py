"""Given splits (``Dataset.split``) in the experiment, and ProteinGym's score metrics."""

from __future__ import annotations

import numpy as np
import pytest

from badlabels.data import make_peptide12
from badlabels.errors import BadInputError
from badlabels.evaluation.metrics import ndcg, score_metrics, top_recall
from badlabels.experiment.runner_core import prepare


def _with_split(n=200, with_val=True, seed=0):
    ds = make_peptide12(n, seed=seed)
    rng = np.random.default_rng(1)
    parts = rng.choice(["train", "val", "test"] if with_val else ["train", "test"], size=n)
    ds.split = parts.astype(object)
    ds.extra["split_source"] = "column 'set'"
    return ds, parts


def test_given_split_parts_are_exactly_the_marked_rows():
    ds, parts = _with_split()
    prep = prepare(ds, split_seed=3)
    for name in ("train", "val", "test"):
        part = getattr(prep, name)
        assert set(part.sequences) == set(ds.sequences[parts == name])
    assert prep.split_source == "column 'set'"


def test_given_split_without_validation_draws_it_from_train_rows_only():
    ds, parts = _with_split(with_val=False)
    prep = prepare(ds, split=(0.8, 0.1, 0.1), split_seed=0)
    assert set(prep.test.sequences) == set(ds.sequences[parts == "test"])
    train_rows = set(ds.sequences[parts == "train"])
    assert set(prep.val.sequences) | set(prep.train.sequences) == train_rows
    assert not set(prep.val.sequences) & set(prep.train.sequences)
    # val / (train + val) = 1/9 of the train rows
    assert len(prep.val) == round(len(train_rows) / 9)
    assert "validation drawn from its train rows" in prep.split_source


def test_test_rows_of_a_given_split_are_never_corrupted(tmp_path, monkeypatch):
    """The rows a model is fitted on never include a test row, and the test part keeps each
    row's own (clean) label, at 45 % flips of the training labels."""
    from badlabels.experiment.api import run_experiment
    from badlabels.experiment.grid import GridSpec
    from badlabels.models.logreg import LogisticRegressionClassifier

    ds, parts = _with_split(n=400)
    clean = dict(zip(ds.sequences, ds.labels, strict=True))
    test_seqs = set(ds.sequences[parts == "test"])
    prep = prepare(ds)
    assert set(prep.test.sequences) == test_seqs
    assert all(clean[s] == y for s, y in zip(prep.test.sequences, prep.test.labels, strict=True))
    fitted = []
    real_fit = LogisticRegressionClassifier.fit

    def spy(self, X, y, *a, **k):
        fitted.append(set(np.asarray(X).tolist()))
        return real_fit(self, X, y, *a, **k)

    monkeypatch.setattr(LogisticRegressionClassifier, "fit", spy)
    grid = GridSpec(models=["logreg"], methods=["bce"], noise_rates=[0.45], seeds=[0, 1])
    res = run_experiment(ds, grid, tmp_path, report=False)
    assert len(fitted) == 2 and all(not f & test_seqs for f in fitted)
    assert (res.results["n_test"] == len(test_seqs)).all()
    assert (res.results["realized_flip_rate"] > 0.3).all()


def test_given_split_without_test_rows_is_a_one_line_error():
    ds, _ = _with_split()
    ds.split = np.where(ds.split == "test", "train", ds.split)
    with pytest.raises(BadInputError, match="marks no row as test"):
        prepare(ds)


def test_score_metrics_against_hand_computed_values():
    score = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0,
                      10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0])  # fmt: skip
    # k = floor(20 * 10 %) = 2; gains = score / 19
    pred = score.copy()
    assert ndcg(score, pred) == pytest.approx(1.0)
    pred = score.copy()
    pred[[17, 19]] = pred[[19, 17]]  # the model ranks row 17 first, then row 18
    dcg = 17 / 19 / np.log2(2) + 18 / 19 / np.log2(3)
    idcg = 19 / 19 / np.log2(2) + 18 / 19 / np.log2(3)
    assert ndcg(score, pred) == pytest.approx(dcg / idcg)
    # the top 10 %: score > 90th percentile (17.1) -> rows 18, 19; the model's top: 17, 18
    assert top_recall(score, pred) == pytest.approx(0.5)
    m = score_metrics(score, pred)
    assert m["spearman"] == pytest.approx(1 - 6 * (2**2 + 2**2) / (20 * (20**2 - 1)))
    assert np.isnan(score_metrics(np.ones(5), np.arange(5.0))["spearman"])


def test_experiment_records_split_source_and_score_metrics(tmp_path):
    from badlabels.experiment.api import run_experiment
    from badlabels.experiment.grid import GridSpec

    ds, _ = _with_split(n=300)
    grid = GridSpec(models=["logreg"], methods=["bce"], noise_rates=[0.0], seeds=[0])
    res = run_experiment(ds, grid, tmp_path, report=False)
    row = res.results.iloc[0]
    assert row["split_source"] == "column 'set'"
    assert -1 <= row["spearman"] <= 1 and 0 <= row["ndcg"] <= 1
    assert "given with the data, column 'set'" in (tmp_path / "summary.md").read_text()
