"""What is a noisy dataset worth? Learning curves from noisy labels alone, and what to do next.

``badlabels plan`` (and :func:`plan`) answers, from one noisily labelled dataset and nothing
else: how good would the model be with these labels clean, with the ``k`` most suspect
labels re-measured, or with ``m`` more variants measured at the same quality, and how many
clean labels the noisy set is worth. The method (docs/plan.md):

1. **Out-of-fold design.** The rows are cut into ``n_folds`` stratified folds. For each fold,
   models are trained on nested subsamples (``fractions``) of the other folds' rows, and on
   all of them with extra symmetric flips added (``extra_noise``: the noise response), and
   predict the held-out fold. Every point of the design thus scores every row with a model
   that never saw it; the full-size point is repeated ``repeats`` times with new folds (its
   mean probabilities are the audit's out-of-fold probabilities).
2. **Noise.** The noise matrix is estimated from the full-size point's mean probabilities
   with the audit's estimator (:func:`badlabels.audit.audit_labels`, anchor points), unless
   the rate is given (``noise_rate``, symmetric). The same call ranks the suspect labels.
3. **Scores on clean labels, from noisy ones.** Each point's out-of-fold AUROC against the
   given labels is corrected for the estimated noise
   (:func:`badlabels.evaluation.corrected_auroc`).
4. **One curve through all points.** :func:`badlabels.evaluation.learning_curve.fit_curve`
   fits the score against the effective size ``m * rho**gamma`` (``rho = 1 - e0 - e1`` of
   each point's training labels; extra flips at rate ``q`` multiply it by ``1 - 2q``).
5. **Scenarios** read off the curve: the labels clean, the ``k`` most suspect re-measured
   (the audit's ranking; the flips this removes from the out-of-fold posterior), ``m`` more
   variants at the same noise, and the exchange rate (clean labels the noisy set is worth).
6. **Intervals** by the bootstrap over rows (scores, noise estimate and fit redone on each
   resample), widened by the spread between the full-size repeats (model randomness).

Assumptions
-----------
- Binary labels; the noise is class-conditional (independent of the sequence given the true
  class), as for the audit's corrected scores.
- The learning curve has the form of :mod:`badlabels.evaluation.learning_curve`, and noise
  acts on learning only through the effective size.
- The predictions are for the model ``plan`` trains (``model`` / ``method``, fitted with its
  own noisy validation split on all the rows it is given), scored on new variants from the
  same distribution as the data.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from badlabels.data.dataset import Dataset
from badlabels.errors import BadInputError
from badlabels.evaluation.correction import corrected_auroc_from
from badlabels.evaluation.learning_curve import CurveFit, effective_size, fit_curve
from badlabels.evaluation.metrics import auroc
from badlabels.evaluation.noise_estimate import estimate_noise

__all__ = ["DEFAULTS", "PlanResult", "check_plan_options", "plan", "write_plan"]

Progress = Callable[..., object]

DEFAULTS = {
    "fractions": (0.125, 0.25, 0.5, 1.0),
    "extra_noise": (0.1, 0.2, 0.3),
    "noise_fraction": 0.5,
    "n_folds": 5,
    "repeats": 3,
    "remeasure": (0.05, 0.1, 0.2),
    "collect": (1.0, 2.0),
    "n_boot": 200,
    "shape": None,
    "shape_range": (0.5, 3.0),
}
"""Default design: nested fractions of each fold's training rows, extra symmetric flip rates
(added at ``noise_fraction`` of them), repeats of the learning-curve points, re-measurement
budgets (fractions of the rows, or counts), more variants to collect (multiples of the
current size), and the curve's steepness ``shape`` (its ``c``, held; the bootstrap draws it
log-uniformly from ``shape_range``: docs/plan.md says where these come from)."""


@dataclass
class PlanResult:
    """What :func:`plan` found (all JSON-able through :meth:`to_dict`).

    Attributes
    ----------
    n : int
        Labels in the data.
    noise : dict
        ``e0`` (P(given 1 | true 0)), ``e1``, ``flip_rate``, ``rho`` (1 - e0 - e1), ``source``
        ("estimated" or "given"), ``py`` (clean priors).
    points : list of dict
        One per design point: ``fraction``, ``extra_noise``, ``m`` (mean labels given to a
        fit), ``rho``, ``n_models``, ``auroc_noisy``, ``auroc`` (corrected), ``auroc_lo``,
        ``auroc_hi``, ``per_repeat`` (corrected AUROC of each repeat).
    fit : CurveFit
    theory : dict
        The fitted discount ``rho**gamma`` next to the theory's ``(1 - 2p)**2``.
    scenarios : list of dict
        ``key``, ``label``, ``n_eff``, ``auroc``, ``lo``, ``hi``, ``gain`` (over ``now``) and
        what defines it (``k``, ``flips_removed``, ``m_more``).
    exchange : dict
        ``clean_labels`` (with ``lo``, ``hi``): clean labels the noisy set is worth.
    recommendation : str
    suspects : dict
        ``rank`` (1 = most suspect, per row) and ``p_flipped`` (posterior of each row's label
        being wrong).
    settings, jobs : dict, list
    seconds : float
    """

    n: int
    noise: dict
    points: list
    fit: CurveFit
    theory: dict
    scenarios: list
    exchange: dict
    recommendation: str
    suspects: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    jobs: list = field(default_factory=list)
    boot: dict = field(default_factory=dict)
    seconds: float = 0.0

    def scenario(self, key: str) -> dict:
        """The scenario called ``key`` (e.g. ``"clean"``, ``"remeasure:2000"``)."""
        for s in self.scenarios:
            if s["key"] == key:
                return s
        raise KeyError(key)

    def to_dict(self) -> dict:
        """Everything but the per-row arrays, JSON-able."""
        return {
            "n": self.n,
            "noise": self.noise,
            "points": self.points,
            "fit": self.fit.to_dict(),
            "theory": self.theory,
            "scenarios": self.scenarios,
            "exchange": self.exchange,
            "recommendation": self.recommendation,
            "settings": self.settings,
            "jobs": self.jobs,
            "seconds": self.seconds,
        }


# ------------------------------------------------------------------ options


def _floats(values, what: str, *, lo: float, hi: float, lo_open=False, hi_open=False) -> tuple:
    try:
        out = tuple(sorted({float(v) for v in values}))
    except (TypeError, ValueError):
        raise BadInputError(f"{what} must be numbers, got {values!r}") from None
    for v in out:
        bad = (v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi)
               or not math.isfinite(v))  # fmt: skip
        if bad:
            lb, rb = ("(" if lo_open else "["), (")" if hi_open else "]")
            raise BadInputError(f"{what} must lie in {lb}{lo:g}, {hi:g}{rb}, got {v:g}")
    if not out:
        raise BadInputError(f"{what} needs at least one value")
    return out


def check_plan_options(*, n, fractions, extra_noise, n_folds, repeats, remeasure, collect,
                       noise_rate, n_boot, noise_fraction=DEFAULTS["noise_fraction"],
                       shape=DEFAULTS["shape"], shape_range=DEFAULTS["shape_range"]) -> dict:  # fmt: skip
    """Checked options (sorted tuples), or a one-line :class:`BadInputError`."""
    from badlabels.evaluation.learning_curve import BOUNDS

    fr = _floats(fractions, "--fractions", lo=0.0, hi=1.0, lo_open=True)
    nf = _floats([noise_fraction], "--noise-fraction", lo=0.0, hi=1.0, lo_open=True)[0]
    fr = tuple(sorted({*fr, 1.0, nf}))
    c_lo, c_hi = BOUNDS["c"]
    if shape is not None:
        shape = _floats([shape], "--shape", lo=c_lo, hi=c_hi)[0]
    rng_ = _floats(shape_range, "the shape range", lo=c_lo, hi=c_hi)
    if shape is not None and not rng_[0] <= shape <= rng_[-1]:
        raise BadInputError(f"the shape range [{rng_[0]:g}, {rng_[-1]:g}] must hold --shape {shape:g}")
    if len(fr) < 3:
        raise BadInputError("--fractions needs at least 2 values below 1 (a curve needs 3 sizes)")
    q = tuple(v for v in _floats([0.0, *extra_noise], "--extra-noise", lo=0.0, hi=0.5, hi_open=True) if v > 0)
    try:
        n_folds = int(n_folds)
        repeats = int(repeats)
        n_boot = int(n_boot)
    except (TypeError, ValueError):
        raise BadInputError("--folds, --repeats and --boot must be integers") from None
    if n_folds < 2:
        raise BadInputError(f"--folds must be at least 2, got {n_folds}")
    if repeats < 1:
        raise BadInputError(f"--repeats must be at least 1, got {repeats}")
    if n_boot < 20:
        raise BadInputError(f"--boot must be at least 20, got {n_boot}")
    ks = []
    for v in remeasure:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise BadInputError(f"--remeasure takes counts or fractions, got {v!r}") from None
        if not math.isfinite(f) or f <= 0:
            raise BadInputError(f"--remeasure values must be positive, got {v!r}")
        k = int(round(f * n)) if f < 1 else int(round(f))
        if k >= n:
            raise BadInputError(f"--remeasure {v!r} is {k} labels, but the data hold only {n}")
        ks.append(max(k, 1))
    ks = tuple(sorted(set(ks)))
    col = _floats(collect, "--collect", lo=0.0, hi=1000.0, lo_open=True) if collect else ()
    if noise_rate is not None:
        try:
            noise_rate = float(noise_rate)
        except (TypeError, ValueError):
            raise BadInputError(f"--noise-rate must be a number, got {noise_rate!r}") from None
        if not 0.0 <= noise_rate < 0.5:
            raise BadInputError(
                f"--noise-rate must lie in [0, 0.5), got {noise_rate:g}: at 0.5 the labels "
                "carry no information"
            )
    return {"fractions": fr, "extra_noise": q, "n_folds": n_folds, "repeats": repeats,
            "remeasure": ks, "collect": col, "noise_rate": noise_rate, "n_boot": n_boot,
            "noise_fraction": nf, "shape": shape, "shape_range": (rng_[0], rng_[-1])}  # fmt: skip


# ------------------------------------------------------------------ design


def _design(y: np.ndarray, opts: dict, seed: int) -> list[dict]:
    """The jobs: each trains one model on some rows (maybe with extra flips) and predicts
    one held-out fold. Point 0 of every repeat is the full-size, no-extra-noise point."""
    from badlabels.methods.folds import stratified_folds

    jobs = []
    for r, k, train_idx, held_idx in stratified_folds(y, opts["n_folds"], seed, opts["repeats"]):
        rng = np.random.default_rng([seed, r, k, 7])
        order = train_idx[rng.permutation(len(train_idx))]  # nested subsamples: prefixes
        points = [(1.0, 0.0)] + [(f, 0.0) for f in opts["fractions"] if f < 1.0]
        if r == 0:
            points += [(opts["noise_fraction"], q) for q in opts["extra_noise"]]
        for f, q in points:
            m = len(train_idx) if f == 1.0 else max(int(round(f * len(train_idx))), 2)
            rows = np.sort(order[:m]) if f < 1.0 else train_idx
            jobs.append({"repeat": r, "fold": k, "fraction": f, "extra_noise": q,
                         "train": rows, "held": held_idx})  # fmt: skip
    return jobs


def _job_labels(y: np.ndarray, job: dict, seed: int) -> np.ndarray:
    """The labels job ``job`` trains on: the given ones, with its extra flips in its rows."""
    if job["extra_noise"] == 0:
        return y
    from badlabels.noise import symmetric

    rows = job["train"]
    q_key = int(round(job["extra_noise"] * 1e6))
    flipped = symmetric(y[rows], job["extra_noise"], seed=int(
        np.random.SeedSequence([seed, job["repeat"], job["fold"], q_key]).generate_state(1)[0]))  # fmt: skip
    out = y.copy()
    out[rows] = flipped.labels
    return out


def _job_id(job: dict, base: str) -> str:
    spec = json.dumps([base, job["repeat"], job["fold"], job["fraction"], job["extra_noise"]])
    return hashlib.sha1(spec.encode()).hexdigest()[:16]


class _JobStore:
    """Each finished job's held-out probabilities, one ``.npz`` per job (no pickle), so an
    interrupted plan resumes where it stopped."""

    def __init__(self, directory: Path | None):
        self.dir = None if directory is None else Path(directory) / "jobs"
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)

    def get(self, job_id: str):
        if self.dir is None:
            return None
        path = self.dir / f"{job_id}.npz"
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                return z["p1"].astype(np.float64), json.loads(str(z["record"]))
        except (OSError, ValueError, KeyError):
            return None  # a file cut short by an interruption: train the job again

    def put(self, job_id: str, p1: np.ndarray, record: dict) -> None:
        if self.dir is None:
            return
        tmp = self.dir / f"{job_id}.tmp.npz"
        np.savez(tmp, p1=np.asarray(p1, dtype=np.float64), record=np.array(json.dumps(record)))
        tmp.replace(self.dir / f"{job_id}.npz")


def _run_jobs(X, y, jobs, ids, make_estimator, store: _JobStore, seed: int, engine: str,
              progress: Progress | None, device: str) -> tuple[list, list]:  # fmt: skip
    """Held-out P(label = 1) and a record for every job (stacked where it can)."""
    from badlabels.methods.stacked_folds import fit_predict_stacked

    p1s: list = [None] * len(jobs)
    recs: list = [None] * len(jobs)
    todo = []
    for j, jid in enumerate(ids):
        got = store.get(jid)
        if got is not None and len(got[0]) == len(jobs[j]["held"]):
            p1s[j], recs[j] = got
        else:
            todo.append(j)
    work = [len(jobs[j]["train"]) for j in range(len(jobs))]
    total = float(sum(work))
    done = float(sum(work[j] for j in range(len(jobs)) if p1s[j] is not None))
    if progress is not None:
        progress("plan_start", jobs=len(jobs), todo=len(todo), work_total=total, work_done=done)
    # stack jobs of one size together (a stack tops up shorter members' epochs)
    groups: dict[tuple, list[int]] = {}
    for j in todo:
        groups.setdefault((jobs[j]["fraction"],), []).append(j)
    for (fraction,), members in sorted(groups.items(), key=lambda kv: -kv[0][0]):
        ests = [make_estimator(jobs[j]) for j in members]
        labels = [_job_labels(y, jobs[j], seed) for j in members]
        where = [{"job": j + 1, "fraction": jobs[j]["fraction"],
                  "extra_noise": jobs[j]["extra_noise"], "repeat": jobs[j]["repeat"] + 1,
                  "fold": jobs[j]["fold"] + 1} for j in members]  # fmt: skip
        if progress is not None:
            progress("plan_unit", jobs=len(members), fraction=fraction,
                     n_train=int(np.mean([len(jobs[j]["train"]) for j in members])))  # fmt: skip
        out = None
        if engine != "plain" and isinstance(X, np.ndarray) and X.dtype == object:
            out = _stacked(X, labels, jobs, members, ests, where, store, ids, device,
                           fit_predict_stacked, progress, work)  # fmt: skip
        if out is None:
            out = []
            for j, est, lab, w in zip(members, ests, labels, where, strict=True):
                t0 = time.perf_counter()
                tr, held = jobs[j]["train"], jobs[j]["held"]

                def on_epoch(event, _w=w, **info):
                    if progress is not None and event == "epoch":
                        progress("epoch", **_w, **info)

                est.fit(X[tr], lab[tr], progress=on_epoch)
                p1 = est.predict_proba(X[held])[:, 1].astype(np.float64)
                rec = {**w, "n_train": int(len(tr)), "n_heldout": int(len(held)),
                       "epochs_run": int(getattr(est, "epochs_run_", 1)),
                       "best_epoch": int(getattr(est, "best_epoch_", 1)),
                       "seconds": float(time.perf_counter() - t0), "engine": "plain"}  # fmt: skip
                store.put(ids[j], p1, rec)
                if progress is not None:
                    progress("plan_job_done", work=work[j], **rec)
                out.append((j, p1, rec))
        for j, p1, rec in out:
            p1s[j], recs[j] = p1, rec
    return p1s, recs


def _stacked(X, labels, jobs, members, ests, where, store, ids, device, fit_fn, progress, work):
    """The group's jobs trained stacked, each unit's jobs stored as it finishes; None if they
    cannot be stacked."""

    def on_event(event, **info):
        if progress is not None and event == "epoch":
            progress("epoch", **info)

    def on_unit(unit, held_p1, records):
        for pos, p1, rec in zip(unit, held_p1, records, strict=True):
            j = members[pos]
            store.put(ids[j], p1, rec)
            if progress is not None:
                progress("plan_job_done", work=work[j], **rec)

    res = fit_fn(X, labels, [jobs[j]["train"] for j in members], [jobs[j]["held"] for j in members],
                 ests, device=device, progress=on_event, where=where, on_unit=on_unit)  # fmt: skip
    if res is None:
        return None
    return [(j, p1, rec) for j, p1, rec in zip(members, res[0], res[1], strict=True)]


# ------------------------------------------------------------------ scoring


def _noise_from_matrix(nm: np.ndarray, py: np.ndarray) -> dict:
    """cleanlab's ``nm[i, j] = P(given i | true j)`` as flip rates."""
    e1 = float(nm[0, 1])  # positives recorded as negative
    e0 = float(nm[1, 0])
    return {"e0": e0, "e1": e1, "rho": 1.0 - e0 - e1,
            "flip_rate": float(py[0] * e0 + py[1] * e1), "py": [float(v) for v in py]}  # fmt: skip


