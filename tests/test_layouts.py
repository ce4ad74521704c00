"""Real DMS data as labs hold it: ProteinGym, FLIP and MaveDB layouts, mutation strings,
given splits and folds, varying positions and precomputed features.

Every fixture uses the column names of the real files.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import one_line_error as assert_one_line
from cli_helpers import run_cli

from badlabels.data import load_data, make_peptide12
from badlabels.data.features import read_features
from badlabels.data.positions import choose_positions, project, template, variable_positions
from badlabels.errors import BadInputError

TARGET = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRV"  # 40 residues
CUTOFF = -0.5
DMS_ID = "TEST_HUMAN_Smith_2020"


def mutate(target: str, mutant: str, offset: int = 0) -> str:
    """Apply ``A1P:D2N`` by hand (independently of badlabels.data.mutations)."""
    seq = list(target)
    for m in mutant.split(":"):
        wt, pos, mt = m[0], int(m[1:-1]), m[-1]
        assert seq[pos - 1 - offset] == wt, m
        seq[pos - 1 - offset] = mt
    return "".join(seq)


# (mutant, DMS_score); bins by ProteinGym's rule DMS_score >= CUTOFF (-0.5 itself is 1)
PG_ROWS = [
    ("T3A", 0.5), ("T3G", -1.0), ("Y5W", 0.2), ("Y5F", -0.5), ("A4C", -2.0),
    ("T3A:Y5W", 1.0), ("K2R", -0.1), ("K2E", -1.2), ("A4D", 0.3), ("Y5L", -0.6),
]  # fmt: skip


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def pg_file(tmp_path, rows=PG_ROWS, name=f"{DMS_ID}.csv", bins=None) -> Path:
    lines = ["mutant,mutated_sequence,DMS_score,DMS_score_bin,fold_random_5"]
    for i, (m, score) in enumerate(rows):
        b = int(score >= CUTOFF) if bins is None else bins[i]
        lines.append(f"{m},{mutate(TARGET, m)},{score},{b},{i % 5}")
    return write(tmp_path / name, "\n".join(lines) + "\n")


def reference_file(tmp_path) -> Path:
    return write(
        tmp_path / "DMS_substitutions.csv",
        "DMS_index,DMS_id,DMS_filename,UniProt_ID,target_seq,seq_len,DMS_binarization_cutoff,"
        "DMS_binarization_method\n"
        f"DMS_sub_0,{DMS_ID},{DMS_ID}.csv,TEST_HUMAN,{TARGET},40,{CUTOFF},manual\n"
        f"DMS_sub_1,OTHER_YEAST_Doe_2019,OTHER_YEAST_Doe_2019.csv,OTHER_YEAST,{TARGET},40,0.0,"
        "median\n"
        f"DMS_sub_2,THIRD_ECOLI_Roe_2021,THIRD_ECOLI_Roe_2021.csv,THIRD_ECOLI,{TARGET},40,1.5,"
        "manual\n",
    )


def one_line_error(call, *needles) -> str:
    with pytest.raises(BadInputError) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg, msg
    for n in needles:
        assert n in msg, (n, msg)
    return msg


# ---------------------------------------------------------------------------------------
# ProteinGym


def test_proteingym_recognised_label_from_bin_scores_kept(tmp_path):
    path = pg_file(tmp_path)
    ds = load_data(path, positions="all")
    assert ds.extra["layout"] == "proteingym" and ds.extra["layout_detected"] is True
    assert list(ds.sequences) == [mutate(TARGET, m) for m, _ in PG_ROWS]
    scores = np.array([s for _, s in PG_ROWS])
    assert np.array_equal(ds.labels, (scores >= CUTOFF).astype(np.int8))
    assert np.allclose(ds.scores, scores)
    assert ds.extra["label_col"] == "DMS_score_bin" and ds.extra["seq_col"] == "mutated_sequence"
    # the shipped bins are a cutoff rule: kept as a threshold that re-derives them exactly
    assert np.array_equal(ds.scores > ds.threshold, ds.labels.astype(bool))


def test_proteingym_forced_by_format_and_layout(tmp_path):
    path = pg_file(tmp_path)
    plain = path.with_name("renamed.csv")
    plain.write_text(path.read_text())
    for kw in ({"fmt": "proteingym"}, {"layout": "proteingym"}):
        ds = load_data(plain, positions="all", **kw)
        assert ds.extra["layout"] == "proteingym" and ds.extra["layout_detected"] is False


def test_proteingym_folds(tmp_path):
    ds = load_data(pg_file(tmp_path), folds_col="fold_random_5")
    assert ds.folds.dtype == np.int64
    assert list(ds.folds) == [i % 5 for i in range(len(PG_ROWS))]
    assert ds.extra["n_folds"] == 5 and ds.extra["fold_values"] == [0, 1, 2, 3, 4]


def test_folds_renumbered_and_non_integer_is_an_error(tmp_path):
    path = write(
        tmp_path / "f.csv", "sequence,label,fold\nACDE,1,3\nACDF,0,7\nACDG,1,3\nACDH,0,5\n"
    )
    ds = load_data(path, folds_col="fold")
    assert list(ds.folds) == [0, 2, 0, 1] and ds.extra["fold_values"] == [3, 5, 7]
    bad = write(tmp_path / "g.csv", "sequence,label,fold\nACDE,1,1\nACDF,0,1.5\n")
    one_line_error(lambda: load_data(bad, folds_col="fold"), "g.csv", "row 3", "1.5", "integer")


def test_proteingym_reference_recomputes_bins_and_counts_disagreements(tmp_path):
    bins = [int(s >= CUTOFF) for _, s in PG_ROWS]
    bins[0], bins[3] = 0, 0  # two shipped bins disagree with the cutoff
    path = pg_file(tmp_path, bins=bins)
    ref = reference_file(tmp_path)
    ds = load_data(path, reference=ref, dms_id=DMS_ID, positions="all")
    scores = np.array([s for _, s in PG_ROWS])
    assert np.array_equal(ds.labels, (scores >= CUTOFF).astype(np.int8))
    assert ds.labels[3] == 1  # DMS_score == cutoff -> 1 (ProteinGym's >=)
    assert ds.extra["bin_disagreements"] == 2
    assert ds.extra["dms_id"] == DMS_ID and ds.extra["cutoff"] == CUTOFF
    assert ds.extra["binarization_method"] == "manual"
    assert np.array_equal(ds.scores > ds.threshold, ds.labels.astype(bool))
    # the DMS_id defaults to the data file's name
    again = load_data(path, reference=ref, positions="all")
    assert again.extra["dms_id"] == DMS_ID and again.extra["bin_disagreements"] == 2


def test_proteingym_unknown_dms_id_lists_near_ids(tmp_path):
    path, ref = pg_file(tmp_path), reference_file(tmp_path)
    msg = one_line_error(
        lambda: load_data(path, reference=ref, dms_id="TEST_HUMAN_Smith_2021"),
        "DMS_substitutions.csv",
        "unknown DMS_id",
        DMS_ID,
    )
    assert "Traceback" not in msg


def test_proteingym_without_bins_is_binarised_at_the_median(tmp_path):
    lines = ["mutant,mutated_sequence,DMS_score"] + [
        f"{m},{mutate(TARGET, m)},{s}" for m, s in PG_ROWS
    ]
    path = write(tmp_path / "scores_only.csv", "\n".join(lines) + "\n")
    ds = load_data(path, positions="all")
    scores = np.array([s for _, s in PG_ROWS])
    median = float(np.median(scores))
    assert ds.extra["label_kind"] == "median" and "median" in ds.extra["binarization"]
    assert np.array_equal(ds.labels, (scores >= median).astype(np.int8))


def test_proteingym_indel_file_without_mutant_column(tmp_path):
    seqs = [TARGET, TARGET[:10] + TARGET[11:], TARGET[:5] + "GG" + TARGET[5:], TARGET[1:],
            TARGET[:20] + "W" + TARGET[20:], TARGET[:30] + TARGET[32:]]  # fmt: skip
    scores = [0.0, -1.0, 0.4, -2.0, 0.9, -0.7]
    lines = ["mutated_sequence,DMS_score,DMS_score_bin"] + [
        f"{s},{v},{int(v >= CUTOFF)}" for s, v in zip(seqs, scores, strict=True)
    ]
    ds = load_data(write(tmp_path / "indels.csv", "\n".join(lines) + "\n"))
    assert ds.extra["layout"] == "proteingym"
    assert list(ds.sequences) == seqs  # lengths differ: never projected
    assert "positions" not in ds.extra


def test_proteingym_duplicates_are_averaged_not_a_conflict(tmp_path):
    rows = PG_ROWS + [("T3A", -1.7), ("K2R", -0.3)]  # T3A: 0.5 and -1.7 -> mean -0.6 -> 0
    ref = reference_file(tmp_path)
    ds = load_data(pg_file(tmp_path, rows=rows), reference=ref, dms_id=DMS_ID, positions="all")
    assert len(ds) == len(PG_ROWS)
    assert ds.extra["n_duplicates_merged"] == 2
    i = list(ds.sequences).index(mutate(TARGET, "T3A"))
    assert ds.scores[i] == pytest.approx(-0.6) and ds.labels[i] == 0
    j = list(ds.sequences).index(mutate(TARGET, "K2R"))
    assert ds.scores[j] == pytest.approx(-0.2) and ds.labels[j] == 1
    # without a reference: the shipped bins disagree for T3A, and it is still no error
    ds2 = load_data(pg_file(tmp_path, rows=rows, name="dup.csv"), positions="all")
    assert ds2.extra["n_duplicates_merged"] == 2
    assert ds2.scores[i] == pytest.approx(-0.6)


def test_proteingym_clinical_bins_and_positive(tmp_path):
    seqs = [mutate(TARGET, m) for m in ("T3A", "T3G", "Y5W", "Y5F")]
    text = "mutant,mutated_sequence,DMS_score_bin\n" + "".join(
        f"{m},{s},{b}\n"
        for m, s, b in zip(("T3A", "T3G", "Y5W", "Y5F"), seqs, (1, 0, 1, 0), strict=True)
    )
    path = write(tmp_path / "clinical.csv", text)
    ds = load_data(path, positions="all")
    assert list(ds.labels) == [1, 0, 1, 0] and ds.scores is None  # 1 = pathogenic
    benign = load_data(path, positions="all", positive="0")
    assert list(benign.labels) == [0, 1, 0, 1] and benign.extra["positive"] == "0"


# ---------------------------------------------------------------------------------------
# mutation strings


def test_mutant_strings_give_the_mutated_sequence_column(tmp_path):
    path = pg_file(tmp_path)
    from_column = load_data(path, positions="all")
    built = load_data(path, mutant_col="mutant", target_seq=TARGET, positions="all")
    assert np.array_equal(built.sequences, from_column.sequences)
    assert built.extra["mutant_col"] == "mutant"
    fasta = write(
        tmp_path / "target.fasta", ">TEST_HUMAN\n" + TARGET[:20] + "\n" + TARGET[20:] + "\n"
    )
    via_fasta = load_data(path, mutant_col="mutant", target_seq=str(fasta), positions="all")
    assert np.array_equal(via_fasta.sequences, from_column.sequences)
    # the reference's target_seq serves too
    via_ref = load_data(path, mutant_col="mutant", reference=reference_file(tmp_path),
                        positions="all")  # fmt: skip
    assert np.array_equal(via_ref.sequences, from_column.sequences)


def test_mutant_strings_with_offset(tmp_path):
    text = "mutant,label\nT103A,1\nY105W,0\nK102R,1\n"
    ds = load_data(write(tmp_path / "off.csv", text), mutant_col="mutant", target_seq=TARGET,
                   offset=100, positions="all")  # fmt: skip
    assert list(ds.sequences) == [mutate(TARGET, m, 100) for m in ("T103A", "Y105W", "K102R")]


def test_wrong_wild_type_is_a_one_line_error_with_the_row(tmp_path):
    text = "mutant,label\nT3A,1\nQ5W,0\n"
    path = write(tmp_path / "wt.csv", text)
    one_line_error(
        lambda: load_data(path, mutant_col="mutant", target_seq=TARGET),
        "wt.csv",
        "row 3",
        "Q5W",
    )


def test_mutant_col_without_target_is_an_error(tmp_path):
    path = write(tmp_path / "m.csv", "mutant,label\nT3A,1\nY5W,0\n")
    one_line_error(lambda: load_data(path, mutant_col="mutant"), "m.csv", "--target-seq")


# ---------------------------------------------------------------------------------------
# MaveDB


def mavedb_file(tmp_path) -> Path:
    return write(
        tmp_path / "urn_mavedb_00000001-a-1_scores.csv",
        "accession,hgvs_nt,hgvs_pro,score\n"
        "urn:mavedb:00000001-a-1#1,NA,p.Thr3Ala,0.8\n"
        "urn:mavedb:00000001-a-1#2,NA,p.Thr3Gly,-1.2\n"
        "urn:mavedb:00000001-a-1#3,NA,p.Tyr5Trp,0.4\n"
        "urn:mavedb:00000001-a-1#4,NA,p.Tyr5=,0.0\n"
        "urn:mavedb:00000001-a-1#5,NA,p.[Thr3Ala;Tyr5Phe],1.1\n"
        "urn:mavedb:00000001-a-1#6,NA,p.Ala4del,-3.0\n"
        "urn:mavedb:00000001-a-1#7,NA,p.Lys2Arg,NA\n"
        "urn:mavedb:00000001-a-1#8,NA,p.Lys2Glu,-0.9\n",
    )


def test_mavedb_score_set(tmp_path):
    path = mavedb_file(tmp_path)
    ds = load_data(path, target_seq=TARGET, positions="all")
    assert ds.extra["layout"] == "mavedb"
    assert list(ds.sequences) == [
        mutate(TARGET, m) for m in ("T3A", "T3G", "Y5W", "T3A:Y5F", "K2E")
    ]
    assert ds.extra["n_synonymous"] == 1 and ds.extra["n_skipped_variants"] == 1
    assert ds.extra["n_rows_missing_score"] == 1
    scores = np.array([0.8, -1.2, 0.4, 1.1, -0.9])
    assert ds.extra["label_kind"] == "median" and "median" in ds.extra["binarization"]
    assert np.array_equal(ds.labels, (scores > np.median(scores)).astype(np.int8))
    at = load_data(path, target_seq=TARGET, threshold=0.0, positions="all")
    assert np.array_equal(at.labels, (scores > 0).astype(np.int8))


def test_mavedb_needs_the_target(tmp_path):
    one_line_error(lambda: load_data(mavedb_file(tmp_path)), "--target-seq", "MaveDB")


# ---------------------------------------------------------------------------------------
# FLIP and given splits


def flip_file(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    lines = ["sequence,target,set,validation"]
    sets = ["train"] * 14 + ["test"] * 6
    for i, s in enumerate(sets):
        seq = "".join(rng.choice(list("ACDEFGHIKLMNPQRSTVWY"), 8))
        valid = "True" if s == "train" and i % 5 == 0 else ("False" if s == "train" else "")
        lines.append(f"{seq},{rng.normal():.3f},{s},{valid}")
    return write(tmp_path / "gb1_two_vs_rest.csv", "\n".join(lines) + "\n")


def test_flip_file_split_and_median_labels(tmp_path):
    import pandas as pd

    path = flip_file(tmp_path)
    table = pd.read_csv(path, keep_default_na=False)
    ds = load_data(path)
    assert ds.extra["layout"] == "flip"
    assert ds.extra["split_source"] == "column 'set' (+ 'validation')"
    test_rows = table.index[table["set"] == "test"]
    assert set(ds.sequences[ds.split == "test"]) == set(table.loc[test_rows, "sequence"])
    val_rows = table.index[table["validation"] == "True"]
    assert set(ds.sequences[ds.split == "val"]) == set(table.loc[val_rows, "sequence"])
    assert set(ds.split) == {"train", "val", "test"}
    target = table["target"].to_numpy(float)
    assert np.array_equal(ds.labels, (target > np.median(target)).astype(np.int8))
    assert ds.extra["label_kind"] == "median"


def test_split_col_words_and_bad_value(tmp_path):
    text = "sequence,label,part\nACDE,1,Train\nACDF,0,TEST\nACDG,1,valid\nACDH,0,validation\n"
    ds = load_data(write(tmp_path / "s.csv", text), split_col="part")
    assert list(ds.split) == ["train", "test", "val", "val"]
    bad = write(tmp_path / "t.csv", "sequence,label,part\nACDE,1,train\nACDF,0,holdout\n")
    one_line_error(lambda: load_data(bad, split_col="part"), "t.csv", "row 3", "holdout")
    flag = write(tmp_path / "v.csv", "sequence,label,set,validation\nACDE,1,train,maybe\n")
    one_line_error(lambda: load_data(flag, split_col="set", valid_col="validation"),
                   "v.csv", "row 2", "maybe")  # fmt: skip


def test_duplicate_rows_keep_the_first_rows_split(tmp_path):
    text = "sequence,label,set\nACDE,1,test\nACDF,0,train\nACDE,1,train\n"
    ds = load_data(write(tmp_path / "d.csv", text), split_col="set")
    assert list(ds.sequences) == ["ACDE", "ACDF"] and list(ds.split) == ["test", "train"]


# ---------------------------------------------------------------------------------------
# positions


def test_positions_auto_projects_a_full_length_scan(tmp_path):
    ds = load_data(pg_file(tmp_path))
    assert ds.extra["positions"] == [1, 2, 3, 4]
    assert ds.extra["full_length"] == 40 and ds.extra["template"] == TARGET
    full = [mutate(TARGET, m) for m, _ in PG_ROWS]
    assert list(ds.sequences) == [s[1:5] for s in full]
    # a saved model projects new full-length sequences the same way
    again = project(full, ds.extra["positions"], ds.extra["full_length"])
    assert np.array_equal(again, ds.sequences)
    one_line_error(lambda: project([TARGET[:-1]], [1, 2], 40, rows=[7]), "row 7", "39", "40")
    variable = load_data(pg_file(tmp_path), positions="variable")
    assert np.array_equal(variable.sequences, ds.sequences)


def test_positions_auto_leaves_12mers_and_gb1_alone(tmp_path):
    ds = make_peptide12(300, seed=1)
    path = tmp_path / "peptides.csv"
    path.write_text("sequence,label\n" + "".join(
        f"{s},{y}\n" for s, y in zip(ds.sequences, ds.labels, strict=True)
    ))  # fmt: skip
    auto, whole = load_data(path), load_data(path, positions="all")
    assert np.array_equal(auto.sequences, whole.sequences) and "positions" not in auto.extra
    assert auto.fingerprint() == whole.fingerprint()
    gb1 = write(tmp_path / "gb1.csv", "variant,fitness\nADGV,0.1\nVDGV,1.0\nCDGV,0.3\nDDGV,0.0\n")
    g = load_data(gb1, seq_col="variant", label_col="fitness", quantile=0.5)
    assert list(g.sequences) == ["ADGV", "VDGV", "CDGV", "DDGV"]


def test_positions_helpers():
    seqs = ["AAAA", "ACAA", "AAAW"]
    assert list(variable_positions(seqs)) == [1, 3]
    assert template(seqs) == "AAAA"
    assert choose_positions(seqs, "all") is None
    assert list(choose_positions(seqs, "variable")) == [1, 3]
    assert choose_positions(["A" * 40, "C" + "A" * 39], "auto").tolist() == [0]
    assert choose_positions(["A" * 40, "A" * 39], "auto") is None
    with pytest.raises(BadInputError, match="differ in length"):
        choose_positions(["AAAA", "AAA"], "variable")
    with pytest.raises(BadInputError, match="positions must be"):
        choose_positions(seqs, "some")


# ---------------------------------------------------------------------------------------
# features


FEAT_CSV = "sequence,label\nACDE,1\nACDF,0\nACDE,1\nACDG,0\nACDH,1\n"


def test_features_npy_aligned_to_data_rows(tmp_path):
    data = write(tmp_path / "data.csv", FEAT_CSV)
    arr = np.arange(10, dtype=np.float64).reshape(5, 2)
    np.save(tmp_path / "features.npy", arr)
    ds = load_data(data, features=tmp_path / "features.npy")
    # ACDE's duplicate (data row 3) is merged: the kept rows are data rows 0, 1, 3, 4
    assert ds.features.dtype == np.float32 and ds.features.shape == (4, 2)
    assert np.array_equal(ds.features, arr[[0, 1, 3, 4]].astype(np.float32))
    assert ds.extra["n_features"] == 2


def test_features_table_keyed_by_sequence(tmp_path):
    data = write(tmp_path / "data.csv", FEAT_CSV)
    feats = write(tmp_path / "features.csv",
                  "sequence,f1,f2\nACDH,4,40\nACDG,3,30\nZZZ,9,9\nacdf,2,20\nACDE,1,10\n")  # fmt: skip
    ds = load_data(data, features=feats)
    assert ds.features.tolist() == [[1, 10], [2, 20], [3, 30], [4, 40]]


def test_features_keyed_by_full_length_sequence_when_projected(tmp_path):
    path = pg_file(tmp_path)
    full = [mutate(TARGET, m) for m, _ in PG_ROWS]
    feats = write(tmp_path / "emb.tsv", "sequence\te1\n" + "".join(
        f"{s}\t{i}\n" for i, s in enumerate(full)
    ))  # fmt: skip
    ds = load_data(path, features=feats)
    assert "positions" in ds.extra
    assert ds.features[:, 0].tolist() == list(range(len(full)))


def test_features_errors(tmp_path):
    data = write(tmp_path / "data.csv", FEAT_CSV)
    np.save(tmp_path / "features.npy", np.zeros((4, 3)))
    one_line_error(lambda: load_data(data, features=tmp_path / "features.npy"),
                   "features.npy", "has 4 rows", "data.csv has 5 data rows")  # fmt: skip
    np.save(tmp_path / "flat.npy", np.zeros(5))
    one_line_error(lambda: load_data(data, features=tmp_path / "flat.npy"), "flat.npy", "2-D")
    bad = np.zeros((5, 3))
    bad[3, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    one_line_error(lambda: load_data(data, features=tmp_path / "nan.npy"),
                   "nan.npy", "non-finite", "row 3", "column 2")  # fmt: skip
    missing = write(tmp_path / "missing.csv", "sequence,f1\nACDE,1\nACDF,2\n")
    one_line_error(lambda: load_data(data, features=missing),
                   "missing.csv", "2 of 4 sequences", "ACDG")  # fmt: skip
    text = write(tmp_path / "text.csv", "sequence,f1\nACDE,1\nACDF,x\nACDG,1\nACDH,1\n")
    one_line_error(lambda: load_data(data, features=text), "text.csv", "row 3", "'x'")
    one_line_error(lambda: load_data(data, features=tmp_path / "nope.npy"), "nope.npy", "not found")


def test_read_features_for_new_rows():
    np_rows = np.ones((2, 3))
    path = Path(os.environ.get("TMPDIR", "/tmp")) / "badlabels_test_new_rows.npy"
    np.save(path, np_rows)
    try:
        out = read_features(path, np.array(["ACDE", "ACDF"], dtype=object))
        assert out.shape == (2, 3) and out.dtype == np.float32
        with pytest.raises(BadInputError, match="2 rows for 3 sequences"):
            read_features(path, np.array(["A", "C", "D"], dtype=object))
    finally:
        path.unlink()


def test_builtin_dataset_rejects_file_options():
    one_line_error(lambda: load_data(dataset="peptide12", split_col="set"), "--split-col")


# ---------------------------------------------------------------------------------------
# the command line: each new option, a bad value -> exit code 2 and one line


def _cli_cases(tmp_path):
    pg = pg_file(tmp_path)
    ref = reference_file(tmp_path)
    plain = write(tmp_path / "plain.csv", FEAT_CSV)
    np.save(tmp_path / "short.npy", np.zeros((2, 2)))
    muts = write(tmp_path / "muts.csv", "mutant,label\nT3A,1\nY5W,0\n")
    split = write(
        tmp_path / "split.csv", "sequence,label,part,flag\nACDE,1,train,no\nACDF,0,dev,x\n"
    )
    return {
        "--format": ([str(plain), "--format", "xlsx"], ["--format", "xlsx"]),
        "--reference": ([str(pg), "--reference", str(tmp_path / "none.csv")], ["none.csv", "not found"]),
        "--dms-id": ([str(pg), "--reference", str(ref), "--dms-id", "NOPE_2020"], ["NOPE_2020", "near ids"]),
        "--mutant-col": ([str(muts), "--mutant-col", "variant", "--target-seq", TARGET], ["variant"]),
        "--target-seq": ([str(muts), "--mutant-col", "mutant", "--target-seq", "MKT1AY"], ["target", "'1'"]),
        "--offset": ([str(muts), "--mutant-col", "mutant", "--target-seq", TARGET, "--offset", "500"], ["row 2", "outside"]),
        "--split-col": ([str(split), "--split-col", "part"], ["row 3", "'dev'"]),
        "--valid-col": ([str(split), "--valid-col", "flag"], ["row 3", "'x'"]),
        "--positions": ([str(plain), "--positions", "some"], ["--positions", "some"]),
        "--features": ([str(plain), "--features", str(tmp_path / "short.npy")], ["short.npy", "2 rows"]),
    }  # fmt: skip


@pytest.mark.parametrize(
    "option",
    ["--format", "--reference", "--dms-id", "--mutant-col", "--target-seq", "--offset",
     "--split-col", "--valid-col", "--positions", "--features"],
)  # fmt: skip
@pytest.mark.parametrize("command", ["experiment", "train", "audit", "corrupt"])
def test_cli_new_data_options_bad_value(option, command, tmp_path, capsys):
    args, needles = _cli_cases(tmp_path)[option]
    code, _, err = run_cli([command, "--data", *args, "--out", str(tmp_path / "o")], capsys)
    assert_one_line(code, err, *needles)


def test_cli_folds_col_bad_value(tmp_path, capsys):
    path = write(tmp_path / "folds.csv", "sequence,label,fold\nACDE,1,0\nACDF,0,one\n")
    code, _, err = run_cli(["audit", "--data", str(path), "--folds-col", "fold",
                            "--out", str(tmp_path / "o")], capsys)  # fmt: skip
    assert_one_line(code, err, "row 3", "'one'", "integers")


def test_cli_corrupt_reads_a_proteingym_file(tmp_path, capsys):
    import pandas as pd

    out = tmp_path / "noisy.csv"
    code, _, err = run_cli(
        ["corrupt", "--data", str(pg_file(tmp_path)), "--format", "proteingym",
         "--positions", "all", "--out", str(out)], capsys,
    )  # fmt: skip
    assert code in (0, None), err
    frame = pd.read_csv(out)
    assert len(frame) == len(PG_ROWS)
    assert set(frame.iloc[:, 0]) == {mutate(TARGET, m) for m, _ in PG_ROWS}


def test_recorded_facts_are_json_friendly(tmp_path):
    import json

    datasets = [
        load_data(pg_file(tmp_path), reference=reference_file(tmp_path), folds_col="fold_random_5"),
        load_data(flip_file(tmp_path)),
        load_data(mavedb_file(tmp_path), target_seq=TARGET),
    ]
    for ds in datasets:
        assert json.loads(json.dumps(ds.extra)) == ds.extra
