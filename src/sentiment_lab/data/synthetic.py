"""A tiny, learnable corpus for tests and demos: sentiment words in neutral filler,
with negation, so a model must read order to get everything right."""
from __future__ import annotations

import random

from sentiment_lab.data.records import Record

POS = ["great", "wonderful", "excellent", "loved", "brilliant", "superb", "enjoyable", "moving"]
NEG = ["awful", "terrible", "boring", "hated", "dreadful", "poor", "dull", "waste"]
FILLER = ["the", "film", "movie", "plot", "actors", "was", "and", "a", "story", "it", "this", "scene", "really"]


def make_corpus(n: int = 400, seed: int = 0, split: str = "train", min_len: int = 5, max_len: int = 40) -> list[Record]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = i % 2
        words = [rng.choice(FILLER) for _ in range(rng.randint(min_len, max_len))]
        cue = rng.choice(POS if label else NEG)
        words.insert(rng.randrange(len(words) + 1), cue)
        out.append(Record(text=" ".join(words), label=label, split=split, id=f"{split}/{i}", rating=None))
    return out