def _symmetric_matrix(p: float) -> np.ndarray:
    return np.array([[1.0 - p, p], [p, 1.0 - p]])


def _posterior_flipped(y: np.ndarray, p_noisy: np.ndarray, e0: float, e1: float) -> np.ndarray:
    """P(the given label is wrong | the out-of-fold P(noisy label = 1)), per row.

    With class-conditional noise, P(noisy 1 | x) = e0 + (1 - e0 - e1) eta(x); so
    eta = (p - e0) / (1 - e0 - e1), and P(true 0 | noisy 1, x) = e0 (1 - eta) / p,
    P(true 1 | noisy 0, x) = e1 eta / (1 - p).
    """
    rho = 1.0 - e0 - e1
    p = np.clip(p_noisy, 1e-6, 1 - 1e-6)
    eta = np.clip((p - e0) / rho, 0.0, 1.0) if rho > 0 else np.full_like(p, 0.5)
    return np.where(y == 1, e0 * (1.0 - eta) / p, e1 * eta / (1.0 - p)).clip(0.0, 1.0)


def _point_scores(y, idx, point_probs, fold_of, nm):
    """Noisy and corrected AUROC of every (point, repeat) on rows ``idx``.

    Each held-out fold is scored on its own (one model's predictions) and the folds' AUROCs
    are averaged: pooling the folds would mix models whose scores sit on different scales,
    which lowers the AUROC below any one model's (by about 0.04 at 40 % flips on
    peptide12 development data).
    """
    out = []
    yi = y[idx]
    masks = {r: [(f[idx] == k) for k in np.unique(f)] for r, f in fold_of.items()}
    for reps in point_probs:
        noisy, corr = [], []
        for r, p in reps:
            pi = p[idx]
            nz, cr = [], []
            for mask in masks[r]:
                yk = yi[mask]
                nz.append(auroc(yk, pi[mask]))
                try:  # the noisy AUROC, corrected (computed once: this runs in the bootstrap)
                    cr.append(corrected_auroc_from(nz[-1], float(yk.mean()), nm, convention="cleanlab"))
                except BadInputError:
                    cr.append(float("nan"))
            noisy.append(float(np.nanmean(nz)))
            corr.append(float(np.nanmean(cr)) if np.isfinite(cr).any() else float("nan"))
        out.append((noisy, corr))
    return out


