"""Benchmark: seconds per epoch per model, plain PyTorch vs badlabels' stacked engine.

The workload: the Fit4Function LSTM (one-hot -> LSTM(140) -> LSTM(20) -> Linear -> logit)
on N peptide12 12-mers (plus N/10 validation sequences scored after every epoch), batch
500, E epochs, K models that differ in their labels (symmetric flips at K noise levels
from 0 to 45 %) and seeds. It is trained

(a) the plain way: ``nn.LSTM`` + ``torch.utils.data.DataLoader`` (shuffled, batches
    collated on the host and copied to the device), one model after another;
(b) by badlabels' engine: the K models stacked and trained together
    (``badlabels.engine.stacked.fit_stacked``), data on the device, once per precision.

Each phase runs in its own child process, so its peak memory is its own: resident set
size (``ru_maxrss``) on the CPU, ``torch.cuda.max_memory_allocated`` on a GPU. Both
phases get a short warm-up that is not timed. ``--plain-k`` times fewer plain models
(the plain way is one model after another: its time per model does not depend on K).
The test AUROC (clean labels) of the models both phases trained is printed, to show
that a faster precision does not cost accuracy.

    PYTHONPATH=src python benchmarks/throughput.py --n 20000 --k 12 --epochs 2 --device cpu
    PYTHONPATH=src python benchmarks/throughput.py --n 200000 --k 30 --epochs 2 \
        --device cuda --plain-k 2 --precisions fp32,tf32,bf16

Needs only torch, numpy, pandas and scikit-learn (runs from the source tree). A benchmark,
not a test: CPU figures depend on what else runs on the machine (the load average is
printed with them).
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


# --- the workload ---------------------------------------------------------------------------


def workload(n: int, k: int, seed: int = 0):
    """Tokens (train, val, test), clean test labels and K noisy (train, val) label sets."""
    import numpy as np

    from badlabels.data.encoding import AMINO_ACIDS, encode
    from badlabels.data.peptide12 import make_peptide12

    n_val = max(n // 10, 1)
    n_test = max(n // 10, 1)
    ds = make_peptide12(n + n_val + n_test, seed=seed)
    tokens, _ = encode(ds.sequences, AMINO_ACIDS)
    labels = ds.labels.astype(np.int64)
    rates = np.linspace(0.0, 0.45, k) if k > 1 else np.zeros(1)
    rng = np.random.default_rng(seed + 1)
    ys = []
    for rate in rates:
        flip = rng.random(n + n_val) < rate
        ys.append(np.where(flip, 1 - labels[: n + n_val], labels[: n + n_val]))
    ys = np.stack(ys)
    return {
        "train": tokens[:n],
        "val": tokens[n : n + n_val],
        "test": tokens[n + n_val :],
        "y_train": ys[:, :n],
        "y_val": ys[:, n:],
        "y_test": labels[n + n_val :],
        "rates": rates,
        "n_tokens": len(AMINO_ACIDS) + 1,
    }


def _device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _auroc(y, scores) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


# --- (a) the plain way --------------------------------------------------------------------


def _plain_net(n_tokens: int, hidden=(140, 20)):
    """The Fit4Function LSTM as one would write it (same as badlabels' LSTMNet)."""
    import torch.nn.functional as F
    from torch import nn

    class Fit4FunctionLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            sizes = [n_tokens - 1, *hidden]
            self.lstms = nn.ModuleList(
                nn.LSTM(sizes[i], sizes[i + 1], batch_first=True) for i in range(len(hidden))
            )
            self.head = nn.Linear(sizes[-1], 1)

        def forward(self, tokens):
            x = F.one_hot(tokens, n_tokens)[..., 1:].float()
            for lstm in self.lstms[:-1]:
                x, _ = lstm(x)
            _, (h, _) = self.lstms[-1](x)
            return self.head(h[-1]).squeeze(-1)

    return Fit4FunctionLSTM()


def run_plain(args) -> dict:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    device = _device(args.device)
    w = workload(args.n, args.k, args.seed)
    val_x = torch.as_tensor(w["val"])
    test_x = torch.as_tensor(w["test"])

    def predict(model, x):
        model.eval()
        out = []
        with torch.no_grad():
            for batch in DataLoader(TensorDataset(x), batch_size=8192):
                out.append(model(batch[0].to(device)).float().cpu())
        model.train()
        return torch.cat(out)

    def train(k: int, epochs: int, n_rows: int | None = None) -> tuple[float, float]:
        torch.manual_seed(k)
        model = _plain_net(w["n_tokens"]).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.as_tensor(w["train"][:n_rows])
        y = torch.as_tensor(w["y_train"][k][:n_rows], dtype=torch.float32)
        yv = torch.as_tensor(w["y_val"][k], dtype=torch.float32)
        loader = DataLoader(
            TensorDataset(x, y), batch_size=args.batch, shuffle=True,
            generator=torch.Generator().manual_seed(k),
        )  # fmt: skip
        _sync(device)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(epochs):
            for xb, yb in loader:
                xb, yb = xb.to(device), yb.to(device)
                loss = F.binary_cross_entropy_with_logits(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            F.binary_cross_entropy_with_logits(predict(model, val_x), yv).item()
        _sync(device)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        auc = _auroc(w["y_test"], predict(model, test_x).numpy()) if n_rows is None else float("nan")
        return seconds, cpu, auc

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    train(0, 1, n_rows=min(args.n, 5 * args.batch))  # warm-up, not timed
    total, total_cpu, aucs = 0.0, 0.0, []
    n_models = min(args.plain_k or args.k, args.k)
    for k in range(n_models):
        seconds, cpu, auc = train(k, args.epochs)
        total += seconds
        total_cpu += cpu
        aucs.append(auc)
    return {
        "phase": "plain",
        "models": n_models,
        "seconds": total,
        "per_model_epoch": total / (n_models * args.epochs),
        "cpu_per_model_epoch": total_cpu / (n_models * args.epochs),
        "auroc": aucs,
        "auroc_mean": float(np.mean(aucs)),
        **_memory(device),
    }


# --- (b) the engine ---------------------------------------------------------------------------


def run_engine(args, precision: str) -> dict:
    import numpy as np
    import torch

    from badlabels.engine.stacked import fit_stacked, predict_stacked

    device = _device(args.device)
    w = workload(args.n, args.k, args.seed)

    def on(a, dtype=None):
        t = torch.as_tensor(np.ascontiguousarray(a))
        return (t if dtype is None else t.to(dtype)).to(device)

    train_x, val_x, test_x = on(w["train"]), on(w["val"]), on(w["test"])
    y, yv = on(w["y_train"], torch.float32), on(w["y_val"], torch.float32)
    seeds = list(range(args.k))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    m = min(args.n, 5 * args.batch)  # warm-up, not timed
    fit_stacked(train_x[:m], None, y[:, :m].contiguous(), seeds=seeds, n_tokens=w["n_tokens"],
                batch_size=args.batch, max_epochs=1, patience=None, precision=precision)  # fmt: skip
    _sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    res = fit_stacked(
        train_x, None, y, seeds=seeds, val_tokens=val_x, val_y=yv, n_tokens=w["n_tokens"],
        batch_size=args.batch, max_epochs=args.epochs, patience=None, precision=precision,
    )  # fmt: skip
    _sync(device)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    logits = predict_stacked(res.module, test_x).cpu().numpy()
    aucs = [_auroc(w["y_test"], logits[k]) for k in range(args.k)]
    return {
        "phase": f"engine-{precision}",
        "precision": precision,
        "models": args.k,
        "seconds": seconds,
        "per_model_epoch": seconds / (args.k * args.epochs),
        "cpu_per_model_epoch": cpu / (args.k * args.epochs),
        "auroc": aucs,
        "auroc_mean": float(np.mean(aucs)),
        **_memory(device),
    }


def _memory(device) -> dict:
    import torch

    out = {"max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        out["gpu_peak_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


# --- driver -----------------------------------------------------------------------------------


def _child(args, phase: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", phase,
           "--n", str(args.n), "--k", str(args.k), "--epochs", str(args.epochs),
           "--batch", str(args.batch), "--device", args.device, "--seed", str(args.seed),
           "--plain-k", str(args.plain_k or args.k)]  # fmt: skip
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"phase {phase} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _device_name(device) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU {name}, {torch.get_num_threads()} torch threads, {os.cpu_count()} cores"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20_000, help="training sequences (default 20,000)")
    p.add_argument("--k", type=int, default=12, help="models (default 12)")
    p.add_argument("--epochs", type=int, default=2, help="epochs per model (default 2)")
    p.add_argument("--batch", type=int, default=500, help="batch size (default 500)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--plain-k", type=int, default=None,
                   help="time only this many plain models (default: all K)")  # fmt: skip
    p.add_argument("--precisions", default=None,
                   help="engine precisions to time, comma-separated: auto, fp32, tf32, bf16 "
                        "(default: auto = what the engine uses: tf32 on CUDA, fp32 on the CPU)")  # fmt: skip
    p.add_argument("--bf16", action="store_true", help="also time the engine in bf16")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: PyTorch's choice)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-plain", action="store_true", help="time the engine only")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.phase is not None:  # a child: run one phase, print one JSON line
        out = run_plain(args) if args.phase == "plain" else run_engine(args, args.phase.split("-", 1)[1])
        print(json.dumps(out))
        return

    device = _device(args.device)
    if args.precisions:
        precisions = [s.strip() for s in args.precisions.split(",") if s.strip()]
    else:
        precisions = ["auto"]
    if args.bf16 and "bf16" not in precisions:
        precisions.append("bf16")
    load0 = os.getloadavg()
    t_start = time.perf_counter()
    mem_col = "GPU peak MB" if device.type == "cuda" else "max RSS MB"
    print(f"device     : {_device_name(device)}")
    print(f"torch      : {torch.__version__}   python {platform.python_version()}")
    print(f"workload   : Fit4Function LSTM(140, 20), N={args.n:,} 12-mers (+{args.n // 10:,} "
          f"validation), batch {args.batch}, {args.epochs} epoch(s), K={args.k} models")  # fmt: skip
    if not args.skip_plain:
        print(f"plain      : nn.LSTM + DataLoader, {min(args.plain_k or args.k, args.k)} model(s) "
              "one after another")  # fmt: skip
    print(f"engine     : badlabels.engine.stacked, {args.k} models at once, precision(s) "
          f"{', '.join(precisions)}")  # fmt: skip
    print(f"load avg   : {load0[0]:.2f} at start ({os.cpu_count()} cores)")
    print()
    head = (f"{'way':<16}{'models':>7}{'s/epoch/model':>15}{'vs plain':>10}"
            f"{'CPU s/ep/model':>16}{mem_col:>13}{'mean AUROC':>12}")  # fmt: skip
    print(head)
    print("-" * len(head), flush=True)
    results: list[dict] = []
    plain = None
    phases = ([] if args.skip_plain else ["plain"]) + [f"engine-{p}" for p in precisions]
    for phase in phases:
        try:
            r = _child(args, phase)
        except SystemExit as exc:  # one failed phase does not lose the others
            print(f"{phase:<16} failed: {exc}", flush=True)
            continue
        results.append(r)
        if phase == "plain":
            plain = r
        ratio = plain["per_model_epoch"] / r["per_model_epoch"] if plain else float("nan")
        mem = r.get("gpu_peak_mb", r["max_rss_mb"]) if device.type == "cuda" else r["max_rss_mb"]
        print(f"{r['phase']:<16}{r['models']:>7}{r['per_model_epoch']:>15.4f}{ratio:>9.2f}x"
              f"{r['cpu_per_model_epoch']:>16.4f}{mem:>13.0f}{r['auroc_mean']:>12.4f}",
              flush=True)  # fmt: skip
        if args.json:
            args.json.write_text(json.dumps({
                "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                "device": _device_name(device), "torch": torch.__version__,
                "load_start": load0, "results": results}, indent=1))  # fmt: skip
    load1 = os.getloadavg()
    print()
    print(f"load avg {load1[0]:.2f} at end; total wall {time.perf_counter() - t_start:.0f} s")
    if plain is not None and len(results) > 1:
        n_cmp = plain["models"]
        print(f"test AUROC (clean labels) of models 0..{n_cmp - 1}, same labels and seeds, "
              "plain vs engine:")  # fmt: skip
        for r in results[1:]:
            diffs = [abs(a - b) for a, b in zip(plain["auroc"], r["auroc"][:n_cmp], strict=False)]
            print(f"  {r['phase']:<14} max |difference| {max(diffs):.4f}")

if __name__ == "__main__":
    main()
