"""LLM sentiment classification, zero-shot or k-shot, behind the classifier interface.

    from sentiment_lab.compare.llm import LLMClient, LLMClassifier
    llm = LLMClassifier(LLMClient(provider="mistral"), k_shot=4).fit(train_texts, train_labels)
    llm(["What a great film"])      -> [{"label": "positive", "score": 0.95, "reason": "..."}]
    llm.predict_proba(texts)        -> (N, 2); a row of NaN where the answer was invalid

`fit` trains nothing: it only picks the k demonstrations (balanced, seeded) from labelled
data. An answer that is not the JSON asked for (prose, a refusal, a timeout, a 500 after
the retries) is *invalid*: `predict` says "invalid", `predict_proba` gives NaN, and
`score` counts it as wrong. Nothing is ever made up in its place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from sentiment_lab.compare.llm.client import LLMClient
from sentiment_lab.compare.llm.prompts import AnswerError, classify_messages, parse_answer, pick_examples
from sentiment_lab.text.tokenizer import check_text

INVALID = "invalid"


@dataclass
class Prediction:
    label: str  # positive | negative | invalid
    confidence: float | None
    reason: str
    p_positive: float  # NaN when invalid
    error: str | None = None
    cached: bool = False
    latency_s: float = 0.0


class LLMClassifier:
    def __init__(self, client: LLMClient, k_shot: int = 0, seed: int = 0, max_chars: int = 4000,
                 example_chars: int = 600) -> None:
        self.client = client
        self.k_shot = k_shot
        self.seed = seed
        self.max_chars = max_chars
        self.example_chars = example_chars
        self.examples_: list[tuple[str, int]] = []

    @property
    def name(self) -> str:
        return f"llm-{self.k_shot}shot:{self.client.model}"

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> "LLMClassifier":
        """Choose the k demonstrations from labelled data (no training)."""
        if self.k_shot > 0:
            ys = [int(y) for y in labels]
            if min(ys.count(0), ys.count(1)) < self.k_shot // 2:
                from sentiment_lab.exceptions import DataError

                raise DataError(f"{self.k_shot}-shot needs at least {self.k_shot // 2} examples of each label")
            self.examples_ = pick_examples(texts, ys, self.k_shot, self.seed, self.example_chars)
        return self

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        texts = [check_text(t) for t in texts]
        if self.k_shot > 0 and not self.examples_:
            from sentiment_lab.exceptions import DataError

            raise DataError(f"{self.k_shot}-shot: call fit(texts, labels) first to choose the examples")
        convs = [classify_messages(t, self.examples_, self.max_chars) for t in texts]
        out = []
        for reply in self.client.chat_many(convs):
            if reply.error is not None:
                out.append(Prediction(INVALID, None, "", float("nan"), reply.error, reply.cached, reply.latency_s))
                continue
            try:
                a = parse_answer(reply.content or "")
            except AnswerError as exc:
                out.append(Prediction(INVALID, None, "", float("nan"), str(exc), reply.cached, reply.latency_s))
                continue
            out.append(Prediction(a.label, a.confidence, a.reason, a.p_positive, None, reply.cached, reply.latency_s))
        return out

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        p = np.array([x.p_positive for x in self.classify(texts)], dtype=np.float64)
        return np.stack([1 - p, p], axis=1)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [x.label for x in self.classify(texts)]

    def score(self, texts: Sequence[str], labels: Sequence[int]) -> float:
        """Accuracy; an invalid answer counts as wrong."""
        pred = self.predict(texts)
        return float(np.mean([p == ("positive" if y else "negative") for p, y in zip(pred, labels)]))

    def __call__(self, texts: Any):
        single = isinstance(texts, str)
        preds = self.classify([texts] if single else list(texts))
        out = [{"label": x.label, "score": x.confidence if x.label != INVALID else None, "reason": x.reason,
                **({"error": x.error} if x.error else {})} for x in preds]
        return out[0] if single else out

    @property
    def labels(self) -> list[str]:
        return ["negative", "positive"]
