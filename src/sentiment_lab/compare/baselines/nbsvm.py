"""NBSVM (Wang and Manning, "Baselines and Bigrams", ACL 2012): an SVM over binarized
n-gram features scaled by naive-Bayes log-count ratios, interpolated with the plain
naive-Bayes weights. 91.22% on IMDB with bigrams in the paper.

    f  = 1{count > 0}                        binarized n-grams, (N, V)
    r  = log((p / |p|_1) / (q / |q|_1))      p = alpha + sum of f over positives, q over negatives
    x  = r * f                               the SVM's input
    w' = (1 - beta) * mean(|w|) + beta * w   interpolation (a constant weight = MNB's decision)
    margin = x . w' + b                      label = margin >= 0, as in the paper

An SVM gives margins, not probabilities: `predict_proba` is sigmoid(a * margin), with the
single scale `a` fitted (no intercept, so the label never changes) on out-of-fold margins
of `calibration_folds` extra fits on the training data. Set calibration_folds=0 to skip
that (a = 1).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from sentiment_lab.compare.baselines.base import Baseline, check_inputs
from sentiment_lab.compare.baselines.tfidf import TOKEN_PATTERN, preprocess, vocabulary_list


def log_count_ratio(x: Any, y: np.ndarray, alpha: float) -> np.ndarray:
    """r: how much more often each (binarized) feature occurs in positives than negatives."""
    p = alpha + np.asarray(x[y == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(x[y == 0].sum(axis=0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def interpolate(w: np.ndarray, beta: float) -> np.ndarray:
    """w' = (1 - beta) * mean|w| + beta * w: beta = 1 is the plain SVM, beta -> 0 naive Bayes."""
    return (1 - beta) * (np.abs(w).sum() / len(w)) + beta * w


class NBSVM(Baseline):
    name = "nbsvm"
    param_names = ("ngram_range", "min_df", "alpha", "C", "beta", "calibration_folds", "max_iter", "seed")

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), min_df: int = 1, alpha: float = 1.0, C: float = 1.0,
                 beta: float = 0.25, calibration_folds: int = 2, max_iter: int = 5000, seed: int = 0) -> None:
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.alpha = alpha
        self.C = C
        self.beta = beta
        self.calibration_folds = calibration_folds
        self.max_iter = max_iter
        self.seed = seed

    def make_vectorizer(self, vocabulary: dict[str, int] | None = None) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(preprocessor=preprocess, token_pattern=TOKEN_PATTERN, ngram_range=self.ngram_range,
                               min_df=self.min_df, binary=True, vocabulary=vocabulary, dtype=np.float64)

    def fit_weights(self, x: Any, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """(r, raw SVM weights w, bias b) on binarized features x (before interpolation)."""
        from sklearn.svm import LinearSVC

        r = log_count_ratio(x, y, self.alpha)
        svm = LinearSVC(C=self.C, loss="squared_hinge", dual=True, max_iter=self.max_iter, random_state=self.seed)
        svm.fit(x.multiply(r).tocsr(), y)
        return r, svm.coef_[0], float(svm.intercept_[0])

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> "NBSVM":
        texts, y = check_inputs(texts, labels)
        self.vectorizer_ = self.make_vectorizer()
        x = self.vectorizer_.fit_transform(texts)  # (N, V) binary
        self.r_, w, self.intercept_ = self.fit_weights(x, y)
        self.coef_ = interpolate(w, self.beta)
        self.scale_ = self._calibrate(x, y) if self.calibration_folds >= 2 else 1.0
        return self

    def _calibrate(self, x: Any, y: np.ndarray) -> float:
        """The scale a of sigmoid(a * margin), fitted on out-of-fold margins."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        margins = np.zeros(len(y))
        folds = StratifiedKFold(self.calibration_folds, shuffle=True, random_state=self.seed)
        for train, held in folds.split(np.zeros(len(y)), y):
            r, w, b = self.fit_weights(x[train], y[train])
            margins[held] = x[held] @ (r * interpolate(w, self.beta)) + b
        lr = LogisticRegression(fit_intercept=False, C=1e4).fit(margins[:, None], y)
        return float(max(lr.coef_[0, 0], 1e-3))

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """The SVM margin per text (positive = positive review)."""
        self._check_fitted()
        return self.vectorizer_.transform(list(texts)) @ (self.r_ * self.coef_) + self.intercept_

    def _p_positive(self, texts: list[str]) -> np.ndarray:
        return 1 / (1 + np.exp(-self.scale_ * self.decision_function(texts)))

    def _is_fitted(self) -> bool:
        return hasattr(self, "coef_")

    def _arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any], list[str]]:
        arrays = {"r": self.r_, "coef": self.coef_, "intercept": np.array([self.intercept_]),
                  "scale": np.array([self.scale_])}
        return arrays, {"n_features": len(self.r_)}, vocabulary_list(self.vectorizer_.vocabulary_)

    def _restore(self, arrays: dict[str, np.ndarray], state: dict[str, Any], vocabulary: list[str] | None) -> None:
        self.vectorizer_ = self.make_vectorizer({t: i for i, t in enumerate(vocabulary or [])})
        self.r_, self.coef_ = arrays["r"], arrays["coef"]
        self.intercept_, self.scale_ = float(arrays["intercept"][0]), float(arrays["scale"][0])
