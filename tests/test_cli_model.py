"""``badlabels train`` and ``badlabels predict`` end to end, and every input error."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from cli_helpers import one_line_error, run_cli

import badlabels
from badlabels.cli import main
from badlabels.data import load_data, make_peptide12
from badlabels.errors import BadInputError
from badlabels.finalmodel import predict_file, save_final, train_final

GB1 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gb1_wu2016.csv.gz"
needs_gb1 = pytest.mark.skipif(not GB1.exists(), reason=f"GB1 data file not found at {GB1}")




@pytest.fixture(scope="module")
def pep_csv(tmp_path_factory):
    d = tmp_path_factory.mktemp("pep")
    ds = make_peptide12(300, seed=11)
    p = d / "train.csv"
    pd.DataFrame({"sequence": ds.sequences, "label": ds.labels}).to_csv(p, index=False)
    new = d / "new.csv"
    fresh = make_peptide12(120, seed=12)
    pd.DataFrame({"id": np.arange(120), "sequence": fresh.sequences}).to_csv(new, index=False)
    return p, new


@pytest.fixture(scope="module")
def logreg_dir(pep_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "logreg"
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", str(pep_csv[0]), "--model", "logreg", "--method", "bce",
              "--out", str(out), "-q"])  # fmt: skip
    assert exc.value.code == 0
    return out


@pytest.fixture(scope="module")
def lstm_dir(pep_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "lstm"
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", str(pep_csv[0]), "--model", "lstm", "--method", "bce",
              "--epochs", "2", "--batch-size", "100", "--device", "cpu", "--out", str(out),
              "-q"])  # fmt: skip
    assert exc.value.code == 0
    return out


def test_train_writes_safetensors_and_metadata(logreg_dir, lstm_dir, pep_csv):
    ds = load_data(pep_csv[0])
    for d, arch in ((logreg_dir, "LogisticRegression"), (lstm_dir, "LSTM")):
        assert (d / "model.safetensors").is_file() and (d / "model.json").is_file()
        cfg = json.loads((d / "model.json").read_text())
        meta = cfg["metadata"]
        assert meta["alphabet"] == "ACDEFGHIKLMNPQRSTVWY"
        assert meta["length_rules"] == {"min_length": 12, "max_length": 12, "allow_shorter": False}
        assert meta["architecture"]["type"] == arch
        assert meta["method"] == "bce"
        assert meta["data"]["fingerprint"] == ds.fingerprint()
        assert "noisy validation split" in meta["validation"]["split"]
        assert meta["validation"]["n_val"] == 30 and meta["validation"]["n_train"] == 270
        assert set(meta["validation"]["metrics_on_noisy_labels"]) >= {"auroc", "accuracy"}
        assert meta["badlabels_version"] == badlabels.__version__
    assert json.loads((lstm_dir / "model.json").read_text())["metadata"]["training"]["epochs_run"] <= 2


@pytest.mark.parametrize("which", ["logreg_dir", "lstm_dir"])
def test_predict_matches_loaded_model(which, request, pep_csv, tmp_path, capsys):
    model_dir = request.getfixturevalue(which)
    out = tmp_path / "preds.csv"
    code, stdout, err = run_cli(
        ["predict", str(model_dir), str(pep_csv[1]), "--out", str(out), "--chunksize", "50", "-q"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "120 rows" in stdout
    pred = pd.read_csv(out)
    src = pd.read_csv(pep_csv[1])
    assert list(pred.columns) == ["id", "sequence", "prob_positive"]
    assert (pred["id"] == src["id"]).all() and (pred["sequence"] == src["sequence"]).all()
    expected = badlabels.load_model(model_dir).predict_proba(src["sequence"].tolist())[:, 1]
    np.testing.assert_allclose(pred["prob_positive"], expected, atol=1e-6, rtol=0)


def test_predict_formats_and_chunks_agree(logreg_dir, pep_csv, tmp_path):
    src = pd.read_csv(pep_csv[1])
    full = predict_file(logreg_dir, pep_csv[1], tmp_path / "a.csv", chunksize=10_000)
    small = predict_file(logreg_dir, pep_csv[1], tmp_path / "b.csv.gz", chunksize=7)
    assert full.n_chunks == 1 and small.n_chunks == 18 and small.n_rows == 120
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv.gz")
    pd.testing.assert_frame_equal(a, b)
    # Parquet and FASTA inputs, lower case and blank lines tolerated
    src.to_parquet(tmp_path / "in.parquet")
    predict_file(logreg_dir, tmp_path / "in.parquet", tmp_path / "c.csv", chunksize=33)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "c.csv")["prob_positive"], a["prob_positive"])
    fasta = "".join(f">s{i}\n{s.lower()}\n" for i, s in enumerate(src["sequence"]))
    (tmp_path / "in.fa").write_text(fasta)
    predict_file(logreg_dir, tmp_path / "in.fa", tmp_path / "d.csv")
    np.testing.assert_allclose(pd.read_csv(tmp_path / "d.csv")["prob_positive"], a["prob_positive"])
    text = "sequence\n" + "\n".join(src["sequence"][:5]) + "\n\n" + "\n".join(src["sequence"][5:10]) + "\n"
    (tmp_path / "blank.csv").write_text(text)
    s = predict_file(logreg_dir, tmp_path / "blank.csv", tmp_path / "e.csv", chunksize=4)
    assert s.n_rows == 10
    np.testing.assert_allclose(pd.read_csv(tmp_path / "e.csv")["prob_positive"], a["prob_positive"][:10])


def _no_pickle(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)


@needs_gb1
def test_gb1_train_predict_equals_in_memory_model_without_pickle(tmp_path, monkeypatch):
    from badlabels.data import load_gb1

    gb1 = load_gb1(GB1)
    sub = gb1.subset(np.random.default_rng(0).choice(len(gb1), 1500, replace=False))
    est, meta = train_final(
        sub, "lstm", model_params={"max_epochs": 2, "batch_size": 250, "device": "cpu"}, seed=0
    )
    save_final(est, meta, tmp_path / "gb1model")
    assert meta["data"]["seq_col"] == "variant" and meta["length_rules"]["max_length"] == 4
    new = pd.DataFrame({"variant": gb1.sequences[:3000]})
    new.to_csv(tmp_path / "variants.csv.gz", index=False)
    _no_pickle(monkeypatch)
    predict_file(tmp_path / "gb1model", tmp_path / "variants.csv.gz", tmp_path / "p.csv",
                 chunksize=1000)  # fmt: skip
    got = pd.read_csv(tmp_path / "p.csv")["prob_positive"].to_numpy()
    np.testing.assert_allclose(got, est.predict_proba(new["variant"].tolist())[:, 1], atol=1e-6, rtol=0)
    loaded = badlabels.load_model(tmp_path / "gb1model")
    np.testing.assert_allclose(
        loaded.predict_proba(["VDGV", "AAAA"]), est.predict_proba(["VDGV", "AAAA"]), atol=1e-6
    )


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "text, needles",
    [
        ("sequence\nACDEFGHIKLMN\nACDEFGHIKLMX\n", ["row 3", "ACDEFGHIKLMX", "'X'", "alphabet"]),
        ("sequence\nACDEFGHIKLMN\nACDEFGHIKLMNP\n", ["row 3", "ACDEFGHIKLMNP", "13", "12"]),
        ("sequence\nACDEFGHIKL\n", ["row 2", "ACDEFGHIKL", "length 12"]),
        ("id,sequence\n1,ACDEFGHIKLMN\n,\n", []),  # a blank line is skipped, not an error
        ("sequence\nACDEFGHIKLMN\nACDEFGHIKLMN,1\n", ["row 3", "expected 1 fields"]),
        ("id,sequence\n1,ACDEFGHIKLMN\n2,\n", ["row 3", "missing sequence"]),
        ("seq\nACDEFGHIKLMN\n", ["no column 'sequence'", "'seq'", "--seq-col"]),
        ("sequence,prob_positive\nACDEFGHIKLMN,1\n", ["prob_positive", "--prob-col"]),
        ("sequence\n", ["no data rows"]),
    ],
)
def test_predict_input_errors(logreg_dir, tmp_path, capsys, text, needles):
    p = tmp_path / "in.csv"
    p.write_text(text)
    out = tmp_path / "o.csv"
    code, _, err = run_cli(["predict", str(logreg_dir), str(p), "--out", str(out), "-q"], capsys)
    if not needles:
        assert code == 0, err
        return
    one_line_error(code, err, "in.csv", *needles)
    assert not out.exists()


def test_predict_error_in_a_later_chunk_names_the_right_row(lstm_dir, pep_csv, tmp_path, capsys):
    src = pd.read_csv(pep_csv[1])
    src.loc[57, "sequence"] = "ACDEFGHIKLM*"
    src.to_csv(tmp_path / "bad.csv", index=False)
    code, _, err = run_cli(
        ["predict", str(lstm_dir), str(tmp_path / "bad.csv"), "--chunksize", "20",
         "--out", str(tmp_path / "o.csv"), "-q"],
        capsys,
    )  # fmt: skip
    one_line_error(code, err, "row 59", "ACDEFGHIKLM*", "'*'")
    assert not (tmp_path / "o.csv").exists()


def _copy_model(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for name in ("model.json", "model.safetensors"):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


def test_predict_corrupted_or_truncated_model(lstm_dir, pep_csv, tmp_path, capsys):
    args = [str(pep_csv[1]), "--out", str(tmp_path / "o.csv"), "-q"]
    trunc = _copy_model(lstm_dir, tmp_path / "trunc")
    data = (trunc / "model.safetensors").read_bytes()
    (trunc / "model.safetensors").write_bytes(data[: len(data) // 2])
    code, _, err = run_cli(["predict", str(trunc), *args], capsys)
    one_line_error(code, err, "model.safetensors", "corrupted or truncated")

    garbage = _copy_model(lstm_dir, tmp_path / "garbage")
    (garbage / "model.safetensors").write_bytes(b"\x00" * 64)
    code, _, err = run_cli(["predict", str(garbage), *args], capsys)
    one_line_error(code, err, "model.safetensors")

    badjson = _copy_model(lstm_dir, tmp_path / "badjson")
    text = (badjson / "model.json").read_text()
    (badjson / "model.json").write_text(text[: len(text) // 2])
    code, _, err = run_cli(["predict", str(badjson), *args], capsys)
    one_line_error(code, err, "model.json", "corrupted or truncated")

    code, _, err = run_cli(["predict", str(tmp_path / "nowhere"), *args], capsys)
    one_line_error(code, err, "nowhere", "not found")

    code, _, err = run_cli(["predict", str(lstm_dir), str(tmp_path / "none.csv"), "-q"], capsys)
    one_line_error(code, err, "none.csv", "not found")


@pytest.mark.parametrize(
    "extra, needles",
    [
        (["--model", "nope"], ["nope"]),
        (["--method", "nope"], ["nope"]),
        (["--val-fraction", "0.9"], ["--val-fraction"]),
        (["--epochs", "0"], ["max_epochs"]),
        (["--device", "tpu"], ["tpu"]),
        (["--model-param", "cnn.kernel_size=7"], ["--model-param", "lstm.KEY=VALUE"]),
        (["--model-param", "lstm.encoding=onehot+nope"], ["unknown part 'nope'"]),
        (["--method-param", "robust"], ["--method-param", "NAME.KEY=VALUE"]),
    ],
)
def test_train_errors(pep_csv, tmp_path, capsys, extra, needles):
    code, _, err = run_cli(
        ["train", "--data", str(pep_csv[0]), "--out", str(tmp_path / "m"), "-q", *extra], capsys
    )
    one_line_error(code, err, *needles)


def test_train_needs_data_and_a_folder(pep_csv, tmp_path, capsys):
    code, _, err = run_cli(["train", "--out", str(tmp_path / "m")], capsys)
    one_line_error(code, err, "--data")
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = run_cli(["train", "--data", str(pep_csv[0]), "--out", str(f)], capsys)
    one_line_error(code, err, "not a folder")
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("sequence,label\nACDE,1\nACDF,0\n")
    code, _, err = run_cli(["train", "--data", str(tiny), "--out", str(tmp_path / "m2")], capsys)
    one_line_error(code, err, "too few")


def test_python_api_refuses_unknown_characters(logreg_dir):
    model = badlabels.load_model(logreg_dir)
    with pytest.raises(BadInputError, match="not in the alphabet"):
        model.predict_proba(["ACDEFGHIKLMB"])


def test_ctrl_c_in_a_command_is_one_line_and_exit_130(monkeypatch, tmp_path, capsys):
    import badlabels.finalmodel

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(badlabels.finalmodel, "predict_file", interrupted)
    code, out, err = run_cli(
        ["predict", str(tmp_path / "m"), str(tmp_path / "in.csv"), "-q"], capsys
    )
    assert code == 130, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert lines == ["interrupted: finished runs are kept."], err
    assert "Traceback" not in err + out and "Aborted" not in err + out


def test_train_with_a_wrapper_method_then_predict(pep_csv, tmp_path, capsys):
    out = tmp_path / "co"
    code, _, err = run_cli(
        ["train", "--data", str(pep_csv[0]), "--model", "mlp", "--method", "coteaching",
         "--epochs", "2", "--batch-size", "100", "--device", "cpu", "--out", str(out), "-q"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    meta = json.loads((out / "model.json").read_text())["metadata"]
    assert meta["method"] == "coteaching" and meta["architecture"]["type"] == "MLP"
    (info,) = meta["wrappers"]
    assert info["class"] == "CoTeachingClassifier" and "first" in info["note"]
    preds = tmp_path / "p.csv"
    code, _, err = run_cli(
        ["predict", str(out), str(pep_csv[1]), "--out", str(preds), "-q"], capsys
    )
    assert code == 0, err
    src = pd.read_csv(pep_csv[1])
    expected = badlabels.load_model(out).predict_proba(src["sequence"].tolist())[:, 1]
    np.testing.assert_allclose(pd.read_csv(preds)["prob_positive"], expected, atol=1e-6, rtol=0)


def test_train_by_default_saves_one_robust_ensemble_that_predicts(pep_csv, tmp_path, capsys):
    out = tmp_path / "robust"
    code, _, err = run_cli(
        ["train", "--data", str(pep_csv[0]), "--model", "lstm",
         "--epochs", "2", "--batch-size", "100", "--device", "cpu", "--out", str(out), "-q"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    cfg = json.loads((out / "model.json").read_text())
    assert cfg["class"] == "EnsembleClassifier" and cfg["metadata"]["method"] == "robust"
    assert cfg["metadata"]["architecture"]["n_members"] == 5
    logreg = tmp_path / "logreg"  # robust is plain bce for a convex model
    code, _, err = run_cli(["train", "--data", str(pep_csv[0]), "--model", "logreg",
                            "--out", str(logreg), "-q"], capsys)  # fmt: skip
    assert code == 0, err
    assert json.loads((logreg / "model.json").read_text())["class"] == "LogisticRegressionClassifier"
    preds = tmp_path / "p.csv"
    code, _, err = run_cli(["predict", str(out), str(pep_csv[1]), "--out", str(preds), "-q"], capsys)
    assert code == 0, err
    src = pd.read_csv(pep_csv[1])
    model = badlabels.load_model(out)
    members = np.mean([m.predict_proba(src["sequence"].tolist())[:, 1] for m in model.members_], 0)
    np.testing.assert_allclose(pd.read_csv(preds)["prob_positive"], members, atol=1e-6, rtol=0)


def test_train_takes_model_and_method_params(pep_csv, tmp_path, capsys):
    out = tmp_path / "enc"
    code, _, err = run_cli(
        ["train", "--data", str(pep_csv[0]), "--model", "lstm", "--epochs", "2",
         "--batch-size", "100", "--device", "cpu", "--out", str(out), "-q",
         "--model-param", "lstm.encoding=onehot+zscales", "--model-param", "lstm.hidden_sizes=[8,4]",
         "--method-param", "robust.n_members=2"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    model = badlabels.load_model(out)
    assert len(model.members_) == 2
    assert all(m.encoding == "onehot+zscales" and m.hidden_sizes == (8, 4) for m in model.members_)