def _scenario_effs(n, noise, fit_gamma, ks, flips_removed, collect) -> list[tuple]:
    """``(key, label, n_eff, extra)`` of each scenario, given the discount's exponent."""
    rho0 = noise["rho"]
    now = effective_size(n, rho0, fit_gamma)
    out = [("now", f"as it is ({n:,} labels)", float(now), {})]
    out.append(("clean", f"the same {n:,} labels, all clean", float(n), {}))
    flips = noise["flip_rate"] * n
    for k, fr in zip(ks, flips_removed, strict=True):
        left = max(flips - fr, 0.0) / max(n - k, 1)
        scale = left / noise["flip_rate"] if noise["flip_rate"] > 0 else 0.0
        rho_rest = 1.0 - scale * (noise["e0"] + noise["e1"])
        eff = k + float(effective_size(n - k, rho_rest, fit_gamma))
        out.append((f"remeasure:{k}", f"the {k:,} most suspect labels re-measured", eff,
                    {"k": int(k), "flips_removed": float(fr)}))  # fmt: skip
    for c in collect:
        m_more = int(round(c * n))
        out.append((f"collect:{c:g}", f"{m_more:,} more variants at the same noise "
                    f"({1 + c:g}x the data)", float(effective_size(n + m_more, rho0, fit_gamma)),
                    {"m_more": m_more}))  # fmt: skip
    return out


