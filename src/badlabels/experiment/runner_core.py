"""Run the grid: prepare the data once, corrupt labels per cell, train, score on clean labels.

Flow of one cell: the split (fixed by ``split_seed``) -> noisy train / validation labels (the
test labels stay clean; a noisy copy of them is made only to show what a noisy test set would
have reported) -> an estimator from :func:`badlabels.methods.registry.build_estimator` ->
metrics on the clean test labels. Finished cells go to the :class:`ResultStore` at once, so an
interrupted run loses at most the cells in flight.

Data with precomputed features (``Dataset.features``, aligned to the rows and kept aligned by
the split) feed them to the models that read features (``mlp``, ``logreg``) for train,
validation and test alike; every other model reads the sequences
(:func:`badlabels.models.base.model_input`, the one rule). Only LSTM cells are ever stacked,
so the stacked engine reads sequences only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from badlabels.data import Dataset, split_indices
from badlabels.data.splits import Split
from badlabels.errors import BadInputError
from badlabels.evaluation import binary_metrics, corrected_auroc
from badlabels.evaluation.metrics import regression_metrics, score_metrics
from badlabels.experiment.grid import Cell
from badlabels.noise import (
    NoiseResult,
    ScoreNoiseResult,
    apply_noise,
    apply_score_noise,
    transition_matrix,
)

Progress = Callable[..., None]

_PARTS = {"train": 1, "val": 2, "test": 3}
_NOISE_CODES = {"symmetric": 11, "class_conditional": 12, "measurement": 13, "read_depth": 14,
                "gaussian": 15, "outliers": 16}  # fmt: skip


@dataclass
class Prepared:
    """A dataset split once, shared by every cell that uses it.

    ``split_source`` says where the split came from: ``"random"`` (fractions ``split``, seed
    ``split_seed``) or the data's own column(s) (``Dataset.split``).
    """

    dataset: Dataset
    train: Dataset
    val: Dataset
    test: Dataset
    split: tuple[float, float, float]
    split_seed: int
    split_source: str = "random"

    @property
    def ceiling_auroc(self) -> float:
        """AUROC of the noise-free fitness against the clean test labels (synthetic data)."""
        if self.test.latent is None:
            return float("nan")
        return binary_metrics(self.test.labels, _rank01(self.test.latent))["auroc"]


def _rank01(x: np.ndarray) -> np.ndarray:
    order = np.argsort(np.argsort(x))
    return order / max(len(x) - 1, 1)


def given_split(dataset: Dataset, split=(0.8, 0.1, 0.1), split_seed: int = 0) -> Split:
    """The split a dataset brought (``Dataset.split``), as index arrays.

    Rows marked ``"val"`` are the validation part. When none are, a random share of the
    training rows becomes the validation part: ``val / (train + val)`` of the fractions
    ``split``, drawn with ``split_seed`` (the one splitting function,
    :func:`~badlabels.data.split_indices`); the test rows are always exactly the rows marked
    ``"test"``.

    Raises
    ------
    BadInputError
        When no row is marked ``"test"`` or none ``"train"``.
    """
    parts = np.asarray(dataset.split).astype(str)
    where = dataset.extra.get("split_source", "the given split")
    test = np.flatnonzero(parts == "test").astype(np.int64)
    train = np.flatnonzero(parts == "train").astype(np.int64)
    val = np.flatnonzero(parts == "val").astype(np.int64)
    for name, idx in (("test", test), ("train", train)):
        if idx.size == 0:
            raise BadInputError(
                f"{where} marks no row as {name}; a given split needs train and test rows",
                file=dataset.source,
            )
    if val.size == 0:
        f_train, f_val, _ = (float(f) for f in split)
        share = f_val / (f_train + f_val) if f_train + f_val > 0 else 0.0
        if share > 0:
            # split_indices takes its held-out part first; here that part is the validation.
            inner = split_indices(len(train), (1.0 - share, 0.0, share), seed=split_seed)
            train, val = train[inner.train], train[inner.test]
    return Split(train=np.sort(train), val=np.sort(val), test=np.sort(test))


def prepare(dataset: Dataset, split=(0.8, 0.1, 0.1), split_seed: int = 0) -> Prepared:
    """Split ``dataset`` once: by its given split when it has one (:func:`given_split`), else
    at random (the one place random splits are made is :func:`split_indices`)."""
    if dataset.split is not None:
        s = given_split(dataset, split, split_seed)
        source = str(dataset.extra.get("split_source", "given with the data"))
        if not np.any(np.asarray(dataset.split).astype(str) == "val"):
            source += f"; validation drawn from its train rows (seed {split_seed})"
    else:
        s = split_indices(len(dataset), tuple(split), seed=split_seed)
        source = "random"
    return Prepared(
        dataset=dataset,
        train=dataset.subset(s.train),
        val=dataset.subset(s.val),
        test=dataset.subset(s.test),
        split=tuple(split),
        split_seed=split_seed,
        split_source=source,
    )


def noise_seed(seed: int, noise_type: str, part: str) -> np.random.SeedSequence:
    """The seed of one part's flips: same (seed, noise type, part) -> same flips."""
    return np.random.SeedSequence([int(seed), _NOISE_CODES.get(noise_type, 99), _PARTS[part]])


