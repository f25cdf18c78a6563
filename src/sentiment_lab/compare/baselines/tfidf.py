"""TF-IDF over word 1-2 grams + logistic regression (scikit-learn): the strong linear
baseline that every neural sentiment model should be measured against (~89% on IMDB in
the literature; Maas et al. 2011 report 88-89% for bag-of-words models).

Saved without pickle: the vocabulary (n-grams in column order) as JSON, the idf weights,
coefficients and intercept as safetensors; the vectorizer and the logistic regression are
rebuilt from them on load.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from sentiment_lab.compare.baselines.base import Baseline, check_inputs

# Words with inner apostrophes kept whole ("didn't" stays one token, so "didn't like" is a
# bigram), plus ! and ?, which carry sentiment; other punctuation is dropped.
TOKEN_PATTERN = r"(?u)\w+(?:['’]\w+)*|[!?]"
_BR = re.compile(r"<br\s*/?>", re.I)


def preprocess(text: str) -> str:
    """Lowercase and drop IMDB's HTML line breaks (the `br` token would otherwise be everywhere)."""
    return _BR.sub(" ", text).lower()


def vocabulary_list(vocabulary: dict[str, int]) -> list[str]:
    """The n-grams in column order, the form they are saved in (a JSON list, no pickle)."""
    out = [""] * len(vocabulary)
    for term, i in vocabulary.items():
        out[i] = term
    return out


class TfidfLogReg(Baseline):
    name = "tfidf"
    param_names = ("ngram_range", "min_df", "max_df", "sublinear_tf", "max_features", "C", "max_iter")

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), min_df: int = 2, max_df: float = 1.0,
                 sublinear_tf: bool = True, max_features: int | None = None, C: float = 4.0,
                 max_iter: int = 1000) -> None:
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.max_features = max_features
        self.C = C
        self.max_iter = max_iter

    def make_vectorizer(self, vocabulary: dict[str, int] | None = None) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(preprocessor=preprocess, token_pattern=TOKEN_PATTERN, ngram_range=self.ngram_range,
                               min_df=self.min_df, max_df=self.max_df, sublinear_tf=self.sublinear_tf,
                               max_features=self.max_features, vocabulary=vocabulary, dtype=np.float64)

    def _logreg(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.C, solver="liblinear", max_iter=self.max_iter)

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> "TfidfLogReg":
        texts, y = check_inputs(texts, labels)
        self.vectorizer_ = self.make_vectorizer()
        x = self.vectorizer_.fit_transform(texts)  # (N, V) sparse, L2-normalised rows
        self.model_ = self._logreg().fit(x, y)
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        self._check_fitted()
        return self.vectorizer_.transform(list(texts))

    def _p_positive(self, texts: list[str]) -> np.ndarray:
        return self.model_.predict_proba(self.vectorizer_.transform(texts))[:, 1]

    def _is_fitted(self) -> bool:
        return hasattr(self, "model_")

    def top_features(self, k: int = 20) -> dict[str, list[tuple[str, float]]]:
        """The k most positive and most negative n-grams: what the model actually learned."""
        vocab = vocabulary_list(self.vectorizer_.vocabulary_)
        w = self.model_.coef_[0]
        order = np.argsort(w)
        return {"positive": [(vocab[i], float(w[i])) for i in order[::-1][:k]],
                "negative": [(vocab[i], float(w[i])) for i in order[:k]]}

    def _arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any], list[str]]:
        arrays = {"idf": self.vectorizer_.idf_, "coef": self.model_.coef_, "intercept": self.model_.intercept_}
        return arrays, {"n_features": len(self.vectorizer_.vocabulary_)}, vocabulary_list(self.vectorizer_.vocabulary_)

    def _restore(self, arrays: dict[str, np.ndarray], state: dict[str, Any], vocabulary: list[str] | None) -> None:
        self.vectorizer_ = self.make_vectorizer({t: i for i, t in enumerate(vocabulary or [])})
        self.vectorizer_.idf_ = arrays["idf"]
        self.model_ = restore_linear(self._logreg(), arrays["coef"], arrays["intercept"])


def restore_linear(model: Any, coef: np.ndarray, intercept: np.ndarray) -> Any:
    """A scikit-learn linear classifier with learned arrays put back (binary, classes 0/1)."""
    model.coef_ = np.asarray(coef)  # dtype kept as saved: float32 embeddings give float32 weights
    model.intercept_ = np.asarray(intercept)
    model.classes_ = np.array([0, 1])
    model.n_features_in_ = model.coef_.shape[1]
    return model
