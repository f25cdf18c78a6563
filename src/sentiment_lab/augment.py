"""Text augmentation for training: EDA (Wei & Zou 2019) on token ids, fresh every epoch.

Operations, each touching about alpha * n of a review's n tokens:
- delete:  drop each token with probability alpha (at least one token survives);
- swap:    exchange two random positions, alpha * n times;
- insert:  insert a neighbour of a random token of the review at a random position;
- synonym: replace tokens by one of their nearest neighbours in word vectors trained on
           the training split (vectors.py). Neighbours in a sentiment-agnostic word2vec
           space are not always synonyms ("good" ~ "bad" often), which is why its effect is
           measured rather than assumed.
Working on ids (not strings) keeps it cheap and keeps the tokenizer out of the loop.
"""
from __future__ import annotations

import numpy as np

from sentiment_lab.text import truncate


class Augmenter:
    def __init__(self, ops: str, alpha: float, max_len: int, truncation: str,
                 neighbours: np.ndarray | None = None) -> None:
        self.ops = [] if ops == "none" else ops.split(",")
        if any(op in ("insert", "synonym") for op in self.ops) and neighbours is None:
            raise ValueError("insert and synonym need a neighbour table (word vectors)")
        self.alpha, self.max_len, self.truncation, self.neighbours = alpha, max_len, truncation, neighbours

    def __call__(self, seq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = seq
        for op in self.ops:
            n = len(out)
            k = max(1, int(round(self.alpha * n)))
            if op == "delete" and n > 1:
                keep = rng.random(n) >= self.alpha
                out = out[keep] if keep.any() else out[rng.integers(n)][None]
            elif op == "swap" and n > 1:
                # k transpositions applied in order, on a Python list: one RNG call per review
                # instead of k, and no NumPy scalar indexing in the loop (was ~3x an epoch's time).
                seq_list = out.tolist()
                for i, j in rng.integers(n, size=(k, 2)).tolist():
                    seq_list[i], seq_list[j] = seq_list[j], seq_list[i]
                out = np.asarray(seq_list, dtype=out.dtype)
            elif op == "synonym":
                out = out.copy()
                pos = rng.choice(n, size=min(k, n), replace=False)
                out[pos] = self.neighbours[out[pos], rng.integers(self.neighbours.shape[1], size=len(pos))]
            elif op == "insert":
                words = self.neighbours[out[rng.integers(n, size=k)], rng.integers(self.neighbours.shape[1], size=k)]
                out = np.insert(out, rng.integers(n + 1, size=k), words)
        if len(out) > self.max_len:
            out = np.asarray(truncate(list(out), self.max_len, self.truncation), dtype=np.int64)
        return out
