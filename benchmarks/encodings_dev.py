"""Choose ``robust``'s residue encoding on development data, never on the benchmark's test labels.

The paired benchmark (``robustness.py``) scores on a fixed split of peptide12 (sequences drawn
with seed 0) and of a 30,000-variant GB1 subsample (seed 0). The encoding of ``robust`` was
chosen here instead, on *other* data: peptide12 sequences drawn with ``--data-seed`` (default
1), a GB1 subsample drawn with that seed, both split with that seed, 45 % symmetric flips of
the training and validation labels. Each line of output is one fit (JSON): clean-test AUROC
of the development split, the AUROC on its noisy validation labels, the best epoch and the
seconds. Configurations are ``[model, method, model_params, method_params]``.

    python benchmarks/encodings_dev.py --dataset gb1 --seeds 0,1,2,3 --threads 1 \
        --configs '[["lstm","robust",{"encoding":"onehot"},{}],
                    ["lstm","robust",{"encoding":"onehot+blosum"},{}]]'

The runs behind the choice are in ``benchmarks/results/encodings_dev.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from robustness import DEFAULT_GB1, load_datasets  # noqa: E402

from badlabels.data import make_peptide12  # noqa: E402
from badlabels.evaluation.metrics import binary_metrics  # noqa: E402
from badlabels.experiment.grid import Cell  # noqa: E402
from badlabels.experiment.runner_core import corrupt_part, prepare  # noqa: E402
from badlabels.methods.registry import build_estimator  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=["peptide12", "gb1"], required=True)
    ap.add_argument("--seeds", default="0,1,2,3")
    ap.add_argument("--configs", required=True, help="JSON list of [model, method, mp, mep]")
    ap.add_argument("--rate", type=float, default=0.45)
    ap.add_argument("--data-seed", type=int, default=1, help="not 0: not the benchmark's data")
    ap.add_argument("--gb1", type=Path, default=DEFAULT_GB1)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.data_seed == 0:
        raise SystemExit("--data-seed 0 is the benchmark's own data and split; choose another")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.dataset == "peptide12":
        ds = make_peptide12(20_000, seed=args.data_seed)
    else:
        ds = load_datasets(["gb1"], 20_000, 30_000, args.gb1, seed=args.data_seed)[0]["gb1"]
    prep = prepare(ds, split_seed=args.data_seed)
    configs = json.loads(args.configs)
    for seed in [int(s) for s in args.seeds.split(",")]:
        cell = Cell(dataset=args.dataset, data_fingerprint="dev", model="lstm", method="bce",
                    noise_type="symmetric", noise_rate=args.rate, seed=seed, batch_size=500,
                    max_epochs=40, patience=6, lr=1e-3)  # fmt: skip
        train, val = corrupt_part(prep.train, cell, "train"), corrupt_part(prep.val, cell, "val")
        for model, method, mp, mep in configs:
            params = {"random_state": seed}
            if model != "logreg":
                params.update(batch_size=500, max_epochs=40, patience=6, lr=1e-3, device="cpu")
            params.update(mp)
            est = build_estimator(model, method, model_params=params, method_params=mep,
                                  noise_rate_hint=float(val.flipped.mean()))  # fmt: skip
            t0 = time.perf_counter()
            est.fit(prep.train.sequences, train.labels, eval_set=(prep.val.sequences, val.labels))
            test_auc = binary_metrics(
                prep.test.labels, est.predict_proba(prep.test.sequences)[:, 1]
            )
            val_auc = binary_metrics(val.labels, est.predict_proba(prep.val.sequences)[:, 1])
            print(json.dumps({
                "dataset": args.dataset, "data_seed": args.data_seed, "seed": seed,
                "model": model, "method": method, "model_params": mp, "method_params": mep,
                "dev_test_auroc": round(test_auc["auroc"], 4),
                "noisy_val_auroc": round(val_auc["auroc"], 4),
                "best_epoch": getattr(est, "best_epoch_", None),
                "seconds": round(time.perf_counter() - t0, 1),
            }), flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