def _recommend(scenarios: list[dict], exchange: dict, noise: dict, n: int) -> str:
    now = next(s for s in scenarios if s["key"] == "now")
    clean = next(s for s in scenarios if s["key"] == "clean")
    rem = [s for s in scenarios if s["key"].startswith("remeasure:")]
    col = [s for s in scenarios if s["key"].startswith("collect:")]
    parts = [
        f"With the labels as they are (about {noise['flip_rate']:.0%} wrong), the model should "
        f"score AUROC {now['auroc']:.3f} [{now['lo']:.3f}, {now['hi']:.3f}] on clean labels; "
        f"the same labels clean would give {clean['auroc']:.3f}. The {n:,} noisy labels are "
        f"worth about {exchange['clean_labels']:,.0f} clean ones."
    ]
    best_rem = max(rem, key=lambda s: s["gain"] / s["k"]) if rem else None
    best_col = max(col, key=lambda s: s["gain"] / s["m_more"]) if col else None
    if best_rem is not None:
        per_k = best_rem["gain"] / best_rem["k"] * 1000
        parts.append(
            f"Re-measuring the {best_rem['k']:,} most suspect labels (remeasure.csv) should "
            f"give {best_rem['auroc']:.3f} ({best_rem['gain']:+.3f}, {per_k:+.4f} per 1,000 "
            f"measurements)."
        )
    if best_col is not None:
        per_m = best_col["gain"] / best_col["m_more"] * 1000
        parts.append(
            f"Measuring {best_col['m_more']:,} new variants at the same quality should give "
            f"{best_col['auroc']:.3f} ({best_col['gain']:+.3f}, {per_m:+.4f} per 1,000)."
        )
    if best_rem is not None and best_col is not None:
        width = max(now["hi"] - now["lo"], 1e-9)
        g_r, g_c = best_rem["gain"] / best_rem["k"], best_col["gain"] / best_col["m_more"]
        upside = max(s["hi"] for s in rem + col)
        if max(best_rem["gain"], best_col["gain"]) >= 0.25 * width:
            if g_r >= g_c:
                parts.append(f"Recommendation: re-measure the most suspect labels first; per "
                             f"measurement it buys {g_r / max(g_c, 1e-12):.1f}x what new variants do.")  # fmt: skip
            else:
                parts.append(f"Recommendation: measure new variants; per measurement they buy "
                             f"{g_c / max(g_r, 1e-12):.1f}x what re-measuring does.")  # fmt: skip
        elif upside >= now["hi"] + 0.02:
            first = min(rem, key=lambda s: s["k"])
            parts.append(
                f"The expected gains are smaller than their uncertainty, but the intervals reach "
                f"{upside:.3f}: the fitted curve flattens where the data end, and noisy labels "
                f"alone cannot tell whether it really does. The cheapest test: re-measure the "
                f"first {first['k']:,} rows of remeasure.csv (about {first['flips_removed']:,.0f} "
                f"of them should turn out wrong) and run plan again."
            )
        else:
            parts.append("Neither changes the model by more than its uncertainty: use the data "
                         "as they are.")  # fmt: skip
    return " ".join(parts)


