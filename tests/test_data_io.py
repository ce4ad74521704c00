"""Readers, label kinds, validation errors and duplicate policies of badlabels.data.load_data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from badlabels.data import AMINO_ACIDS, Dataset, load_data, read_table
from badlabels.errors import BadInputError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def bad(path, *, row: int | str | None = None, contains=(), **kw) -> str:
    """Load ``path`` expecting a one-line BadInputError naming the file (and row)."""
    with pytest.raises(BadInputError) as info:
        load_data(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg, msg
    assert Path(path).name in msg, msg
    if isinstance(row, int):
        assert f"row {row}:" in msg, msg
        assert info.value.row == row
    elif isinstance(row, str):
        assert row in msg, msg
    for part in contains:
        assert part in msg, msg
    return msg


CSV = "sequence,label\nACDE,1\nFGHI,0\nKLMN,1\nPQRS,0\n"


# ---------------------------------------------------------------------------------------
# readers


@pytest.mark.parametrize(
    "name,text",
    [
        ("d.csv", CSV),
        ("d.tsv", CSV.replace(",", "\t")),
        ("d.csv.gz", CSV),
        ("d.tsv.gz", CSV.replace(",", "\t")),
        ("d.txt", CSV.replace(",", ";")),
        ("d.txt", CSV.replace(",", "\t")),
        ("d.txt", CSV.replace(",", " ")),
        ("d.TXT.gz", CSV.replace(",", "|")),
    ],
)
def test_delimited_readers(tmp_path, name, text):
    ds = load_data(write(tmp_path, name, text))
    assert isinstance(ds, Dataset)
    assert ds.sequences.tolist() == ["ACDE", "FGHI", "KLMN", "PQRS"]
    assert ds.labels.tolist() == [1, 0, 1, 0]
    assert ds.labels.dtype == np.int8
    assert ds.name == name
    assert ds.source == str(tmp_path / name)
    assert ds.alphabet == AMINO_ACIDS
    assert ds.scores is None and ds.threshold is None and ds.counts is None


def test_parquet_reader_with_typed_columns(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame(
        {"seq": ["ACDE", "FGHI", "KLMN"], "bound": [True, False, True], "x": [1.5, 2, 3]}
    ).to_parquet(path)
    ds = load_data(path, seq_col="seq", label_col="bound")
    assert ds.labels.tolist() == [1, 0, 1]
    pd.DataFrame({"seq": ["ACDE", "FGHI"], "y": [1.0, 0.0]}).to_parquet(path)
    assert load_data(path, seq_col="seq", label_col="y").labels.tolist() == [1, 0]
    pd.DataFrame({"seq": ["ACDE", "FGHI"], "y": [0.2, 0.9]}).to_parquet(path)
    ds = load_data(path, seq_col="seq", label_col="y", threshold=0.5)
    assert ds.labels.tolist() == [0, 1]
    np.testing.assert_allclose(ds.scores, [0.2, 0.9])


FASTA = """>v1 label=1 score=0.3
ACDE
FG
>v2 label=0 score=0.1
klmn

