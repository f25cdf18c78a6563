"""A conversation as JSONL: one header line, then one line per message, rewritten atomically
after each turn, so that a crash or a Ctrl-C never leaves half a file and `--resume` always
finds the conversation as it was after its last complete turn.

    {"format": "sentiment-lab.chat", "version": 1, "persona": "tutor-en", "persona_version": 1, ...}
    {"role": "system", "text": "...", "time": "2026-12-07T13:40:00+00:00", "tokens": 310, ...}
    {"role": "user", "text": "what is a gate?", "tokens": 12, "tokens_source": "usage",
     "sentiment": {"label": "positive", "score": 0.71, "p_positive": 0.71}, ...}
    {"role": "assistant", "text": "...", "interrupted": false, "flagged": null, ...}

`in_context: false` marks a message the context budget dropped (it stays in the transcript);
role "summary" is a summary the LLM wrote of dropped messages. The API key is never written:
nothing here receives it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.fileio import write_text

FORMAT = "sentiment-lab.chat"
VERSION = 1
ROLES = ("system", "user", "assistant", "summary")


class TranscriptError(SentimentLabError):
    """A transcript that cannot be resumed: missing, corrupt, or of another format version."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Message:
    """One message of the conversation and what the chat knows about it."""

    role: str  # one of ROLES
    text: str
    time: str = field(default_factory=now)
    tokens: int = 0  # its size in the LLM's tokens (see memory.py for where the figure comes from)
    tokens_source: str = "estimate"  # "usage" (from the server's report) | "estimate"
    sentiment: dict[str, Any] | None = None  # {"label", "score", "p_positive"} from the monitor
    in_context: bool = True  # False: dropped by the context budget (kept here, no longer sent)
    interrupted: bool = False  # a reply cut short (Ctrl-C, a broken stream); its text is partial
    error: str | None = None  # why a reply is incomplete
    flagged: str | None = None  # the monitor's reason to review this reply
    note: str | None = None  # the monitor's note sent along with this user message

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> "Message":
        known = {f.name for f in fields(cls)}
        if obj.get("role") not in ROLES or not isinstance(obj.get("text"), str):
            raise ValueError(f"role must be one of {', '.join(ROLES)} and text a string")
        return cls(**{k: v for k, v in obj.items() if k in known})


def save_transcript(path: str | Path, header: dict[str, Any], messages: list[Message]) -> Path:
    """Write the whole transcript (header + messages), atomically."""
    head = {"format": FORMAT, "version": VERSION, **header}
    lines = [json.dumps(head, ensure_ascii=False)] + [json.dumps(m.as_dict(), ensure_ascii=False) for m in messages]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, "\n".join(lines) + "\n")


def load_transcript(path: str | Path) -> tuple[dict[str, Any], list[Message]]:
    """(header, messages), or a one-line TranscriptError naming the file and the line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise TranscriptError(f"no transcript at {path}") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise TranscriptError(f"cannot read the transcript {path}: {exc.__class__.__name__}") from None
    header = _line(path, lines, 0)
    if header.get("format") != FORMAT:
        raise TranscriptError(f"{path} is not a sentiment-lab chat transcript (no \"format\": \"{FORMAT}\" header)")
    if header.get("version") != VERSION:
        raise TranscriptError(f"{path} is a version {header.get('version')!r} transcript; this sentiment-lab "
                              f"reads version {VERSION}")
    messages = []
    for i in range(1, len(lines)):
        if lines[i].strip():
            try:
                messages.append(Message.from_dict(_line(path, lines, i)))
            except (TypeError, ValueError) as exc:
                raise TranscriptError(f"{path}, line {i + 1}: not a chat message ({exc})") from None
    return header, messages


def _line(path: Path, lines: list[str], i: int) -> dict[str, Any]:
    if i >= len(lines):
        raise TranscriptError(f"{path} is empty")
    try:
        obj = json.loads(lines[i])
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"{path}, line {i + 1}: corrupt JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise TranscriptError(f"{path}, line {i + 1}: not a JSON object")
    return obj
