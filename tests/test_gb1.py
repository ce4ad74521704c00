"""The GB1 loader on the real shared file (skipped when the file is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from badlabels.data import load_data, load_gb1
from badlabels.errors import BadInputError

GB1 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gb1_wu2016.csv.gz"
needs_gb1 = pytest.mark.skipif(
    not GB1.exists(), reason=f"GB1 data file not found at {GB1} (clone the repo next to shared/)"
)


@pytest.fixture(scope="module")
def gb1():
    return load_gb1(GB1)


@needs_gb1
def test_gb1_loads_with_balanced_labels_and_counts(gb1):
    assert gb1.name == "gb1"
    assert len(gb1) == 149_361
    assert abs(gb1.positive_fraction - 0.5) < 0.01
    assert gb1.extra["quantile"] == 0.5
    assert gb1.threshold == pytest.approx(np.median(gb1.scores))
    np.testing.assert_array_equal(gb1.labels, (gb1.scores > gb1.threshold).astype(np.int8))
    assert set(gb1.counts) == {"count_input", "count_selected"}
    assert all(v.dtype == np.int64 and len(v) == len(gb1) for v in gb1.counts.values())
    assert set(np.char.str_len(gb1.sequences.astype(str)).tolist()) == {4}


@needs_gb1
def test_gb1_wild_type(gb1):
    wt = gb1.extra["wt_index"]
    assert gb1.sequences[wt] == "VDGV"
    assert gb1.scores[wt] == pytest.approx(1.0)
    assert gb1.extra["wt_counts"] == (92735, 338346)
    assert gb1.counts["count_input"][wt] == 92735


@needs_gb1
def test_gb1_threshold_and_load_data_paths(gb1, tmp_path):
    ds = load_gb1(GB1, threshold=1.0)
    assert ds.threshold == 1.0 and "quantile" not in ds.extra
    assert 0.005 < ds.positive_fraction < 0.05  # ~2.4 % reach wild-type fitness
    via = load_data(dataset="gb1", path=GB1)
    assert via.fingerprint() == gb1.fingerprint()
    plain = load_data(GB1, seq_col="variant", label_col="fitness", quantile=0.5)
    assert plain.counts is not None and plain.name == GB1.name
    np.testing.assert_array_equal(plain.labels, gb1.labels)


def test_gb1_needs_counts(tmp_path):
    path = tmp_path / "gb1_small.csv"
    path.write_text("variant,fitness\nVDGV,1.0\nADGV,0.06\nCDGV,0.24\n")
    with pytest.raises(BadInputError, match="count_input") as info:
        load_gb1(path)
    assert "gb1_small.csv" in str(info.value)


def test_gb1_small_file_layout(tmp_path):
    path = tmp_path / "gb1_small.csv"
    path.write_text(
        "variant,hamming_to_wt,count_input,count_selected,fitness\n"
        "ADGV,1,34,43,0.06\nVDGV,0,100,300,1.0\nCDGV,1,850,641,0.24\nDDGV,1,63,0,0.0\n"
    )
    ds = load_gb1(path)
    assert ds.extra["wt_index"] == 1
    assert ds.extra["wt_counts"] == (100, 300)
    assert ds.labels.tolist() == [0, 1, 1, 0]
