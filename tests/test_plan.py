"""``badlabels plan``: the curve fit, the options, the outputs, resuming, the CLI and the page."""

from __future__ import annotations

import json

import numpy as np
import pytest

from badlabels.errors import BadInputError
from badlabels.evaluation.learning_curve import curve, effective_size, fit_curve
from badlabels.planner import _posterior_flipped, _scenario_effs, check_plan_options, plan

# ------------------------------------------------------------------ the fitted curve


def _synthetic(a=0.9, n0=600.0, c=1.3, gamma=1.7, rho0=0.2, n=16000, noise=0.0, seed=0):
    m = np.array([n / 8, n / 4, n / 2, n, n, n, n], dtype=float)
    rho = rho0 * (1 - 2 * np.array([0, 0, 0, 0, 0.05, 0.1, 0.2]))
    score = curve(effective_size(m, rho, gamma), a, n0, c)
    score = score + np.random.default_rng(seed).normal(0, noise, len(score))
    return m, rho, score


def test_fit_recovers_known_parameters_exactly():
    m, rho, score = _synthetic()
    fit = fit_curve(m, rho, score)
    assert fit.a == pytest.approx(0.9, abs=1e-3)
    assert fit.c == pytest.approx(1.3, rel=1e-2)
    assert fit.gamma == pytest.approx(1.7, rel=1e-2)
    assert fit.n0 == pytest.approx(600.0, rel=3e-2)
    assert fit.rmse < 1e-5
    # the clean prediction at n is the true curve's
    assert fit.predict(16000, 1.0) == pytest.approx(float(curve(16000, 0.9, 600.0, 1.3)), abs=1e-4)


@pytest.mark.parametrize("truth", [(0.85, 300.0, 1.0, 2.0), (0.95, 2000.0, 0.8, 1.2)])
def test_fit_recovers_parameters_from_noisy_points(truth):
    a, n0, c, g = truth
    m, rho, score = _synthetic(a=a, n0=n0, c=c, gamma=g, rho0=0.3, noise=0.002, seed=1)
    fit = fit_curve(m, rho, score)
    assert fit.gamma == pytest.approx(g, rel=0.25)
    assert fit.predict(16000, 1.0) == pytest.approx(float(curve(16000, a, n0, c)), abs=0.02)


def test_fit_with_gamma_held_and_the_inverse():
    m, rho, score = _synthetic(gamma=2.0)
    fit = fit_curve(m, rho, score, gamma=2.0)
    assert fit.gamma == 2.0 and fit.fixed == ("gamma",)
    target = float(fit.predict_eff(1234.0))
    assert fit.size_for(target) == pytest.approx(1234.0, rel=1e-6)
    assert fit.size_for(0.5) == 0.0 and fit.size_for(fit.a + 0.01) == float("inf")


def test_effective_size_and_the_curve_limits():
    assert effective_size(1000, 0.2, 2.0) == pytest.approx(40.0)
    assert effective_size(1000, -0.1, 2.0) == 0.0  # noise past 50 % is worth nothing
    assert curve(1e12, 0.9, 100.0, 1.0) == pytest.approx(0.9, abs=1e-6)
    assert curve(1e-6, 0.9, 100.0, 1.0) == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize(
    "args, message",
    [
        (([1, 2], [1, 1], [0.6, 0.7]), "at least 3"),
        (([1, 2, 3], [1, 1], [0.6, 0.7, 0.8]), "one length"),
        (([0, 2, 3], [1, 1, 1], [0.6, 0.7, 0.8]), "positive"),
        (([1, 2, 3], [1, 1.5, 1], [0.6, 0.7, 0.8]), "(0, 1]"),
    ],
)
def test_fit_bad_points_are_one_line_errors(args, message):
    with pytest.raises(BadInputError, match=message.replace("(", r"\(").replace("]", r"\]")) as e:
        fit_curve(*args)
    assert "\n" not in str(e.value)


# ------------------------------------------------------------------ the pieces


