"""The fast text path gives the very ids of the old one.

The old path: the tokenizer as bundles saved it before the one-pattern splitter (WhitespaceSplit,
a word/punctuation Split, a punctuation-removal Split and, with stop words, a stop-word Split),
encoded with encode_batch and truncated text by text with TextEncoder.clip. The new path:
TextEncoder.encode (the one-pattern splitter, the ASCII and stop-word shortcuts of _FastWords,
vectorised truncation) and the converted public tokenizer (same ids and offsets, which explain
reads). Compared here on the challenge suite, on adversarial strings, on seeded random strings
and on every code point of the Basic Multilingual Plane (all 1,114,112 with
SENTIMENT_LAB_FULL_SWEEP=1); on the full IMDB test split in tests/test_text_path_imdb.py."""
from __future__ import annotations

import json
import os
import pickle
import random
from importlib import resources

import numpy as np
import pytest
from tokenizers import Tokenizer, normalizers, pre_tokenizers

from sentiment_lab.text import tokenizer as tk
from sentiment_lab.text.tokenizer import (STOPWORDS, UNK_ID, TextEncoder, _normalizer, clip_flat, legacy_word_splitter,
                                          word_splitter)

SHIPPED = resources.files("sentiment_lab") / "shipped" / "imdb" / "tokenizer.json"
SIDES = ("head", "tail", "head+tail")


def suite_texts() -> list[str]:
    path = resources.files("sentiment_lab") / "analysis" / "challenge" / "suite.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def adversarial_texts() -> list[str]:
    rng = random.Random(7)
    alphabet = ("abcdeéßΣσςİıЖж中文日本語한국어عربيहिन्दीไทย😀👍🏽🇫🇷‍️"
                " '’ʼ‘`´!?.,;:-–—…\"()[]<>/\\_0123456789²½①\t\n\xa0\u3000\u200b")
    long_mix = "".join(rng.choice(alphabet) for _ in range(100_000))
    long_review = ("It's a <br /><br />GREAT film, isn’t it?! The end... " * 2000)[:100_000]
    return [
        # emoji, flags, skin tones, joiners, variation selectors
        "I 😀 loved it 👍🏽!", "🇫🇷🇫🇷 film", "good😀bad", "👨‍👩‍👧 family ❤️ movie", "😀", "☺️☹",
        # mixed scripts, accents, case folding corner cases
        "Très bon film, l’acteur est génial", "ΟΔΟΣ σοφός ΣΟΦΟΣ", "İstanbul ıı I İ", "STRASSE Straße ẞ",
        "фильм хороший", "这部电影很好", "映画は素晴らしい", "영화 최고", "فيلم رائع", "बहुत अच्छी फ़िल्म", "หนังดีมาก",
        "ﬁne ﬂick ＡＢＣ！ｇｏｏｄ？", "e\u0301te\u0301 cafe\u0301", "Ⅻ ⅻ ㎏ ℃", "x\u200by \u200dz\u200c",
        # apostrophes of every kind, inside, around and alone
        "didn't don’t donʼt don‘t don`t don´t", "'quoted' ’quoted’ ʼquotedʼ", "rock 'n' roll", "the'", "'the",
        "it's its' the’s the's l'a o'the", "''", "'", "’", "ʼ", "a''b a’’b a'’b", "a' b 'b a'", "1990's 90’s",
        # HTML and line breaks as IMDB writes them, and as it does not
        "one<br />two<br/>three<br>four<BR />five<br\t/>six<br  \n />seven< br />eight", "<br /><br />",
        "<b>bold</b> <i>it</i> &amp; &#39;s &quot;x&quot;", "<a href='http://x.y/z?a=1&b=2'>link</a>",
        "<br\x0b/><br\x0c><br\x1c/><br\x85/><br\u2028/><br\xa0/>",
        # lone and repeated punctuation, digits, underscores
        "...", "!", "?", "!?!?", "!!!", "???", "?!.", ",", "-", "--", "…", "¡¿", "!x?y!", ".!.?.",
        "10/10", "3.5/5 stars", "1990s", "2 + 2 = 4", "$5", "50%", "#1", "② ¹²³ ¼½¾", "٣ ४ ๓",
        "_", "__init__", "a_b", "_a_ __ b_", "snake_case_word", "x_'y",
        # stop words in every case and context (english list), negations kept
        "THE The the tHe", "The film was NOT good, but it's the one I never liked", "a an and A AN AND",
        "it is what it is", "he she his her him they their them i my me you your we our who which",
        "the the the the", "the-the", "the_the", "the!the?the", "theory anthem another isn't",
        # added tokens typed by a user, and things near them
        "[PAD] [UNK] [pad] [unk] x[PAD]y [UNK][UNK] [PAD", "PAD UNK",
        # whitespace of every kind, control characters
        "a\tb\nc\rd\x0be\x0cf\x1cg\x1dh\x1ei\x1fj\x85k\xa0l",
        "l\u1680m\u2000n\u2028o\u2029p\u202fq\u205fr\u3000s\u180et\ufeffu",
        "\x00a\x00b", "a\x7fb\x01c", " ", "", "   x   ",
        # long texts
        long_mix, long_review, "x" * 100_000, "! " * 50_000, "the " * 25_000,
    ]


