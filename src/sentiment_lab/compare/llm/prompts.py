"""Prompts for LLM sentiment classification and review generation, and the strict parser
of the JSON answers.

Classification asks for exactly one JSON object:

    {"label": "positive" | "negative", "confidence": 0.0-1.0, "reason": "one line"}

k-shot prompts show k labelled reviews as earlier user/assistant turns, answered in that
same format, balanced between the two labels. `parse_answer` accepts that object alone
(a single ```json fence around it is tolerated, since many chat models add one) and
refuses anything else: prose, a refusal, a missing key, a third label, a confidence
outside [0, 1]. A refused answer is reported as invalid, never guessed.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any, Sequence

LABELS = ("negative", "positive")

CLASSIFY_SYSTEM = (
    "You classify the sentiment of movie reviews (and other short opinionated texts) as positive or negative. "
    "Judge the writer's overall opinion, including sarcasm, negation and contrast. "
    'Answer with one JSON object and nothing else: {"label": "positive" or "negative", '
    '"confidence": a number from 0 to 1 (how sure you are of the label), "reason": one short line}.'
)

GENERATE_SYSTEM = (
    "You write realistic, varied user reviews for a sentiment-analysis data set. "
    'Answer with one JSON object and nothing else: {"review": "the review text"}.'
)

_FENCE = re.compile(r"^```(?:json)?\s*\n?(.*?)\n?```$", re.S | re.I)


class AnswerError(ValueError):
    """The model's reply is not the JSON object asked for (the message says what is wrong)."""


@dataclass(frozen=True)
class Answer:
    label: str  # "positive" | "negative"
    confidence: float  # in [0, 1], the model's own figure
    reason: str

    @property
    def p_positive(self) -> float:
        return self.confidence if self.label == "positive" else 1.0 - self.confidence


def _json_object(text: str) -> dict[str, Any]:
    s = (text or "").strip()
    m = _FENCE.match(s)
    if m:
        s = m.group(1).strip()
    if not s.startswith("{"):
        raise AnswerError(f"not a JSON object: {_clip(text)}")
    try:
        obj = json.loads(s)
    except json.JSONDecodeError as exc:
        raise AnswerError(f"malformed JSON ({exc.msg}): {_clip(text)}") from None
    if not isinstance(obj, dict):
        raise AnswerError(f"not a JSON object: {_clip(text)}")
    return obj


def parse_answer(text: str) -> Answer:
    """The classification answer, or AnswerError."""
    obj = _json_object(text)
    missing = [k for k in ("label", "confidence", "reason") if k not in obj]
    if missing:
        raise AnswerError(f"missing key(s) {', '.join(missing)}: {_clip(text)}")
    label = obj["label"]
    if not isinstance(label, str) or label.strip().lower() not in LABELS:
        raise AnswerError(f"label must be 'positive' or 'negative', got {label!r}")
    conf = obj["confidence"]
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0.0 <= float(conf) <= 1.0:
        raise AnswerError(f"confidence must be a number in [0, 1], got {conf!r}")
    reason = obj["reason"]
    if not isinstance(reason, str):
        raise AnswerError(f"reason must be a string, got {type(reason).__name__}")
    return Answer(label=label.strip().lower(), confidence=float(conf), reason=" ".join(reason.split())[:300])


def parse_review(text: str) -> str:
    """The generated review text, or AnswerError."""
    obj = _json_object(text)
    review = obj.get("review")
    if not isinstance(review, str) or not review.strip():
        raise AnswerError(f"no non-empty 'review' string: {_clip(text)}")
    return review.strip()


def _clip(text: str | None, n: int = 80) -> str:
    s = " ".join((text or "").split())
    return repr(s if len(s) <= n else s[:n] + "...")


def clip_review(text: str, max_chars: int) -> str:
    """Long reviews are cut (head kept, at a word boundary) to bound tokens and cost."""
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.I)
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars].rsplit(" ", 1)[0]
    return cut + " [...]"


def pick_examples(texts: Sequence[str], labels: Sequence[int], k: int, seed: int = 0,
                  max_chars: int = 600) -> list[tuple[str, int]]:
    """k demonstrations, as balanced as k allows (positives first for odd k), shortest-first
    among a seeded shuffle so that k-shot prompts stay cheap."""
    if k <= 0:
        return []
    rng = random.Random(seed)
    by_label: dict[int, list[str]] = {0: [], 1: []}
    for t, y in zip(texts, labels):
        by_label[int(y)].append(t)
    out: list[tuple[str, int]] = []
    for y, n in ((1, (k + 1) // 2), (0, k // 2)):
        pool = by_label[y][:]
        rng.shuffle(pool)
        pool = sorted(pool[: max(50, n)], key=len)  # shortest of a random sample of 50
        out += [(clip_review(t, max_chars), y) for t in pool[:n]]
    rng.shuffle(out)
    return out


def classify_messages(text: str, examples: Sequence[tuple[str, int]] = (), max_chars: int = 4000) -> list[dict[str, str]]:
    """The chat messages for one text: system, k demonstrations, then the text."""
    msgs = [{"role": "system", "content": CLASSIFY_SYSTEM}]
    for ex, y in examples:
        msgs.append({"role": "user", "content": f"Review:\n{ex}"})
        msgs.append({"role": "assistant", "content": json.dumps(
            {"label": LABELS[y], "confidence": 1.0, "reason": "labelled example"})})
    msgs.append({"role": "user", "content": f"Review:\n{clip_review(text, max_chars)}"})
    return msgs


def generate_messages(sentiment: str, topic: str, index: int, words: int = 120) -> list[dict[str, str]]:
    """One review per request; `index` varies the angle so that n requests give n different reviews."""
    angles = ("the acting", "the story", "the pacing", "the visuals", "the soundtrack", "the ending",
              "the dialogue", "how it compares with others of its kind", "who should watch it", "the direction")
    angle = angles[index % len(angles)]
    return [{"role": "system", "content": GENERATE_SYSTEM},
            {"role": "user", "content": (
                f"Write review number {index + 1} of a series: a clearly {sentiment} user review of {topic}, "
                f"about {words} words, focusing mostly on {angle}. Vary the style and vocabulary; no title, "
                "no star rating, no names of real critics.")}]
