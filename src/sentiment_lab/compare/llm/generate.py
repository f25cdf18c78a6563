"""Synthetic reviews from an LLM (the course's "Mistral for text generation"), written as
JSONL rows that `load_table` reads as training data:

    {"text": "...", "label": "positive", "topic": "...", "synthetic": true,
     "provider": "mistral", "model": "mistral-small-latest", "index": 0}

One request per review, at temperature 0.9, each asked for a different angle (acting,
story, pacing...), so n requests give n different reviews; the cache makes a re-run with
the same settings free and identical. Answers that are not {"review": "..."} are dropped
and counted, never patched up.

`check_reviews` measures how controllable the generation is: each review is scored by a
sentiment model (the shipped one by default) and the share read as the requested sentiment is
reported; each row gains `check_label` and `check_score` (the model's label and confidence).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from sentiment_lab.fileio import write_text
from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.compare.llm.client import LLMClient
from sentiment_lab.compare.llm.prompts import AnswerError, generate_messages, parse_review

SENTIMENTS = ("positive", "negative")


def generate_reviews(client: LLMClient, sentiment: str, n: int, topic: str, words: int = 120,
                     temperature: float = 0.9) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows, problems): up to n reviews, and one line per request that gave none."""
    if sentiment not in SENTIMENTS:
        raise SentimentLabError(f"--sentiment must be positive or negative, got {sentiment!r}")
    if n < 1:
        raise SentimentLabError(f"--n must be at least 1, got {n}")
    if not topic.strip():
        raise SentimentLabError("--topic is empty")
    convs = [generate_messages(sentiment, topic.strip(), i, words) for i in range(n)]
    replies = client.chat_many(convs, temperature=temperature)
    rows, problems = [], []
    for i, reply in enumerate(replies):
        if reply.error is not None:
            problems.append(f"review {i + 1}: {reply.error}")
            continue
        try:
            text = parse_review(reply.content or "")
        except AnswerError as exc:
            problems.append(f"review {i + 1}: {exc}")
            continue
        rows.append({"text": text, "label": sentiment, "topic": topic.strip(), "synthetic": True,
                     "provider": client.provider, "model": client.model, "index": i})
    return rows, problems


def write_jsonl(rows: list[dict[str, Any]], path: str | Path, append: bool = False) -> Path:
    """Write (or append to) a JSONL file atomically: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if append and path.is_file() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    return write_text(path, old + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def check_reviews(rows: list[dict[str, Any]], scorer: Callable[[list[str]], list[dict[str, Any]]]) -> dict[str, Any]:
    """Score each generated review with `scorer` (texts -> [{"label", "score"}]); adds check_label
    and check_score to each row and returns the controllability figure: how many of the reviews
    the model reads as the sentiment they were asked to have."""
    if not rows:
        return {"reviews": 0, "matching": 0, "share": None}
    for row, out in zip(rows, scorer([r["text"] for r in rows])):
        row["check_label"], row["check_score"] = out["label"], round(float(out["score"]), 4)
    matching = sum(r["check_label"] == r["label"] for r in rows)
    return {"reviews": len(rows), "matching": matching, "share": matching / len(rows)}


def sentiment_scorer(bundle: str | Path | None = None) -> Callable[[list[str]], list[dict[str, Any]]]:
    """A bundle's classifier (None: the shipped model) on the NumPy backend, as texts -> dicts."""
    from sentiment_lab.inference.classifier import SentimentClassifier

    if bundle is not None and not (Path(bundle) / "config.json").is_file():
        raise SentimentLabError(f"--sentiment-model: no model bundle at {bundle}")
    clf = SentimentClassifier.from_pretrained(bundle, backend="numpy")
    return lambda texts: clf(list(texts))