def test_posterior_of_a_wrong_label():
    y = np.array([1, 1, 0, 0])
    p = np.array([0.75, 0.3, 0.75, 0.25])  # out-of-fold P(noisy label = 1), within [e0, 1 - e1]
    post = _posterior_flipped(y, p, 0.2, 0.2)
    # eta = (p - 0.2) / 0.6: a confident 1 given 0 is very likely wrong, and so on
    eta = (p - 0.2) / 0.6
    want = [0.2 * (1 - eta[0]) / p[0], 0.2 * (1 - eta[1]) / p[1], 0.2 * eta[2] / (1 - p[2]),
            0.2 * eta[3] / (1 - p[3])]
    assert post == pytest.approx(want)
    assert post[2] > post[3] and post[1] > post[0]


def test_scenario_sizes():
    noise = {"e0": 0.4, "e1": 0.4, "rho": 0.2, "flip_rate": 0.4}
    effs = {k: eff for k, _, eff, _ in _scenario_effs(20000, noise, 2.0, (2000,), (1500.0,), (1.0,))}
    assert effs["now"] == pytest.approx(20000 * 0.04)
    assert effs["clean"] == 20000
    assert effs["collect:1"] == pytest.approx(40000 * 0.04)
    # 2,000 verified labels, and 6,500 wrong among the other 18,000
    rho_rest = 1 - 2 * 6500 / 18000
    assert effs["remeasure:2000"] == pytest.approx(2000 + 18000 * rho_rest**2)


OPTS = dict(n=1000, fractions=(0.25, 0.5), extra_noise=(0.1,), n_folds=5, repeats=1,
            remeasure=(0.1,), collect=(1,), noise_rate=None, n_boot=50)  # fmt: skip


@pytest.mark.parametrize(
    "change, message",
    [
        ({"fractions": (0.5,)}, "--fractions needs at least 2"),
        ({"fractions": (0.0, 0.5)}, "--fractions must lie in (0, 1]"),
        ({"fractions": ("x",)}, "--fractions must be numbers"),
        ({"extra_noise": (0.5,)}, "--extra-noise must lie in [0, 0.5)"),
        ({"n_folds": 1}, "--folds must be at least 2"),
        ({"repeats": 0}, "--repeats must be at least 1"),
        ({"n_boot": 5}, "--boot must be at least 20"),
        ({"remeasure": (1000,)}, "but the data hold only 1000"),
        ({"remeasure": (-1,)}, "positive"),
        ({"noise_rate": 0.5}, "carry no information"),
        ({"collect": (0,)}, "--collect must lie in (0, 1000]"),
        ({"shape": 9}, "--shape must lie in [0.2, 5]"),
        ({"shape": 0.3, "shape_range": (0.5, 3)}, "must hold --shape 0.3"),
        ({"noise_fraction": 0}, "--noise-fraction must lie in (0, 1]"),
    ],
)
def test_bad_options_are_one_line_errors(change, message):
    with pytest.raises(BadInputError) as e:
        check_plan_options(**{**OPTS, **change})
    assert message in str(e.value) and "\n" not in str(e.value)


def test_options_are_sorted_with_one_added():
    got = check_plan_options(**{**OPTS, "fractions": (0.5, 0.25), "remeasure": (0.2, 50)})
    assert got["fractions"] == (0.25, 0.5, 1.0)
    assert got["remeasure"] == (50, 200)


# ------------------------------------------------------------------ a plan, end to end

FAST = dict(model="logreg", n_boot=40, repeats=2, fractions=(0.25, 0.5), extra_noise=(0.1, 0.2),
            remeasure=(100, 200), collect=(1,))  # fmt: skip


@pytest.fixture(scope="module")
def noisy_peptides():
    from badlabels.data import load_data
    from badlabels.noise import symmetric

    ds = load_data(dataset="peptide12", n_sequences=2000, seed=3)
    flips = symmetric(ds.labels, 0.3, seed=0)
    return ds.sequences, flips.labels, ds.labels, flips.flipped


