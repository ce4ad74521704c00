"""``badlabels corrupt``: the noisy copy of a dataset, and its input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cli_helpers import one_line_error, run_cli

from badlabels.audit import corrupted_frame
from badlabels.data import Dataset


def test_corrupt_symmetric_peptide12(tmp_path, capsys):
    out = tmp_path / "c.csv"
    code, stdout, err = run_cli(
        ["corrupt", "--dataset", "peptide12", "--n-sequences", "400", "--rate", "0.25",
         "--seed", "7", "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    df = pd.read_csv(out)
    assert list(df.columns[:4]) == ["sequence", "label", "label_noisy", "is_flipped"]
    assert any("noisy" in c for c in df.columns)
    assert len(df) == 400 and df["sequence"].is_unique
    assert (df["is_flipped"] == (df["label"] != df["label_noisy"]).astype(int)).all()
    assert df["is_flipped"].sum() == 100  # symmetric flips exactly round(rate * n)
    assert "100 labels flipped" in stdout
    # same seed, same file
    again = tmp_path / "again.csv"
    run_cli(["corrupt", "--dataset", "peptide12", "--n-sequences", "400", "--rate", "0.25",
             "--seed", "7", "--out", str(again)], capsys)  # fmt: skip
    pd.testing.assert_frame_equal(df, pd.read_csv(again))


def test_corrupt_file_class_conditional_and_measurement(tmp_path, capsys):
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACDEFGHIKL"), 6)) for _ in range(300)]
    seqs = list(dict.fromkeys(seqs))
    src = tmp_path / "scores.csv"
    pd.DataFrame({"seq": seqs, "activity": rng.normal(size=len(seqs))}).to_csv(src, index=False)
    base = ["--data", str(src), "--seq-col", "seq", "--label-col", "activity", "--quantile", "0.5"]
    out = tmp_path / "cc.csv"
    code, _, err = run_cli(
        ["corrupt", *base, "--noise-type", "class_conditional", "--rate", "0.4",
         "--cc-ratio", "0.5", "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    df = pd.read_csv(out)
    assert list(df.columns) == ["seq", "label", "label_noisy", "is_flipped", "score"]
    pos, neg = df[df["label"] == 1], df[df["label"] == 0]
    assert pos["is_flipped"].sum() == round(0.4 * len(pos))
    assert neg["is_flipped"].sum() == round(0.2 * len(neg))
    out2 = tmp_path / "m.csv.gz"
    code, _, err = run_cli(
        ["corrupt", *base, "--noise-type", "measurement", "--rate", "0.5", "--out", str(out2)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    df2 = pd.read_csv(out2)
    assert 0 < df2["is_flipped"].sum() < len(df2)


def test_corrupted_frame_read_depth():
    rng = np.random.default_rng(1)
    n = 200
    inp = rng.integers(1, 200, n)
    sel = rng.binomial(inp, rng.uniform(0.05, 0.95, n))
    fitness = (sel / inp) / (sel.sum() / inp.sum())
    thr = float(np.median(fitness))
    ds = Dataset(
        sequences=[f"A{i:03d}".replace("0", "C").replace("1", "D").replace("2", "E")
                   .replace("3", "F").replace("4", "G").replace("5", "H").replace("6", "I")
                   .replace("7", "K").replace("8", "L").replace("9", "M") for i in range(n)],
        labels=(fitness > thr).astype(np.int8),
        scores=fitness,
        threshold=thr,
        counts={"count_input": inp, "count_selected": sel},
    )  # fmt: skip
    df = corrupted_frame(ds, "read_depth", 0.1, seed=0)
    assert {"score", "score_noisy"} <= set(df.columns)
    assert (df["is_flipped"] == (df["label"] != df["label_noisy"]).astype(int)).all()
    assert 0 < df["is_flipped"].sum() < n
    same = corrupted_frame(ds, "read_depth", 1.0, seed=0)
    assert same["is_flipped"].sum() == 0


@pytest.mark.parametrize(
    "extra, needles",
    [
        (["--rate", "1.5"], ["rate", "1.5"]),
        (["--rate", "-0.1"], ["rate"]),
        (["--noise-type", "gremlins"], ["gremlins", "symmetric"]),
        (["--noise-type", "read_depth"], ["read_depth", "count_input"]),
        (["--n-sequences", "5"], ["--n-sequences"]),
    ],
)
def test_corrupt_errors(tmp_path, capsys, extra, needles):
    args = ["corrupt", "--dataset", "peptide12", "--n-sequences", "200",
            "--out", str(tmp_path / "c.csv"), *extra]  # fmt: skip
    code, _, err = run_cli(args, capsys)
    one_line_error(code, err, *needles)
    assert not (tmp_path / "c.csv").exists()


def test_corrupt_measurement_needs_scores_and_out_must_be_a_file(tmp_path, capsys):
    src = tmp_path / "bin.csv"
    src.write_text("sequence,label\nACDE,1\nACDF,0\nACDG,1\n")
    code, _, err = run_cli(
        ["corrupt", "--data", str(src), "--noise-type", "measurement", "--rate", "0.5",
         "--out", str(tmp_path / "x.csv")],
        capsys,
    )  # fmt: skip
    one_line_error(code, err, "--threshold")
    code, _, err = run_cli(["corrupt", "--data", str(src), "--out", str(tmp_path)], capsys)
    one_line_error(code, err, "folder")
    code, _, err = run_cli(["corrupt", "--data", str(src), "--out", str(src)], capsys)
    one_line_error(code, err, "overwrite")
    code, _, err = run_cli(["corrupt", "--data", str(tmp_path / "missing.csv")], capsys)
    one_line_error(code, err, "missing.csv", "not found")