def corrupt_part(part: Dataset, cell: Cell, which: str) -> NoiseResult | ScoreNoiseResult:
    """Corrupt one split's labels (a regression dataset: its scores) as ``cell`` says."""
    seed = int(noise_seed(cell.seed, cell.noise_type, which).generate_state(1)[0])
    if part.is_regression:
        return apply_score_noise(part, cell.noise_type, cell.noise_rate, seed=seed)
    return apply_noise(part, cell.noise_type, cell.noise_rate, seed=seed, cc_ratio=cell.cc_ratio)


def check_noise(prepared: Prepared, cells: list[Cell]) -> None:
    """Apply each distinct noise setting of ``cells`` to a few rows, so a bad level or data
    that lacks what the noise type needs fails before any model is trained (and, for data
    with precomputed features, :func:`check_inputs`)."""
    probe = prepared.train.subset(np.arange(min(len(prepared.train), 16)))
    seen = set()
    for c in cells:
        key = (c.noise_type, c.noise_rate, c.cc_ratio)
        if key not in seen:
            seen.add(key)
            corrupt_part(probe, c, "train")
    check_inputs(prepared, cells)


def check_inputs(prepared: Prepared, cells: list[Cell]) -> None:
    """With precomputed features, check before any training that some cell's model reads them
    and that every cell whose model does (``mlp``, ``logreg``) has a method that passes them
    on (one-line BadInputError, see :func:`badlabels.models.base.model_input`); cells of other
    models read the sequences. Without features: nothing to check."""
    if prepared.train.features is None or prepared.dataset.is_regression:
        return  # regressors: features reach the models that read them (run_cell_regression)
    from badlabels.methods.registry import build_estimator
    from badlabels.models.base import check_features_read, model_input, reads_features

    if cells:
        check_features_read(c.model for c in cells)
    seen = set()
    for c in cells:
        key = (c.model, c.method, repr(c.method_params))
        if key in seen or not reads_features(c.model):
            continue
        seen.add(key)
        try:
            est = build_estimator(c.model, c.method, model_params=c.estimator_params("cpu"),
                                  method_params=dict(c.method_params), noise_rate_hint=0.1)  # fmt: skip
        except Exception:  # a bad option: reported by the cell itself, as without features
            continue
        model_input(prepared.train, c.model, est, c.method)


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
    record["split_source"] = prepared.split_source
    if prepared.test.scores is not None:
        # ProteinGym's metrics against the measured score (the clean one: test rows are never
        # corrupted); binarised-only data have no score and no such columns.
        record.update(score_metrics(prepared.test.scores, prob_test))
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
    if prepared.dataset.is_regression:
        return run_cell_regression(cell, prepared, device, progress=progress)
    from badlabels.engine.stacked.precision import plain_precision
    from badlabels.engine.trainer import resolve_device
    from badlabels.methods.registry import build_estimator
    from badlabels.models.base import model_input

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

    # mlp / logreg read the data's precomputed features where there are any (model_input)
    train_x, val_x, test_x = (
        model_input(part, cell.model, est, cell.method)
        for part in (prepared.train, prepared.val, prepared.test)
    )
    t0 = time.perf_counter()
    est.fit(
        train_x,
        train_noise.labels,
        eval_set=(val_x, val_noise.labels),
        progress=on_epoch,
    )
    seconds = time.perf_counter() - t0
    prob = est.predict_proba(test_x)[:, 1]
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


