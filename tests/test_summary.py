"""The Markdown summary's reading of the curve."""

from __future__ import annotations

import pandas as pd

from badlabels.report.summary import write_summary


def _frame(best_45: int, n_train: int = 80) -> pd.DataFrame:
    rows = []
    for model in ("lstm", "logreg"):
        for rate, auc, best in ((0.0, 0.90, 20), (0.45, 0.75, best_45), (0.5, 0.51, 4)):
            neural = model == "lstm"
            rows.append(dict(
                model=model, method="bce", batch_size=500, noise_type="symmetric", noise_rate=rate,
                seed=0, auroc=auc, noisy_test_auroc=0.5 + (auc - 0.5) * (1 - 2 * rate),
                n_train=n_train, n_val=10, n_test=10,
                best_epoch=best if neural else 1, epochs_run=(best + 6) if neural else 1,
            ))  # fmt: skip
    return pd.DataFrame(rows)


def test_summary_reads_the_curve(tmp_path):
    text = write_summary(_frame(best_45=12), tmp_path / "summary.md").read_text()
    assert "**lstm** at 45% flips: AUROC 0.750 vs 0.900 clean (83% of it; 62% of the signal" in text
    assert "Caution" not in text


def test_summary_warns_when_high_noise_runs_stop_in_the_first_epochs(tmp_path):
    text = write_summary(_frame(best_45=2), tmp_path / "summary.md").read_text()
    assert "**Caution:**" in text
    assert "lstm at 45% (seed 0: epoch 2)" in text
    assert "logreg" not in text.split("**Caution:**")[1].split(".")[0]  # one-epoch models are not flagged
    assert "docs/high-noise.md" in text


def test_caution_names_small_training_sets_only(tmp_path):
    small = write_summary(_frame(best_45=2), tmp_path / "a.md").read_text()
    assert "With 80 training labels the result is also data-limited" in small
    large = write_summary(_frame(best_45=2, n_train=200_000), tmp_path / "b.md").read_text()
    assert "**Caution:**" in large
    assert "data-limited" not in large