def fuzz_texts(n: int = 3000, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    pieces = ["the", "The", "a", "an", "not", "good", "bad", "film", "it", "its", "it's", "don't", "don’t", "donʼt",
              "'", "’", "ʼ", "!", "?", ".", ",", "...", "<br />", "<br/>", "<BR>", "<br", "/>", ">", "_", "__", "1",
              "42", "²", "½", "é", "e\u0301", "ß", "Σ", "😀", "[PAD]", "[UNK]", "ﬁ", "Ｆ", " ", " ", "  ", "\t", "\n",
              "\xa0", "\u3000", "\u200b", "\x1c", "-", "(", ")", '"', "中", "ж", "x"]
    return ["".join(rng.choice(pieces) if rng.random() < 0.8 else chr(rng.randrange(32, 0x3000))
                    for _ in range(rng.randrange(0, 40))) for _ in range(n)]


def legacy_copy(tok: Tokenizer, stopwords: str) -> Tokenizer:
    """The tokenizer as it was saved before: same JSON, the old chained splitter."""
    old = Tokenizer.from_str(tok.to_str())
    old.pre_tokenizer = legacy_word_splitter(stopwords)
    return old


def old_encode(old: Tokenizer, texts: list[str], enc: TextEncoder) -> list[np.ndarray]:
    """What TextEncoder.encode did before: encode_batch, then clip() text by text."""
    return [enc.clip(e.ids) for e in old.encode_batch(texts, add_special_tokens=False)]


def assert_same(a: list[np.ndarray], b: list[np.ndarray], texts: list[str]) -> None:
    assert len(a) == len(b) == len(texts)
    for x, y, t in zip(a, b, texts):
        assert x.dtype == y.dtype == np.int64 and x.tolist() == y.tolist(), repr(t[:80])


def shipped() -> Tokenizer:
    return Tokenizer.from_file(str(SHIPPED))


@pytest.fixture(autouse=True)
def fast_path_for_every_batch(monkeypatch):
    """These tests prove the fast path, so every batch takes it here; in use only a batch of at
    least tk.FAST_PATH_MIN_TEXTS texts builds it (test_a_few_texts_do_not_build_the_fast_path)."""
    monkeypatch.setattr(tk, "FAST_PATH_MIN_TEXTS", 1)


def test_a_few_texts_do_not_build_the_fast_path(monkeypatch):
    """Building it costs ~40-110 ms once (a cold `predict "one sentence"` paid it) and saves
    nothing on a few short texts: they go through the tokenizer, with the same ids, until a
    batch of FAST_PATH_MIN_TEXTS texts builds it."""
    monkeypatch.setattr(tk, "FAST_PATH_MIN_TEXTS", 16)
    enc = TextEncoder(shipped(), 50, "head+tail")
    texts = suite_texts()[:15]
    few = [a.tolist() for a in enc.encode(texts)]
    assert enc._fast is None
    many = [a.tolist() for a in enc.encode(texts + texts[:1])]
    assert enc._fast and many[:15] == few


def stopword_shipped() -> Tokenizer:
    """The shipped vocabulary behind the stop-word splitter: a big real vocabulary, english stop words."""
    tok = shipped()
    tok.pre_tokenizer = legacy_word_splitter("english")
    return tok


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return suite_texts() + adversarial_texts() + fuzz_texts()


@pytest.fixture(scope="module")
def fitted_on_suite() -> list[tuple[Tokenizer, str]]:
    """Tokenizers fitted the old way (legacy splitter) on the suite and the adversarial strings."""
    out = []
    for stopwords in ("none", "english"):
        tok, trainer = tk.new_tokenizer("word", stopwords)
        tok.pre_tokenizer = legacy_word_splitter(stopwords)
        tok.normalizer = _normalizer()
        tok.train_from_iterator(suite_texts() + adversarial_texts()[:-5],
                                trainer(vocab_size=500, special_tokens=[tk.PAD, tk.UNK], show_progress=False))
        out.append((tok, stopwords))
    return out


def test_the_shipped_bundle_is_converted_on_load():
    assert shipped().pre_tokenizer.__getstate__() == legacy_word_splitter("none").__getstate__()  # as saved
    enc = TextEncoder.load(SHIPPED, 400, "head+tail")
    assert enc.tokenizer.pre_tokenizer.__getstate__() == word_splitter("none").__getstate__()
    assert enc._fast is None and enc.encode(["ok"]) and enc._fast  # the fast path is taken


def assert_same_every_truncation(old: Tokenizer, enc: TextEncoder, texts: list[str]) -> None:
    encs = old.encode_batch(texts, add_special_tokens=False)
    for max_len in (1, 2, 7, 400):
        for side in SIDES:
            enc.max_len, enc.truncation = max_len, side
            assert_same(enc.encode(texts), [enc.clip(e.ids) for e in encs], texts)


@pytest.mark.parametrize("make", [shipped, stopword_shipped], ids=["shipped", "shipped-vocab-english"])
def test_same_ids_as_the_old_path_big_vocabulary(corpus, make):
    stopwords = "english" if make is stopword_shipped else "none"
    old = make()
    assert old.pre_tokenizer.__getstate__() == legacy_word_splitter(stopwords).__getstate__()
    enc = TextEncoder(make(), 400, "tail")
    assert_same(enc.encode(corpus), old_encode(old, corpus, enc), corpus)  # the old code, literally
    assert_same_every_truncation(old, enc, corpus)


def test_same_ids_as_the_old_path_fitted_the_old_way(corpus, fitted_on_suite):
    for tok, stopwords in fitted_on_suite:
        enc = TextEncoder(Tokenizer.from_str(tok.to_str()), 12, "head+tail")
        assert enc._fast is None and enc.encode(["x"]) and enc._fast
        assert_same_every_truncation(tok, enc, corpus)


@pytest.mark.parametrize("stopwords", ["none", "english"])
def test_converted_tokenizer_gives_the_same_ids_offsets_and_tokens(corpus, stopwords):
    """explain and unknown_words read the public tokenizer's offsets and tokens."""
    old = stopword_shipped() if stopwords == "english" else shipped()
    new = TextEncoder(legacy_copy(old, stopwords), 400, "tail").tokenizer
    assert new.pre_tokenizer.__getstate__() == word_splitter(stopwords).__getstate__()
    for a, b in zip(old.encode_batch(corpus, add_special_tokens=False), new.encode_batch(corpus, add_special_tokens=False)):
        assert (a.ids, a.offsets, a.tokens) == (b.ids, b.offsets, b.tokens)


def test_untruncated_ids_are_the_tokenizers(corpus):
    for make in (shipped, stopword_shipped):
        old = make()
        flat, lengths = TextEncoder(make(), 5, "tail").encode_untruncated(corpus)
        want = [e.ids for e in old.encode_batch(corpus, add_special_tokens=False)]
        assert lengths.tolist() == [len(w) for w in want]
        assert flat.dtype == np.int64 and flat.tolist() == [i for w in want for i in w]


def test_a_new_fit_gives_the_vocabulary_the_old_splitter_gave(fitted_on_suite):
    for old, stopwords in fitted_on_suite:
        new = TextEncoder.fit(suite_texts() + adversarial_texts()[:-5], vocab_size=500, max_len=5, stopwords=stopwords)
        assert new.tokenizer.pre_tokenizer.__getstate__() == word_splitter(stopwords).__getstate__()
        assert new.tokenizer.get_vocab() == old.get_vocab()
    assert not set(STOPWORDS["english"]) & set(fitted_on_suite[1][0].get_vocab())  # nor take a slot


def test_stop_words_never_become_unknown():
    enc = TextEncoder(stopword_shipped(), 50, "tail")
    ids = enc.encode(["The film IS the best, and it was"])[0].tolist()
    vocab = enc.tokenizer.get_vocab()
    assert ids == [vocab["film"], vocab["best"]] and UNK_ID not in ids
    assert enc.encode(["the a an and"])[0].tolist() == [UNK_ID]  # nothing left: one [UNK], as before


def sweep_texts(first: int, last: int, step: int = 1) -> list[str]:
    """Every code point in [first, last) in the contexts where a splitter could treat it apart:
    inside a word, alone, doubled, after an apostrophe, around a stop word, before ! and ?."""
    cps = (chr(i) for i in range(first, last, step) if not 0xD800 <= i < 0xE000)
    return [f"a{c}b {c} x'{c}y {c}{c}! the{c} {c}the ?{c}A" for c in cps]


@pytest.mark.parametrize("stopwords", ["none", "english"])
def test_every_code_point_of_the_basic_plane(stopwords):
    run_sweep(stopwords, sweep_texts(0, 0x10000) + sweep_texts(0x10000, 0x110000, 97))


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("SENTIMENT_LAB_FULL_SWEEP") != "1", reason="set SENTIMENT_LAB_FULL_SWEEP=1 (minutes)")
@pytest.mark.parametrize("stopwords", ["none", "english"])
def test_every_code_point(stopwords):
    run_sweep(stopwords, sweep_texts(0x10000, 0x110000))


