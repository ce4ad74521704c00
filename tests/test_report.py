"""report.html: self-contained, every section and figure, and it renders in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from badlabels.experiment.store import ResultStore, read_config, read_results
from badlabels.report.html import package_versions, write_report

FINGERPRINT = "0123456789abcdef"
COMMAND = "badlabels sweep examples/sweep.yaml --workers 2"


def _report(out_dir):
    """The report of an output folder, as ``badlabels report DIR`` writes it."""
    return write_report(out_dir, frame=read_results(out_dir), config=read_config(out_dir))


def fake_records(batch_sizes=(64, 256), seeds=(0, 1, 2), rates=(0.0, 0.2, 0.4, 0.5)):
    """Records shaped like the runner's, with a curve that degrades with noise (no training)."""
    rng = np.random.default_rng(0)
    recs = []
    for model, base in (("lstm", 0.9), ("logreg", 0.75)):
        for batch in batch_sizes:
            for seed in seeds:
                for p in rates:
                    clean = 0.5 + (base - 0.5) * (1 - p**2 * 3.5) + rng.normal(0, 0.01)
                    clean = float(np.clip(clean, 0.3, 1.0))
                    noisy = 0.5 + (clean - 0.5) * (1 - 2 * p) + rng.normal(0, 0.005)
                    corrected = (
                        float("nan") if p >= 0.5 else 0.5 + (noisy - 0.5) / (1 - 2 * p)
                    )  # fmt: skip
                    recs.append(dict(
                        cell_id=f"{model}{batch}{seed}{int(p * 100):03d}".ljust(16, "0"),
                        dataset="peptide12", data_fingerprint=FINGERPRINT, model=model,
                        method="bce", noise_type="symmetric", noise_rate=p,
                        realized_flip_rate=p, seed=seed, batch_size=batch, n_train=800,
                        n_val=100, n_test=100, epochs_run=5, train_seconds=1.5, auroc=clean,
                        auprc=clean - 0.1, accuracy=clean - 0.05, f1=0.6, mcc=0.3,
                        noisy_test_auroc=noisy, corrected_test_auroc=corrected,
                        ceiling_auroc=0.95, cc_ratio=0.5,
                    ))  # fmt: skip
    return recs


def make_run_dir(path, records, **config):
    store = ResultStore(path)
    for r in records:
        store.put(r)
    cfg = {
        "command": COMMAND, "dataset": "peptide12", "n_sequences": 1000,
        "positive_fraction": 0.4, "data_fingerprint": FINGERPRINT,
        "grid": {"models": ["lstm", "logreg"]}, "started_at": "2026-01-01T00:00:00",
        "cell_ids": [r["cell_id"] for r in records], "versions": package_versions(),
    }  # fmt: skip
    cfg.update(config)
    (path / "config.json").write_text(json.dumps(cfg))
    return path


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    path = make_run_dir(tmp_path_factory.mktemp("report"), fake_records())
    _report(path)
    return path


def test_report_is_self_contained(report_dir):
    text = (report_dir / "report.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", text), "only data: URIs inline"
    assert "@import" not in text and "url(" not in text


def test_report_has_every_section_and_figure(report_dir):
    text = (report_dir / "report.html").read_text()
    for anchor in (
        "resilience-to-label-noise", "clean-test-vs-noisy-test-auroc", "batch-size-effect",
        "runs", "configuration",
    ):  # fmt: skip
        assert f'id="{anchor}"' in text, anchor
    assert text.count('src="data:image/png;base64,') == 3
    for stem in ("resilience", "noisy_vs_clean", "batch_size"):
        for ext in ("png", "svg"):
            assert (report_dir / "figures" / f"{stem}.{ext}").stat().st_size > 1000
    # What produced it: command, fingerprint, versions.
    assert COMMAND in text and FINGERPRINT in text
    for pkg in ("python", "torch", "numpy", "pandas", "scikit-learn", "cleanlab", "badlabels"):
        assert f"<th>{pkg}</th>" in text, pkg
    # The correction is explained and cited, with the balanced special case.
    assert "1 &minus; 2p" in text and "badlabels.evaluation.correction" in text
    # Runs table: one row per record (+ header).
    runs = text[text.index('id="runs"') : text.index('id="configuration"')]
    assert runs.count("<tr>") == len(fake_records()) + 1


def test_curve_table_has_mean_and_sd(report_dir):
    text = (report_dir / "report.html").read_text()
    assert "±" in text and "noise level" in text


def test_shrink_table_matches_the_balanced_formula_at_pi_half(tmp_path):
    make_run_dir(tmp_path, fake_records(batch_sizes=(64,)), positive_fraction=0.5)
    text = _report(tmp_path).read_text()
    section = text[text.index('id="clean-test-vs-noisy-test-auroc"') : text.index('id="runs"')]
    # At pi = 0.5 the general factor a - b equals 1 - 2p: 0.600 at p = 0.2.
    row = re.search(r"<tr><td>0.200</td>(.*?)</tr>", section).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row)
    assert cells[2] == "0.600" and cells[3] == "0.600"


