"""Clean-test AUROC after every epoch of LSTM training on noisy labels.

Why: at high noise (45 % symmetric flips) the *noisy* validation loss that early stopping
watches is flat, so which epoch is kept is close to chance. This script records, per epoch,
the training loss, the noisy validation loss and AUROC, and the clean-test AUROC, for the
Fit4Function LSTM on the experiment's own split and noise draws (``prepare`` and
``corrupt_part``, as in ``badlabels experiment``), so the peak a perfect stopping rule could
reach and what early stopping actually picks can be compared. See docs/high-noise.md.

Usage::

    python benchmarks/noise_trajectories.py --device cuda --out runs/traj       # GPU: minutes
    python benchmarks/noise_trajectories.py --data gb1 --gb1 ../shared/data/gb1_wu2016.csv.gz
    python benchmarks/noise_trajectories.py --plot runs/traj/traj.jsonl --figure traj.png

Each (data, lr, batch, rate, seed) run is one line of ``OUT/traj.jsonl``. Runs go to
``--procs`` worker processes (one torch thread each).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GB1 = ROOT.parent / "shared" / "data" / "gb1_wu2016.csv.gz"


def _load(data: str, n: int, gb1: str):
    from badlabels.data import load_gb1, make_peptide12
    from badlabels.experiment.runner_core import prepare

    return prepare(load_gb1(gb1) if data == "gb1" else make_peptide12(n))


def run_one(job: dict) -> dict:
    """Train one LSTM for ``epochs`` epochs (no early stopping) and record every epoch."""
    import torch
    import torch.nn.functional as F
    from sklearn.metrics import roc_auc_score

    from badlabels.data import AMINO_ACIDS, encode
    from badlabels.experiment.grid import Cell
    from badlabels.experiment.runner_core import corrupt_part
    from badlabels.models.lstm import LSTMNet

    torch.set_num_threads(1)
    p = _load(job["data"], job["n"], job["gb1"])
    cell = Cell(dataset=job["data"], data_fingerprint="-", model="lstm", method="bce",
                noise_type="symmetric", noise_rate=job["rate"], seed=job["seed"],
                batch_size=job["bs"], max_epochs=job["epochs"], patience=6, lr=job["lr"])  # fmt: skip
    tr, va = corrupt_part(p.train, cell, "train"), corrupt_part(p.val, cell, "val")
    dev = torch.device(job["device"])

    def enc(d):
        return torch.as_tensor(encode(d.sequences)[0], device=dev)

    x_tr, x_va, x_te = enc(p.train), enc(p.val), enc(p.test)
    y_tr = torch.as_tensor(tr.labels, dtype=torch.float32, device=dev)
    y_va = torch.as_tensor(va.labels, dtype=torch.float32, device=dev)
    torch.manual_seed(job["seed"])
    net = LSTMNet(len(AMINO_ACIDS) + 1).to(dev)  # token 0 = padding
    opt = torch.optim.Adam(net.parameters(), lr=job["lr"])
    gen = torch.Generator().manual_seed(job["seed"])

    def logits(x):
        net.eval()
        with torch.no_grad():
            out = torch.cat([net(x[i : i + 8192]) for i in range(0, len(x), 8192)])
        net.train()
        return out

    rows, t0 = [], time.time()
    for ep in range(1, job["epochs"] + 1):
        perm = torch.randperm(len(x_tr), generator=gen).to(dev)
        total = torch.zeros((), device=dev)
        for s in range(0, len(perm), job["bs"]):
            i = perm[s : s + job["bs"]]
            loss = F.binary_cross_entropy_with_logits(net(x_tr[i]), y_tr[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach() * len(i)
        lv = logits(x_va)
        rows.append({
            "ep": ep,
            "train": total.item() / len(perm),
            "val": F.binary_cross_entropy_with_logits(lv, y_va).item(),
            "vauc": float(roc_auc_score(va.labels, lv.cpu().numpy())),
            "test": float(roc_auc_score(p.test.labels, logits(x_te).cpu().numpy())),
        })  # fmt: skip
    keep = {k: job[k] for k in ("data", "n", "lr", "bs", "rate", "seed")}
    return {**keep, "secs": time.time() - t0, "rows": rows}


def early_stop(rows: list[dict], patience: int = 6) -> int:
    """The epoch badlabels' early stopping keeps (lowest noisy validation loss, patience)."""
    best, best_ep, since = float("inf"), 1, 0
    for r in rows:
        if r["val"] < best:
            best, best_ep, since = r["val"], r["ep"], 0
        else:
            since += 1
            if since >= patience:
                break
    return best_ep


