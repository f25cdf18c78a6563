"""The sentiment monitor: every message of the conversation scored by a sentiment model, a
mood line over the user's last messages, and two rules.

    frustration  when at least `frustrated_after` of the user's last `window` messages are
                 negative (confidence >= `min_confidence`), a note goes with the next request
                 asking the assistant to slow down and encourage (recorded on that user message)
    review flag  a reply the model scores negative with confidence >= `flag_threshold` is
                 flagged in the transcript for a human to review

The model is a movie-review classifier: it reads tone, not meaning, and misses what the
challenge suite shows it missing (sarcasm, some negations); docs/chat.md shows both. It runs on
the NumPy backend (no torch import: about 0.7 s to load the shipped model here).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.chat.transcript import Message

Scorer = Callable[[list[str]], list[dict[str, Any]]]  # texts -> [{"label", "score", ...}]

NOTE = ("Note from the sentiment monitor: the student's last messages read as frustrated or discouraged. "
        "Slow down: answer in shorter steps, check what they already understand, and encourage them.")


@dataclass
class MonitorRules:
    window: int = 3  # the user's last messages that the mood line and the frustration rule read
    frustrated_after: int = 2  # negative messages among them that make a frustrated student
    min_confidence: float = 0.6  # a message counts as negative from this confidence on
    flag_threshold: float = 0.8  # a reply scored negative with this confidence or more is flagged
    note: str = NOTE

    def __post_init__(self) -> None:
        if self.window < 1 or not 1 <= self.frustrated_after <= self.window:
            raise SentimentLabError(f"the frustration rule needs 1 <= frustrated_after <= window, got "
                                    f"{self.frustrated_after} of {self.window}")
        for name in ("min_confidence", "flag_threshold"):
            if not 0.5 <= getattr(self, name) <= 1.0:
                raise SentimentLabError(f"{name} must be in [0.5, 1], got {getattr(self, name)}")


def load_scorer(model: str | Path | None = None) -> Scorer:
    """A bundle's classifier as a scorer: None or "default" for the default shipped model, a
    shipped name (general, imdb: inference/shipped.py's rule), else a bundle folder."""
    from sentiment_lab.inference.bundle import default_bundle
    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.inference.shipped import is_shipped_name, shipped_bundle

    if model in (None, "", "default"):
        path = default_bundle()
    else:
        path = shipped_bundle(str(model)) if is_shipped_name(model) else Path(model)
    if not (path / "config.json").is_file():
        raise SentimentLabError(f"--sentiment-model: no model bundle at {path} (give a bundle folder, or "
                                "'default' for the shipped model)")
    clf = SentimentClassifier.from_pretrained(path, backend="numpy")
    return lambda texts: clf(list(texts))


class Monitor:
    """Scores texts and applies the rules; `scorer=None` turns the monitor off (nothing scored)."""

    def __init__(self, scorer: Scorer | None = None, rules: MonitorRules | None = None) -> None:
        self.scorer = scorer
        self.rules = rules or MonitorRules()

    def score(self, text: str) -> dict[str, Any] | None:
        if self.scorer is None or not text.strip():
            return None
        out = self.scorer([text])[0]
        return {"label": out["label"], "score": round(float(out["score"]), 4)}

    def _negative(self, sentiment: dict[str, Any] | None, threshold: float) -> bool:
        return bool(sentiment) and sentiment["label"] == "negative" and sentiment["score"] >= threshold

    def recent(self, messages: Sequence[Message]) -> list[Message]:
        """The user's last `window` messages that were scored."""
        users = [m for m in messages if m.role == "user" and m.sentiment]
        return users[-self.rules.window:]

    def note_for(self, messages: Sequence[Message]) -> str | None:
        """The frustration note when the user's recent messages (the new one included) call for it."""
        negatives = sum(self._negative(m.sentiment, self.rules.min_confidence) for m in self.recent(messages))
        return self.rules.note if negatives >= self.rules.frustrated_after else None

    def flag(self, reply: Message) -> str | None:
        if self._negative(reply.sentiment, self.rules.flag_threshold):
            return f"reply scored negative ({reply.sentiment['score']:.2f} >= {self.rules.flag_threshold:.2f}): review it"
        return None

    def mood(self, messages: Sequence[Message]) -> str:
        """e.g. "mood (last 3): + - -  frustrated": one sign per recent user message."""
        recent = self.recent(messages)
        if not recent:
            return ""
        signs = " ".join("+" if m.sentiment["label"] == "positive" else "-" for m in recent)
        return f"mood (last {len(recent)}): {signs}" + ("  frustrated" if self.note_for(messages) else "")
