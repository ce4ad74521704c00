#!/usr/bin/env bash
# One prepared GPU session: the issue-4 throughput benchmark and the GB1 acceptance experiment
# (AUDIT=1 adds the stacked-vs-plain audit at 20 % flips).
# Run from the repo root on a CUDA machine whose python3 has torch/numpy/pandas/sklearn/typer/rich.
# Wheels for anything missing (cleanlab) may lie in .whl/, the GB1 file in .devdata/.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=src
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=src:/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
GB1=${GB1:-.devdata/gb1_wu2016.csv.gz}
echo "== throughput (issue 4): N=200,000, K=30"
timeout ${T_THROUGHPUT:-270} python3 benchmarks/throughput.py --n 200000 --k 30 --epochs 2 --device cuda \
  --plain-k 1 --precisions fp32,bf16 --json "$OUT/throughput.json" 2>&1 | tee "$OUT/throughput.txt"
echo "== GB1 acceptance (issue 2) on cuda"
timeout ${T_GB1:-200} python3 -m badlabels experiment --data "$GB1" --seq-col variant --label-col fitness \
  --quantile 0.5 --noise-rates 0,0.45 --models lstm,logreg --seeds 0 --device cuda \
  --out "$OUT/gb1" -q --no-report 2>&1 | tail -12 | tee "$OUT/gb1.txt"
cp "$OUT/gb1/results.csv" "$OUT/gb1_results.csv" 2>/dev/null
rm -rf "$OUT/gb1"
if [ -n "${AUDIT:-}" ]; then  # AUDIT=1: the stacked audit (15 fold models at once) vs folds one by one
  echo "== audit acceptance (issue 5) on cuda, engine stacked then plain, 20 % flips"
  timeout ${T_AUDIT:-300} python3 benchmarks/audit_acceptance.py \
    --rates 0.2 --device cuda --out "$OUT/audit_stacked" 2>&1 | tail -3 | tee "$OUT/audit_stacked.txt"
  timeout ${T_AUDIT:-300} python3 benchmarks/audit_acceptance.py --rates 0.2 --device cuda --engine plain \
    --out "$OUT/audit_plain" 2>&1 | tail -3 | tee "$OUT/audit_plain.txt"
  rm -f "$OUT"/audit_*/noisy_*.csv; rm -rf "$OUT"/audit_*/audit_*
fi
