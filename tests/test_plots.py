"""Figures: files written, ECE computed right, train writes them, `plot` CLI."""
import numpy as np
import pytest
from typer.testing import CliRunner

from sentiment_lab.cli import app
from sentiment_lab.analysis.plots import evaluation_plots, expected_calibration_error, learning_curves


def test_ece_known_values():
    y = np.array([1, 1, 0, 0])
    assert expected_calibration_error(y, np.array([1.0, 1.0, 0.0, 0.0])) == pytest.approx(0.0)
    # always 90% sure, right half the time -> |0.5 - 0.9| = 0.4
    assert expected_calibration_error(y, np.array([0.9, 0.1, 0.9, 0.1])) == pytest.approx(0.4)


def test_figures_are_written(tmp_path):
    hist = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1 / e + (e == 3) * 0.5, "train_accuracy": 0.5 + e / 10,
             "val_accuracy": 0.5 + e / 12} for e in (1, 2, 3)]
    png = learning_curves(hist, tmp_path)
    assert png.read_bytes()[:4] == b"\x89PNG" and (tmp_path / "learning_curves.svg").read_text().startswith("<?xml")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = np.clip(y * 0.6 + rng.random(400) * 0.4, 0, 1)
    out = evaluation_plots(y, p, tmp_path, lengths=rng.integers(5, 400, 400),
                           ratings=np.where(y == 1, rng.integers(7, 11, 400), rng.integers(1, 5, 400)))
    for name in ("confusion_matrix", "roc_curve", "precision_recall_curve", "reliability_diagram",
                 "accuracy_by_length", "accuracy_by_rating"):
        assert (tmp_path / f"{name}.png").stat().st_size > 5000, name
    assert 0.0 <= out["ece"] <= 1.0


def test_train_writes_predictions_and_plots(tiny_run):
    import pandas as pd

    d = tiny_run.run_dir
    df = pd.read_csv(d / "test_predictions.csv")
    assert len(df) == tiny_run.metrics["test"]["n"]
    assert np.mean((df["p_positive"] >= 0.5) == (df["label"] == 1)) == pytest.approx(tiny_run.metrics["test"]["accuracy"])
    assert (d / "plots" / "learning_curves.png").is_file() and (d / "plots" / "roc_curve.svg").is_file()


def test_plot_cli(tiny_run, tmp_path):
    res = CliRunner().invoke(app, ["plot", str(tiny_run.run_dir)])
    assert res.exit_code == 0, res.output
    assert "ece" in res.output
    res = CliRunner().invoke(app, ["plot", str(tmp_path)])
    assert res.exit_code == 1 and "not a run directory" in res.output


def test_accuracy_by_length_when_every_review_has_one_length(tmp_path):
    """Short sentences of one length (a small own dataset) made a single quantile edge and no bar:
    `plot` crashed with "min() arg is an empty sequence"."""
    y = np.array([0, 1] * 20)
    evaluation_plots(y, np.where(y == 1, 0.8, 0.3), tmp_path, lengths=np.full(40, 12))
    assert (tmp_path / "accuracy_by_length.png").stat().st_size > 5000
