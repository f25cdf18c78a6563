"""One review, the unit every loader produces and every later stage consumes; and the
train/validation/test splits a run works on."""
from __future__ import annotations

from dataclasses import dataclass

UNLABELED = -1  # the label of a review that has none (imdb-unsup: for pretraining, never for a classifier)


@dataclass(frozen=True, slots=True)
class Record:
    text: str
    label: int  # 1 = positive, 0 = negative (UNLABELED for unlabeled text)
    split: str = "train"  # train | val | test (IMDB has no val: it is carved out of train later)
    id: str = ""
    rating: int | None = None  # stars when known (IMDB 1-4 negative, 7-10 positive; Amazon 1-5)
    source: str | None = None  # the named dataset it came from ("imdb", "sst2", ...); None for the user's files


@dataclass
class Splits:
    train: list[Record]
    val: list[Record]
    test: list[Record]
