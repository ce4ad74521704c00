"""Strict-JSON helpers shared by the applications (below every layer, like ``errors``)."""

from __future__ import annotations

import math

import numpy as np


def finite_or_none(value):
    """NaN/inf floats -> None, recursively through dicts, lists and tuples (strict JSON)."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
