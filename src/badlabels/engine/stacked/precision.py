"""Numeric precision of the stacked engine: the choices, ``auto`` resolved per device.

Assumption: on CUDA the default matmul precision is restored after training (:class:`_TF32`
is a context manager); on the CPU bfloat16 is only chosen where the CPU multiplies it
natively (read from ``/proc/cpuinfo``).
"""

from __future__ import annotations

import functools
import os

import torch

PRECISIONS = ("auto", "fp32", "tf32", "bf16")
"""``fp32``: float32 throughout. ``tf32``: CUDA matrix products on TF32 tensor cores (what
cuDNN's LSTM, hence the plain model on a GPU, uses by default). ``bf16``: the recurrent
products in bfloat16 with float32 accumulation (state, gates and weights stay float32),
plus bfloat16 autocast for the other products on CUDA. ``auto``: ``tf32`` on CUDA;
on the CPU ``bf16`` where the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX),
else ``fp32`` (docs/performance.md shows the test AUROC does not move)."""


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """Whether this CPU has native bfloat16 dot products (``avx512_bf16`` or ``amx_bf16``)."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


PRECISION_ENV = "BADLABELS_PRECISION"


def requested_precision() -> str:
    """The stacked engine's precision as asked for in ``BADLABELS_PRECISION`` (default ``auto``).

    The one place the variable is read: the run settings of an experiment and the audit's
    stacked folds both ask here.
    """
    return os.environ.get(PRECISION_ENV) or "auto"


def plain_precision(device: torch.device | str) -> str:
    """What the plain engine's float32 models run at on ``device``, for the records.

    ``fp32`` on the CPU; on CUDA ``fp32+cudnn-tf32`` while PyTorch lets cuDNN (the plain
    LSTM, BiLSTM and CNN) use TF32 tensor cores (``torch.backends.cudnn.allow_tf32``, on by
    default), else ``fp32``.
    """
    if torch.device(device).type == "cuda" and torch.backends.cudnn.allow_tf32:
        return "fp32+cudnn-tf32"
    return "fp32"


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``precision`` with ``auto`` resolved for ``device``; ValueError if unknown."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "auto":
        if torch.device(device).type == "cuda":
            return "tf32"
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return precision


class _TF32:
    """Context: float32 CUDA matrix products on TF32 tensor cores (restored on exit)."""

    def __init__(self, on: bool):
        self.on = on

    def __enter__(self):
        self.saved = torch.get_float32_matmul_precision()
        if self.on:
            torch.set_float32_matmul_precision("high")

    def __exit__(self, *exc):
        torch.set_float32_matmul_precision(self.saved)


__all__ = ["PRECISIONS", "cpu_has_fast_bf16", "resolve_precision"]
