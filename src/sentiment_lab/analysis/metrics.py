"""Metrics from scikit-learn, computed once here for every command that reports them."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix, log_loss,
                             precision_recall_fscore_support, roc_auc_score)

from sentiment_lab.text.tokenizer import check_labels

LABELS = ["negative", "positive"]


def compute_metrics(y_true: np.ndarray, p_pos: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Accuracy, log loss, per-class and macro precision/recall/F1, ROC-AUC, confusion matrix."""
    y_true = check_labels(y_true, len(p_pos))
    p_pos = np.clip(np.asarray(p_pos, dtype=np.float64), 1e-7, 1 - 1e-7)
    y_pred = (p_pos >= threshold).astype(int)
    prec, rec, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=[0, 1], zero_division=0)
    both = len(np.unique(y_true)) == 2
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "loss": float(log_loss(y_true, p_pos, labels=[0, 1])),
        "precision_macro": float(prec.mean()), "recall_macro": float(rec.mean()), "f1_macro": float(f1.mean()),
        "per_class": {name: {"precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1[i]),
                             "support": int(support[i])} for i, name in enumerate(LABELS)},
        "roc_auc": float(roc_auc_score(y_true, p_pos)) if both else None,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=[0, 1]).tolist(),
        "classification_report": classification_report(y_true, y_pred, labels=[0, 1], target_names=LABELS,
                                                        digits=4, zero_division=0),
    }


def metrics_by_source(sources: Sequence[str | None], y_true: np.ndarray, p_pos: np.ndarray) -> dict[str, dict[str, Any]]:
    """Each source's metrics (no text report), in order of first appearance: a mixture's figures
    per dataset, beside the pooled ones over every text (which a large source dominates)."""
    rows: dict[str, list[int]] = {}
    for i, source in enumerate(sources):
        rows.setdefault(source or "unnamed", []).append(i)
    y_true, p_pos = np.asarray(y_true), np.asarray(p_pos)
    out = {}
    for source, idx in rows.items():
        m = compute_metrics(y_true[idx], p_pos[idx])
        m.pop("classification_report")
        out[source] = m
    return out


def evaluate_bundle(bundle: "str | Path | None", records: list, batch_size: int = 0) -> tuple[dict[str, Any], np.ndarray]:
    """Metrics of a model (a shipped name, a bundle folder, None = the default shipped model)
    on labelled records, and P(positive)."""
    from sentiment_lab.inference.classifier import SentimentClassifier

    clf = SentimentClassifier.from_pretrained(bundle)
    clf.batch_size = batch_size
    p = clf.predict_proba([r.text for r in records])[:, 1]
    return compute_metrics(np.array([r.label for r in records]), p), p