>v3 label=1 score=0.9
PQRS
"""


@pytest.mark.parametrize("name", ["d.fa", "d.fasta", "d.faa", "d.fa.gz"])
def test_fasta_reader(tmp_path, name):
    path = write(tmp_path, name, FASTA)
    ds = load_data(path)
    assert ds.sequences.tolist() == ["ACDEFG", "KLMN", "PQRS"]
    assert ds.labels.tolist() == [1, 0, 1]
    ds = load_data(path, label_col="score", threshold=0.2)
    assert ds.labels.tolist() == [1, 0, 1]
    table = read_table(path)
    assert list(table.columns) == ["id", "label", "score", "sequence"]
    assert table["id"].tolist() == ["v1", "v2", "v3"]
    assert table.index.tolist() == [1, 2, 3]
    assert table.attrs["row_unit"] == "record"


def test_read_table_index_is_spreadsheet_row_and_keeps_na_text(tmp_path):
    path = write(tmp_path, "d.csv", "sequence,label\nNA,1\n\nACD,NA\n")
    table = read_table(path)
    assert table.index.tolist() == [2, 4]  # the blank line (row 3) is skipped but counted
    assert table["sequence"].tolist() == ["NA", "ACD"]
    assert table.attrs["format"] == "csv"
    bad(path, row=4, contains=("missing label",))


def test_fmt_override_and_gzip_detected_from_content(tmp_path):
    path = tmp_path / "data.dat"
    with gzip.open(path, "wt") as fh:
        fh.write(CSV.replace(",", "\t"))
    assert len(load_data(path, fmt="tsv")) == 4
    with pytest.raises(BadInputError, match="unknown format 'xlsx'"):
        load_data(path, fmt="xlsx")


def test_column_names_are_stripped_and_variable_lengths_allowed(tmp_path):
    path = write(tmp_path, "d.csv", " sequence , label \n acde ,1\nFGHIKLMN,0\nW,1\n")
    ds = load_data(path)
    assert ds.sequences.tolist() == ["ACDE", "FGHIKLMN", "W"]


def test_counts_kept_whenever_both_count_columns_exist(tmp_path):
    text = "sequence,score,count_input,count_selected\nACD,0.1,10,1\nEFG,2.0,20,40\nHIK,1.0,5,5\n"
    ds = load_data(write(tmp_path, "c.csv", text), label_col="score", quantile=0.5)
    assert ds.counts is not None
    assert ds.counts["count_input"].tolist() == [10, 20, 5]
    assert ds.counts["count_selected"].dtype == np.int64
    sub = ds.subset([0, 2])
    assert sub.counts["count_input"].tolist() == [10, 5]
    # invalid counts are not fatal (the labels do not need them) but are not kept
    text = text.replace("20,40", "20,lots")
    with pytest.warns(UserWarning, match="count_selected"):
        ds = load_data(write(tmp_path, "c2.csv", text), label_col="score", quantile=0.5)
    assert ds.counts is None and "row 3" in ds.extra["counts_skipped"]


# ---------------------------------------------------------------------------------------
# label kinds


@pytest.mark.parametrize(
    "values,expected",
    [
        (["1", "0", "1", "0"], [1, 0, 1, 0]),
        (["true", "FALSE", "True", "false"], [1, 0, 1, 0]),
        (["yes", "No", "YES", "no"], [1, 0, 1, 0]),
        (["1.0", "0.0", "1", "0"], [1, 0, 1, 0]),
        (["y", "N", "T", "f"], [1, 0, 1, 0]),  # the one yes/no vocabulary (validate.yes_no)
    ],
)
def test_binary_label_spellings(tmp_path, values, expected):
    text = "sequence,label\n" + "".join(
        f"{s},{v}\n" for s, v in zip(["ACD", "EFG", "HIK", "LMN"], values, strict=True)
    )
    assert load_data(write(tmp_path, "d.csv", text)).labels.tolist() == expected


def test_string_labels_with_positive(tmp_path):
    path = write(tmp_path, "d.csv", "sequence,label\nACD,bind\nEFG,none_\nHIK,bind\n")
    ds = load_data(path, positive="bind")
    assert ds.labels.tolist() == [1, 0, 1]
    assert ds.extra["positive"] == "bind"
    assert load_data(path, positive="none_").labels.tolist() == [0, 1, 0]
    msg = bad(path, contains=("'bind'", "'none_'", "--positive"))
    assert "row 2" in msg and "row 3" in msg
    bad(path, positive="binder", contains=("'binder'", "does not occur"))


def test_threshold_binarises_and_keeps_scores(tmp_path):
    path = write(tmp_path, "d.csv", "sequence,label\nACD,0.1\nEFG,0.5\nHIK,0.9\nKLM,-2\n")
    ds = load_data(path, threshold=0.5)
    assert ds.labels.tolist() == [0, 0, 1, 0]  # strictly greater than the threshold
    assert ds.threshold == 0.5
    np.testing.assert_allclose(ds.scores, [0.1, 0.5, 0.9, -2])
    assert "quantile" not in ds.extra


def test_quantile_binarises_and_records_quantile(tmp_path):
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    text = "sequence,fit\n" + "".join(
        f"{s},{v}\n"
        for s, v in zip(["AC", "DE", "FG", "HI", "KL", "MN", "PQ", "RS"], scores, strict=True)
    )
    ds = load_data(write(tmp_path, "d.csv", text), label_col="fit", quantile=0.75)
    assert ds.threshold == pytest.approx(np.quantile(scores, 0.75))
    assert ds.labels.tolist() == [0, 0, 0, 0, 0, 0, 1, 1]
    assert ds.extra["quantile"] == 0.75
    np.testing.assert_allclose(ds.scores, scores)


def test_allow_stop(tmp_path):
    path = write(tmp_path, "d.csv", "sequence,label\nAC*,1\nDEF,0\n")
    bad(path, row=2, contains=("'*'", "--allow-stop", "'AC*'"))
    ds = load_data(path, allow_stop=True)
    assert ds.sequences.tolist() == ["AC*", "DEF"]
    assert "*" in ds.alphabet


# ---------------------------------------------------------------------------------------
# validation errors: BadInputError, one line, file name and row


def test_error_bad_character(tmp_path):
    path = write(tmp_path, "d.csv", "sequence,label\nACDE,1\nACXD,0\n")
    bad(path, row=3, contains=("'X'", "'ACXD'", "position 3"))
    path = write(tmp_path, "d2.csv", "sequence,label\nAC DE,1\nACD,0\n")
    bad(path, row=2, contains=("whitespace",))
    path = write(tmp_path, "d3.csv", "sequence,label\nACD,1\nACDé,0\n")
    bad(path, row=3, contains=("'É'",))


def test_error_bad_character_fasta_names_record(tmp_path):
    path = write(tmp_path, "d.fasta", ">a label=1\nACD\n>b label=0\nAC-D\n")
    bad(path, row="record 2:", contains=("'-'",))


def test_error_missing_sequence(tmp_path):
    bad(
        write(tmp_path, "d.csv", "sequence,label\nACD,1\nEFG,0\n,1\n"),
        row=4,
        contains=("missing sequence",),
    )
    bad(
        write(tmp_path, "d.fa", ">a label=1\nACD\n>b label=0\n>c label=1\nEF\n"),
        row="record 2:",
        contains=("missing sequence",),
    )


def test_error_missing_label(tmp_path):
    bad(
        write(tmp_path, "d.csv", "sequence,label\nACD,1\nEFG\nHIK,0\n"),
        row=3,
        contains=("missing label", "'label'"),
    )
    bad(write(tmp_path, "d2.csv", "sequence,label\nACD,1\nEFG,nan\n"), row=3)
    bad(
        write(tmp_path, "d.fa", ">a label=1\nACD\n>b\nEFG\n"),
        row="record 2:",
        contains=("missing label",),
    )


def test_error_missing_column_lists_columns(tmp_path):
    path = write(tmp_path, "d.csv", "seq,Label\nACD,1\nEFG,0\n")
    bad(path, row=1, contains=("no column 'sequence'", "'seq'", "'Label'", "--seq-col"))
    bad(path, seq_col="seq", row=1, contains=("no column 'label'", "did you mean 'Label'"))
    bad(write(tmp_path, "d.fa", ">a\nACD\n"), contains=("'label'", "'id'", "'sequence'"))


def test_error_one_class(tmp_path):
    path = write(tmp_path, "d.csv", "sequence,label\nACD,0.1\nEFG,0.2\nHIK,0.3\n")
    bad(path, threshold=5, contains=("only one class", "0 (negative)", "score > 5"))
    bad(path, threshold=0, contains=("1 (positive)", "score > 0", "higher"))
    bad(
        write(tmp_path, "d2.csv", "sequence,label\nACD,1\nEFG,1\n"),
        contains=("only one class", "1 (positive)"),
    )
    bad(
        write(tmp_path, "d3.csv", "sequence,label\nACD,bind\nEFG,bind\n"),
        contains=("only one class", "'bind'"),
    )


def test_error_non_numeric_score(tmp_path):
    path = write(tmp_path, "d.csv", "sequence,label\nACD,0.1\nEFG,high\nHIK,0.3\n")
    bad(path, threshold=0.2, row=3, contains=("'high'", "not a number"))
    bad(path, quantile=0.5, row=3, contains=("'high'",))
    bad(
        write(tmp_path, "d2.csv", "sequence,label\nACD,0.1\nEFG,inf\n"),
        threshold=0.0,
        row=3,
        contains=("'inf'", "finite"),
    )


def test_error_numbers_without_threshold(tmp_path):
    path = write(tmp_path, "d.csv", "sequence,label\nACD,1\nEFG,0.37\nHIK,0\n")
    bad(path, row=3, contains=("'0.37'", "--threshold", "--quantile"))


def test_error_unrecognised_and_many_labels(tmp_path):
    bad(
        write(tmp_path, "d.csv", "sequence,label\nACD,1\nEFG,0\nHIK,maybe\n"),
        row=4,
        contains=("'maybe'",),
    )
    bad(
        write(tmp_path, "d2.csv", "sequence,label\nACD,a\nEFG,b\nHIK,c\n"),
        row=4,
        contains=("3 distinct labels",),
    )
    bad(
        write(tmp_path, "d3.csv", "sequence,label\nACD,a\nEFG,b\nHIK,c\n"),
        positive="a",
        row=4,
        contains=("exactly two",),
    )


def test_error_options(tmp_path):
    path = write(tmp_path, "d.csv", CSV)
    bad(path, threshold=0.5, quantile=0.5, contains=("not both",))
    for q in (0, 1, 1.5, -0.1):
        bad(path, quantile=q, contains=("between 0 and 1",))
    bad(path, positive="x", threshold=1, contains=("--positive",))
    bad(path, on_conflict="keep", contains=("on_conflict", "majority"))


def test_error_file_problems(tmp_path):
    bad(tmp_path / "missing.csv", contains=("file not found",))
    (tmp_path / "folder.csv").mkdir()
    bad(tmp_path / "folder.csv", contains=("directory",))
    bad(write(tmp_path, "d.xlsx", "x"), contains=("unknown file format", "'.xlsx'"))
    bad(write(tmp_path, "noext", "x"), contains=("unknown file format",))
    bad(write(tmp_path, "empty.csv", ""), contains=("empty",))
    (tmp_path / "broken.csv.gz").write_bytes(gzip.compress(CSV.encode())[:-12])
    bad(tmp_path / "broken.csv.gz", contains=("cannot read",))
    (tmp_path / "latin.csv").write_bytes("sequence,label\nACD,1\nEFG,caf\xe9\n".encode("latin-1"))
    bad(tmp_path / "latin.csv", contains=("UTF-8",))
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    bad(tmp_path / "bad.parquet", contains=("Parquet",))
    bad(write(tmp_path, "d.fa", "ACD\n>a label=1\nACD\n"), contains=("line 1", "header"))
    bad(write(tmp_path, "header_only.csv", "sequence,label\n"), contains=("no data rows",))


def test_error_wrong_number_of_fields_names_row(tmp_path):
    bad(
        write(tmp_path, "d.csv", "sequence,label\nACD,1\nEFG,0,7\n"),
        row=3,
        contains=("expected 2 fields",),
    )


# ---------------------------------------------------------------------------------------
# duplicates


DUPS = (
    "sequence,label\n"
    "ACD,1\n"  # row 2
    "EFG,0\n"  # row 3
    "acd,0\n"  # row 4: conflicts with row 2 (case-insensitive)
    "HIK,1\n"  # row 5
    "EFG,0\n"  # row 6: identical duplicate of row 3
    "LMN,1\n"  # row 7
    "LMN,0\n"  # row 8: conflict, tie
    "LMN,1\n"  # row 9: majority 1
    "PQR,0\n"  # row 10
)


def test_conflict_error_reports_count_and_rows(tmp_path):
    bad(
        write(tmp_path, "d.csv", DUPS),
        row=2,
        contains=("2 sequence(s)", "'ACD'", "rows 2, 4", "labels 1, 0", "--on-conflict"),
    )


def test_conflict_drop(tmp_path):
    ds = load_data(write(tmp_path, "d.csv", DUPS), on_conflict="drop")
    assert ds.sequences.tolist() == ["EFG", "HIK", "PQR"]
    assert ds.labels.tolist() == [0, 1, 0]
    assert ds.extra["n_conflicting_sequences"] == 2
    assert ds.extra["n_rows_dropped"] == 5
    assert ds.extra["n_duplicates_merged"] == 1


def test_conflict_majority_drops_ties(tmp_path):
    ds = load_data(write(tmp_path, "d.csv", DUPS), on_conflict="majority")
    assert ds.sequences.tolist() == ["EFG", "HIK", "LMN", "PQR"]
    assert ds.labels.tolist() == [0, 1, 1, 0]
    assert len(set(ds.sequences.tolist())) == len(ds)


def test_identical_duplicates_merged_with_mean_score(tmp_path):
    text = "sequence,s\nACD,0.9\nEFG,0.1\nACD,0.7\nHIK,0.2\n"
    ds = load_data(write(tmp_path, "d.csv", text), label_col="s", threshold=0.5)
    assert ds.sequences.tolist() == ["ACD", "EFG", "HIK"]
    assert ds.labels.tolist() == [1, 0, 0]
    np.testing.assert_allclose(ds.scores, [0.8, 0.1, 0.2])
    assert ds.extra["n_duplicates_merged"] == 1


def test_majority_with_scores_averages_majority_rows(tmp_path):
    text = "sequence,s\nACD,0.9\nACD,0.7\nACD,0.1\nEFG,0.1\n"
    ds = load_data(
        write(tmp_path, "d.csv", text), label_col="s", threshold=0.5, on_conflict="majority"
    )
    assert ds.sequences.tolist() == ["ACD", "EFG"]
    np.testing.assert_allclose(ds.scores, [0.8, 0.1])


# ---------------------------------------------------------------------------------------
# built-in datasets


def test_builtin_peptide12_and_unknown_dataset():
    ds = load_data(dataset="peptide12", n_sequences=300, seed=3)
    assert len(ds) == 300
    with pytest.raises(BadInputError, match="peptide12, gb1"):
        load_data(dataset="nope")
    with pytest.raises(BadInputError, match="no input"):
        load_data()
    with pytest.raises(BadInputError, match="needs the path"):
        load_data(dataset="gb1")


def test_one_yes_no_vocabulary_for_labels_and_truth_columns():
    from badlabels.audit import InputRows, read_truth
    from badlabels.data.validate import NO_TOKENS, YES_TOKENS, yes_no

    words = sorted(YES_TOKENS) + sorted(NO_TOKENS)
    is_yes, is_no = yes_no([w.upper() for w in words] + ["maybe"])
    assert is_yes.tolist() == [True] * len(YES_TOKENS) + [False] * (len(NO_TOKENS) + 1)
    assert is_no.tolist() == [False] * len(YES_TOKENS) + [True] * len(NO_TOKENS) + [False]
    table = pd.DataFrame({"truth": words}, index=range(2, 2 + len(words)))
    n = len(words)
    mapping = InputRows(rows=np.arange(2, 2 + n), index=np.arange(n), first=np.ones(n, bool),
                        table=table)  # fmt: skip
    assert read_truth(mapping, "truth").tolist() == is_yes[:-1].tolist()


def test_builtin_registry_takes_a_new_dataset(monkeypatch):
    from badlabels.data import BUILTIN_DATASETS, make_peptide12, register_dataset

    monkeypatch.setattr("badlabels.data.builtin.BUILTIN_DATASETS", dict(BUILTIN_DATASETS))
    from badlabels.data import builtin

    @register_dataset("tiny", "a test dataset", reads_file=False)
    def _tiny(path, options):
        return make_peptide12(options.n_sequences or 150, options.seed)

    assert "tiny" in builtin.BUILTIN_DATASETS and "tiny" not in BUILTIN_DATASETS
    assert len(load_data(dataset="tiny", n_sequences=120)) == 120
    with pytest.raises(BadInputError, match="peptide12, gb1, tiny"):
        load_data(dataset="nope")


@pytest.mark.parametrize("name", ["d.csv", "d.tsv.gz", "d.txt", "d.parquet", "d.fasta"])
def test_read_table_chunks_gives_read_table_in_pieces(tmp_path, name):
    from badlabels.data import read_table_chunks

    seqs = ["ACD", "EFG", "HIK", "LMN", "PQR", "STV", "WYA"]
    rows = [(s, str(i % 2)) for i, s in enumerate(seqs)]
    if name.endswith(".parquet"):
        path = tmp_path / name
        pd.DataFrame(rows, columns=["sequence", "label"]).to_parquet(path)
    elif name.endswith(".fasta"):
        path = write(
            tmp_path, name, "".join(f">s{i} label={y}\n{s}\n" for i, (s, y) in enumerate(rows))
        )
    else:
        sep = "\t" if ".tsv" in name else ","
        lines = [f"sequence{sep}label"] + [f"{s}{sep}{y}" for s, y in rows]
        lines.insert(3, "")  # a blank line keeps its row number
        path = write(tmp_path, name, "\n".join(lines) + "\n")
    whole = read_table(path)
    pieces = list(read_table_chunks(path, chunksize=3))
    joined = pd.concat(pieces)
    assert joined.index.tolist() == whole.index.tolist()
    assert joined["sequence"].tolist() == whole["sequence"].tolist()
    if name.endswith((".csv", ".tsv.gz", ".parquet")):
        assert len(pieces) >= 3  # streamed


def test_read_table_chunks_names_the_bad_row(tmp_path):
    from badlabels.data import read_table_chunks

    lines = ["sequence,label"] + ["ACD,1"] * 5 + ["ACD,1,extra"]
    path = write(tmp_path, "d.csv", "\n".join(lines) + "\n")
    with pytest.raises(BadInputError, match="row 7") as info:
        list(read_table_chunks(path, chunksize=2))
    assert "d.csv" in str(info.value)