@pytest.fixture(scope="module")
def small_plan(noisy_peptides, tmp_path_factory):
    seqs, y, _, _ = noisy_peptides
    out = tmp_path_factory.mktemp("plan")
    events = []
    res = plan(seqs, y, out=out, progress=lambda e, **i: events.append((e, i)), **FAST)
    return res, out, events


def test_plan_result_holds_points_fit_and_scenarios(small_plan):
    res, _, events = small_plan
    keys = {(p["fraction"], p["extra_noise"]) for p in res.points}
    assert keys == {(0.25, 0), (0.5, 0), (1.0, 0), (0.5, 0.1), (0.5, 0.2)}
    full = next(p for p in res.points if p["fraction"] == 1.0 and p["extra_noise"] == 0)
    assert full["n_models"] == 2 * 5 and len(full["per_repeat"]) == 2
    assert 0.2 < res.noise["flip_rate"] < 0.45  # 30 % flips, estimated with a weak model
    assert {s["key"] for s in res.scenarios} == {"now", "clean", "remeasure:100", "remeasure:200",
                                                  "collect:1"}  # fmt: skip
    for s in res.scenarios:
        assert s["lo"] <= s["auroc"] <= s["hi"]
    assert res.scenario("clean")["auroc"] >= res.scenario("now")["auroc"]
    assert res.scenario("remeasure:200")["flips_removed"] > res.scenario("remeasure:100")["flips_removed"]
    assert res.exchange["clean_labels"] == pytest.approx(2000 * res.theory["fitted_discount"])
    assert "worth about" in res.recommendation
    names = [e for e, _ in events]
    assert names[0] == "plan_start" and "plan_fit" in names and names.count("plan_job_done") == 3 * 5 * 2 + 2 * 5
    # more extra noise, lower corrected score
    by_q = {p["extra_noise"]: p["auroc"] for p in res.points if p["fraction"] == 0.5}
    assert by_q[0.0] > by_q[0.2]


def test_plan_ranks_the_flipped_labels_first(small_plan, noisy_peptides):
    res, _, _ = small_plan
    flipped = noisy_peptides[3]
    top = np.argsort(res.suspects["rank"])[:200]
    assert flipped[top].mean() > 0.5  # 30 % at random
    # the estimated flips among the top 200 are close to the true count
    est = res.scenario("remeasure:200")["flips_removed"]
    assert abs(est - flipped[top].sum()) < 60


def test_plan_resumes_without_training_again(small_plan, noisy_peptides):
    res, out, _ = small_plan
    seqs, y, _, _ = noisy_peptides
    events = []
    again = plan(seqs, y, out=out, progress=lambda e, **i: events.append((e, i)), **FAST)
    start = next(i for e, i in events if e == "plan_start")
    assert start["todo"] == 0 and start["jobs"] == 40
    assert [s["auroc"] for s in again.scenarios] == [s["auroc"] for s in res.scenarios]


def test_plan_is_deterministic_given_the_seed(small_plan, noisy_peptides, tmp_path):
    res, _, _ = small_plan
    seqs, y, _, _ = noisy_peptides
    fresh = plan(seqs, y, out=None, **FAST)
    assert [p["auroc"] for p in fresh.points] == [p["auroc"] for p in res.points]


def test_plan_with_a_given_noise_rate(noisy_peptides):
    seqs, y, _, _ = noisy_peptides
    res = plan(seqs, y, noise_rate=0.3, **FAST)
    assert res.noise["source"] == "given" and res.noise["rho"] == pytest.approx(0.4)


def test_plan_trains_lstms_stacked(noisy_peptides):
    seqs, y, _, _ = noisy_peptides
    res = plan(seqs[:1000], y[:1000], model="lstm", n_folds=3, repeats=1, fractions=(0.25, 0.5),
               extra_noise=(0.2,), remeasure=(50,), collect=(1,), n_boot=20, noise_rate=0.3,
               model_params={"hidden_sizes": (8, 4), "max_epochs": 2})  # fmt: skip
    assert {j["engine"] for j in res.jobs} == {"stacked"}
    assert len(res.jobs) == 3 * 4


