"""Proper nouns read as [UNK] (text/proper_nouns.py, text.proper_nouns = "unknown"): which words
the rules take from mixed-case training texts, that the vocabulary keeps its size without them,
and that a model trained so gives the same answer whichever name a sentence holds."""
import numpy as np
import pandas as pd
import pytest

from sentiment_lab.config import load_config
from sentiment_lab.exceptions import ConfigError
from sentiment_lab.text.proper_nouns import count_cases, proper_nouns, without_words
from sentiment_lab.text.tokenizer import UNK_ID, TextEncoder

NAMES = ["Edward", "Mary", "Tokyo", "Lagos", "Jennifer", "Connor"]


def _reviews(n: int = 12) -> list[str]:
    out = []
    for i in range(n):
        name = NAMES[i % len(NAMES)]
        out += [f"I watched it with {name} and it was great fun.", f"We saw it in {NAMES[(i + 1) % 6]}, and it was dull.",
                f"It was boring, said {name}.", "A great film, great cast.", "A dull film, dull plot."]
    return out


def test_mid_sentence_capitals_are_counted_sentence_starts_are_not():
    capital, seen = count_cases(["Great film. Edward liked it, Mary did too, great!", "Edward and Mary",
                                 "edward all lowercase, like sst-2", "EDWARD SHOUTS, MARY TOO"])
    assert (capital["edward"], seen["edward"]) == (0, 0)  # first word of a text: its capital is the sentence's
    assert (capital["mary"], seen["mary"]) == (2, 2)  # after a comma and after a word
    assert seen["liked"] == 1 and capital["liked"] == 0
    assert (capital["great"], seen["great"]) == (0, 1)  # the last "great" (after a comma); not the first
    assert count_cases(["It was fine. Great", "It was fine! (Great"])[1]["great"] == 0  # after . ! or a bracket


def test_proper_nouns_need_enough_capitalised_sightings():
    words = proper_nouns(_reviews())
    assert {"edward", "mary", "tokyo", "lagos", "jennifer", "connor"} <= words
    assert not words & {"it", "great", "dull", "i", "and"}
    assert proper_nouns(_reviews(2)) == set()  # each name seen two or three times: too rare to judge
    # 'Will' capitalised once among many lowercase 'will' is not a name
    assert "will" not in proper_nouns(["It will do, Will said."] + ["we will see it, it will be fine"] * 5)


def test_without_words_keeps_the_vocabulary_size_and_reads_them_as_unknown(tmp_path):
    texts = _reviews()
    full = TextEncoder.fit(texts, 100, 50)  # every word of the texts
    nouns = proper_nouns(texts)
    size = full.vocab_size - len(nouns) - 2
    enc, n = without_words(full, nouns, size)
    assert n == len(nouns) == 6 and enc.vocab_size == size
    vocab = enc.tokenizer.get_vocab()
    assert sorted(vocab.values()) == list(range(size)) and not nouns & set(vocab)
    a, b = enc.encode(["Edward lives in Tokyo, great", "Mary lives in Lagos, great"])
    assert np.array_equal(a, b) and a[0] == UNK_ID and a[-1] != UNK_ID
    assert not np.array_equal(*full.encode(["Edward, great", "Mary, great"]))
    enc.save(tmp_path / "tokenizer.json")  # reloaded (and read the fast way, for a large batch) the same
    back = TextEncoder.load(tmp_path / "tokenizer.json", 50, "tail")
    many = ["Edward lives in Tokyo, great"] * 300
    assert np.array_equal(back.encode_untruncated(many)[0], enc.encode_untruncated(many)[0])
    assert back._fast  # the fast path was taken and agreed


def test_a_model_trained_so_ignores_which_name_is_said(tmp_path):
    from sentiment_lab import SentimentClassifier
    from sentiment_lab.training.loop import train

    path = tmp_path / "reviews.csv"
    pd.DataFrame([{"text": t, "label": int("great" in t)} for t in _reviews(24)]).to_csv(path, index=False)
    cfg = load_config("seed", [f"data.source={path}", "text.proper_nouns=unknown", "train.epochs=1",
                               "train.max_steps=3", "text.vocab_size=30", "model.embedding_dim=8",
                               "model.hidden_size=8"])
    train(cfg, tmp_path / "run", progress=False)
    clf = SentimentClassifier.from_pretrained(tmp_path / "run" / "bundle")
    texts = [f"{n} is here, it was great." for n in NAMES]
    ids = clf.encoder.encode(texts)
    assert all((i == ids[0]).all() for i in ids)
    p = clf.predict_proba(texts)[:, 1]
    assert np.ptp(p) < 1e-5  # the same ids; float32 summation order may differ between a batch's thread shards
    assert clf.predict_proba(["It was great."])[0, 1] != clf.predict_proba(["It was dull."])[0, 1]
    assert clf.config.text.proper_nouns == "unknown"


def test_the_setting_is_checked_and_omitted_at_its_default():
    with pytest.raises(ConfigError, match="proper_nouns"):
        load_config("seed", ["text.proper_nouns=merge"])
    with pytest.raises(ConfigError, match="text.proper_nouns='unknown' needs text.level='word'"):
        load_config("seed", ["text.level=bpe", "text.stopwords=none", "text.proper_nouns=unknown"])
    assert "proper_nouns" not in load_config("seed").to_dict()["text"]