def test_one_batch_size_means_no_batch_figure(tmp_path):
    make_run_dir(tmp_path, fake_records(batch_sizes=(64,)))
    text = _report(tmp_path).read_text()
    assert 'id="batch-size-effect"' not in text
    assert text.count('src="data:image/png;base64,') == 2


def test_report_of_an_empty_store(tmp_path):
    make_run_dir(tmp_path, [])
    text = _report(tmp_path).read_text()
    assert "No finished runs" in text


def test_report_from_the_store_without_config(tmp_path):
    recs = fake_records(batch_sizes=(64,), seeds=(0,))
    store = ResultStore(tmp_path)
    for r in recs:
        store.put(r)
    text = _report(tmp_path).read_text()
    assert FINGERPRINT in text and "No config.json" in text


# -- the real browser ------------------------------------------------------------------------


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _load_png(path) -> np.ndarray:
    try:
        from PIL import Image

        return np.asarray(Image.open(path).convert("L"), dtype=float) / 255.0
    except ImportError:
        import matplotlib.image as mpimg

        img = mpimg.imread(path)
        return img[..., :3].mean(axis=-1) if img.ndim == 3 else img


def render_in_chromium(page, tmp_path):
    """Screenshot ``page`` in headless chromium; fail on console errors or a blank page."""
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "chromium not found: install Debian's `chromium` package (apt-get install -y "
            "chromium; .ci/run does) to run the browser test"
        )
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
            "--v=0", f"--screenshot={shot}", "--window-size=1280,2000",
            page.resolve().as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot.is_file(), f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    console = [ln for ln in proc.stderr.splitlines()
               if ":CONSOLE" in ln or "CONSOLE(" in ln or "Uncaught" in ln or "net::ERR" in ln]  # fmt: skip
    assert not console, console
    img = _load_png(shot)
    assert img.shape[0] >= 1000 and img.shape[1] >= 1000
    assert img.std() > 0.05, "screenshot looks blank"
    assert (img < 0.9).mean() > 0.02, "screenshot looks blank (almost all white)"


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report_dir, tmp_path):
    render_in_chromium(report_dir / "report.html", tmp_path)


def test_report_frame_matches_results_csv_columns(report_dir):
    df = pd.DataFrame(fake_records())
    text = (report_dir / "report.html").read_text()
    for col in ("noisy_test_auroc", "corrected_test_auroc", "realized_flip_rate"):
        assert f"<th>{col}</th>" in text and col in df.columns


def test_curve_with_many_series_puts_the_legend_beside_the_axes(tmp_path):
    import warnings

    import matplotlib.image as mpimg

    from badlabels.report.figures import plot_curve

    rows = [
        dict(model=f"m{i}", method="bce", batch_size=500, noise_rate=r, noise_type="symmetric",
             seed=0, auroc=0.9 - 0.3 * r)
        for i in range(30) for r in (0.0, 0.45)
    ]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tight_layout's "not applied" warning was the symptom
        few = plot_curve(pd.DataFrame(rows[:4]), tmp_path / "few.png")
        many = plot_curve(pd.DataFrame(rows), tmp_path / "many.png")
    # the legend's columns widen the figure instead of covering the curves
    assert mpimg.imread(many).shape[1] > mpimg.imread(few).shape[1] * 1.3


@pytest.mark.parametrize("plot", ["plot_curve_panels", "plot_noisy_vs_clean", "plot_batch_effect"])
def test_panel_figures_share_one_legend_outside_the_panels(plot, tmp_path, monkeypatch):
    import warnings

    from badlabels.report import figures

    rows = [
        dict(model=model, method=method, batch_size=batch, noise_rate=r, noise_type="symmetric",
             seed=seed, auroc=0.9 - 0.3 * r, noisy_test_auroc=0.9 - 0.7 * r)
        for model, methods in (("lstm", [f"m{i}" for i in range(10)]), ("cnn", ["m7"]))
        for method in methods for batch in (64, 256) for seed in (0, 1) for r in (0.0, 0.45)
    ]  # fmt: skip
    kept = {}
    real_save = figures._save

    def keep(fig, path):
        fig.canvas.draw()
        kept["fig"] = fig
        kept["legend_box"] = fig.legends[0].get_window_extent() if fig.legends else None
        kept["axes_boxes"] = [
            ax.get_window_extent().frozen() for ax in fig.axes if ax.get_visible()
        ]
        return real_save(fig, path)

    monkeypatch.setattr(figures, "_save", keep)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(figures, plot)(pd.DataFrame(rows), tmp_path / "fig.png")
    fig = kept["fig"]
    assert all(ax.get_legend() is None for ax in fig.axes)  # no legend inside a panel
    assert len(fig.legends) == 1
    assert not any(kept["legend_box"].overlaps(box) for box in kept["axes_boxes"])
    if plot == "plot_curve_panels":  # the same series has the same colour in every panel
        colors = {}
        for ax in fig.axes:
            for line in ax.get_lines():
                colors.setdefault(line.get_label(), set()).add(
                    line.get_color()
                    if isinstance(line.get_color(), str)
                    else tuple(line.get_color())
                )
        assert all(len(c) == 1 for c in colors.values())
