"""Hashed n-grams of token ids: the bucket of each word, bigram and trigram, shared by the
model's n-gram embeddings and bag-of-n-grams term (models.rnn) and the NumPy backend, in NumPy
so that the backend needs no torch."""
from __future__ import annotations

import numpy as np


# Multipliers of the n-gram hash (models.rnn.NgramEmbedding): large and odd, so consecutive
# ids land far apart in the table. Kept here, torch-free, so both forward passes (torch and NumPy) share them.
NGRAM_PRIMES = (1_000_003, 2_654_435_761, 40_503, 97_374_611)


def ngram_hashes(ids: np.ndarray, buckets: int, order: int) -> np.ndarray:
    """Bucket ids (B, T, order - 1) of the bigram (and trigram) ending at each step of
    right-padded ids (B, T); steps before the first token count as [PAD] (id 0)."""
    p = NGRAM_PRIMES
    ids = ids.astype(np.int64)
    prev = np.pad(ids, ((0, 0), (1, 0)))[:, :-1]
    h2 = ids * p[0] + prev * p[1]
    out = [np.remainder(h2, buckets)]
    if order >= 3:
        prev2 = np.pad(ids, ((0, 0), (2, 0)))[:, :-2]
        out.append(np.remainder(h2 + prev2 * p[2] + p[3], buckets))
    return np.stack(out, axis=-1)


def bag_hashes(ids: np.ndarray, buckets: int, order: int) -> np.ndarray:
    """Bucket ids (B, T, order) of the word, bigram and trigram ending at each step, for the
    bag-of-n-grams term (models.rnn.BagOfNgrams); steps before the first token count as [PAD].
    Words get their own offset, so a word and the bigram ([PAD], word) stay apart."""
    p = NGRAM_PRIMES
    ids = ids.astype(np.int64)
    out = [np.remainder(ids * p[2] + 3 * p[3], buckets)[..., None]]
    if order >= 2:
        out.append(ngram_hashes(ids, buckets, order))
    return np.concatenate(out, axis=-1)