def _regression_input(part: Dataset, est):
    """Precomputed features for a regressor that reads them, else the sequences."""
    if part.features is not None and getattr(est, "reads_features", False):
        return part.features
    return part.sequences


def run_cell_regression(
    cell: Cell, prepared: Prepared, device: str = "auto", *, progress: Progress | None = None
) -> dict:
    """Train and score one cell of a regression dataset: noisy training and validation scores
    (``noise.apply_score_noise``), a regressor (``methods.regression.build_regressor``;
    method parameter ``weights="depth"``: the training rows weighted by their read depth,
    ``data.regression.depth_weights``), and the metrics of its predictions against the clean
    test scores."""
    from badlabels.data.regression import depth_weights
    from badlabels.engine.stacked.precision import plain_precision
    from badlabels.engine.trainer import resolve_device
    from badlabels.methods.regression import build_regressor, weights_kind

    dev = resolve_device("cpu" if cell.model == "ridge" else device)
    train_noise = corrupt_part(prepared.train, cell, "train")
    val_noise = corrupt_part(prepared.val, cell, "val")
    est = build_regressor(cell.model, cell.method, model_params=cell.estimator_params(device),
                          method_params=dict(cell.method_params))  # fmt: skip

    def on_epoch(event, **info):
        if progress is not None:
            progress(event, cell=cell, **info)

    train_x, val_x, test_x = (
        _regression_input(part, est) for part in (prepared.train, prepared.val, prepared.test)
    )
    weights = None
    if weights_kind(cell.method, dict(cell.method_params)) == "depth":
        weights = depth_weights(prepared.train)[0]
    t0 = time.perf_counter()
    est.fit(train_x, train_noise.scores, eval_set=(val_x, val_noise.scores), progress=on_epoch,
            sample_weight=weights)  # fmt: skip
    seconds = time.perf_counter() - t0
    return score_cell_regression(
        cell, prepared, est.predict(test_x), train_noise=train_noise, val_noise=val_noise,
        epochs_run=int(getattr(est, "epochs_run_", 1)),
        best_epoch=int(getattr(est, "best_epoch_", 1)), train_seconds=seconds, device=str(dev),
        engine="plain", precision="fp64" if cell.model == "ridge" else plain_precision(dev),
    )  # fmt: skip


def score_cell_regression(
    cell: Cell, prepared: Prepared, pred, *, train_noise, val_noise, epochs_run: int,
    best_epoch: int, train_seconds: float, device: str, engine: str, precision: str,
) -> dict:  # fmt: skip
    """The record of one regression cell from its predicted test scores (both engines).

    Parameters
    ----------
    cell, prepared
        The cell and its prepared data.
    pred : ndarray of float, shape (n_test,)
        Predicted test scores, in the targets' units.
    train_noise, val_noise : ScoreNoiseResult
        The noisy training and validation scores the model learnt from.
    epochs_run, best_epoch, train_seconds, device, engine, precision
        How it was trained, as the record states it.
    """
    record = cell.to_dict()
    record.update(
        cell_id=cell.cell_id,
        task="regression",
        realized_flip_rate=float(train_noise.changed.mean()),
        val_flip_rate=float(val_noise.changed.mean()),
        mean_abs_change=float(np.mean(train_noise.moved)),
        n_train=len(prepared.train),
        n_val=len(prepared.val),
        n_test=len(prepared.test),
        epochs_run=int(epochs_run),
        best_epoch=int(best_epoch),
        train_seconds=float(train_seconds),
        ceiling_auroc=float("nan"),
        device=device,
        engine=engine,
        precision=precision,
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
        split_source=prepared.split_source,
    )
    record.update(regression_metrics(prepared.test.targets, pred))
    # What a test set measured as noisily as the training scores would have said.
    test_noise = corrupt_part(prepared.test, cell, "test")
    record["noisy_test_spearman"] = regression_metrics(test_noise.scores, pred)["spearman"]
    record["test_flip_rate"] = float(test_noise.changed.mean())
    return record
