"""Evaluation: metrics (the one place they are computed) and noise-corrected estimates."""

from __future__ import annotations

from badlabels.evaluation.correction import (
    bootstrap_corrected,
    corrected_accuracy,
    corrected_auroc,
)
from badlabels.evaluation.metrics import binary_metrics, regression_metrics

__all__ = [
    "binary_metrics",
    "bootstrap_corrected",
    "corrected_accuracy",
    "corrected_auroc",
    "regression_metrics",
]
