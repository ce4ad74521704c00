r"""A learning curve in effective size: how a score grows with labels and falls with noise.

The model ``badlabels plan`` fits (docs/plan.md):

.. math::

    A(m, \rho) = \tfrac12 + (a - \tfrac12)\,\frac{1}{1 + (n_0 / n_\mathrm{eff})^{c}},
    \qquad n_\mathrm{eff} = m\,\rho^{\gamma},

- ``m`` labels given to ``fit``; ``rho = 1 - e0 - e1`` their noise's "signal" (``1 - 2p``
  for symmetric flips at rate ``p``; ``e0 = P(noisy 1 | clean 0)``, ``e1 = P(noisy 0 |
  clean 1)``);
- ``gamma`` the noise discount's exponent: theory for symmetric noise (a noisy label is
  worth about ``(1 - 2p)**2`` clean ones) says 2;
- ``a`` the score with unlimited clean labels (at most 1), ``n0`` the effective size at
  which half of the way from chance (0.5) to ``a`` is reached, ``c`` how steep the curve
  is in log size. For large ``n_eff`` the curve approaches ``a`` as a power law,
  ``a - (a - 1/2)(n0 / n_eff)**c``; for small ``n_eff`` it falls to chance, as an AUROC does.

Assumptions: the score is an AUROC-like quantity between chance (0.5) and 1; noise acts
on learning only through the effective size (a noisy label is worth ``rho**gamma`` clean
ones whatever the data size); a set of labels of mixed quality is worth the sum of its
labels' worths (:func:`effective_size`).

Nothing here trains a model: the curve is fitted to scores measured elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from badlabels.errors import BadInputError

__all__ = ["CurveFit", "curve", "effective_size", "fit_curve"]

BOUNDS = {
    "a": (0.5 + 1e-4, 1.0),
    "log_n0": (0.0, float(np.log(1e8))),
    "c": (0.2, 5.0),
    "gamma": (0.25, 6.0),
}
"""Bounds of the fitted parameters (``n0`` is fitted on the log scale)."""


def effective_size(m, rho, gamma: float):
    """``m * rho**gamma``: how many clean labels ``m`` labels of signal ``rho`` are worth.

    Parameters
    ----------
    m : float or ndarray
        Number of labels.
    rho : float or ndarray
        ``1 - e0 - e1`` of their noise (1 = clean); values at or below 0 are worth nothing.
    gamma : float
        The discount's exponent.
    """
    rho = np.clip(np.asarray(rho, dtype=np.float64), 0.0, 1.0)
    return np.asarray(m, dtype=np.float64) * rho**gamma


def curve(n_eff, a: float, n0: float, c: float):
    """The score at effective size ``n_eff`` (the formula of the module docstring)."""
    n_eff = np.maximum(np.asarray(n_eff, dtype=np.float64), 1e-12)
    return 0.5 + (a - 0.5) / (1.0 + (n0 / n_eff) ** c)


@dataclass(frozen=True)
class CurveFit:
    """A fitted curve.

    Attributes
    ----------
    a, n0, c, gamma : float
        The parameters (see the module docstring).
    rmse : float
        Root mean square of the residuals (in score units).
    n_points : int
    fixed : tuple of str
        Parameters held at given values rather than fitted.
    """

    a: float
    n0: float
    c: float
    gamma: float
    rmse: float
    n_points: int
    fixed: tuple = ()

    def predict(self, m, rho=1.0):
        """The score of ``m`` labels of signal ``rho`` (array-like, broadcast)."""
        return curve(effective_size(m, rho, self.gamma), self.a, self.n0, self.c)

    def predict_eff(self, n_eff):
        """The score at effective size ``n_eff``."""
        return curve(n_eff, self.a, self.n0, self.c)

    def size_for(self, score: float) -> float:
        """The effective size at which the curve reaches ``score`` (inf if never, 0 at chance)."""
        if score <= 0.5:
            return 0.0
        if score >= self.a:
            return float("inf")
        g = (score - 0.5) / (self.a - 0.5)
        return float(self.n0 / ((1.0 / g - 1.0) ** (1.0 / self.c)))

    def to_dict(self) -> dict:
        return {"a": self.a, "n0": self.n0, "c": self.c, "gamma": self.gamma,
                "rmse": self.rmse, "n_points": self.n_points, "fixed": list(self.fixed)}  # fmt: skip


def fit_curve(m, rho, score, *, weights=None, gamma=None, c=None, start=None) -> CurveFit:
    """Fit the curve jointly to scores measured at several sizes and noise levels.

    Parameters
    ----------
    m : array-like, shape (k,)
        Labels given to each fit.
    rho : array-like, shape (k,)
        ``1 - e0 - e1`` of each fit's training labels (in (0, 1]).
    score : array-like, shape (k,)
        Measured (clean or noise-corrected) scores.
    weights : array-like, shape (k,), optional
        Inverse standard errors (default: equal).
    gamma : float, optional
        Hold the discount's exponent at this value (e.g. 2, the theory) instead of fitting it.
    c : float, optional
        Hold the steepness at this value instead of fitting it (``badlabels plan`` does: noisy
        points that span a narrow range of scores cannot pin it, docs/plan.md).
    start : CurveFit, optional
        Starting values (default: a grid of starts).

    Returns
    -------
    CurveFit

    Raises
    ------
    BadInputError
        Fewer than 3 points, or sizes, signals or scores out of range.
    """
    from scipy.optimize import least_squares

    m = np.asarray(m, dtype=np.float64)
    rho = np.asarray(rho, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    if not (m.shape == rho.shape == score.shape) or m.ndim != 1:
        raise BadInputError("sizes, signals and scores must be 1-d arrays of one length")
    ok = np.isfinite(score)
    m, rho, score = m[ok], rho[ok], score[ok]
    w = np.ones_like(score) if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    if len(score) < 3:
        raise BadInputError(f"a learning curve needs at least 3 measured points, got {len(score)}")
    if np.any(m <= 0) or np.any(rho <= 0) or np.any(rho > 1):
        raise BadInputError("sizes must be positive and signals in (0, 1]")
    free = [k for k, v in (("c", c), ("gamma", gamma)) if v is None]
    names = ["a", "log_n0", *free]
    lo = np.array([BOUNDS[k][0] for k in names])
    hi = np.array([BOUNDS[k][1] for k in names])
    for what, v in (("c", c), ("gamma", gamma)):
        if v is not None and not BOUNDS[what][0] <= float(v) <= BOUNDS[what][1]:
            raise BadInputError(f"{what} must lie in [{BOUNDS[what][0]:g}, {BOUNDS[what][1]:g}], got {v!r}")

    def unpack(theta):
        got = dict(zip(names, theta, strict=True))
        return (got["a"], np.exp(got["log_n0"]), got.get("c", c if c is None else float(c)),
                got.get("gamma", gamma if gamma is None else float(gamma)))  # fmt: skip

    def residuals(theta):
        a, n0, cc, g = unpack(theta)
        return w * (curve(effective_size(m, rho, g), a, n0, cc) - score)

    if start is not None:
        starts = [[start.a, np.log(start.n0)] + ([start.c] if c is None else [])
                  + ([start.gamma] if gamma is None else [])]  # fmt: skip
    else:
        top = float(np.clip(score.max() + 0.02, lo[0], 1.0))
        starts = [
            [a0, np.log(n0)] + ([c0] if c is None else []) + ([g0] if gamma is None else [])
            for a0 in (top, min(1.0, top + 0.08))
            for n0 in (float(np.median(m * rho**2)), float(np.median(m)))
            for c0 in ((0.8, 2.0) if c is None else (None,))
            for g0 in ((1.0, 2.0) if gamma is None else (None,))
        ]
    best = None
    for s0 in starts:
        s0 = np.clip(np.array(s0, dtype=np.float64), lo, hi)
        res = least_squares(residuals, s0, bounds=(lo, hi), method="trf")
        if best is None or res.cost < best.cost:
            best = res
    a, n0, cc, g = unpack(best.x)
    unweighted = curve(effective_size(m, rho, g), a, n0, cc) - score
    return CurveFit(
        a=float(a), n0=float(n0), c=float(cc), gamma=float(g),
        rmse=float(np.sqrt(np.mean(unweighted**2))), n_points=int(len(score)),
        fixed=tuple(k for k, v in (("c", c), ("gamma", gamma)) if v is not None),
    )  # fmt: skip
