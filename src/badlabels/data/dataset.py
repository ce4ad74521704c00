"""The in-memory labelled dataset every stage of badlabels passes along."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Dataset:
    """Sequences with binary labels, plus what noise models may need.

    Attributes
    ----------
    sequences : ndarray of str, shape (n,)
        Unique sequences (duplicates were resolved when reading).
    labels : ndarray of int8, shape (n,)
        Clean (as-measured) binary labels, 0 or 1.
    name : str
        Dataset name (``peptide12``, ``gb1`` or the file name).
    alphabet : str
        Residues the sequences may contain (20 amino acids, ``*`` when allowed).
    scores : ndarray of float, shape (n,), optional
        The continuous score the labels were binarised from (label = score > threshold).
    threshold : float, optional
        The cutoff applied to ``scores``.
    counts : dict of str to ndarray, optional
        Read counts for count data (``count_input``, ``count_selected``) so that
        read-depth noise can re-derive labels.
    latent : ndarray of float, shape (n,), optional
        The noise-free fitness, known only for synthetic data (ceiling AUROC).
    source : str, optional
        Path of the file read, for messages and the report.
    split : ndarray of str, shape (n,), optional
        A split given with the data (``--split-col``/``--valid-col``): each row's part,
        ``"train"``, ``"val"`` or ``"test"``. None: the split is drawn at random.
    folds : ndarray of int64, shape (n,), optional
        Cross-validation folds given with the data (``audit --folds-col``), 0-based.
    features : ndarray of float32, shape (n, d), optional
        Precomputed features aligned to the rows (``--features``), for ``mlp`` and ``logreg``.
    task : {"classification", "regression"}
        What a model learns: the binary ``labels`` or the continuous ``targets``.
    targets : ndarray of float64, shape (n,), optional
        Regression only: the score a regressor learns, on the scale it is learnt and
        reported (``scores`` after the transform in ``extra["score_transform"]``, see
        :mod:`badlabels.data.regression`). ``labels`` are then ``targets > median`` and only
        serve what needs two classes (stratified splits).
    extra : dict
        Anything else a loader wants to keep (e.g. the quantile used).
    """

    sequences: np.ndarray
    labels: np.ndarray
    name: str = "data"
    alphabet: str = "ACDEFGHIKLMNPQRSTVWY"
    scores: np.ndarray | None = None
    threshold: float | None = None
    counts: dict[str, np.ndarray] | None = None
    latent: np.ndarray | None = None
    source: str | None = None
    split: np.ndarray | None = None
    folds: np.ndarray | None = None
    features: np.ndarray | None = None
    extra: dict = field(default_factory=dict)
    task: str = "classification"
    targets: np.ndarray | None = None

    def __post_init__(self):
        self.sequences = np.asarray(self.sequences, dtype=object)
        self.labels = np.asarray(self.labels, dtype=np.int8)
        if len(self.sequences) != len(self.labels):
            raise ValueError("sequences and labels differ in length")
        if self.task not in ("classification", "regression"):
            raise ValueError(f"unknown task {self.task!r}")
        if self.targets is not None:
            self.targets = np.asarray(self.targets, dtype=np.float64)
            if len(self.targets) != len(self.labels):
                raise ValueError("targets and labels differ in length")
        if self.task == "regression" and self.targets is None:
            raise ValueError("a regression dataset needs targets")

    @property
    def is_regression(self) -> bool:
        """Whether models learn the continuous ``targets`` (``task == "regression"``)."""
        return self.task == "regression"

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def positive_fraction(self) -> float:
        return float(self.labels.mean()) if len(self) else float("nan")

    def fingerprint(self) -> str:
        """A stable 16-hex-digit hash of sequences and labels (and scores, a given split and
        features where there are any)."""
        h = hashlib.sha256()
        h.update(self.name.encode())
        h.update("\n".join(self.sequences.tolist()).encode())
        h.update(self.labels.tobytes())
        if self.scores is not None:
            h.update(np.asarray(self.scores, dtype=np.float64).tobytes())
        # Given splits and features change what a cell trains on; absent, the hash is as before.
        if self.split is not None:
            h.update(("split:" + "\n".join(map(str, self.split.tolist()))).encode())
        if self.features is not None:
            h.update(b"features:" + np.ascontiguousarray(self.features, dtype=np.float32).tobytes())
        if self.is_regression:
            h.update(b"targets:" + np.ascontiguousarray(self.targets, dtype=np.float64).tobytes())
        return h.hexdigest()[:16]

    def subset(self, idx) -> Dataset:
        """The rows ``idx`` (an index array or boolean mask) as a new Dataset."""
        idx = np.asarray(idx)
        return Dataset(
            sequences=self.sequences[idx],
            labels=self.labels[idx],
            name=self.name,
            alphabet=self.alphabet,
            scores=None if self.scores is None else self.scores[idx],
            threshold=self.threshold,
            counts=None if self.counts is None else {k: v[idx] for k, v in self.counts.items()},
            latent=None if self.latent is None else self.latent[idx],
            source=self.source,
            split=None if self.split is None else self.split[idx],
            folds=None if self.folds is None else self.folds[idx],
            features=None if self.features is None else self.features[idx],
            extra=dict(self.extra),
            task=self.task,
            targets=None if self.targets is None else self.targets[idx],
        )
