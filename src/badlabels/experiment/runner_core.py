"""Run the grid: prepare the data once, corrupt labels per cell, train, score on clean labels.

Flow of one cell: the split (fixed by ``split_seed``) -> noisy train / validation labels (the
test labels stay clean; a noisy copy of them is made only to show what a noisy test set would
have reported) -> an estimator from :func:`badlabels.methods.registry.build_estimator` ->
metrics on the clean test labels. Finished cells go to the :class:`ResultStore` at once, so an
interrupted run loses at most the cells in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from badlabels.data import Dataset, split_indices
from badlabels.evaluation import binary_metrics, corrected_auroc
from badlabels.experiment.grid import Cell
from badlabels.noise import NoiseResult, apply_noise, transition_matrix

Progress = Callable[..., None]

_PARTS = {"train": 1, "val": 2, "test": 3}
_NOISE_CODES = {"symmetric": 11, "class_conditional": 12, "measurement": 13, "read_depth": 14}


@dataclass
class Prepared:
    """A dataset split once, shared by every cell that uses it."""

    dataset: Dataset
    train: Dataset
    val: Dataset
    test: Dataset
    split: tuple[float, float, float]
    split_seed: int

    @property
    def ceiling_auroc(self) -> float:
        """AUROC of the noise-free fitness against the clean test labels (synthetic data)."""
        if self.test.latent is None:
            return float("nan")
        return binary_metrics(self.test.labels, _rank01(self.test.latent))["auroc"]


def _rank01(x: np.ndarray) -> np.ndarray:
    order = np.argsort(np.argsort(x))
    return order / max(len(x) - 1, 1)


def prepare(dataset: Dataset, split=(0.8, 0.1, 0.1), split_seed: int = 0) -> Prepared:
    """Split ``dataset`` once (the one place splits are made is :func:`split_indices`)."""
    s = split_indices(len(dataset), tuple(split), seed=split_seed)
    return Prepared(
        dataset=dataset,
        train=dataset.subset(s.train),
        val=dataset.subset(s.val),
        test=dataset.subset(s.test),
        split=tuple(split),
        split_seed=split_seed,
    )


def noise_seed(seed: int, noise_type: str, part: str) -> np.random.SeedSequence:
    """The seed of one part's flips: same (seed, noise type, part) -> same flips."""
    return np.random.SeedSequence([int(seed), _NOISE_CODES.get(noise_type, 99), _PARTS[part]])


def corrupt_part(part: Dataset, cell: Cell, which: str) -> NoiseResult:
    """Corrupt one split's labels as ``cell`` says."""
    seed = int(noise_seed(cell.seed, cell.noise_type, which).generate_state(1)[0])
    return apply_noise(part, cell.noise_type, cell.noise_rate, seed=seed, cc_ratio=cell.cc_ratio)


def check_noise(prepared: Prepared, cells: list[Cell]) -> None:
    """Apply each distinct noise setting of ``cells`` to a few rows, so a bad level or data
    that lacks what the noise type needs fails before any model is trained."""
    probe = prepared.train.subset(np.arange(min(len(prepared.train), 16)))
    seen = set()
    for c in cells:
        key = (c.noise_type, c.noise_rate, c.cc_ratio)
        if key not in seen:
            seen.add(key)
            corrupt_part(probe, c, "train")


def score_cell(
    cell: Cell,
    prepared: Prepared,
    prob_test: np.ndarray,
    *,
    train_noise: NoiseResult,
    val_noise: NoiseResult,
    epochs_run: int,
    best_epoch: int | None,
    train_seconds: float,
    device: str,
    engine: str,
    precision: str,
) -> dict:
    """The result record of one finished cell (metrics on clean test labels).

    ``device``, ``engine`` and ``precision`` say what actually trained the cell.
    """
    clean = prepared.test.labels
    record = cell.to_dict()
    record.update(
        cell_id=cell.cell_id,
        realized_flip_rate=float(train_noise.flipped.mean()),
        val_flip_rate=float(val_noise.flipped.mean()),
        n_train=len(prepared.train),
        n_val=len(prepared.val),
        n_test=len(prepared.test),
        epochs_run=int(epochs_run),
        best_epoch=None if best_epoch is None else int(best_epoch),
        train_seconds=float(train_seconds),
        ceiling_auroc=prepared.ceiling_auroc,
        device=device,
        engine=engine,
        precision=precision,
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    record.update(binary_metrics(clean, prob_test))
    # What a noisy test set would have said, and the estimate corrected for the (here known) noise.
    test_noise = corrupt_part(prepared.test, cell, "test")
    record["noisy_test_auroc"] = binary_metrics(test_noise.labels, prob_test)["auroc"]
    record["test_flip_rate"] = float(test_noise.flipped.mean())
    try:
        matrix = transition_matrix(clean, test_noise.labels)
        record["corrected_test_auroc"] = float(
            corrected_auroc(test_noise.labels, prob_test, matrix)
        )
    except Exception:  # noise at or past 50 %: the correction is undefined
        record["corrected_test_auroc"] = float("nan")
    return record


def run_cell_plain(
    cell: Cell, prepared: Prepared, device: str = "auto", *, progress: Progress | None = None
) -> dict:
    """Train and score one cell the plain way (one model, PyTorch's own LSTM) on ``device``
    (resolved by the run settings; ``auto`` only where called on its own)."""
    from badlabels.engine.stacked.precision import plain_precision
    from badlabels.engine.trainer import resolve_device
    from badlabels.methods.registry import build_estimator

    # What the estimator resolves too (models.base); scikit-learn's logreg runs on the CPU.
    dev = resolve_device("cpu" if cell.model == "logreg" else device)

    train_noise = corrupt_part(prepared.train, cell, "train")
    val_noise = corrupt_part(prepared.val, cell, "val")
    est = build_estimator(
        cell.model,
        cell.method,
        model_params=cell.estimator_params(device),
        method_params=dict(cell.method_params),
        noise_rate_hint=float(val_noise.flipped.mean()),
    )

    def on_epoch(event, **info):
        if progress is not None:
            progress(event, cell=cell, **info)

    t0 = time.perf_counter()
    est.fit(
        prepared.train.sequences,
        train_noise.labels,
        eval_set=(prepared.val.sequences, val_noise.labels),
        progress=on_epoch,
    )
    seconds = time.perf_counter() - t0
    prob = est.predict_proba(prepared.test.sequences)[:, 1]
    return score_cell(
        cell,
        prepared,
        prob,
        train_noise=train_noise,
        val_noise=val_noise,
        epochs_run=getattr(est, "epochs_run_", 1),
        best_epoch=getattr(est, "best_epoch_", None),
        train_seconds=seconds,
        device=str(dev),
        engine="plain",
        precision="fp64" if cell.model == "logreg" else plain_precision(dev),
    )
