"""The classifier interface, written once (as scikit-learn's ClassifierMixin is): a class that
answers `_p_positive(texts) -> P(positive) per text` gets

    clf("What a great film")        -> {"label": "positive", "score": 0.97}
    clf(["great", "awful"])         -> [{...}, {...}]
    clf.predict(texts)              -> ["positive", "negative", ...]
    clf.predict_proba(texts)        -> array (N, 2): P(negative), P(positive)
    clf.score(texts, labels)        -> accuracy against 0/1 labels
    clf.labels                      -> ["negative", "positive"]

with the same input checks everywhere: `predict`/`predict_proba` refuse a bare string (it
would be read one character at a time), a dict, None; `score` refuses labels other than 0/1
and a count that differs from the texts'. `SentimentClassifier` and every baseline use it.
"""
from __future__ import annotations

from typing import Any, Sequence, overload

import numpy as np

from sentiment_lab.inference.postprocess import LABELS, is_positive, label_of, postprocess
from sentiment_lab.text.tokenizer import check_labels, check_texts


class ClassifierMixin:
    """`__call__`, `predict`, `predict_proba`, `score` and `labels` over one hook, `_p_positive`."""

    def _p_positive(self, texts: list[str]) -> np.ndarray:
        """P(positive) of each text of a checked, non-empty list."""
        raise NotImplementedError

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(N, 2) probabilities, columns in `labels` order: negative, positive."""
        p = np.asarray(self._p_positive(check_texts(texts)), dtype=np.float64)
        return np.stack([1 - p, p], axis=1)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """"positive" or "negative" for each text of a list."""
        return [label_of(q) for q in self.predict_proba(texts)[:, 1]]

    def score(self, texts: Sequence[str], labels: Sequence[int]) -> float:
        """Accuracy against 0/1 labels (scikit-learn's `score` convention)."""
        texts = check_texts(texts)
        y = check_labels(labels, len(texts))
        return float(np.mean(is_positive(self.predict_proba(texts)[:, 1]) == y))

    @overload
    def __call__(self, texts: str) -> dict[str, Any]: ...
    @overload
    def __call__(self, texts: Sequence[str]) -> list[dict[str, Any]]: ...

    def __call__(self, texts):
        """{"label", "score"} for one text, a list of them for a list of texts; `score` is the
        probability of the predicted label, so always >= 0.5."""
        single = isinstance(texts, (str, bytes))
        p = self.predict_proba([texts] if single else check_texts(texts))[:, 1]
        out = [postprocess(q, with_p_positive=False) for q in p]
        return out[0] if single else out

    @property
    def labels(self) -> list[str]:
        return list(LABELS)
