"""Benchmark: seconds per epoch and peak memory of the LSTM on long and mixed-length proteins.

The workload: synthetic variant sets of N sequences (default 20,000; ``--quick``: 2,000), each
a random wild type with 1-4 random substitutions per variant, labelled by a simple additive
rule (a random effect per position and residue; label 1 when a variant's summed effect is
above the median). Three sets:

- ``len56``: a wild type of 56 residues, every variant 56 long (equal lengths);
- ``len300``: the same with 300 residues;
- ``mixed10-200``: a 200-residue wild type, each variant a random window of 10-200 residues
  of it (uniform length) with its substitutions (mixed lengths: batches are cut to their
  longest sequence).

Each set is trained by the Fit4Function LSTM (140, 20), batch 500, 10 % held out for
validation (scored every epoch), ``--epochs`` epochs (default 1), no early stopping:

- ``plain``: ``LSTMClassifier`` (the plain engine, ``badlabels.engine.trainer``);
- ``stacked2``: ``badlabels.engine.stacked.fit_stacked`` with 2 members (clean labels and 10 %
  flipped labels, seeds 0 and 1) trained together;
- on the mixed set also ``plain-uncut`` / ``stacked2-uncut``: the same with every batch at the
  dataset's full width (the behaviour before batches were cut), for comparison
  (``--no-uncut`` skips them).

Every configuration runs in a fresh child process, so its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, all of torch's allocations included) is its
own; the RSS after building the data and before training is reported too. Seconds per epoch
are the training loop's (validation included) divided by the epochs; ``predict s`` is one
prediction pass over all N sequences (budgeted evaluation chunks).

    PYTHONPATH=src python benchmarks/long_sequences.py --epochs 1
    PYTHONPATH=src python benchmarks/long_sequences.py --quick   # to ..._quick.jsonl

Needs only torch and numpy (runs from the source tree). A benchmark, not a test: CPU figures
depend on what else runs on the machine (the load average is printed and saved).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

DATASETS = ("len56", "len300", "mixed10-200")
ENGINES = ("plain", "stacked2")
HIDDEN = (140, 20)
BATCH = 500
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "long_sequences_cpu.jsonl"


# --- the workload ---------------------------------------------------------------------------


def variants(name: str, n: int, seed: int = 0):
    """``(sequences (n,) of str, labels (n,) int64)`` of the synthetic set ``name``."""
    import numpy as np

    from badlabels.data.encoding import AMINO_ACIDS

    rng = np.random.default_rng([seed, DATASETS.index(name)])
    aa = np.array(list(AMINO_ACIDS))
    wt_len = {"len56": 56, "len300": 300, "mixed10-200": 200}[name]
    wild = rng.integers(0, len(aa), wt_len)
    effect = rng.normal(size=(wt_len, len(aa)))  # additive effect of residue a at position p
    seqs, scores = [], np.empty(n)
    for i in range(n):
        if name == "mixed10-200":
            length = int(rng.integers(10, wt_len + 1))
            start = int(rng.integers(0, wt_len - length + 1))
        else:
            length, start = wt_len, 0
        seq = wild[start : start + length].copy()
        sites = rng.choice(length, size=min(int(rng.integers(1, 5)), length), replace=False)
        seq[sites] = (seq[sites] + rng.integers(1, len(aa), sites.size)) % len(aa)  # a change
        pos = start + sites
        scores[i] = effect[pos, seq[sites]].sum() - effect[pos, wild[pos]].sum()
        seqs.append("".join(aa[seq]))
    labels = (scores > np.median(scores)).astype(np.int64)
    return np.array(seqs), labels


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- one configuration (a child process) ------------------------------------------------------


def run_config(dataset: str, engine: str, n: int, epochs: int, threads: int, device: str) -> dict:
    """Train one configuration and return its measurements (a JSON-able dict)."""
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    uncut = engine.endswith("-uncut")
    seqs, labels = variants(dataset, n)
    lengths = np.char.str_len(seqs)
    rss_data = _rss_mb()
    out = {"dataset": dataset, "engine": engine, "n": n, "epochs": epochs, "threads": threads,
           "device": device, "mean_length": float(lengths.mean()),
           "max_length": int(lengths.max())}  # fmt: skip
    if engine.startswith("plain"):
        from badlabels.models import LSTMClassifier
        from badlabels.models.lstm import LSTMNet

        if uncut:  # the behaviour before batches were cut: always the full padded width
            LSTMNet.trim_padding = False
        model = LSTMClassifier(hidden_sizes=HIDDEN, batch_size=BATCH, max_epochs=epochs,
                               patience=None, random_state=0, device=device)  # fmt: skip
        model.fit(seqs, labels)
        train_s = sum(h["seconds"] for h in model.history_)
        t0 = time.perf_counter()
        model.predict_proba(seqs)
        predict_s = time.perf_counter() - t0
        out.update(members=1, val_loss=model.history_[-1]["val_loss"])
    else:
        import badlabels.engine.stacked.fit as stacked_fit
        from badlabels.data.encoding import AMINO_ACIDS, encode
        from badlabels.engine.stacked import fit_stacked, predict_stacked
        from badlabels.engine.trainer import to_device_data
        from badlabels.models.base import validation_split

        if uncut:
            stacked_fit.batch_width = lambda lengths, width, multiple=1: int(width)
        train_idx, val_idx = validation_split(n, 0.1, 0)
        flip = np.random.default_rng(1).random(n) < 0.1
        ys = np.stack([labels, np.where(flip, 1 - labels, labels)]).astype(np.float32)
        tokens, lens = encode(seqs, AMINO_ACIDS)
        tr = to_device_data(tokens[train_idx], lens[train_idx], device=device)
        va = to_device_data(tokens[val_idx], lens[val_idx], device=device)
        res = fit_stacked(
            tr.tokens, tr.lengths, torch.as_tensor(ys[:, train_idx], device=device),
            seeds=[0, 1], val_tokens=va.tokens, val_lengths=va.lengths,
            val_y=torch.as_tensor(ys[:, val_idx], device=device), n_tokens=len(AMINO_ACIDS) + 1,
            hidden_sizes=HIDDEN, batch_size=BATCH, max_epochs=epochs, patience=None,
        )  # fmt: skip
        train_s = sum(h["seconds"] for h in res.history[0]) * 2  # per-model share x 2 members
        data = to_device_data(tokens, lens, device=device)
        t0 = time.perf_counter()
        predict_stacked(res.module, data.tokens, data.lengths)
        predict_s = time.perf_counter() - t0
        out.update(members=2, precision=res.precision, val_loss=res.history[0][-1]["val_loss"])
    out.update(
        s_per_epoch=train_s / epochs,
        s_per_epoch_per_member=train_s / epochs / out["members"],
        predict_s=predict_s,
        rss_before_fit_mb=rss_data,
        peak_rss_mb=_rss_mb(),
    )
    return out


# --- driver -----------------------------------------------------------------------------------


def _child(dataset: str, engine: str, args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", f"{dataset}:{engine}",
           "--n", str(args.n), "--epochs", str(args.epochs), "--threads", str(args.threads),
           "--device", args.device]  # fmt: skip
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"{dataset}:{engine} failed (exit {proc.returncode})")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["child_wall_s"] = time.perf_counter() - t0
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=None, help="variants per set (default 20,000)")
    p.add_argument("--quick", action="store_true", help="2,000 variants: check the script runs")
    p.add_argument("--epochs", type=int, default=1, help="epochs per configuration (default 1)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated subset")
    p.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset")
    p.add_argument("--no-uncut", action="store_true",
                   help="skip the full-width comparison runs on the mixed set")  # fmt: skip
    p.add_argument("--out", type=Path, default=None,
                   help="JSON lines written here (default benchmarks/results/"
                        "long_sequences_cpu.jsonl; with --quick ..._quick.jsonl)")  # fmt: skip
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.n is None:
        args.n = 2_000 if args.quick else 20_000
    if args.out is None:  # a quick check never overwrites the real results
        args.out = (
            DEFAULT_OUT.with_name(DEFAULT_OUT.stem + "_quick.jsonl") if args.quick else DEFAULT_OUT
        )

    if args.child is not None:  # one configuration: print one JSON line
        dataset, engine = args.child.split(":", 1)
        print(json.dumps(run_config(dataset, engine, args.n, args.epochs, args.threads,
                                    args.device)))  # fmt: skip
        return

    import torch

    configs = []
    for dataset in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
            configs.append((dataset, engine))
            if dataset.startswith("mixed") and not args.no_uncut:
                configs.append((dataset, f"{engine}-uncut"))
    load0 = os.getloadavg()
    t_start = time.perf_counter()
    print(f"torch {torch.__version__}, python {platform.python_version()}, {args.threads} "
          f"torch threads, {os.cpu_count()} cores, load avg {load0[0]:.2f} at start")  # fmt: skip
    print(f"LSTM{HIDDEN}, batch {BATCH}, N={args.n:,} variants per set (10 % validation), "
          f"{args.epochs} epoch(s), device {args.device}\n")  # fmt: skip
    head = ("| set | engine | mean len | s/epoch | s/epoch/member | predict s "
            "| RSS before fit MB | peak RSS MB |")  # fmt: skip
    print(head)
    print("|" + "---|" * head.count(" | ") + "---|", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w") as fh:
        for dataset, engine in configs:
            try:
                r = _child(dataset, engine, args)
            except RuntimeError as exc:  # one failed configuration does not lose the others
                print(f"| {dataset} | {engine} | failed: {exc} |", flush=True)
                continue
            r["load_avg"] = os.getloadavg()[0]
            fh.write(json.dumps(r) + "\n")
            fh.flush()
            print(f"| {dataset} | {engine} | {r['mean_length']:.0f} | {r['s_per_epoch']:.2f} "
                  f"| {r['s_per_epoch_per_member']:.2f} | {r['predict_s']:.2f} "
                  f"| {r['rss_before_fit_mb']:.0f} | {r['peak_rss_mb']:.0f} |", flush=True)  # fmt: skip
    print(f"\nload avg {os.getloadavg()[0]:.2f} at end; total wall "
          f"{time.perf_counter() - t_start:.0f} s; results in {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