def test_plan_refuses_a_too_small_fraction(noisy_peptides):
    seqs, y, _, _ = noisy_peptides
    with pytest.raises(BadInputError, match="smallest fraction"):
        plan(seqs[:200], y[:200], model="logreg", fractions=(0.01, 0.5))


def test_write_plan_outputs(small_plan, tmp_path):
    from badlabels.planner import write_plan

    res, _, _ = small_plan
    files = write_plan(res, tmp_path)
    assert set(files) == {"plan.json", "plan.md", "plan.html", "remeasure.csv"}
    data = json.loads((tmp_path / "plan.json").read_text())
    assert data["scenarios"] and data["fit"]["gamma"] > 0 and data["recommendation"]
    text = (tmp_path / "plan.html").read_text()
    assert text.count("data:image/png;base64,") == 1 and "<script" not in text
    assert "http://" not in text and "https://" not in text
    md = (tmp_path / "plan.md").read_text()
    assert "## Scenarios" in md and "the same 2,000 labels, all clean" in md
    import pandas as pd

    rem = pd.read_csv(tmp_path / "remeasure.csv")
    assert len(rem) == 200 and list(rem["rank"]) == list(range(1, 201))


@pytest.mark.browser
def test_plan_page_renders_in_headless_chromium(small_plan, tmp_path):
    from test_report import render_in_chromium

    from badlabels.planner import write_plan

    res, _, _ = small_plan
    write_plan(res, tmp_path / "out")
    render_in_chromium(tmp_path / "out" / "plan.html", tmp_path)


# ------------------------------------------------------------------ the command line


def _cli(args):
    from badlabels.cli import main

    with pytest.raises(SystemExit) as e:
        main(args)
    return e.value.code


def test_cli_plan_writes_everything_with_input_rows(tmp_path, capsys):
    from badlabels.data import load_data
    from badlabels.noise import symmetric

    ds = load_data(dataset="peptide12", n_sequences=1500, seed=4)
    import pandas as pd

    frame = pd.DataFrame({"seq": ds.sequences, "hit": symmetric(ds.labels, 0.2, seed=1).labels})
    frame.to_csv(tmp_path / "screen.csv", index=False)
    code = _cli(["plan", "--data", str(tmp_path / "screen.csv"), "--seq-col", "seq",
                 "--label-col", "hit", "--model", "logreg", "--boot", "30", "--repeats", "1",
                 "--remeasure", "5%,150", "--collect", "1", "--out", str(tmp_path / "p"), "-q"])  # fmt: skip
    assert code in (0, None)
    out = capsys.readouterr().out
    assert "worth about" in out and "re-measured" in out
    for name in ("plan.json", "plan.md", "plan.html", "remeasure.csv"):
        assert (tmp_path / "p" / name).is_file()
    rem = pd.read_csv(tmp_path / "p" / "remeasure.csv")
    assert len(rem) == 150 and "row" in rem.columns
    first = rem.iloc[0]
    assert frame["seq"].iloc[int(first["row"]) - 2] == first["sequence"]  # spreadsheet rows


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--extra-noise", "0.6"], "--extra-noise must lie in [0, 0.5)"),
        (["--remeasure", "lots"], "--remeasure takes numbers"),
        (["--noise-rate", "0.5"], "carry no information"),
        (["--model", "nope"], "nope"),
    ],
)
def test_cli_plan_bad_options(extra, message, tmp_path, capsys):
    code = _cli(["plan", "--dataset", "peptide12", "--n-sequences", "500", "--model", "logreg",
                 "--out", str(tmp_path / "p"), "-q", *extra])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_the_package_exports_plan():
    import badlabels
    import badlabels.planner

    assert badlabels.plan is badlabels.planner.plan
