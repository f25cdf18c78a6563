"""Figures for a run: learning curves, and evaluation plots from its test predictions.

Every function writes PNG and SVG atomically and returns the PNG path. matplotlib runs
headless (Agg). Figures follow one rule: a title, labelled axes, a legend where there is
more than one series, nothing overlapping (constrained layout).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment_lab.fileio import replacing


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, out_dir: Path, stem: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "svg"):
        with replacing(out_dir / f"{stem}.{ext}", suffix=f".{ext}") as tmp:
            fig.savefig(tmp, dpi=120, format=ext)
    _plt().close(fig)
    return out_dir / f"{stem}.png"


def learning_curves(history: Sequence[dict[str, Any]], out_dir: str | Path, title: str = "") -> Path:
    """Loss and accuracy per epoch, train vs validation; the kept (best-validation-loss) epoch
    marked (the last one for a run without validation)."""
    plt = _plt()
    epochs = [h["epoch"] for h in history]
    validated = all(h.get("val_loss") is not None for h in history)
    best = min(history, key=lambda h: h["val_loss"])["epoch"] if validated else epochs[-1]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, key, name in ((axes[0], "loss", "loss (binary cross-entropy)"), (axes[1], "accuracy", "accuracy")):
        ax.plot(epochs, [h[f"train_{key}"] for h in history], "o-", label="train")
        if validated:
            ax.plot(epochs, [h[f"val_{key}"] for h in history], "s-", label="validation")
        ax.axvline(best, color="grey", ls=":", label=f"kept: epoch {best}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or "Learning curves")
    return _save(fig, Path(out_dir), "learning_curves")


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE over equal-width bins of the predicted label's confidence (Guo et al. 2017)."""
    conf = np.maximum(p, 1 - p)
    correct = (p >= 0.5) == (y == 1)
    edges = np.linspace(0.5, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def evaluation_plots(y: np.ndarray, p: np.ndarray, out_dir: str | Path, lengths: np.ndarray | None = None,
                     ratings: np.ndarray | None = None, lengths_truncated: bool = False) -> dict[str, Any]:
    """Confusion matrix, ROC, precision-recall, reliability diagram (with ECE), accuracy by
    review length and by star rating. Returns the paths and the ECE. `lengths` should be
    untruncated (truncated ones pile every long review into the last bin); say
    `lengths_truncated=True` when only those are known, and the axis label says so."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

    plt = _plt()
    out_dir = Path(out_dir)
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    pred = (p >= 0.5).astype(int)
    paths: dict[str, Any] = {}

    fig, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
    ConfusionMatrixDisplay.from_predictions(y, pred, display_labels=["negative", "positive"], cmap="Blues", ax=ax,
                                            colorbar=False, values_format=",")
    ax.set_title(f"Confusion matrix (accuracy {np.mean(pred == y):.1%})")
    paths["confusion_matrix"] = _save(fig, out_dir, "confusion_matrix")

    fig, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
    RocCurveDisplay.from_predictions(y, p, ax=ax, name="model")
    ax.plot([0, 1], [0, 1], "k:", label="chance")
    ax.set_title("ROC curve")
    ax.legend(loc="lower right")
    paths["roc"] = _save(fig, out_dir, "roc_curve")

    fig, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
    PrecisionRecallDisplay.from_predictions(y, p, ax=ax, name="model")
    ax.set_title("Precision-recall curve (positive class)")
    paths["pr"] = _save(fig, out_dir, "precision_recall_curve")

    ece = expected_calibration_error(y, p)
    frac, mean_p = calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts = np.bincount(np.minimum((p * 10).astype(int), 9), minlength=10)  # calibration_curve's bins
    counts = counts[counts > 0]
    fig, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
    ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
    ax.plot(mean_p, frac, "-", color="tab:blue", lw=1)
    # marker area ~ reviews in the bin: a bin of one review cannot pull the eye like a bin of 900
    ax.scatter(mean_p, frac, s=12 + 150 * counts / counts.max(), color="tab:blue", zorder=3,
               label="model (area ~ reviews in the bin)")
    for x_, y_, c in zip(mean_p, frac, counts):
        if c < 0.02 * len(y):
            ax.annotate(f"n={c}", (x_, y_), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("predicted P(positive)")
    ax.set_ylabel("observed share of positives")
    ax.set_title(f"Reliability diagram (ECE {ece:.3f})")
    ax.legend(loc="lower right", fontsize=8)  # the points of a useful model run along the upper left and right
    ax.grid(alpha=0.3)
    paths["reliability"] = _save(fig, out_dir, "reliability_diagram")
    paths["ece"] = ece

    if lengths is not None:
        lengths = np.asarray(lengths)
        edges = np.unique(np.quantile(lengths, np.linspace(0, 1, 7)).astype(int))
        if len(edges) == 1:  # every review the same length (short sentences, a small own dataset): one bar
            edges = np.repeat(edges, 2)
        which = np.clip(np.digitize(lengths, edges[1:-1], right=True), 0, len(edges) - 2)
        labels, accs, counts = [], [], []
        for b in range(len(edges) - 1):
            m = which == b
            if m.any():  # bins are (edge, next edge], the first one closed: labels must not overlap
                labels.append(f"{edges[b] + (b > 0)}-{edges[b + 1]}")
                accs.append(np.mean(pred[m] == y[m]))
                counts.append(int(m.sum()))
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        bars = ax.bar(labels, [100 * a for a in accs], color="tab:blue")
        # n= inside the bars: above them, a bar at 100% would push its label into the title
        ax.bar_label(bars, labels=[f"n={c:,}" for c in counts], fontsize=8, padding=-12, color="white")
        ax.set_ylim(0, 100)  # bars encode length: a cut axis made 80% vs 74% look like 2.5x
        ax.set_xlabel(f"review length (tokens, {'after' if lengths_truncated else 'before'} truncation)")
        ax.set_ylabel("accuracy (%)")
        ax.set_title("Accuracy by review length")
        paths["by_length"] = _save(fig, out_dir, "accuracy_by_length")

    if ratings is not None:
        ratings = np.asarray(ratings, dtype=float)
        ok = ~np.isnan(ratings)
        if ok.any():
            stars = sorted({int(r) for r in ratings[ok]})
            accs = [np.mean(pred[ratings == s] == y[ratings == s]) for s in stars]
            fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
            ax.bar([str(s) for s in stars], [100 * a for a in accs],
                   color=["tab:red" if s <= 4 else "tab:green" for s in stars])
            ax.set_xlabel("star rating (1-4 negative, 7-10 positive)")
            ax.set_ylabel("accuracy (%)")
            ax.set_title("Accuracy by star rating")
            paths["by_rating"] = _save(fig, out_dir, "accuracy_by_rating")
    return paths


def plot_run(run_dir: str | Path) -> dict[str, Any]:
    """Every figure a run directory has the data for, into RUN_DIR/plots/."""
    run_dir = Path(run_dir)
    out = run_dir / "plots"
    history = json.loads((run_dir / "history.json").read_text())
    paths: dict[str, Any] = {"learning_curves": learning_curves(history, out, f"Learning curves: {run_dir.name}")}
    preds = run_dir / "test_predictions.csv"
    if preds.exists():
        import pandas as pd

        df = pd.read_csv(preds)
        full = "n_tokens_full" in df  # runs written before it existed only know the truncated length
        paths.update(evaluation_plots(df["label"].to_numpy(), df["p_positive"].to_numpy(), out,
                                      df["n_tokens_full" if full else "n_tokens"].to_numpy(), df["rating"].to_numpy(),
                                      lengths_truncated=not full))
    return paths
