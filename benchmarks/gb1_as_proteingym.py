"""Write the GB1 four-site landscape as a ProteinGym DMS file (and a FLIP-style copy).

ProteinGym's layout (one CSV per assay): ``mutant`` (``V39A:D40G``, 1-based, ``:``-joined),
``mutated_sequence`` (the full 56-residue GB1 domain), ``DMS_score`` (here: fitness, higher =
fitter) and ``DMS_score_bin`` (1 = fit: fitness above the median, the cutoff ``badlabels``
uses for the four-site form, so both forms carry the same labels). The rows keep the order of
``gb1_wu2016.csv.gz``, so a random split with the same seed picks the same variants in both
forms. The wild-type row is kept with ``mutant`` ``_wt``.

    python benchmarks/gb1_as_proteingym.py            # -> benchmarks/runs/gb1_proteingym.csv.gz
    python benchmarks/gb1_as_proteingym.py --n 30000  # -> gb1_proteingym_30k.csv.gz and the
                                                      #    same rows in the 4-site form,
                                                      #    gb1_4site_30k.csv.gz

``--n`` takes the benchmark's subsample (``robustness.py``: rows drawn with seed 0, kept in
file order).

Then, for the comparison in docs/dms.md:

    badlabels experiment --data benchmarks/runs/gb1_proteingym.csv.gz --models lstm \\
        --noise-rates 0 --out runs/gb1_pg
    badlabels experiment --dataset gb1 --data ../shared/data/gb1_wu2016.csv.gz --models lstm \\
        --noise-rates 0 --out runs/gb1_4site
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_GB1 = HERE.parent.parent / "shared" / "data" / "gb1_wu2016.csv.gz"
GB1_WT = "MQYKLILNGKTLKGETTTEAVDAATAEKVFKQYANDNGVDGEWTYDDATKTFTVTE"
"""The GB1 domain of protein G (56 residues; UniProt P06654 residues 227-282, numbered 1-56)."""
SITES = (39, 40, 41, 54)


def proteingym_frame(gb1: pd.DataFrame, cutoff: float) -> pd.DataFrame:
    """The GB1 table in ProteinGym's columns.

    Parameters
    ----------
    gb1 : DataFrame
        ``variant`` (4 residues) and ``fitness`` columns.
    cutoff : float
        ``DMS_score_bin`` = fitness > cutoff.
    """
    wt = list(GB1_WT)
    assert "".join(wt[s - 1] for s in SITES) == "VDGV"
    mutants, seqs = [], []
    for variant in gb1["variant"].astype(str):
        seq = wt.copy()
        parts = []
        for site, aa in zip(SITES, variant, strict=True):
            if aa != wt[site - 1]:
                parts.append(f"{wt[site - 1]}{site}{aa}")
                seq[site - 1] = aa
        mutants.append(":".join(parts) or "_wt")
        seqs.append("".join(seq))
    score = gb1["fitness"].astype(float).to_numpy()
    return pd.DataFrame({
        "mutant": mutants,
        "mutated_sequence": seqs,
        "DMS_score": score,
        "DMS_score_bin": (score > cutoff).astype(int),
    })  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb1", type=Path, default=DEFAULT_GB1)
    ap.add_argument("--out", type=Path, default=None, help="default benchmarks/runs/...")
    ap.add_argument("--n", type=int, default=None, help="a subsample of this many variants")
    args = ap.parse_args(argv)
    from badlabels.data.gb1 import load_gb1

    table = pd.read_csv(args.gb1)
    suffix = "" if args.n is None else f"_{args.n // 1000}k"
    out = args.out or HERE / "runs" / f"gb1_proteingym{suffix}.csv.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.n is not None:
        idx = np.sort(np.random.default_rng(0).choice(len(table), args.n, replace=False))
        table = table.iloc[idx].reset_index(drop=True)
        four = out.with_name(f"gb1_4site{suffix}.csv.gz")
        table.to_csv(four, index=False)
        print(f"{four}: the same {len(table):,} variants in the four-site form")
    # the four-site form's own label cutoff (the median fitness of the rows written)
    path = args.gb1 if args.n is None else four
    cutoff = float(load_gb1(path).threshold)
    frame = proteingym_frame(table, cutoff)
    args.out = out
    frame.to_csv(args.out, index=False)
    print(f"{args.out}: {len(frame):,} variants, {frame['DMS_score_bin'].mean():.1%} fit, "
          f"cutoff {cutoff:.6g}, {len(frame['mutated_sequence'].iat[0])} residues")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
