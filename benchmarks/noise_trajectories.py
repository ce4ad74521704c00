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

Each (data, variant, lr, batch, rate, seed) run is one line of ``OUT/traj.jsonl``. Runs go to
``--procs`` worker processes (one torch thread each).

``--variants`` (comma-separated) trains changed versions of the same recipe, one configuration
for every noise level, to see whether any lifts the 45 % peak or makes it easier to find:

* ``base``: the Fit4Function recipe as ``badlabels experiment`` trains it;
* ``dropout``: dropout 0.3 on the first LSTM layer's outputs;
* ``keras_init``: Keras' LSTM initialisation (Glorot input, orthogonal recurrent weights,
  forget-gate bias 1; Fit4Function was a Keras model), PyTorch's otherwise;
* ``plateauN``: learning rate x 0.3 after N epochs without a lower validation loss
  (Keras' ReduceLROnPlateau).

Every epoch also records ``val_cal``, the validation loss after fitting one temperature to the
validation logits, so stopping on a loss that ignores over-confidence can be compared offline.
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


def _temperature_loss(z, y) -> float:
    """BCE of the validation logits ``z`` after the best single temperature."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    z, y = np.asarray(z, dtype=float), np.asarray(y, dtype=float)

    def bce(t):
        q = np.clip(1.0 / (1.0 + np.exp(-t * z)), 1e-7, 1 - 1e-7)
        return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))

    return float(minimize_scalar(bce, bounds=(0.0, 10.0), method="bounded").fun)


def _apply_variant(net, variant: str):
    """Change ``net`` in place for ``variant`` (see the module docstring)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    if variant == "keras_init":
        with torch.no_grad():
            for lstm in net.lstms:
                h = lstm.hidden_size
                for name, prm in lstm.named_parameters():
                    if name.startswith(("weight_ih", "weight_hh")):
                        init = nn.init.xavier_uniform_ if "ih" in name else nn.init.orthogonal_
                        for g in range(4):
                            init(prm[g * h : (g + 1) * h])
                    else:
                        prm.zero_()
                        if name.startswith("bias_ih"):
                            prm[h : 2 * h] = 1.0  # PyTorch gate order i, f, g, o
            nn.init.xavier_uniform_(net.head.weight)
            net.head.bias.zero_()
    elif variant == "dropout":
        drop = nn.Dropout(0.3)

        def forward(tokens, lengths=None):
            x = F.one_hot(tokens, net.n_tokens)[..., 1:].float()
            x, _ = net.lstms[0](x)
            _, (h_n, _) = net.lstms[1](drop(x))
            return net.head(h_n[-1]).squeeze(-1)

        net.forward = forward
    elif variant != "base" and not variant.startswith("plateau"):
        raise SystemExit(f"unknown variant {variant!r}")


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
    variant = job.get("variant", "base")
    _apply_variant(net, variant)
    opt = torch.optim.Adam(net.parameters(), lr=job["lr"])
    sched = None
    if variant.startswith("plateau"):
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, factor=0.3, patience=int(variant[len("plateau") :])
        )
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
        val = F.binary_cross_entropy_with_logits(lv, y_va).item()
        if sched is not None:
            sched.step(val)
        rows.append({
            "ep": ep,
            "train": total.item() / len(perm),
            "val": val,
            "val_cal": _temperature_loss(lv.cpu().numpy(), va.labels),
            "vauc": float(roc_auc_score(va.labels, lv.cpu().numpy())),
            "test": float(roc_auc_score(p.test.labels, logits(x_te).cpu().numpy())),
        })  # fmt: skip
    keep = {k: job[k] for k in ("data", "n", "variant", "lr", "bs", "rate", "seed")}
    return {**keep, "secs": time.time() - t0, "rows": rows}


def early_stop(rows: list[dict], patience: int = 6, key: str = "val") -> int:
    """The epoch badlabels' early stopping keeps (lowest noisy validation loss, patience)."""
    best, best_ep, since = float("inf"), 1, 0
    for r in rows:
        if r[key] < best:
            best, best_ep, since = r[key], r["ep"], 0
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
    runs = [r for r in runs if r.get("variant", "base") == "base"]
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


def oracle(rates, seeds, n: int) -> None:
    """Logistic regression on peptide12's own hydrophobicity and charge terms, noisy labels.

    How much of the clean-test AUROC the noisy training labels allow when the features are
    known: an upper reference for what a sequence model could learn from them.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from badlabels.data.peptide12 import latent_parts
    from badlabels.experiment.grid import Cell
    from badlabels.experiment.runner_core import corrupt_part

    p = _load("peptide12", n, "")

    def terms(part):
        return latent_parts(part.sequences)[["hydrophobicity", "charge"]].to_numpy()

    x_tr, x_te = terms(p.train), terms(p.test)
    for rate in rates:
        for seed in seeds:
            cell = Cell(dataset="peptide12", data_fingerprint="-", model="logreg", method="bce",
                        noise_type="symmetric", noise_rate=rate, seed=seed, batch_size=500,
                        max_epochs=1, patience=6, lr=1e-3)  # fmt: skip
            y = corrupt_part(p.train, cell, "train").labels
            m = LogisticRegression().fit(x_tr, y)
            auc = roc_auc_score(p.test.labels, m.decision_function(x_te))
            print(f"peptide12 n={n} rate={rate:g} seed={seed}: oracle-feature logreg {auc:.3f}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="peptide12", help="peptide12 or gb1 (comma-separated)")
    ap.add_argument("--n", type=int, default=20_000, help="peptide12 size")
    ap.add_argument("--gb1", default=str(DEFAULT_GB1))
    ap.add_argument("--rates", default="0,0.45")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--lrs", default="1e-3,3e-4")
    ap.add_argument("--batch-sizes", default="500")
    ap.add_argument("--variants", default="base", help="base, dropout, keras_init, plateauN")
    ap.add_argument("--patience", type=int, default=6, help="patience of the stopping emulated")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "noise_trajectories")
    ap.add_argument("--plot", type=Path, default=None, help="only plot this traj.jsonl")
    ap.add_argument("--figure", type=Path, default=None)
    ap.add_argument("--oracle", action="store_true",
                    help="only fit logreg on peptide12's true hydrophobicity and charge terms")  # fmt: skip
    args = ap.parse_args(argv)
    if args.oracle:
        oracle([float(r) for r in args.rates.split(",")], [int(s) for s in args.seeds.split(",")],
               args.n)  # fmt: skip
        return
    if args.plot is not None:
        plot(args.plot, args.figure or args.plot.with_suffix(".png"))
        return
    jobs = [
        dict(data=d, n=args.n, gb1=args.gb1, lr=float(lr), bs=int(bs), rate=float(r),
             seed=int(s), epochs=args.epochs, device=args.device, variant=v)  # fmt: skip
        for d in args.data.split(",") for v in args.variants.split(",")
        for lr in args.lrs.split(",")
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
            pick = early_stop(res["rows"], args.patience)
            cal = early_stop(res["rows"], args.patience, key="val_cal")
            rows = res["rows"]
            print(
                f"{res['data']} {res['variant']} lr={res['lr']:g} batch={res['bs']} "
                f"rate={res['rate']:g} seed={res['seed']}: peak {best['test']:.3f} at epoch "
                f"{best['ep']}, early stopping keeps epoch {pick} ({rows[pick - 1]['test']:.3f}), "
                f"on the calibrated loss epoch {cal} ({rows[cal - 1]['test']:.3f}), "
                f"last {rows[-1]['test']:.3f}, {res['secs']:.0f}s",
                file=sys.stderr,
                flush=True,
            )
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