def plot(jsonl: Path, figure: Path) -> None:
    """One panel per dataset: clean-test AUROC per epoch, 0 % vs 45 %, early-stopping picks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [json.loads(line) for line in jsonl.read_text().splitlines() if '"rows"' in line]
    runs = [r for r in runs if r["bs"] == 500 and r["lr"] == 1e-3]
    datasets = sorted({r["data"] for r in runs})
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 3.8), squeeze=False)
    colors = {0.0: "tab:blue", 0.45: "tab:red"}
    for ax, data in zip(axes[0], datasets, strict=True):
        for r in [r for r in runs if r["data"] == data]:
            ep = [x["ep"] for x in r["rows"]]
            auc = [x["test"] for x in r["rows"]]
            style = "-" if r["seed"] == 0 else "--"
            ax.plot(ep, auc, style, color=colors.get(r["rate"], "gray"), lw=1.4,
                    label=f"{r['rate']:.0%} flips, seed {r['seed']}")  # fmt: skip
            pick = early_stop(r["rows"])
            ax.plot([pick], [auc[pick - 1]], "o", color=colors.get(r["rate"], "gray"), ms=6)
        ax.set_title(f"{data}: LSTM, Adam 1e-3, batch 500")
        ax.set_xlabel("epoch")
        ax.set_ylabel("clean-test AUROC")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle("dots: the epoch early stopping on the noisy validation loss keeps (patience 6)",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    fig.savefig(figure, dpi=120)
    print(f"wrote {figure}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="peptide12", help="peptide12 or gb1 (comma-separated)")
    ap.add_argument("--n", type=int, default=20_000, help="peptide12 size")
    ap.add_argument("--gb1", default=str(DEFAULT_GB1))
    ap.add_argument("--rates", default="0,0.45")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--lrs", default="1e-3,3e-4")
    ap.add_argument("--batch-sizes", default="500")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "noise_trajectories")
    ap.add_argument("--plot", type=Path, default=None, help="only plot this traj.jsonl")
    ap.add_argument("--figure", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.plot is not None:
        plot(args.plot, args.figure or args.plot.with_suffix(".png"))
        return
    jobs = [
        dict(data=d, n=args.n, gb1=args.gb1, lr=float(lr), bs=int(bs), rate=float(r),
             seed=int(s), epochs=args.epochs, device=args.device)  # fmt: skip
        for d in args.data.split(",") for lr in args.lrs.split(",")
        for bs in args.batch_sizes.split(",") for r in args.rates.split(",")
        for s in args.seeds.split(",")
    ]  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "traj.jsonl"
    with mp.get_context("spawn").Pool(args.procs) as pool, out.open("w") as f:
        for res in pool.imap_unordered(run_one, jobs):
            f.write(json.dumps(res) + "\n")
            f.flush()
            best = max(res["rows"], key=lambda r: r["test"])
            pick = early_stop(res["rows"])
            print(
                f"{res['data']} lr={res['lr']:g} batch={res['bs']} rate={res['rate']:g} "
                f"seed={res['seed']}: peak {best['test']:.3f} at epoch {best['ep']}, "
                f"early stopping keeps epoch {pick} ({res['rows'][pick - 1]['test']:.3f}), "
                f"{res['secs']:.0f}s",
                file=sys.stderr,
                flush=True,
            )
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
