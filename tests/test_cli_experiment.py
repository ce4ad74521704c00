"""The experiment command end to end, and every input error as one line with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from cli_helpers import run_cli

from badlabels.cli import main
from badlabels.experiment.store import RESULT_COLUMNS


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def _assert_one_line_error(code, err, *needles):
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, (n, err)


BAD_INPUTS = {
    "bad_char": ("sequence,label\nACDE,1\nACXE,0\n", [], ["bad_char.csv", "row 3", "X"]),
    "stop_without_flag": ("sequence,label\nAC*E,1\nACDE,0\n", [], ["row 2", "*"]),
    "empty_sequence": ("sequence,label\nACDE,1\n,0\nACDF,0\n", [], ["row 3"]),
    "missing_label": ("sequence,label\nACDE,1\nACDF,\nACDG,0\n", [], ["row 3"]),
    "missing_column": ("seq,label\nACDE,1\nACDF,0\n", [], ["sequence", "seq"]),
    "one_class": ("sequence,label\nACDE,1\nACDF,1\n", [], ["one_class.csv"]),
    "one_class_threshold": (
        "sequence,score\nACDE,0.1\nACDF,0.2\n",
        ["--label-col", "score", "--threshold", "5"],
        ["one_class_threshold.csv"],
    ),
    "conflict": ("sequence,label\nACDE,1\nACDE,0\nACDF,0\nACDG,1\n", [], ["conflict.csv", "1"]),
    "two_strings": ("sequence,label\nACDE,good\nACDF,bad\n", [], ["good", "--positive"]),
    "score_not_numeric": (
        "sequence,score\nACDE,0.1\nACDF,high\n",
        ["--label-col", "score", "--quantile", "0.5"],
        ["row 3", "high"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_input_errors_are_one_line_exit_2(case, tmp_path, capsys):
    text, extra, needles = BAD_INPUTS[case]
    path = write(tmp_path, f"{case}.csv", text)
    code, _, err = run_cli(
        ["experiment", "--data", str(path), "--out", str(tmp_path / "out"), "-q", *extra], capsys
    )
    _assert_one_line_error(code, err, *needles)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--noise-rates", "0,1.5"], "1.5"),
        (["--noise-rates", "0,abc"], "abc"),
        (["--models", "gpt"], "gpt"),
        (["--noise-type", "cosmic"], "cosmic"),
        (["--noise-type", "measurement"], "threshold"),
        (["--noise-type", "read_depth"], "count_input"),
    ],
)
def test_option_errors_are_one_line_exit_2(args, needle, tmp_path, capsys):
    path = write(tmp_path, "ok.csv", "sequence,label\n" + "".join(
        f"ACD{s},{i % 2}\n" for i, s in enumerate("EFGHIKLMNP")
    ))
    code, _, err = run_cli(
        ["experiment", "--data", str(path), "--out", str(tmp_path / "o"), "-q", "--epochs", "1", *args],
        capsys,
    )
    _assert_one_line_error(code, err, needle)


def test_missing_file_and_no_data(tmp_path, capsys):
    code, _, err = run_cli(["experiment", "--data", str(tmp_path / "nope.csv"), "-q"], capsys)
    _assert_one_line_error(code, err, "nope.csv")
    code, _, err = run_cli(["experiment", "-q"], capsys)
    _assert_one_line_error(code, err, "--data")


def test_small_experiment_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "experiment", "--dataset", "peptide12", "--n-sequences", "1500",
        "--noise-rates", "0,0.5", "--models", "lstm,logreg", "--epochs", "2",
        "--seeds", "0,1", "--out", str(out), "-q", "--device", "cpu", "--threads", "1",
    ]  # fmt: skip
    main_ok(args)
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 8
    assert set(RESULT_COLUMNS) <= set(df.columns)
    assert set(df["model"]) == {"lstm", "logreg"}
    assert (df["n_train"] == 1200).all()
    # 50 % flips: labels carry no signal, the model is at chance (loose bound at this size).
    assert df.loc[df.noise_rate == 0.5, "realized_flip_rate"].eq(0.5).all()
    assert df.loc[df.noise_rate == 0.0, "realized_flip_rate"].eq(0.0).all()
    logreg0 = df[(df.model == "logreg") & (df.noise_rate == 0)]["auroc"]
    assert (logreg0 > 0.7).all()
    assert (out / "curve.png").stat().st_size > 10_000
    assert (out / "curve.svg").exists()
    summary = (out / "summary.md").read_text()
    assert "Clean-test AUROC" in summary and "peptide12" in summary
    config = json.loads((out / "config.json").read_text())
    assert config["data_fingerprint"] == df["data_fingerprint"].iloc[0]
    # Re-running trains nothing and yields the same table.
    main_ok(args)
    again = pd.read_csv(out / "results.csv")
    pd.testing.assert_frame_equal(df, again)
    capsys.readouterr()


def main_ok(args):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code in (0, None)


def test_same_seed_same_metrics_on_cpu(tmp_path):
    args = lambda d: [  # noqa: E731
        "experiment", "--dataset", "peptide12", "--n-sequences", "800", "--noise-rates", "0.2",
        "--models", "lstm", "--epochs", "2", "--out", str(tmp_path / d), "-q", "--device", "cpu",
    ]  # fmt: skip
    main_ok(args("a"))
    main_ok(args("b"))
    a, b = (pd.read_csv(tmp_path / d / "results.csv") for d in "ab")
    for col in ("auroc", "accuracy", "realized_flip_rate", "noisy_test_auroc"):
        assert a[col].tolist() == b[col].tolist()


def test_help_of_every_command():
    out = subprocess.run(
        [sys.executable, "-c", "from badlabels.cli import main; main(['--help'])"],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 0
    from badlabels.cli import app

    commands = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
    for c in commands:
        assert c in out.stdout
    assert "experiment" in commands and "demo" in commands
    for cmd in commands:
        r = subprocess.run(
            [sys.executable, "-c", f"from badlabels.cli import main; main(['{cmd}', '--help'])"],
            capture_output=True, text=True, check=False,
        )
        assert r.returncode == 0, (cmd, r.stderr)
        assert "Usage" in r.stdout
