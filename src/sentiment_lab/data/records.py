"""One review: the unit every loader produces and every later stage consumes."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Record:
    text: str
    label: int  # 1 = positive, 0 = negative
    split: str = "train"  # train | test (validation is carved out of train later)
    id: str = ""
    rating: int | None = None  # IMDB stars (1-4 negative, 7-10 positive) when known
