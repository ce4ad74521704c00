"""The experiment grid: a plain, hashable configuration per cell, its id derived from it.

A *cell* is one trained model: one dataset (by fingerprint), model, method, noise type and
level, seed and batch size. Its id is a hash of the whole configuration, so the same cell
always gets the same id and any change (a different data file, an extra epoch) gets another.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, field, fields

from badlabels.errors import BadInputError
from badlabels.noise import NOISE_TYPES, SCORE_NOISE_TYPES


@dataclass(frozen=True)
class Cell:
    """One training run of the grid. Every field is part of the id."""

    dataset: str
    data_fingerprint: str
    model: str
    method: str
    noise_type: str
    noise_rate: float
    seed: int
    batch_size: int
    max_epochs: int
    patience: int
    lr: float
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    split_seed: int = 0
    cc_ratio: float = 0.5
    method_params: tuple[tuple[str, object], ...] = ()
    model_params: tuple[tuple[str, object], ...] = ()

    @property
    def cell_id(self) -> str:
        """16 hex digits derived from the full configuration."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["split"] = list(self.split)
        d["method_params"] = dict(self.method_params)
        d["model_params"] = dict(self.model_params)
        return d

    def estimator_params(self, device: str = "auto") -> dict:
        """The model parameters of this cell's estimator, for every engine.

        The cell's ``model_params``, then (neural models) its schedule -- ``batch_size``,
        ``max_epochs``, ``patience``, ``lr`` -- and ``device``, then ``random_state=seed``.

        Parameters
        ----------
        device : str
            Training device (``"auto"``, ``"cpu"``, ``"cuda"``...).

        Returns
        -------
        dict
        """
        params = dict(self.model_params)
        if self.model not in ("logreg", "ridge"):
            params.update(
                batch_size=self.batch_size,
                max_epochs=self.max_epochs,
                patience=self.patience,
                lr=self.lr,
                device=device,
            )
        params["random_state"] = self.seed
        return params

    @classmethod
    def from_dict(cls, d: dict) -> Cell:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["split"] = tuple(kw.get("split", (0.8, 0.1, 0.1)))
        kw["method_params"] = _freeze(kw.get("method_params", {}))
        kw["model_params"] = _freeze(kw.get("model_params", {}))
        return cls(**kw)


def _cell_method_params(method: str, given: dict) -> dict:
    """The method parameters a cell records: the method's pinned defaults, then ``given``."""
    from badlabels.methods.registry import METHODS

    spec = METHODS.get(method)
    params = given.get(method, {})
    return spec.cell_params(params) if spec is not None else dict(params)


def _freeze(params) -> tuple[tuple[str, object], ...]:
    if isinstance(params, tuple):
        return params
    return tuple(sorted((str(k), v) for k, v in dict(params or {}).items()))


@dataclass
class GridSpec:
    """The values to combine; the grid is their product."""

    models: list[str] = field(default_factory=lambda: ["lstm", "logreg"])
    methods: list[str] = field(default_factory=lambda: ["bce"])
    noise_type: str = "symmetric"
    noise_rates: list[float] = field(default_factory=lambda: [0.0, 0.2, 0.45, 0.5])
    seeds: list[int] = field(default_factory=lambda: [0])
    batch_sizes: list[int] = field(default_factory=lambda: [500])
    max_epochs: int = 40
    patience: int = 6
    lr: float = 1e-3
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    split_seed: int = 0
    cc_ratio: float = 0.5
    method_params: dict = field(default_factory=dict)
    model_params: dict = field(default_factory=dict)

    def validate(self) -> None:
        known = (*NOISE_TYPES, *(t for t in SCORE_NOISE_TYPES if t not in NOISE_TYPES))
        if self.noise_type not in known:
            raise BadInputError(
                f"unknown noise type {self.noise_type!r}; choose one of: {', '.join(known)}"
            )
        for name in ("models", "methods", "noise_rates", "seeds", "batch_sizes"):
            if not getattr(self, name):
                raise BadInputError(f"--{name.replace('_', '-')} needs at least one value")
        for b in self.batch_sizes:
            if int(b) < 1:
                raise BadInputError(f"batch size must be a positive integer (got {b})")
        if self.max_epochs < 1:
            raise BadInputError(f"--epochs must be at least 1 (got {self.max_epochs})")

    def cells(self, dataset: str, fingerprint: str) -> list[Cell]:
        """Every cell of the grid, in a stable order (rates vary fastest within a model)."""
        self.validate()
        out = []
        for model, method, batch, seed, rate in itertools.product(
            self.models, self.methods, self.batch_sizes, self.seeds, self.noise_rates
        ):
            # Methods other than plain bce (scores: a squared loss) only make sense for
            # neural models.
            if model == "logreg" and method != "bce" or model == "ridge" and method not in RIDGE_METHODS:
                continue
            out.append(
                Cell(
                    dataset=dataset,
                    data_fingerprint=fingerprint,
                    model=model,
                    method=method,
                    noise_type=self.noise_type,
                    noise_rate=float(rate),
                    seed=int(seed),
                    batch_size=int(batch),
                    max_epochs=int(self.max_epochs),
                    patience=int(self.patience),
                    lr=float(self.lr),
                    split=tuple(float(x) for x in self.split),
                    split_seed=int(self.split_seed),
                    cc_ratio=float(self.cc_ratio),
                    method_params=_freeze(_cell_method_params(method, self.method_params)),
                    model_params=_freeze(self.model_params.get(model, {})),
                )
            )
        seen: dict[str, Cell] = {}
        for c in out:
            seen.setdefault(c.cell_id, c)
        return list(seen.values())


RIDGE_METHODS = ("mse", "mse_depth")
"""The regression methods ``ridge`` is fitted with (least squares, weighted or not); a grid
skips its other methods for ridge (``methods.regression.REGRESSION_METHODS``)."""

LABEL_RATES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5)
"""Flip rates a label experiment sweeps when none are given."""
SCORE_RATES = {"outliers": (0.0, 0.1, 0.2, 0.3, 0.45), "gaussian": (0.0, 0.25, 0.5, 1.0),
               "read_depth": (1.0, 0.1, 0.01, 0.001)}  # fmt: skip
"""Levels a score experiment sweeps when none are given, per score noise type."""


def task_defaults(regression: bool, noise_type: str | None = None) -> dict:
    """What a grid left unsaid means for the data's task.

    Parameters
    ----------
    regression : bool
        The data are continuous scores (``Dataset.is_regression``).
    noise_type : str, optional
        The noise type given, if any; the default levels follow it.

    Returns
    -------
    dict
        ``models``, ``methods`` (lists of str), ``noise_type`` (str) and ``noise_rates``
        (list of float). Labels: lstm + logreg, bce, symmetric flips at 0-50 %. Scores:
        lstm + ridge, mse, outliers at 0-45 %.
    """
    if not regression:
        noise = noise_type or "symmetric"
        key = str(noise).strip().lower().replace("-", "_")
        rates = SCORE_RATES["read_depth"] if key == "read_depth" else LABEL_RATES
        return dict(models=["lstm", "logreg"], methods=["bce"], noise_type=noise,
                    noise_rates=list(rates))  # fmt: skip
    noise = noise_type or "outliers"
    key = str(noise).strip().lower().replace("-", "_")
    return dict(models=["lstm", "ridge"], methods=["mse"], noise_type=noise,
                noise_rates=list(SCORE_RATES.get(key, SCORE_RATES["outliers"])))  # fmt: skip