# ------------------------------------------------------------------ the plan


def plan(
    data,
    labels=None,
    *,
    model: str = "lstm",
    method: str = "bce",
    model_params: dict | None = None,
    noise_rate: float | None = None,
    fractions=DEFAULTS["fractions"],
    extra_noise=DEFAULTS["extra_noise"],
    n_folds: int = DEFAULTS["n_folds"],
    repeats: int = DEFAULTS["repeats"],
    remeasure=DEFAULTS["remeasure"],
    collect=DEFAULTS["collect"],
    n_boot: int = DEFAULTS["n_boot"],
    noise_fraction: float = DEFAULTS["noise_fraction"],
    shape: float = DEFAULTS["shape"],
    shape_range=DEFAULTS["shape_range"],
    seed: int = 0,
    engine: str = "auto",
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> PlanResult:
    """Learning curve and noise response from noisy labels alone, and the scenarios read off it.

    Parameters
    ----------
    data : Dataset or array-like of str
        The sequences (with their noisy labels, for a Dataset).
    labels : array-like of {0, 1}, shape (n,), optional
        The given labels; required with plain sequences, overrides ``Dataset.labels``.
    model, method : str
        The model to plan for (:func:`badlabels.methods.registry.build_estimator`); every
        fit of the design is one such model with its own noisy validation split.
    model_params : dict, optional
        Its constructor parameters.
    noise_rate : float, optional
        The symmetric flip rate, if known; default: estimated (as ``badlabels audit`` does).
    fractions : sequence of float
        Nested subsamples of each fold's training rows (1 is always added).
    extra_noise : sequence of float
        Extra symmetric flip rates added to the training labels (of ``noise_fraction`` of
        each fold's training rows): the noise response.
    n_folds, repeats : int
        Folds of the design; repeats of the learning-curve points (new folds each).
    remeasure : sequence of float
        Re-measurement budgets: fractions of the rows (below 1) or counts.
    collect : sequence of float
        More variants to collect, as multiples of the current size.
    n_boot : int
        Bootstrap resamples for the intervals.
    noise_fraction : float
        The fraction of each fold's training rows the noise response trains on.
    shape, shape_range : float or None, (float, float)
        The curve's steepness ``c``: fitted (None, the default) or held at a value; and the
        range each bootstrap resample draws it from (log-uniformly, held in that resample's
        fit), so that the intervals carry the uncertainty of the curve's shape, which
        noisy points low on the curve cannot pin (docs/plan.md).
    seed : int
    engine : {"auto", "plain", "stacked"}
        How the LSTMs of one size train (stacked: together).
    out : path, optional
        Folder for the finished jobs (``OUT/jobs``): a rerun with the same data and options
        trains only what is missing.
    progress : callable, optional
        ``progress("plan_start", jobs=, todo=, work_total=, work_done=)``,
        ``progress("plan_unit", ...)``, ``progress("epoch", ...)``,
        ``progress("plan_job_done", work=, ...)``, ``progress("plan_fit")``.

    Returns
    -------
    PlanResult

    Raises
    ------
    BadInputError
        Bad options or labels, too few labels per class for the folds or the smallest fraction.
    """
    from badlabels.audit import _as_inputs, audit_labels
    from badlabels.methods.estimate import check_folds
    from badlabels.methods.registry import build_estimator
    from badlabels.methods.stacking import check_engine
    from badlabels.models import params_for
    from badlabels.models.base import check_features_read, model_input

    t0 = time.perf_counter()
    seqs, y, alphabet = _as_inputs(data, labels)
    n = len(y)
    opts = check_plan_options(n=n, fractions=fractions, extra_noise=extra_noise, n_folds=n_folds,
                              repeats=repeats, remeasure=remeasure, collect=collect,
                              noise_rate=noise_rate, n_boot=n_boot, noise_fraction=noise_fraction,
                              shape=shape, shape_range=shape_range)  # fmt: skip
    if len(np.unique(y)) < 2:
        raise BadInputError("all labels are the same class: there is nothing to learn")
    opts["n_folds"] = check_folds(y, opts["n_folds"])
    engine = check_engine(engine)
    smallest = min(opts["fractions"]) * n * (opts["n_folds"] - 1) / opts["n_folds"]
    minority = min(np.mean(y), 1 - np.mean(y)) * smallest
    if minority < 10:
        raise BadInputError(
            f"the smallest fraction ({min(opts['fractions']):g}) leaves about {minority:.0f} "
            "labels of the rarer class per fit; use larger --fractions or more data"
        )
    params = params_for(model, model_params, alphabet)
    probe = build_estimator(model, method, model_params=params)  # bad names fail before training
    ds = data if isinstance(data, Dataset) else None
    X = seqs
    if ds is not None and ds.features is not None:
        check_features_read([model])
        X = model_input(ds, model, probe, method)
    device = params.get("device", "auto")

    jobs = _design(y, opts, seed)
    fp = ds.fingerprint() if ds is not None else hashlib.sha1(
        ("\n".join(seqs) + "|" + "".join(map(str, y))).encode()).hexdigest()  # fmt: skip
    base = json.dumps([fp, model, method, sorted((k, str(v)) for k, v in params.items()),
                       opts["n_folds"], seed])  # fmt: skip
    ids = [_job_id(job, base) for job in jobs]

    def make_estimator(job):
        return build_estimator(model, method, model_params={
            "random_state": seed + job["repeat"] + job["fold"], **params})  # fmt: skip

    store = _JobStore(out)
    p1s, recs = _run_jobs(X, y, jobs, ids, make_estimator, store, seed, engine, progress, device)
    if progress is not None:
        progress("plan_fit")

    # out-of-fold probabilities of each (point, repeat)
    keys = sorted({(j["fraction"], j["extra_noise"]) for j in jobs}, key=lambda t: (t[1], t[0]))
    point_probs = []
    for key in keys:
        reps = []
        for r in range(opts["repeats"]):
            sel = [i for i, j in enumerate(jobs)
                   if (j["fraction"], j["extra_noise"]) == key and j["repeat"] == r]  # fmt: skip
            if not sel:
                continue
            p = np.full(n, np.nan)
            for i in sel:
                p[jobs[i]["held"]] = p1s[i]
            reps.append((r, p))
        point_probs.append(reps)
    fold_of = {}
    for j in jobs:
        fold_of.setdefault(j["repeat"], np.full(n, -1))[j["held"]] = j["fold"]
    full = keys.index((1.0, 0.0))
    mean_full = np.mean([p for _, p in point_probs[full]], axis=0)
    audit = audit_labels(seqs, y, pred_probs=mean_full, seed=seed, n_boot=20)
    if opts["noise_rate"] is None:
        nm, py = audit.noise_matrix, audit.py
        noise = {**_noise_from_matrix(nm, py), "source": "estimated"}
    else:
        p = opts["noise_rate"]
        nm = _symmetric_matrix(p)
        noise = {"e0": p, "e1": p, "rho": 1 - 2 * p, "flip_rate": p, "py": None, "source": "given"}
    if noise["rho"] <= 0.02:
        raise BadInputError(
            f"the estimated noise (e0 = {noise['e0']:.3f}, e1 = {noise['e1']:.3f}) leaves the "
            "labels almost no information: no curve can be read from them"
        )
    # the posterior needs P(noisy label = 1 | score) calibrated: isotonic on the given labels
    from sklearn.isotonic import IsotonicRegression

    p_cal = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
        mean_full, y).predict(mean_full)  # fmt: skip
    p_flip = _posterior_flipped(y, p_cal, noise["e0"], noise["e1"])
    order = np.argsort(audit.rank)  # most suspect first

    m_pts = np.array([np.mean([len(jobs[i]["train"]) for i, j in enumerate(jobs)
                               if (j["fraction"], j["extra_noise"]) == key]) for key in keys])  # fmt: skip
    q_pts = np.array([key[1] for key in keys])

    def analyse(idx, nm_here, noise_here, c, start=None):
        scores = _point_scores(y, idx, point_probs, fold_of, nm_here)
        corr = np.array([np.nanmean(c) if np.isfinite(c).any() else np.nan for _, c in scores])
        rho_pts = noise_here["rho"] * (1.0 - 2.0 * q_pts)
        fit = fit_curve(m_pts, rho_pts, corr, c=c, start=start)
        ks = opts["remeasure"]
        pf = _posterior_flipped(y, p_cal, noise_here["e0"], noise_here["e1"])
        removed = [float(pf[order[:k]].sum()) for k in ks]
        effs = _scenario_effs(n, noise_here, fit.gamma, ks, removed, opts["collect"])
        preds = {key: float(fit.predict_eff(eff)) for key, _, eff, _ in effs}
        exch = float(effective_size(n, noise_here["rho"], fit.gamma))
        return scores, corr, fit, effs, preds, exch

    idx_all = np.arange(n)
    scores, corr, fit, effs, preds, exch = analyse(idx_all, nm, noise, opts["shape"])
    log_lo, log_hi = np.log(opts["shape_range"][0]), np.log(opts["shape_range"][1])
    if progress is not None:
        progress("plan_boot", total=opts["n_boot"])
    rng = np.random.default_rng([seed, 99])
    boot_preds = {key: [] for key in preds}
    boot_corr, boot_exch, boot_gamma = [], [], []
    for b in range(opts["n_boot"]):
        idx = rng.integers(0, n, n)
        if opts["noise_rate"] is None:
            try:
                py_b, nm_b, _ = estimate_noise(y[idx], np.column_stack([1 - mean_full[idx], mean_full[idx]]))
            except BadInputError:
                continue
            noise_b = _noise_from_matrix(np.asarray(nm_b), np.asarray(py_b))
            if noise_b["rho"] <= 0.02:
                continue
        else:
            nm_b, noise_b = nm, noise
        try:
            c_b = float(np.exp(rng.uniform(log_lo, log_hi)))
            _, corr_b, fit_b, _, preds_b, exch_b = analyse(idx, np.asarray(nm_b), noise_b, c_b)
        except BadInputError:
            continue
        for key, v in preds_b.items():
            boot_preds[key].append(v)
        boot_corr.append(corr_b)
        boot_exch.append(exch_b)
        boot_gamma.append(fit_b.gamma)
        if progress is not None:
            progress("plan_boot_step", done=b + 1, total=opts["n_boot"])
    boot_corr = np.array(boot_corr)

    # model randomness: the spread between the full-size repeats (same rows, new folds/seeds)
    rep_full = np.array(scores[full][1], dtype=np.float64)
    sd_model = float(np.nanstd(rep_full, ddof=1)) if np.isfinite(rep_full).sum() > 1 else 0.0

    def interval(values, centre):
        values = np.asarray(values, dtype=np.float64)
        if len(values) < 10:
            return float("nan"), float("nan")
        lo, hi = np.percentile(values, [2.5, 97.5])
        # widen each side in quadrature by the model-to-model spread
        lo = centre - math.hypot(centre - lo, 1.96 * sd_model)
        hi = centre + math.hypot(hi - centre, 1.96 * sd_model)
        return float(max(lo, 0.0)), float(min(hi, 1.0))

    points = []
    for i, key in enumerate(keys):
        lo, hi = (np.nanpercentile(boot_corr[:, i], [2.5, 97.5]) if len(boot_corr) >= 10
                  else (np.nan, np.nan))  # fmt: skip
        points.append({
            "fraction": key[0], "extra_noise": key[1], "m": float(m_pts[i]),
            "rho": float(noise["rho"] * (1 - 2 * key[1])),
            "n_eff": float(effective_size(m_pts[i], noise["rho"] * (1 - 2 * key[1]), fit.gamma)),
            "n_models": int(sum(1 for j in jobs if (j["fraction"], j["extra_noise"]) == key)),
            "auroc_noisy": float(np.mean(scores[i][0])), "auroc": float(corr[i]),
            "auroc_lo": float(lo), "auroc_hi": float(hi),
            "per_repeat": [float(v) for v in scores[i][1]],
            "fitted": float(fit.predict(m_pts[i], noise["rho"] * (1 - 2 * key[1]))),
        })  # fmt: skip
    scen = []
    now_pred = preds["now"]
    for key, label, eff, extra in effs:
        lo, hi = interval(boot_preds[key], preds[key])
        scen.append({"key": key, "label": label, "n_eff": float(eff), "auroc": preds[key],
                     "lo": lo, "hi": hi, "gain": preds[key] - now_pred, **extra})  # fmt: skip
    ex_lo, ex_hi = (np.percentile(boot_exch, [2.5, 97.5]) if len(boot_exch) >= 10
                    else (np.nan, np.nan))  # fmt: skip
    exchange = {"clean_labels": exch, "lo": float(ex_lo), "hi": float(ex_hi),
                "per_noisy_label": exch / n}  # fmt: skip
    p = noise["flip_rate"]
    theory = {
        "fitted_discount": float(noise["rho"] ** fit.gamma),
        "theory_discount": float(noise["rho"] ** 2),
        "gamma": fit.gamma,
        "gamma_lo": float(np.percentile(boot_gamma, 2.5)) if len(boot_gamma) >= 10 else float("nan"),
        "gamma_hi": float(np.percentile(boot_gamma, 97.5)) if len(boot_gamma) >= 10 else float("nan"),
        "ratio": float(noise["rho"] ** fit.gamma / noise["rho"] ** 2),
        "flip_rate": p,
    }
    naive = float(corr[full])
    recommendation = _recommend(scen, exchange, noise, n)
    settings = {
        "model": model, "method": method,
        "model_params": {k: v for k, v in params.items() if k != "alphabet"},
        **{k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.items()},
        "seed": int(seed), "engine": engine, "sd_model": sd_model,
        "naive_clean_estimate": naive, "n_boot_used": int(len(boot_exch)),
        "audit": {"flagged": int(audit.n_flagged), "corrected_auroc": audit.corrected.get("auroc")},
    }  # fmt: skip
    return PlanResult(
        n=n, noise=noise, points=points, fit=fit, theory=theory, scenarios=scen,
        exchange=exchange, recommendation=recommendation,
        suspects={"rank": audit.rank, "p_flipped": p_flip, "quality": audit.quality,
                  "sequences": seqs, "labels": y},
        settings=settings, jobs=[{k: v for k, v in r.items()} for r in recs],
        boot={"predictions": {k: list(v) for k, v in boot_preds.items()}},
        seconds=time.perf_counter() - t0,
    )  # fmt: skip


