"""Time the generation of the built-in peptide12 dataset (issue #2: 250,000 in under 15 s).

The generator is numpy on one core (no threads), so the wall time is one core's::

    python benchmarks/peptide12_generate.py              # 250,000 sequences, 3 repeats
    python benchmarks/peptide12_generate.py --n 1000000
"""

from __future__ import annotations

import argparse
import time


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=250_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from badlabels.data.peptide12 import _fixed_landscape, peptide12_frame

    t0 = time.perf_counter()
    _fixed_landscape()  # built once per process, on first use
    first = time.perf_counter() - t0
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        df = peptide12_frame(args.n, seed=args.seed)
        times.append(time.perf_counter() - t0)
    print(
        f"peptide12, {len(df):,} sequences: {min(times):.2f} s best of {args.repeats} "
        f"({', '.join(f'{t:.2f}' for t in times)}); landscape set-up {first:.2f} s; "
        f"{df['label'].mean():.1%} positive"
    )


if __name__ == "__main__":
    main()
