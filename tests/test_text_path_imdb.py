"""The fast text path on the full IMDB test split (skipped where ../shared/data/imdb is absent):
the shipped tokenizer and a stop-word tokenizer fitted on IMDB train give, on all 25,000 test
reviews, the ids the old path gives (tests/test_text_path.py says what old and new are)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED_IMDB
from test_text_path import SIDES, legacy_copy, shipped
from tokenizers import Tokenizer

from sentiment_lab.text.tokenizer import TextEncoder, _normalizer, clip_flat, legacy_word_splitter, new_tokenizer

pytestmark = [pytest.mark.smoke,
              pytest.mark.skipif(not SHARED_IMDB.exists(), reason="../shared/data/imdb archive not present")]


@pytest.fixture(scope="module")
def imdb() -> dict[str, list[str]]:
    from sentiment_lab.data import load_imdb

    records = load_imdb(SHARED_IMDB, progress=False)
    return {s: [r.text for r in records if r.split == s] for s in ("train", "test")}


def check_full_split(old: Tokenizer, new: TextEncoder, texts: list[str]) -> None:
    """Untruncated ids once, then every truncation side and two max_len against clip()."""
    encs = old.encode_batch(texts, add_special_tokens=False)
    flat, lengths = new.encode_untruncated(texts)
    assert lengths.tolist() == [len(e.ids) for e in encs]
    assert np.array_equal(flat, np.fromiter((i for e in encs for i in e.ids), np.int64, int(lengths.sum())))
    for max_len in (200, 400):
        for side in SIDES:
            new.max_len, new.truncation = max_len, side
            got = clip_flat(flat, lengths, max_len, side)
            assert all(np.array_equal(g, new.clip(e.ids)) for g, e in zip(got, encs))
    new.max_len, new.truncation = 400, "head+tail"
    assert all(np.array_equal(g, new.clip(e.ids)) for g, e in zip(new.encode(texts), encs))  # end to end


def test_shipped_tokenizer_on_the_full_test_split(imdb):
    assert len(imdb["test"]) == 25_000
    old = shipped()
    assert old.pre_tokenizer.__getstate__() == legacy_word_splitter("none").__getstate__()
    check_full_split(old, TextEncoder(shipped(), 400, "head+tail"), imdb["test"])


def test_stopword_tokenizer_fitted_on_train_on_the_full_test_split(imdb):
    """Fitted the old way (legacy splitter, as bundles were) and the new way: same vocabulary;
    then the old bundle's ids through the new path."""
    tok, trainer = new_tokenizer("word", "english")
    tok.pre_tokenizer = legacy_word_splitter("english")
    tok.normalizer = _normalizer()
    tok.train_from_iterator(imdb["train"], trainer(vocab_size=5000, special_tokens=["[PAD]", "[UNK]"],
                                                   show_progress=False))
    new = TextEncoder.fit(imdb["train"], vocab_size=5000, max_len=200, stopwords="english")
    assert new.tokenizer.get_vocab() == tok.get_vocab()
    check_full_split(tok, TextEncoder(legacy_copy(tok, "english"), 200, "tail"), imdb["test"])
