"""Lexicon baseline: VADER (Hutto and Gilbert, ICWSM 2014), a thresholded compound score.

VADER sums hand-rated word valences with rules for negation, intensifiers, "but" and
punctuation; it has no training step and no notion of movie reviews. Its compound score
is in [-1, 1]; VADER's own README calls >= 0.05 positive, and that is the default rule
(no training). With `tune_threshold=True`, `fit` chooses the threshold that best separates
the given labelled texts instead (one number). Beware: on long reviews the compound score
saturates near +1 (it grows with the number of sentiment words), so a threshold tuned on
IMDB (~0.75) gains a few points there but calls most short positive sentences negative.

`predict_proba` maps the compound score monotonically onto [0, 1] with the threshold at
0.5: a ranking that gives ROC-AUC, not a calibrated probability.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from sentiment_lab.compare.baselines.base import Baseline, check_inputs

_BR = re.compile(r"<br\s*/?>", re.I)


class VaderBaseline(Baseline):
    name = "vader"
    param_names = ("threshold", "tune_threshold")

    def __init__(self, threshold: float = 0.05, tune_threshold: bool = False) -> None:
        self.threshold = threshold
        self.tune_threshold = tune_threshold

    def _analyzer(self) -> Any:
        if getattr(self, "_vader", None) is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._vader = SentimentIntensityAnalyzer()
        return self._vader

    def compound(self, texts: Sequence[str]) -> np.ndarray:
        """VADER's compound score per text (HTML line breaks removed first)."""
        vader = self._analyzer()
        return np.array([vader.polarity_scores(_BR.sub(" ", t))["compound"] for t in texts], dtype=np.float64)

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> "VaderBaseline":
        texts, y = check_inputs(texts, labels)
        self.threshold_ = float(self.threshold)
        if self.tune_threshold:
            self.threshold_ = best_threshold(self.compound(texts), y)
        return self

    def _p_positive(self, texts: list[str]) -> np.ndarray:
        return compound_to_proba(self.compound(texts), getattr(self, "threshold_", self.threshold))

    def _arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any], None]:
        return {"threshold": np.array([getattr(self, "threshold_", self.threshold)], dtype=np.float64)}, {}, None

    def _restore(self, arrays: dict[str, np.ndarray], state: dict[str, Any], vocabulary: None) -> None:
        self.threshold_ = float(arrays["threshold"][0])


def compound_to_proba(c: np.ndarray, t: float) -> np.ndarray:
    """Piecewise linear: -1 -> 0, t -> 0.5, +1 -> 1 (monotone, so p >= 0.5 exactly when c >= t)."""
    c = np.asarray(c, dtype=np.float64)
    return np.where(c >= t, 0.5 + 0.5 * (c - t) / max(1 - t, 1e-9), 0.5 * (c + 1) / max(t + 1, 1e-9)).clip(0, 1)


def best_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The cut on `scores` (positive when >= cut) with the highest accuracy on labels `y`.

    Candidates are midpoints between consecutive distinct scores, so the result is exact,
    and among equally good cuts the one closest to 0 is kept (VADER's neutral point)."""
    order = np.argsort(scores, kind="stable")
    s, yy = scores[order], y[order]
    # Cutting before index i: negatives among s[:i] are right, positives among s[i:] are right.
    neg_right = np.concatenate([[0], np.cumsum(yy == 0)])
    pos_right = np.concatenate([np.cumsum((yy == 1)[::-1])[::-1], [0]])
    correct = neg_right + pos_right  # (N+1,)
    # Only cuts between distinct values are realisable.
    valid = np.concatenate([[True], s[1:] != s[:-1], [True]])
    cuts = np.concatenate([[s[0] - 1e-6], (s[1:] + s[:-1]) / 2, [s[-1] + 1e-6]])
    best = correct[valid].max()
    candidates = cuts[valid & (correct == best)]
    return float(candidates[np.argmin(np.abs(candidates))])
