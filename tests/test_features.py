"""Precomputed features (e.g. protein-language-model embeddings) as the input of ``mlp`` and
``logreg``: the models, persistence, experiment cells, the audit, ``train`` and ``predict``.

The toy data have random sequences with random labels, and features whose first column
encodes the label: a model that scores well read the features, one at chance read the
sequences. Tiny data, few epochs, one thread.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest
import torch
from cli_helpers import one_line_error, run_cli
from sklearn.metrics import roc_auc_score

from badlabels.data.dataset import Dataset
from badlabels.errors import BadInputError
from badlabels.models import LogisticRegressionClassifier, MLPClassifier, load_model, save_model
from badlabels.models.base import model_input

AA = "ACDEFGHIKLMNPQRSTVWY"
D = 8
FAST_MLP = dict(hidden_sizes=(16,), batch_size=32, lr=1e-2, max_epochs=4, device="cpu")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def toy(n: int, seed: int, d: int = D) -> Dataset:
    """Unique random 12-mers, random labels, features whose column 0 encodes the label (on a
    scale and offset far from standard, so that standardisation matters)."""
    rng = np.random.default_rng(seed)
    seqs: list[str] = []
    seen: set[str] = set()
    while len(seqs) < n:
        s = "".join(rng.choice(list(AA), 12))
        if s not in seen:
            seen.add(s)
            seqs.append(s)
    y = rng.integers(0, 2, n)
    f = rng.normal(size=(n, d)).astype(np.float32) * 3.0 + 10.0
    f[:, 0] = 10.0 + 5.0 * (2 * y - 1) + rng.normal(scale=0.5, size=n)
    return Dataset(sequences=np.array(seqs, dtype=object), labels=y, name="toy", features=f)


def fitted(cls, ds: Dataset, **kw):
    params = dict(FAST_MLP) if cls is MLPClassifier else {}
    params.update(random_state=0, **kw)
    return cls(**params).fit(ds.features, ds.labels)


def has_option(command, name: str) -> bool:
    return name in inspect.signature(command).parameters


# ----------------------------------------------------------------------------- the models

MODELS = [MLPClassifier, LogisticRegressionClassifier]


@pytest.mark.parametrize("cls", MODELS, ids=["mlp", "logreg"])
def test_fit_and_predict_on_features(cls):
    train, test = toy(300, 0), toy(200, 1)
    m = fitted(cls, train)
    assert m.input_kind_ == "features" and m.n_features_in_ == D and m.max_len_ == 0
    proba = m.predict_proba(test.features)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(test.labels, proba[:, 1]) > 0.95
    assert m.predict(test.features).shape == (200,)
    # any 2-D array-like of numbers; no rows -> no predictions
    assert np.allclose(m.predict_proba(test.features[:3].tolist()), proba[:3], atol=1e-6)
    assert m.predict_proba(np.zeros((0, D))).shape[0] == 0
    assert "features" in json.dumps(m.architecture())


@pytest.mark.parametrize("cls", MODELS, ids=["mlp", "logreg"])
def test_wrong_number_of_features_is_a_one_line_error(cls):
    m = fitted(cls, toy(200, 0))
    with pytest.raises(BadInputError) as exc:
        m.predict_proba(np.zeros((4, D - 3), dtype=np.float32))
    assert str(exc.value) == f"the model was trained on {D} features per row; got {D - 3}"
    with pytest.raises(BadInputError, match="not all finite"):
        m.predict_proba(np.full((2, D), np.nan))


@pytest.mark.parametrize("cls", MODELS, ids=["mlp", "logreg"])
def test_mode_mismatch_is_a_one_line_error(cls):
    ds = toy(200, 0)
    on_features = fitted(cls, ds)
    with pytest.raises(BadInputError, match="trained on 8 precomputed features per row; got sequences"):
        on_features.predict_proba(ds.sequences)
    params = dict(FAST_MLP, max_epochs=1) if cls is MLPClassifier else {}
    on_sequences = cls(random_state=0, **params).fit(ds.sequences, ds.labels)
    assert on_sequences.input_kind_ == "sequences"
    with pytest.raises(BadInputError, match="trained on sequences; got a 2-D array") as exc:
        on_sequences.predict_proba(ds.features)
    assert "\n" not in str(exc.value)
    # an eval_set of the other kind
    with pytest.raises(BadInputError, match="got sequences"):
        cls(random_state=0, **params).fit(
            ds.features[:150], ds.labels[:150], eval_set=(ds.sequences[150:], ds.labels[150:])
        )


@pytest.mark.parametrize("cls", MODELS, ids=["mlp", "logreg"])
def test_refit_on_sequences_forgets_the_features(cls):
    ds = toy(200, 0)
    m = fitted(cls, ds)
    params = {"max_epochs": 1} if cls is MLPClassifier else {}
    m.set_params(**params).fit(ds.sequences, ds.labels)
    assert m.input_kind_ == "sequences" and not hasattr(m, "n_features_in_")
    assert m.predict_proba(ds.sequences[:5]).shape == (5, 2)


@pytest.mark.parametrize("cls", MODELS, ids=["mlp", "logreg"])
@pytest.mark.parametrize("extra", [{}, {"average": "window", "window": 2}], ids=["plain", "window"])
def test_save_load_round_trip(cls, extra, tmp_path):
    if cls is LogisticRegressionClassifier and extra:
        pytest.skip("averaging is a neural option")
    train, test = toy(200, 0), toy(50, 1)
    m = fitted(cls, train, **extra)
    save_model(m, tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "model.json").read_text())
    assert cfg["input"] == {"kind": "features", "n_features": D}
    back = load_model(tmp_path / "m")
    assert back.input_kind_ == "features" and back.n_features_in_ == D
    np.testing.assert_allclose(
        back.predict_proba(test.features), m.predict_proba(test.features), rtol=0, atol=1e-6
    )
    with pytest.raises(BadInputError, match="got 5"):
        back.predict_proba(test.features[:, :5])
    if cls is MLPClassifier:
        np.testing.assert_array_equal(back.feature_mean_, m.feature_mean_)
        np.testing.assert_array_equal(back.feature_scale_, m.feature_scale_)


def test_sequence_models_save_no_input_key(tmp_path):
    """A model fitted on sequences writes model.json exactly as before (no ``input`` key)."""
    ds = toy(100, 0)
    m = LogisticRegressionClassifier(random_state=0).fit(ds.sequences, ds.labels)
    save_model(m, tmp_path / "m")
    assert "input" not in json.loads((tmp_path / "m" / "model.json").read_text())
    assert load_model(tmp_path / "m").input_kind_ == "sequences"


def test_mlp_standardises_with_the_training_rows_only():
    ds = toy(200, 0)
    ds.features[:, 3] = 7.0  # a constant column: scale 1
    tr, va = np.arange(150), np.arange(150, 200)
    m = MLPClassifier(random_state=0, **FAST_MLP).fit(
        ds.features[tr], ds.labels[tr], eval_set=(ds.features[va], ds.labels[va])
    )
    x = ds.features[tr].astype(np.float64)
    sd = x.std(axis=0)
    sd[3] = 1.0
    np.testing.assert_allclose(m.feature_mean_, x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(m.feature_scale_, sd, rtol=1e-6)
    np.testing.assert_array_equal(m.module_.mean.numpy(), m.feature_mean_)
    # the first layer is a plain Linear on the d standardised features
    assert m.module_.net.layers[0].in_features == D


def test_mlp_features_mode_refuses_residue_options():
    ds = toy(100, 0)
    with pytest.raises(BadInputError, match="leave encoding at onehot"):
        MLPClassifier(encoding="onehot+vhse", **FAST_MLP).fit(ds.features, ds.labels)
    with pytest.raises(BadInputError, match="mixup_alpha=0"):
        MLPClassifier(mixup_alpha=0.2, **FAST_MLP).fit(ds.features, ds.labels)
    with pytest.raises(BadInputError, match="leave encoding at onehot"):
        LogisticRegressionClassifier(encoding="onehot+vhse").fit(ds.features, ds.labels)


def test_mlp_features_fit_is_seeded():
    ds = toy(150, 0)
    a = fitted(MLPClassifier, ds).predict_proba(ds.features)
    b = fitted(MLPClassifier, ds).predict_proba(ds.features)
    np.testing.assert_array_equal(a, b)


def test_model_input_rule():
    from badlabels.methods.registry import build_estimator

    ds = toy(50, 0)
    assert model_input(ds, "mlp") is ds.features
    assert model_input(ds, "logreg") is ds.features
    assert model_input(ds, "lstm") is ds.sequences
    assert model_input(ds.subset(np.arange(10)), "mlp").shape == (10, D)
    plain = Dataset(sequences=ds.sequences, labels=ds.labels)
    assert model_input(plain, "mlp") is plain.sequences
    est = build_estimator("mlp", "gce", model_params={})
    assert model_input(ds, "mlp", est, "gce") is ds.features
    wrapper = build_estimator("mlp", "coteaching", model_params={})
    with pytest.raises(BadInputError, match="method 'coteaching' cannot train mlp on precomputed"):
        model_input(ds, "mlp", wrapper, "coteaching")
    # data without features: any method
    assert model_input(plain, "mlp", wrapper, "coteaching") is plain.sequences


# ----------------------------------------------------------------------------- experiment


def test_experiment_feeds_the_features_to_mlp_and_sequences_to_lstm(tmp_path):
    from badlabels.experiment.api import run_experiment
    from badlabels.experiment.grid import GridSpec

    ds = toy(600, 3)
    grid = GridSpec(models=["mlp", "logreg", "lstm"], methods=["bce"], noise_rates=[0.0],
                    seeds=[0], batch_sizes=[32], max_epochs=2, lr=1e-2)  # fmt: skip
    res = run_experiment(ds, grid, tmp_path / "feat", device="cpu", report=False)
    auroc = res.results.set_index("model")["auroc"]
    assert auroc["mlp"] > 0.95 and auroc["logreg"] > 0.95  # the features encode the label
    assert abs(auroc["lstm"] - 0.5) < 0.2  # the sequences do not
    # without features the same mlp cell reads the (random) sequences: at chance
    plain = Dataset(sequences=ds.sequences, labels=ds.labels, name="toy")
    res2 = run_experiment(plain, GridSpec(models=["mlp"], methods=["bce"], noise_rates=[0.0],
                          seeds=[0], batch_sizes=[32], max_epochs=2, lr=1e-2),
                          tmp_path / "seq", device="cpu", report=False)  # fmt: skip
    assert abs(res2.results["auroc"].iloc[0] - 0.5) < 0.2
    # the features are part of the cells' data fingerprint
    assert res.results["data_fingerprint"].iloc[0] != res2.results["data_fingerprint"].iloc[0]


def test_experiment_refuses_a_wrapper_method_on_features_before_training(tmp_path, monkeypatch):
    from badlabels.experiment.api import run_experiment
    from badlabels.experiment.grid import GridSpec

    trained = []
    monkeypatch.setattr(MLPClassifier, "fit", lambda self, *a, **k: trained.append(1))
    grid = GridSpec(models=["mlp"], methods=["bce", "cleanlab_filter"], noise_rates=[0.0],
                    max_epochs=1)  # fmt: skip
    with pytest.raises(BadInputError, match="method 'cleanlab_filter' cannot train mlp"):
        run_experiment(toy(200, 0), grid, tmp_path, device="cpu", report=False)
    assert trained == []


# ----------------------------------------------------------------------------- audit


def test_audit_out_of_fold_model_reads_the_features():
    from badlabels.audit import audit_labels

    ds = toy(240, 4)
    r = audit_labels(ds, model="logreg", n_folds=3, repeats=1, n_boot=10)
    assert r.oof_metrics["auroc"] > 0.95
    assert r.settings["input"] == {"kind": "features", "n_features": D}
    assert [f["engine"] for f in r.folds] == ["plain"] * 3
    r = audit_labels(ds, model="mlp", n_folds=3, repeats=1, n_boot=10,
                     model_params=dict(FAST_MLP))  # fmt: skip
    assert r.oof_metrics["auroc"] > 0.9
    plain = Dataset(sequences=ds.sequences, labels=ds.labels)
    r = audit_labels(plain, model="logreg", n_folds=3, repeats=1, n_boot=10)
    assert r.settings["input"] == {"kind": "sequences"} and r.oof_metrics["auroc"] < 0.75
    with pytest.raises(BadInputError, match="method 'coteaching' cannot train mlp"):
        audit_labels(ds, model="mlp", method="coteaching", n_folds=3, repeats=1)


# ----------------------------------------------------------------------------- train / predict


@pytest.fixture(scope="module")
def feature_model(tmp_path_factory):
    """An mlp trained on features (train_final + save_final), and new rows with features."""
    from badlabels.finalmodel import save_final, train_final

    d = tmp_path_factory.mktemp("feat")
    ds = toy(300, 5)
    est, meta = train_final(ds, "mlp", "bce", model_params=dict(FAST_MLP), seed=0)
    save_final(est, meta, d / "model")
    new = toy(60, 6)
    new_csv = d / "new.csv"
    pd.DataFrame({"id": np.arange(60), "sequence": new.sequences}).to_csv(new_csv, index=False)
    npy = d / "new.npy"
    np.save(npy, new.features)
    keyed = d / "new_keyed.csv"
    table = pd.DataFrame(new.features, columns=[f"f{j}" for j in range(D)])
    table.insert(0, "sequence", new.sequences)
    extra = toy(3, 7)  # extra rows are fine; the order does not matter
    more = pd.DataFrame(extra.features, columns=[f"f{j}" for j in range(D)])
    more.insert(0, "sequence", extra.sequences)
    pd.concat([table.iloc[::-1], more]).to_csv(keyed, index=False)
    return {"dir": d / "model", "est": est, "meta": meta, "new": new, "csv": new_csv,
            "npy": npy, "keyed": keyed, "tmp": d}  # fmt: skip


def test_train_final_records_the_features(feature_model):
    meta = feature_model["meta"]
    assert meta["input"] == {"kind": "features", "n_features": D}
    assert meta["validation"]["metrics_on_noisy_labels"]["auroc"] > 0.9
    cfg = json.loads((feature_model["dir"] / "model.json").read_text())
    assert cfg["input"] == {"kind": "features", "n_features": D}
    assert cfg["metadata"]["input"]["kind"] == "features"


@pytest.mark.parametrize("which", ["npy", "keyed"])
def test_predict_cli_with_features_matches_the_model_in_memory(feature_model, which, capsys):
    out = feature_model["tmp"] / f"pred_{which}.csv"
    code, _, err = run_cli(["predict", feature_model["dir"], feature_model["csv"], "--features",
                            feature_model[which], "--out", out, "-q", "--chunksize", "25"],
                           capsys)  # fmt: skip
    assert code in (0, None), err
    pred = pd.read_csv(out)
    assert list(pred["id"]) == list(range(60))
    want = feature_model["est"].predict_proba(feature_model["new"].features)[:, 1]
    np.testing.assert_allclose(pred["prob_positive"].to_numpy(), want, rtol=0, atol=1e-6)


def test_predict_cli_feature_errors_are_one_line_exit_2(feature_model, tmp_path, capsys):
    fm = feature_model
    out = tmp_path / "p.csv"
    # a features model without --features
    code, _, err = run_cli(["predict", fm["dir"], fm["csv"], "--out", out, "-q"], capsys)
    one_line_error(code, err, "trained on precomputed features", "--features FILE")
    # a keyed file that lacks some sequences
    lacking = tmp_path / "lacking.csv"
    pd.read_csv(fm["keyed"]).iloc[5:].to_csv(lacking, index=False)
    code, _, err = run_cli(["predict", fm["dir"], fm["csv"], "--features", lacking,
                            "--out", out, "-q"], capsys)  # fmt: skip
    one_line_error(code, err, "have no row here", "lacking.csv")
    # a .npy of the wrong width, and one with too few rows
    narrow = tmp_path / "narrow.npy"
    np.save(narrow, fm["new"].features[:, :5])
    code, _, err = run_cli(["predict", fm["dir"], fm["csv"], "--features", narrow,
                            "--out", out, "-q"], capsys)  # fmt: skip
    one_line_error(code, err, "5 features per row", f"trained on {D}")
    short = tmp_path / "short.npy"
    np.save(short, fm["new"].features[:50])
    code, _, err = run_cli(["predict", fm["dir"], fm["csv"], "--features", short,
                            "--out", out, "-q"], capsys)  # fmt: skip
    one_line_error(code, err, "has 50 rows")
    assert not out.exists()


def test_predict_cli_refuses_features_for_a_sequence_model(feature_model, tmp_path, capsys):
    from badlabels.finalmodel import save_final, train_final

    ds = toy(100, 8)
    plain = Dataset(sequences=ds.sequences, labels=ds.labels, name="toy")
    est, meta = train_final(plain, "logreg", "bce", seed=0)
    assert meta["input"] == {"kind": "sequences"}
    save_final(est, meta, tmp_path / "seq")
    code, _, err = run_cli(["predict", tmp_path / "seq", feature_model["csv"], "--features",
                            feature_model["npy"], "--out", tmp_path / "p.csv", "-q"],
                           capsys)  # fmt: skip
    one_line_error(code, err, "trained on sequences", "drop --features")


def test_train_final_refuses_a_wrapper_method_on_features():
    from badlabels.finalmodel import train_final

    with pytest.raises(BadInputError, match="method 'coteaching' cannot train mlp"):
        train_final(toy(100, 0), "mlp", "coteaching", model_params=dict(FAST_MLP))
    # logreg's robust is plain bce: it reads the features
    _, meta = train_final(toy(100, 0), "logreg", "robust")
    assert meta["input"]["kind"] == "features"


def test_robust_trains_an_mlp_ensemble_on_features_and_round_trips(tmp_path, capsys):
    """``train``'s default recipe on features: five MLPs reading the features (the recipe's
    residue encoding does not apply), saved and predicted from new rows' features."""
    from badlabels.finalmodel import save_final, train_final
    from badlabels.models.ensemble import EnsembleClassifier
    from badlabels.models.persist import load_model

    ds = toy(200, 8)
    est, meta = train_final(ds, "mlp", "robust", model_params=dict(FAST_MLP))
    assert isinstance(est, EnsembleClassifier) and len(est.members_) == 5
    assert meta["input"] == {"kind": "features", "n_features": int(ds.features.shape[1])}
    assert all(m.input_kind_ == "features" for m in est.members_)
    want = est.predict_proba(ds.features)[:, 1]
    assert want.std() > 0
    save_final(est, meta, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert back.input_kind_ == "features"
    assert np.abs(back.predict_proba(ds.features)[:, 1] - want).max() <= 1e-6
    with pytest.raises(BadInputError, match="features per row"):
        back.predict_proba(ds.features[:, :3])


def test_features_for_sequence_models_only_are_refused(tmp_path):
    """Features that no model would read are a mistake (an lstm reads sequences)."""
    from badlabels.audit import audit_labels
    from badlabels.experiment.api import run_experiment
    from badlabels.experiment.grid import GridSpec
    from badlabels.finalmodel import train_final

    ds = toy(120, 0)
    with pytest.raises(BadInputError, match="read by mlp and logreg only, and lstm read"):
        train_final(ds, "lstm", "bce")
    with pytest.raises(BadInputError, match="read by mlp and logreg only, and cnn read"):
        audit_labels(ds, model="cnn", n_folds=3, repeats=1)
    grid = GridSpec(models=["lstm", "cnn"], methods=["bce"], noise_rates=[0.0], max_epochs=1)
    with pytest.raises(BadInputError, match="and lstm, cnn read sequences"):
        run_experiment(ds, grid, tmp_path, device="cpu", report=False)


# --- the --features option of train / experiment (added by the data loader's side) ---------


def _train_has_features() -> bool:
    from badlabels.cli.commands_model import train

    return has_option(train, "features")


def _experiment_has_features() -> bool:
    from badlabels.cli import commands_experiment

    return has_option(commands_experiment.experiment, "features")


@pytest.mark.skipif(not _train_has_features(), reason="train --features is not there yet")
def test_train_then_predict_with_features_via_the_cli(feature_model, tmp_path, capsys):
    from badlabels.finalmodel import train_final

    ds = toy(300, 9)
    data = tmp_path / "train.csv"
    pd.DataFrame({"sequence": ds.sequences, "label": ds.labels}).to_csv(data, index=False)
    npy = tmp_path / "train.npy"
    np.save(npy, ds.features)
    model_dir = tmp_path / "model"
    code, _, err = run_cli(["train", "--data", data, "--features", npy, "--model", "mlp",
                            "--method", "bce", "--epochs", "3", "--batch-size", "32",
                            "--lr", "0.01", "--device", "cpu", "--out", model_dir, "-q"],
                           capsys)  # fmt: skip
    assert code in (0, None), err
    out = tmp_path / "pred.csv"
    code, _, err = run_cli(["predict", model_dir, feature_model["csv"], "--features",
                            feature_model["npy"], "--out", out, "-q"], capsys)  # fmt: skip
    assert code in (0, None), err
    params = dict(max_epochs=3, patience=6, batch_size=32, lr=0.01, device="cpu")
    est, _ = train_final(ds, "mlp", "bce", model_params=params, seed=0)
    want = est.predict_proba(feature_model["new"].features)[:, 1]
    got = pd.read_csv(out)["prob_positive"].to_numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@pytest.mark.skipif(not _experiment_has_features(), reason="experiment --features not there yet")
def test_experiment_cli_with_features(tmp_path, capsys):
    ds = toy(400, 10)
    data = tmp_path / "data.csv"
    pd.DataFrame({"sequence": ds.sequences, "label": ds.labels}).to_csv(data, index=False)
    npy = tmp_path / "f.npy"
    np.save(npy, ds.features)
    out = tmp_path / "run"
    code, _, err = run_cli(["experiment", "--data", data, "--features", npy, "--models", "mlp",
                            "--noise-rates", "0", "--epochs", "2", "--batch-sizes", "32",
                            "--lr", "0.01", "--device", "cpu", "--out", out, "-q"], capsys)  # fmt: skip
    assert code in (0, None), err
    assert pd.read_csv(out / "results.csv")["auroc"].iloc[0] > 0.95