def run_sweep(stopwords: str, texts: list[str]) -> None:
    vocab = {tk.PAD: 0, tk.UNK: 1, "a": 2, "b": 3, "!": 4, "?": 5, "x'y": 6, "ab": 7, "the": 8}
    spec = json.loads(shipped().to_str())
    spec["model"]["vocab"] = vocab
    spec["pre_tokenizer"] = json.loads(legacy_word_splitter(stopwords).__getstate__())
    old = Tokenizer.from_str(json.dumps(spec))
    enc = TextEncoder(Tokenizer.from_str(json.dumps(spec)), 10**6, "tail")
    got_flat, got_len = enc.encode_untruncated(texts)
    want = old.encode_batch_fast(texts, add_special_tokens=False)
    assert got_len.tolist() == [len(e.ids) for e in want]
    assert got_flat.tolist() == [i for e in want for i in e.ids]
    new = enc.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    bad = [t for t, a, b in zip(texts, want, new) if (a.ids, a.offsets) != (b.ids, b.offsets)]
    assert not bad, [hex(ord(t[1])) for t in bad[:20]]


def test_latin1_shortcut_normalizes_as_the_library():
    """<br> removal with Oniguruma's whitespace on Latin-1, NFKC, lower(): the library's Replace +
    NFKC + Lowercase on every Latin-1 character in and around the <br> pattern, on every pair of
    Latin-1 characters, and on random Latin-1 strings; a text beyond Latin-1 goes the full way."""
    fast = TextEncoder(shipped(), 5, "tail")
    fast.encode(["x"])
    norm, fast = _normalizer(), fast._fast
    texts = []
    for i in range(256):
        c = chr(i)
        texts += [f"<br{c}>", f"<br{c}/>", f"<br{c}{c}/>", f"<BR{c}/>", f"<Br{c}>", f"x{c}<br />{c}Y", c, f"{c}<br>"]
    texts += [chr(a) + chr(b) for a in range(256) for b in range(256)]
    rng = random.Random(5)
    texts += ["".join(chr(rng.choice([rng.randrange(256), ord(rng.choice("<br />Ab'!"))])) for _ in range(rng.randrange(60)))
              for _ in range(3000)]
    for t in texts:
        want = norm.normalize_str(t)
        assert fast.normalize(t) in (want, None), repr(t)
        assert fast.normalize(t) == want or "[PAD]" in t or "[UNK]" in t, repr(t)
    assert fast.normalize("x\u0100") is None and fast.normalize("ok [PAD]") is None


