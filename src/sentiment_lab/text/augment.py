"""Text augmentation for training: EDA (Wei & Zou 2019) on token ids, fresh every epoch.

Operations, each touching about alpha * n of a review's n tokens:
- delete:  drop each token with probability alpha (at least one token survives);
- swap:    exchange two random positions, alpha * n times in a row;
- insert:  insert a neighbour of a random token of the review at a random position;
- synonym: replace tokens by one of their nearest neighbours in word vectors trained on
           the training split (vectors.py). Neighbours in a sentiment-agnostic word2vec
           space are not always synonyms ("good" ~ "bad" often), which is why its effect is
           measured rather than assumed.
- counterfactual: swap attribute words (religion, nationality, ethnicity, sexual orientation,
           gender, first names, places) for others of their group; alpha does not apply, every
           listed word is redrawn (counterfactual.py says which words and why).
Working on ids (not strings) keeps it cheap and keeps the tokenizer out of the loop. A whole
batch is augmented at once, as one flat array of ids with a review number per id: a few NumPy
calls per batch instead of a few per review, which took ~0.6 s of the seed preset's 11 s epoch.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from sentiment_lab.text.counterfactual import CounterfactualTable

Ragged = tuple[np.ndarray, np.ndarray]  # (ids of all reviews one after another, each review's length)


class Augmenter:
    def __init__(self, ops: str, alpha: float, max_len: int, truncation: str,
                 neighbours: np.ndarray | None = None, counterfactual: CounterfactualTable | None = None) -> None:
        self.ops = [] if ops == "none" else ops.split(",")
        if any(op in ("insert", "synonym") for op in self.ops) and neighbours is None:
            raise ValueError("insert and synonym need a neighbour table (word vectors)")
        if "counterfactual" in self.ops and counterfactual is None:
            raise ValueError("counterfactual needs a table of attribute words (CounterfactualTable.build)")
        self.alpha, self.max_len, self.truncation, self.neighbours = alpha, max_len, truncation, neighbours
        self.counterfactual = counterfactual

    def __call__(self, seq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One augmented review."""
        ids, lengths = self.batch([seq], rng)
        return ids[0, :lengths[0]]

    def batch(self, seqs: Sequence[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Augmented reviews, right-padded: (ids (B, T), lengths (B,)). Reviews must be non-empty
        (encoding never gives an empty one: an empty text is one [UNK])."""
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        flat = np.concatenate(seqs).astype(np.int64, copy=False)  # a new array: the inputs are never modified
        for op in self.ops:
            flat, lengths = getattr(self, "_" + op)(flat, lengths, rng)
        flat, lengths = self._truncate(flat, lengths)
        row, pos = _coords(lengths)
        ids = np.zeros((len(lengths), int(lengths.max())), dtype=np.int64)
        ids[row, pos] = flat
        return ids, lengths

    def _count(self, lengths: np.ndarray) -> np.ndarray:
        """Tokens each operation touches per review: alpha * n, at least one."""
        return np.maximum(1, np.rint(self.alpha * lengths).astype(np.int64))

    def _delete(self, flat: np.ndarray, lengths: np.ndarray, rng: np.random.Generator) -> Ragged:
        row, _ = _coords(lengths)
        keep = rng.random(len(flat)) >= self.alpha
        kept = np.bincount(row[keep], minlength=len(lengths))
        empty = np.flatnonzero(kept == 0)  # everything drawn for deletion: one random token survives
        keep[_starts(lengths)[empty] + rng.integers(lengths[empty])] = True
        return flat[keep], np.bincount(row[keep], minlength=len(lengths))

    def _swap(self, flat: np.ndarray, lengths: np.ndarray, rng: np.random.Generator) -> Ragged:
        # k transpositions per review, applied in order: step j swaps one pair in every review
        # with more than j of them (pairs of different reviews never overlap)
        k = np.where(lengths > 1, self._count(lengths), 0)
        starts = _starts(lengths)
        for j in range(int(k.max(initial=0))):
            live = np.flatnonzero(k > j)
            a, b = (starts[live] + rng.integers(lengths[live]) for _ in range(2))
            flat[a], flat[b] = flat[b], flat[a]
        return flat, lengths

    def _synonym(self, flat: np.ndarray, lengths: np.ndarray, rng: np.random.Generator) -> Ragged:
        # k distinct positions per review: the k smallest of one random key per token
        row, _ = _coords(lengths)
        order = np.lexsort((rng.random(len(flat)), row))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(flat)) - _starts(lengths)[row[order]]
        pos = np.flatnonzero(rank < np.minimum(self._count(lengths), lengths)[row])
        flat[pos] = self.neighbours[flat[pos], rng.integers(self.neighbours.shape[1], size=len(pos))]
        return flat, lengths

    def _counterfactual(self, flat: np.ndarray, lengths: np.ndarray, rng: np.random.Generator) -> Ragged:
        row, _ = _coords(lengths)
        return self.counterfactual.apply(flat, row, len(lengths), rng), lengths  # type: ignore[union-attr]

    def _insert(self, flat: np.ndarray, lengths: np.ndarray, rng: np.random.Generator) -> Ragged:
        # k neighbours of random tokens of the review, each before a random position 0..n
        k = self._count(lengths)
        new_row = np.repeat(np.arange(len(lengths)), k)
        source = flat[_starts(lengths)[new_row] + rng.integers(lengths[new_row])]
        words = self.neighbours[source, rng.integers(self.neighbours.shape[1], size=len(source))]
        at = rng.integers(lengths[new_row] + 1)
        row, pos = _coords(lengths)
        # order by review, then position; an insertion goes before the token it was put at
        order = np.lexsort((np.r_[np.ones(len(flat)), np.zeros(len(words))], np.r_[pos, at], np.r_[row, new_row]))
        return np.r_[flat, words][order], lengths + k

    def _truncate(self, flat: np.ndarray, lengths: np.ndarray) -> Ragged:
        """Reviews made longer than max_len (by insert) are cut as the tokenizer would."""
        if lengths.max() <= self.max_len:
            return flat, lengths
        row, pos = _coords(lengths)
        n, cap = lengths[row], self.max_len
        head = {"head": cap, "tail": 0, "head+tail": cap // 2}[self.truncation]
        keep = (n <= cap) | (pos < head) | (pos >= n - (cap - head))
        return flat[keep], np.minimum(lengths, cap)


def _starts(lengths: np.ndarray) -> np.ndarray:
    return np.cumsum(lengths) - lengths


def _coords(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Review number and position within its review of every id of the flat array."""
    row = np.repeat(np.arange(len(lengths)), lengths)
    return row, np.arange(len(row)) - _starts(lengths)[row]
