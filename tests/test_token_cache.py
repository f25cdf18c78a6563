"""The on-disk token-id cache: same ids as TextEncoder.encode, read back without
tokenizing, never stale, rebuilt when damaged, size-capped, and off when asked."""
from __future__ import annotations

import numpy as np
import pytest

from sentiment_lab.text import token_cache
from sentiment_lab.analysis.data_plots import review_lengths
from sentiment_lab.text.tokenizer import TextEncoder

TEXTS = ["A great film, truly great!", "awful <br /> awful acting and a dull plot that goes on and on and on",
         "...", "Le film était très beau", "zorblax quux " * 30, "ok"]


class CountingTokenizer:
    """Delegates to a real tokenizer and counts the batches it tokenizes."""

    def __init__(self, tok):
        self.tok, self.calls = tok, 0

    def to_str(self):
        return self.tok.to_str()

    def encode_batch_fast(self, texts, **kw):
        self.calls += 1
        return self.tok.encode_batch_fast(texts, **kw)


@pytest.fixture()
def encoder() -> TextEncoder:
    return TextEncoder.fit(TEXTS * 3, vocab_size=40, max_len=8, truncation="head+tail")


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_LAB_IDS_CACHE", str(tmp_path / "ids"))
    return tmp_path / "ids"


@pytest.mark.parametrize("side", ["head", "tail", "head+tail"])
def test_same_ids_and_lengths_as_the_encoder(encoder, side):
    encoder.truncation = side
    seqs, full = token_cache.encode_with_lengths(encoder, TEXTS)
    expected = encoder.encode(TEXTS)
    assert len(seqs) == len(expected)
    for got, want in zip(seqs, expected):
        assert got.dtype == np.int64 and got.tolist() == want.tolist()
    assert full.tolist() == review_lengths(TEXTS, encoder).tolist()
    assert full[4] > encoder.max_len and len(seqs[4]) == encoder.max_len  # truncated, full length kept
    assert seqs[2].tolist() == [1]  # only dropped punctuation: one [UNK], never empty


def test_second_call_reads_the_cache_without_tokenizing(encoder, cache_in_tmp):
    counting = CountingTokenizer(encoder.tokenizer)
    encoder.tokenizer = counting
    first, _ = token_cache.encode_with_lengths(encoder, TEXTS)
    assert counting.calls == 1 and len(list(cache_in_tmp.glob("*.ids.npy"))) == 1
    ids, _ = token_cache.full_ids(encoder, TEXTS)
    again, _ = token_cache.encode_with_lengths(encoder, TEXTS)
    assert counting.calls == 1 and isinstance(ids, np.memmap)
    assert [a.tolist() for a in again] == [a.tolist() for a in first]
    encoder.max_len = 4  # another max_len shares the untruncated entry
    shorter, _ = token_cache.encode_with_lengths(encoder, TEXTS)
    assert counting.calls == 1 and max(len(s) for s in shorter) == 4


def test_changed_text_or_tokenizer_is_never_served_stale_ids(encoder):
    token_cache.encode_with_lengths(encoder, TEXTS)
    changed = TEXTS[:-1] + ["great"]
    seqs, _ = token_cache.encode_with_lengths(encoder, changed)
    assert seqs[-1].tolist() == encoder.encode(["great"])[0].tolist()
    other = TextEncoder.fit(["great great film"] * 3, vocab_size=10, max_len=8)
    assert token_cache.cache_key(other, TEXTS) != token_cache.cache_key(encoder, TEXTS)
    assert token_cache.cache_key(encoder, ["ab", "c"]) != token_cache.cache_key(encoder, ["a", "bc"])


def test_a_damaged_entry_is_rebuilt(encoder, cache_in_tmp):
    want = [s.tolist() for s in token_cache.encode_with_lengths(encoder, TEXTS)[0]]
    (ids_path,) = cache_in_tmp.glob("*.ids.npy")
    ids_path.write_bytes(ids_path.read_bytes()[:40])
    assert [s.tolist() for s in token_cache.encode_with_lengths(encoder, TEXTS)[0]] == want
    offsets = np.load(ids_path.with_name(ids_path.name.replace(".ids", ".offsets")))
    assert np.load(ids_path).size == offsets[-1] > 40 // 4  # rewritten whole


def test_off_writes_nothing(encoder, cache_in_tmp, monkeypatch):
    monkeypatch.setenv("SENTIMENT_LAB_IDS_CACHE", "0")
    seqs, _ = token_cache.encode_with_lengths(encoder, TEXTS)
    assert len(seqs) == len(TEXTS) and not cache_in_tmp.exists()


def test_least_recently_used_entries_go_beyond_the_cap(encoder, cache_in_tmp):
    import os

    def entry_size(ids_path):
        return ids_path.stat().st_size + ids_path.with_name(ids_path.name.replace(".ids", ".offsets")).stat().st_size

    token_cache.encode_with_lengths(encoder, TEXTS[:3])
    (old,) = cache_in_tmp.glob("*.ids.npy")
    os.utime(old, (1, 1))  # long unused
    token_cache.encode_with_lengths(encoder, TEXTS[3:])
    (new,) = set(cache_in_tmp.glob("*.ids.npy")) - {old}
    token_cache._prune(cache_in_tmp, cap=entry_size(old) + entry_size(new))  # at the cap: nothing goes
    assert old.exists() and new.exists()
    token_cache._prune(cache_in_tmp, cap=entry_size(new))
    assert not old.exists() and new.exists()
    assert not list(cache_in_tmp.glob("*.part"))
