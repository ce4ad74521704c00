"""Read-depth noise on a user's count file: the score is reproduced from the counts first.

Issue 12: a count file read with ``--data`` kept its counts but not its wild type, so
read-depth noise normalised by library totals while the threshold was on the wild-type scale,
and the labels came out wrong without a word. These tests pin the normalisation that is found,
that ``--data`` and the built-in GB1 loader give the same flips, and the errors.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import one_line_error, run_cli

from badlabels.data import load_data, load_gb1
from badlabels.errors import BadInputError
from badlabels.noise import COUNT_RTOL, apply_noise, resolve_count_normalisation

AA = "ACDEFGHIKLMNPQRSTVWY"
WT = "VDGV"


def _counts_frame(n=400, seed=0, *, norm="wild_type", pseudocount=0.0) -> pd.DataFrame:
    """A GB1-like file: 4-site variants, input/selected reads, fitness from the counts."""
    rng = np.random.default_rng(seed)
    seqs = {WT}
    while len(seqs) < n:
        seqs.add("".join(rng.choice(list(AA), 4)))
    seqs = [WT, *sorted(seqs - {WT})]
    inp = rng.integers(10, 800, size=n)
    inp[0] = 90_000
    sel = rng.binomial(inp, np.clip(rng.lognormal(-3.5, 1.5, size=n), 0, 1))
    sel[0] = 330_000
    pc = pseudocount
    if norm == "wild_type":
        fit = ((sel + pc) / (inp + pc)) / ((sel[0] + pc) / (inp[0] + pc))
    else:
        fit = ((sel + pc) / (inp + pc)) / (sel.sum() / inp.sum())
    return pd.DataFrame(
        {"variant": seqs, "count_input": inp, "count_selected": sel, "fitness": fit}
    )


def _write(tmp_path, frame, name="counts.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False, float_format="%.12g")
    return path


def _user_file(path, **kw):
    return load_data(path, seq_col="variant", label_col="fitness", quantile=0.5, **kw)


# --------------------------------------------------------------------------- normalisation


def test_user_file_finds_the_wild_type_and_matches_the_builtin_loader(tmp_path):
    path = _write(tmp_path, _counts_frame())
    user, builtin = _user_file(path), load_gb1(path)
    norm = resolve_count_normalisation(user)
    assert norm.kind == "wild_type" and norm.wild_type == WT and norm.found_by == "score of 1"
    assert norm.reference == (90_000, 330_000) and norm.n_agree == norm.n_checked == len(user)
    for fraction in (0.3, 0.03, 0.01):
        a = apply_noise(user, "read_depth", fraction, seed=4)
        b = apply_noise(builtin, "read_depth", fraction, seed=4)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.flipped, b.flipped)
    assert apply_noise(user, "read_depth", 1.0, seed=4).n_flipped == 0


def test_wild_type_given_by_the_user(tmp_path):
    frame = _counts_frame()
    frame.loc[frame.variant == WT, "fitness"] = 1.0 + 1e-9  # not exactly 1: still the wild type
    path = _write(tmp_path, frame)
    ds = _user_file(path, wild_type=WT.lower())
    assert ds.extra["wild_type"] == WT and ds.extra["wt_counts"] == (90_000, 330_000)
    norm = resolve_count_normalisation(ds)
    assert norm.found_by == "given" and norm.wild_type == WT


def test_library_totals_file_and_its_parts(tmp_path):
    path = _write(tmp_path, _counts_frame(norm="library_totals"))
    ds = _user_file(path)
    norm = resolve_count_normalisation(ds)
    assert norm.kind == "library_totals"
    assert norm.reference == (int(ds.counts["count_input"].sum()), int(ds.counts["count_selected"].sum()))
    # A part normalises by the whole library's totals, so at full depth nothing flips and the
    # recomputed score is the file's own.
    stored = ds.subset(np.arange(50, 150))
    stored.extra["count_normalisation"] = norm.to_dict()
    full = apply_noise(stored, "read_depth", 1.0)
    assert full.n_flipped == 0
    np.testing.assert_allclose(full.scores, stored.scores, rtol=1e-9)
    # Without the stored normalisation the part's own totals would not reproduce its score.
    with pytest.raises(BadInputError, match="do not reproduce"):
        resolve_count_normalisation(ds.subset(np.arange(50, 60)))


def test_pseudocount_is_found(tmp_path):
    path = _write(tmp_path, _counts_frame(pseudocount=0.5))
    norm = resolve_count_normalisation(_user_file(path))
    assert norm.kind == "wild_type" and norm.pseudocount == 0.5


def test_counts_that_do_not_reproduce_the_score_are_refused(tmp_path):
    frame = _counts_frame()
    frame["fitness"] = np.random.default_rng(1).permutation(frame["fitness"].to_numpy())
    ds = _user_file(_write(tmp_path, frame))
    with pytest.raises(BadInputError) as exc:
        apply_noise(ds, "read_depth", 0.1)
    msg = str(exc.value)
    assert "do not reproduce" in msg and "--wild-type" in msg and "\n" not in msg
    assert f"{COUNT_RTOL:.1%}" in msg


def test_a_few_rows_off_are_tolerated(tmp_path):
    frame = _counts_frame()
    frame.loc[5:7, "fitness"] = frame.loc[5:7, "fitness"] * 1.5 + 0.01  # 3 of 400 rows: < 1 %
    norm = resolve_count_normalisation(_user_file(_write(tmp_path, frame)))
    assert norm.n_checked - norm.n_agree == 3


# --------------------------------------------------------------------------- command line


def test_corrupt_with_data_gives_the_builtin_flips(tmp_path, capsys):
    path = _write(tmp_path, _counts_frame())
    common = ["--noise-type", "read_depth", "--rate", "0.03", "--seed", "2"]
    code, _, err = run_cli(
        ["corrupt", "--data", str(path), "--seq-col", "variant", "--label-col", "fitness",
         "--quantile", "0.5", *common, "--out", str(tmp_path / "user.csv")], capsys,
    )  # fmt: skip
    assert code in (0, None), err
    code, _, err = run_cli(
        ["corrupt", "--dataset", "gb1", "--data", str(path), *common,
         "--out", str(tmp_path / "builtin.csv")], capsys,
    )  # fmt: skip
    assert code in (0, None), err
    user = pd.read_csv(tmp_path / "user.csv")
    builtin = pd.read_csv(tmp_path / "builtin.csv")
    assert user["is_flipped"].sum() > 0
    np.testing.assert_array_equal(user["label_noisy"], builtin["label_noisy"])


def test_experiment_with_data_records_the_normalisation(tmp_path, capsys):
    path = _write(tmp_path, _counts_frame())
    outs = {}
    for name, data_args in {
        "user": ["--data", str(path), "--seq-col", "variant", "--label-col", "fitness",
                 "--quantile", "0.5"],
        "builtin": ["--dataset", "gb1", "--data", str(path)],
    }.items():  # fmt: skip
        outs[name] = tmp_path / name
        code, _, err = run_cli(
            ["experiment", *data_args, "--noise-type", "read_depth", "--noise-rates", "1,0.03",
             "--models", "logreg", "--out", str(outs[name]), "-q"], capsys,
        )  # fmt: skip
        assert code in (0, None), err
    user, builtin = (pd.read_csv(outs[k] / "results.csv") for k in ("user", "builtin"))
    for col in ("realized_flip_rate", "val_flip_rate", "test_flip_rate", "auroc"):
        assert user[col].tolist() == builtin[col].tolist(), col
    assert user.loc[user.noise_rate == 0.03, "realized_flip_rate"].item() > 0.05
    config = json.loads((outs["user"] / "config.json").read_text())
    norm = config["count_normalisation"]
    assert norm["kind"] == "wild_type" and norm["wild_type"] == WT
    assert "relative to the wild type VDGV" in (outs["user"] / "summary.md").read_text()
    assert "Read-depth normalisation" in (outs["user"] / "report.html").read_text()


def test_experiment_refuses_counts_that_do_not_reproduce_the_score(tmp_path, capsys):
    frame = _counts_frame()
    frame["fitness"] = np.random.default_rng(1).permutation(frame["fitness"].to_numpy())
    path = _write(tmp_path, frame, "shuffled.csv")
    code, _, err = run_cli(
        ["experiment", "--data", str(path), "--seq-col", "variant", "--label-col", "fitness",
         "--quantile", "0.5", "--noise-type", "read_depth", "--noise-rates", "0.1",
         "--models", "logreg", "--out", str(tmp_path / "run"), "-q"], capsys,
    )  # fmt: skip
    one_line_error(code, err, "shuffled.csv", "do not reproduce", "--wild-type")
    assert not (tmp_path / "run" / "results.csv").exists()


@pytest.mark.parametrize(
    "wild_type, needle",
    [("WWWW", "is not one of its sequences"), ("", "--wild-type is empty")],
)
def test_wild_type_errors(tmp_path, capsys, wild_type, needle):
    path = _write(tmp_path, _counts_frame())
    code, _, err = run_cli(
        ["corrupt", "--data", str(path), "--seq-col", "variant", "--label-col", "fitness",
         "--quantile", "0.5", "--wild-type", wild_type, "--noise-type", "read_depth",
         "--out", str(tmp_path / "x.csv")], capsys,
    )  # fmt: skip
    one_line_error(code, err, needle)


def test_wild_type_needs_counts(tmp_path, capsys):
    path = tmp_path / "plain.csv"
    path.write_text("sequence,score\nACDE,0.1\nACDF,0.9\nACDG,0.5\n")
    code, _, err = run_cli(
        ["corrupt", "--data", str(path), "--label-col", "score", "--quantile", "0.5",
         "--wild-type", "ACDE", "--out", str(tmp_path / "x.csv")], capsys,
    )  # fmt: skip
    one_line_error(code, err, "plain.csv", "count_input")
