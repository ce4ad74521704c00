"""Small things a new user meets (issue 12): tiny files, help text, packaging, summary wording."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli

from badlabels.cli import reflow_help
from badlabels.report.summary import write_summary

ROOT = Path(__file__).resolve().parents[1]


def _help(*args, columns=200) -> str:
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    out = subprocess.run(
        [sys.executable, "-c", "from badlabels.cli import main; main()", *args, "--help"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("n_rows", [2, 5])
def test_too_small_to_split_is_one_line(tmp_path, capsys, n_rows):
    path = tmp_path / "tiny.csv"
    rows = [f"ACD{c},{i % 2}" for i, c in enumerate("EFGHIKLMN"[:n_rows])]
    path.write_text("sequence,label\n" + "\n".join(rows) + "\n")
    code, _, err = run_cli(
        ["experiment", "--data", str(path), "--noise-rates", "0", "--models", "lstm",
         "--out", str(tmp_path / "run"), "-q"], capsys,
    )  # fmt: skip
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "tiny.csv" in err and f"{n_rows} row(s)" in err and "at least 10" in err
    assert "Warning" not in err and not (tmp_path / "run").exists()


def test_ray_hint_keeps_its_brackets():
    text = _help("experiment")
    assert "pip install 'badlabels[ray]'" in " ".join(text.split())


def test_docstring_paragraphs_wrap_to_the_terminal():
    text = _help("train")
    # One paragraph of the docstring is one line in a wide terminal (it was cut at the
    # docstring's own line breaks).
    assert any(
        "(alphabet, length rules, architecture, method" in line for line in text.splitlines()
    )
    usage = next(line for line in _help("predict").splitlines() if "Usage:" in line)
    assert "MODEL_DIR" in usage and "INPUT" in usage and "model_dir" not in usage


def test_reflow_keeps_list_items_and_code():
    doc = "First line.\n\nA paragraph\nover two lines.\n\n- item one\n  goes on\n- item two\n\n    code  kept"
    assert reflow_help(doc) == (
        "First line.\n\nA paragraph over two lines.\n\n- item one goes on\n- item two\n\n"
        "    code  kept"
    )


def test_license_is_an_spdx_string():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"


def test_summary_shows_the_noisy_and_the_corrected_figures(tmp_path):
    frame = pd.DataFrame(
        {
            "model": "lstm", "method": "bce", "batch_size": 500, "noise_type": "symmetric",
            "noise_rate": [0.0, 0.2], "seed": 0, "auroc": [0.9, 0.88],
            "noisy_test_auroc": [0.9, 0.71], "corrected_test_auroc": [0.9, 0.873],
            "n_train": 800, "n_val": 100, "n_test": 100, "epochs_run": 5, "best_epoch": 3,
        }
    )  # fmt: skip
    text = write_summary(frame, tmp_path / "summary.md").read_text()
    assert "0.710" in text and "0.873" in text
    assert "corrected for the noise of the test labels" in text
    no_corr = frame.assign(corrected_test_auroc=np.nan)
    text = write_summary(no_corr, tmp_path / "s2.md").read_text()
    assert "0.710" in text and "corrected for the noise" not in text