@pytest.mark.parametrize("side", SIDES)
def test_vectorised_truncation_is_clip(side):
    rng = np.random.default_rng(0)
    for max_len in (1, 2, 3, 8, 50):
        lengths = rng.integers(0, 3 * max_len + 2, size=300)
        lengths[:5] = [0, max_len, max_len + 1, 0, 1]
        flat = rng.integers(2, 1000, size=int(lengths.sum()))
        enc = TextEncoder(None, max_len, side)
        starts = np.concatenate([[0], np.cumsum(lengths)])
        want = [enc.clip(flat[a:b].tolist()) for a, b in zip(starts[:-1], starts[1:])]
        got = clip_flat(flat, lengths, max_len, side)
        assert [g.tolist() for g in got] == [w.tolist() for w in want] and all(g.dtype == np.int64 for g in got)
    assert clip_flat(np.zeros(0, np.int64), np.zeros(0, np.int64), 5, side) == []


def test_other_tokenizers_go_the_plain_way(corpus):
    """BPE, another normalizer or splitter, truncation set in the tokenizer: no conversion, no
    shortcut, the tokenizer's own ids."""
    bpe = TextEncoder.fit(suite_texts() * 2, vocab_size=300, max_len=9, level="bpe")
    other_norm = shipped()
    other_norm.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    other_split = shipped()
    other_split.pre_tokenizer = pre_tokenizers.Whitespace()
    truncating = stopword_shipped()
    truncating.enable_truncation(30)
    for tok in (bpe.tokenizer, other_norm, other_split, truncating):
        before = tok.pre_tokenizer.__getstate__()
        enc = TextEncoder(tok, 9, "head+tail")
        if tok is truncating:  # the splitter is converted (the same pieces), the shortcut refused
            assert enc.tokenizer.pre_tokenizer.__getstate__() == word_splitter("english").__getstate__()
            tok = legacy_copy(truncating, "english")
        else:
            assert enc.tokenizer.pre_tokenizer.__getstate__() == before
        assert_same(enc.encode(corpus), old_encode(tok, corpus, enc), corpus)
        assert enc._fast is False


def test_no_texts():
    assert TextEncoder(shipped(), 20, "tail").encode([]) == []
    assert [a.size for a in TextEncoder(shipped(), 20, "tail").encode_untruncated([])] == [0, 0]


def test_replacing_the_tokenizer_drops_the_fast_copies():
    enc = TextEncoder(shipped(), 20, "tail")
    first = enc.encode(["great film"])[0].tolist()
    enc.tokenizer = shipped()  # a legacy splitter assigned later is converted too
    assert enc.tokenizer.pre_tokenizer.__getstate__() == word_splitter("none").__getstate__()
    assert enc.encode(["great film"])[0].tolist() == first and enc._fast
    other = TextEncoder.fit(["great great film film film"], vocab_size=10, max_len=20).tokenizer
    enc.tokenizer = other
    assert enc._fast is None
    assert enc.encode(["great film"])[0].tolist() == [other.token_to_id("great"), other.token_to_id("film")] != first


def test_pickles_without_the_fast_copies():
    enc = TextEncoder(shipped(), 20, "tail")
    want = enc.encode(["a fine film"])[0].tolist()
    back = pickle.loads(pickle.dumps(enc))
    assert back._fast is None and back.encode(["a fine film"])[0].tolist() == want
