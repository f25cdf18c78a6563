"""On-disk cache of LLM answers, so that re-running a comparison costs nothing.

The key is the sha256 of everything that determines an answer: provider, base URL, model,
the full message list (system prompt, few-shot examples, the text) and the sampling
settings. One JSON file per answer under `<dir>/<key[:2]>/<key>.json`, written atomically
(temp file + rename), so parallel workers and interrupted runs never leave half a file.
Only answers the server actually returned are stored (a malformed one too: it was paid
for, and at temperature 0 asking again would give it again); errors are never cached.
The API key is never part of the key or of the stored value.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sentiment_lab.fileio import write_text


def default_cache_dir() -> Path:
    from sentiment_lab.data.imdb import home

    return home() / "llm-cache"


def cache_key(**parts: Any) -> str:
    """A stable hash of the request's parts (dict keys sorted, so order never matters)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class AnswerCache:
    """get/put of JSON-able answers by key; `enabled=False` turns it into a no-op."""

    def __init__(self, directory: str | Path | None = None, enabled: bool = True) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.enabled = enabled

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        path = self._path(key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            return None  # a damaged entry is a miss; the next put replaces it

    def put(self, key: str, value: dict[str, Any]) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(value, ensure_ascii=False))

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("*/*.json")) if self.directory.is_dir() else 0