def write_plan(result: PlanResult, out, *, mapping=None, config: dict | None = None) -> dict:
    """Write ``plan.json``, ``plan.md``, ``plan.html`` and ``remeasure.csv`` into ``out``.

    Returns the paths written, by name.
    """
    from badlabels.report.plan_report import plan_html, plan_markdown

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = result.to_dict()
    if config:
        data["data"] = config
    paths = {}
    (out / "plan.json").write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    paths["plan.json"] = out / "plan.json"
    (out / "plan.md").write_text(plan_markdown(data))
    paths["plan.md"] = out / "plan.md"
    (out / "plan.html").write_text(plan_html(data))
    paths["plan.html"] = out / "plan.html"
    paths["remeasure.csv"] = _write_remeasure(result, out / "remeasure.csv", mapping)
    return paths


def _write_remeasure(result: PlanResult, path: Path, mapping=None) -> Path:
    import pandas as pd

    s = result.suspects
    order = np.argsort(s["rank"])
    k_max = max([sc["k"] for sc in result.scenarios if "k" in sc] or [min(1000, result.n)])
    order = order[:k_max]
    frame = pd.DataFrame({
        "rank": s["rank"][order],
        "sequence": s["sequences"][order],
        "label": s["labels"][order],
        "p_label_wrong": np.round(s["p_flipped"][order], 6),
        "label_quality": np.round(s["quality"][order], 6),
    })  # fmt: skip
    if mapping is not None:
        frame.insert(1, "row", np.asarray(mapping.rows)[order])
    frame.to_csv(path, index=False)
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-able: {type(value).__name__}")
