"""Sequences from ProteinGym mutant strings and MaveDB protein HGVS (badlabels.data.mutations)."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from badlabels.data.mutations import (
    apply_mutations,
    build_from_hgvs,
    build_sequences,
    parse_hgvs_pro,
    parse_mutant,
    read_target,
)
from badlabels.data.validate import Where
from badlabels.errors import BadInputError

# M1 K2 T3 A4 Y5 I6 A7 K8 Q9 R10
PG_TARGET = "MKTAYIAKQR"
PROTEINGYM_CSV = """mutant,mutated_sequence,DMS_score,DMS_score_bin
M1A,AKTAYIAKQR,-1.25,0
K2P:Y5W,MPTAWIAKQR,0.5,1
R10G,MKTAYIAKQG,0.1,1
T3S:A4C:I6L,MKSCYLAKQR,-0.75,0
Q9E,MKTAYIAKER,0.33,1
"""

# M1 K2 T3 A4 L5 I6 A7 G8 Q9 R10
MAVE_TARGET = "MKTALIAGQR"
MAVEDB_CSV = """accession,hgvs_nt,hgvs_pro,score
urn:mavedb:00000001-a-1#1,c.13C>G,p.Leu5Glu,1.5
urn:mavedb:00000001-a-1#2,"c.[13C>G;20C>G]",p.[Leu5Glu;Ala7Gly],0.25
urn:mavedb:00000001-a-1#3,c.15G>A,p.Leu5=,0.0
urn:mavedb:00000001-a-1#4,_wt,p.=,0.01
urn:mavedb:00000001-a-1#5,c.-5A>G,NA,-0.2
urn:mavedb:00000001-a-1#6,c.1A>G,p.Met1Val,-2.0
urn:mavedb:00000001-a-1#7,c.16A>T,p.Ile6Ter,-3.0
urn:mavedb:00000001-a-1#8,c.22_24del,p.Gly8del,-1.0
urn:mavedb:00000001-a-1#9,_sy,_sy,0.05
urn:mavedb:00000001-a-1#10,"c.[13C>G;15G>A]",p.Leu5Glu,1.25
"""


def frame(text: str) -> pd.DataFrame:
    df = pd.read_csv(io.StringIO(text))
    df.index = df.index + 2  # spreadsheet rows: header = row 1
    return df


def one_line_error(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    return msg


# --- ProteinGym ---------------------------------------------------------------------------


def test_proteingym_frame_reproduces_mutated_sequence():
    df = frame(PROTEINGYM_CSV)
    seqs = build_sequences(df["mutant"], PG_TARGET, rows=df.index.to_numpy(), where=Where("pg.csv"))
    assert seqs.dtype == object and seqs.shape == (len(df),)
    assert list(seqs) == list(df["mutated_sequence"])
    assert all(type(s) is str for s in seqs)


def test_parse_mutant_forms():
    assert parse_mutant("A1P:D2N") == [("A", 1, "P"), ("D", 2, "N")]
    assert parse_mutant(" a1p : D2n ") == [("A", 1, "P"), ("D", 2, "N")]
    assert parse_mutant("K123W") == [("K", 123, "W")]
    for wild in ("", "  ", "WT", "wt", "_wt", "_WT"):
        assert parse_mutant(wild) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("M1", "'M1' is not a substitution like 'A123P'"),
        ("1A", "'1A' is not a substitution like 'A123P'"),
        ("M1A,K2P", "'M1A,K2P' is not a substitution like 'A123P'"),
        ("M1A:", "empty substitution between ':' separators"),
        ("M1Z", "mutant residue 'Z' in 'M1Z' is not one of the 20 amino acids"),
        ("M1*", "mutant residue '*' in 'M1*' is not one of the 20 amino acids"),
        ("B1A", "wild-type residue 'B' in 'B1A' is not one of the 20 amino acids"),
    ],
)
def test_parse_mutant_malformed(text, message):
    with pytest.raises(ValueError) as info:
        parse_mutant(text)
    assert str(info.value) == message


def test_wild_type_rows_give_the_target():
    seqs = build_sequences(["WT", "", "_wt", None, "M1A"], PG_TARGET)
    assert list(seqs) == [PG_TARGET] * 4 + ["AKTAYIAKQR"]


def test_apply_mutations_multi_and_offset():
    assert apply_mutations(PG_TARGET, [("M", 1, "A"), ("R", 10, "G")]) == "AKTAYIAKQG"
    assert apply_mutations(PG_TARGET, []) == PG_TARGET
    # offset 10: target residue 1 (M) is numbered 11
    assert apply_mutations(PG_TARGET, [("M", 11, "A"), ("K", 12, "P")], offset=10) == ("APTAYIAKQR")
    seqs = build_sequences(["K12P", "M11A:R20G"], PG_TARGET, offset=10)
    assert list(seqs) == ["MPTAYIAKQR", "AKTAYIAKQG"]


@pytest.mark.parametrize(
    ("mutations", "offset", "message"),
    [
        ([("R", 11, "G")], 0, "position 11 is outside the target (positions 1 to 10)"),
        ([("M", 0, "A")], 0, "position 0 is outside the target (positions 1 to 10)"),
        ([("M", 1, "A")], 10, "position 1 is outside the target (positions 11 to 20)"),
        (
            [("A", 1, "P")],
            0,
            "wild-type residue A at position 1 does not match the target's M",
        ),
        ([("M", 1, "A"), ("M", 1, "C")], 0, "position 1 is mutated twice"),
        ([("M", 1, "*")], 0, "mutant residue '*' at position 1 is not one of the 20 amino acids"),
    ],
)
def test_apply_mutations_errors(mutations, offset, message):
    with pytest.raises(ValueError) as info:
        apply_mutations(PG_TARGET, mutations, offset=offset)
    assert str(info.value) == message


def test_wrong_wild_type_names_file_row_and_column():
    df = frame(PROTEINGYM_CSV)
    df.loc[4, "mutant"] = "K2P:A5W"  # the target has Y at 5
    with pytest.raises(BadInputError) as info:
        build_sequences(df["mutant"], PG_TARGET, rows=df.index.to_numpy(), where=Where("pg.csv"))
    assert one_line_error(info) == (
        "pg.csv, row 4: mutant 'K2P:A5W' in column 'mutant': wild-type residue A at "
        "position 5 does not match the target's Y"
    )
    assert info.value.row == 4 and info.value.file == "pg.csv"


def test_out_of_range_with_offset_names_the_range():
    with pytest.raises(BadInputError) as info:
        build_sequences(["K12P", "R21G"], PG_TARGET, offset=10, rows=[7, 9], where=Where("pg.csv"))
    assert one_line_error(info) == (
        "pg.csv, row 9: mutant 'R21G' in column 'mutant': position 21 is outside the "
        "target (positions 11 to 20)"
    )


def test_malformed_and_duplicate_rows():
    with pytest.raises(BadInputError) as info:
        build_sequences(["M1A", "M1A;K2P"], PG_TARGET, where=Where("pg.csv"))
    assert one_line_error(info) == (
        "pg.csv, row 3: mutant 'M1A;K2P' in column 'mutant': 'M1A;K2P' is not a "
        "substitution like 'A123P'"
    )
    with pytest.raises(BadInputError) as info:
        build_sequences(["M1A:K2P:M1C"], PG_TARGET)
    assert one_line_error(info) == (
        "row 2: mutant 'M1A:K2P:M1C' in column 'mutant': position 1 is mutated twice"
    )


def test_many_rows():
    n = 20_000
    target = "ACDEFGHIKLMNPQRSTVWY" * 10
    pos = np.arange(n) % len(target) + 1
    mutants = [f"{target[p - 1]}{p}{'A' if target[p - 1] != 'A' else 'C'}" for p in pos]
    seqs = build_sequences(mutants, target)
    assert len(seqs) == n
    assert seqs[0] == "C" + target[1:]
    assert seqs[199] == target[:199] + "A"
    assert sum(a != b for a, b in zip(seqs[5], target, strict=True)) == 1


# --- target ------------------------------------------------------------------------------


def test_read_target_literal():
    assert read_target("mkta yiak\nqr ") == PG_TARGET
    with pytest.raises(BadInputError) as info:
        read_target("MK TXB")
    assert one_line_error(info) == (
        "the target sequence has the character 'X', which is not one of the 20 amino acids "
        "ACDEFGHIKLMNPQRSTVWY at position 4"
    )
    with pytest.raises(BadInputError) as info:
        read_target("   ")
    assert one_line_error(info) == "the target sequence is empty"
    with pytest.raises(BadInputError) as info:
        read_target("no/such/target.fasta")
    assert one_line_error(info) == (
        "target 'no/such/target.fasta' is neither an existing file nor an amino-acid sequence"
    )


def test_read_target_fasta(tmp_path):
    path = tmp_path / "target.fasta"
    path.write_text(">P1 first\nmkta\nYIAK\r\nQR\n>P2 second\nAAAA\n", encoding="utf-8")
    assert read_target(str(path)) == PG_TARGET

    empty = tmp_path / "empty.fasta"
    empty.write_text("MKTAYIAKQR\n", encoding="utf-8")
    with pytest.raises(BadInputError) as info:
        read_target(str(empty))
    assert one_line_error(info) == (
        f"{empty}: no FASTA record (a header line starting with '>') in the target file"
    )

    blank = tmp_path / "blank.fasta"
    blank.write_text(">P1\n\n>P2\nMK\n", encoding="utf-8")
    with pytest.raises(BadInputError) as info:
        read_target(str(blank))
    assert one_line_error(info) == f"{blank}, record 1: the target record has no sequence"

    badchar = tmp_path / "bad.fasta"
    badchar.write_text(">P1\nMKTA\nYI-K\n", encoding="utf-8")
    with pytest.raises(BadInputError) as info:
        read_target(str(badchar))
    assert one_line_error(info) == (
        f"{badchar}, record 1: the target sequence has the character '-', which is not one "
        "of the 20 amino acids ACDEFGHIKLMNPQRSTVWY at position 7"
    )


def test_existing_file_wins_over_literal(tmp_path, monkeypatch):
    (tmp_path / "ACDE").write_text(">x\nWWWW\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert read_target("ACDE") == "WWWW"
    assert read_target("ACDEF") == "ACDEF"


# --- MaveDB ------------------------------------------------------------------------------


def test_parse_hgvs_pro_forms():
    assert parse_hgvs_pro("p.Leu5Glu") == [("L", 5, "E")]
    assert parse_hgvs_pro("p.[Leu5Glu;Ala7Gly]") == [("L", 5, "E"), ("A", 7, "G")]
    assert parse_hgvs_pro("p.[Leu5=;Ala7Gly]") == [("A", 7, "G")]
    for same in ("p.Leu5=", "p.=", "_wt", "_sy", " _WT "):
        assert parse_hgvs_pro(same) == [], same
    for skip in ("", "NA", "nan", None, "p.Ile6Ter", "p.Gly8del", "p.Leu5fs", "p.Leu5_Ala7del"):
        assert parse_hgvs_pro(skip) is None, skip
    for bad, why in [
        ("p.L5E", "'p.L5E' is not valid MAVE-HGVS (failed regular expression validation)"),
        ("c.12A>G", "'c.12A>G' is not a protein variant (expected 'p.')"),
    ]:
        with pytest.raises(ValueError) as info:
            parse_hgvs_pro(bad)
        assert str(info.value) == why


def test_mavedb_frame_counts_and_sequences():
    df = frame(MAVEDB_CSV)
    assert df["hgvs_pro"].isna().sum() == 1  # the nucleotide-only row
    seqs, kept, counts = build_from_hgvs(
        df["hgvs_pro"], MAVE_TARGET, rows=df.index.to_numpy(), where=Where("mave.csv")
    )
    assert list(seqs) == ["MKTAEIAGQR", "MKTAEIGGQR", "VKTALIAGQR", "MKTAEIAGQR"]
    assert kept.dtype == bool
    assert kept.tolist() == [True, True, False, False, False, True, False, False, False, True]
    assert counts == {"synonymous": 3, "skipped": 3}
    assert df.loc[kept, "accession"].tolist() == [
        "urn:mavedb:00000001-a-1#1",
        "urn:mavedb:00000001-a-1#2",
        "urn:mavedb:00000001-a-1#6",
        "urn:mavedb:00000001-a-1#10",
    ]
    assert df.loc[kept, "score"].tolist() == [1.5, 0.25, -2.0, 1.25]


def test_mavedb_offset():
    seqs, kept, counts = build_from_hgvs(["p.Leu15Glu", "p.Met11="], MAVE_TARGET, offset=10)
    assert list(seqs) == ["MKTAEIAGQR"] and kept.tolist() == [True, False]
    assert counts == {"synonymous": 1, "skipped": 0}


def test_mavedb_errors_name_file_row_and_column():
    df = frame(MAVEDB_CSV)
    df.loc[7, "hgvs_pro"] = "p.Ala5Glu"  # the target has L at 5
    with pytest.raises(BadInputError) as info:
        build_from_hgvs(
            df["hgvs_pro"], MAVE_TARGET, rows=df.index.to_numpy(), where=Where("mave.csv")
        )
    assert one_line_error(info) == (
        "mave.csv, row 7: variant 'p.Ala5Glu' in column 'hgvs_pro': wild-type residue A at "
        "position 5 does not match the target's L"
    )
    with pytest.raises(BadInputError) as info:
        build_from_hgvs(["p.Leu5Glu", "p.L5E"], MAVE_TARGET, where=Where("mave.csv"))
    assert one_line_error(info) == (
        "mave.csv, row 3: variant 'p.L5E' in column 'hgvs_pro': 'p.L5E' is not valid "
        "MAVE-HGVS (failed regular expression validation)"
    )
    with pytest.raises(BadInputError) as info:
        build_from_hgvs(["p.Arg11Gly"], MAVE_TARGET)
    assert one_line_error(info) == (
        "row 2: variant 'p.Arg11Gly' in column 'hgvs_pro': position 11 is outside the "
        "target (positions 1 to 10)"
    )


def test_mavehgvs_is_imported_lazily():
    code = "import sys, badlabels.data.mutations; print('mavehgvs' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
