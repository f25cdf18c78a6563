"""The fastText baseline: it learns, its pickle-free bundle round-trips and is verified, its
NumPy predictor gives the `fasttext` package's own probabilities (built data with words
outside the vocabulary and non-ASCII bytes, and real IMDB reviews when ../shared/data is
here), and a missing package or a bad parameter is one line."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sentiment_lab.cli import app
from sentiment_lab.compare.baselines import get_baseline, load_baseline
from sentiment_lab.compare.baselines.fasttext_bigrams import EOS, FastTextBaseline, fnv1a, tokenize
from sentiment_lab.exceptions import BundleError, ConfigError, SentimentLabError

SHARED = Path(os.environ.get("SENTIMENT_LAB_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SMALL = {"bucket": 50_000, "epoch": 25}  # learns the tiny corpus; a small hash table keeps bundles small


def xy(records):
    return [r.text for r in records], [r.label for r in records]


def fasttext_p_positive(model, texts) -> np.ndarray:
    """P(positive) from the fasttext package itself, on the same tokens (one line at a time:
    fasttext-wheel 0.9.2's multi-line predict repeats the first probability)."""
    out = []
    for t in texts:
        pairs = model.f.predict(" ".join(tokenize(t)) + "\n", 2, 0.0, "strict")
        out.append(next(p for p, label in pairs if label == "__label__1"))
    return np.array(out)


def test_tokenize_keeps_fit_and_predict_identical():
    assert tokenize("Great film!<br />Didn't LIKE it, though...") == \
        ["great", "film", "!", "didn't", "like", "it", ",", "though", ".", ".", "."]
    assert tokenize("a\0b") == ["a", "b"]  # fastText reads NUL as a space
    assert tokenize("__label__1 is not a label") == ["label__1", "is", "not", "a", "label"]


def test_fnv1a_is_fasttexts_hash():
    """Dictionary::hash on known values: bytes >= 128 are sign-extended (the é and the emoji)."""
    assert fnv1a("") == 2166136261
    assert fnv1a("a") == 0xE40C292C  # FNV-1a 32 of "a"
    unsigned = 2166136261
    for b in "é".encode():
        unsigned = ((unsigned ^ b) * 16777619) & 0xFFFFFFFF
    assert fnv1a("é") != unsigned  # the plain FNV-1a would differ for non-ASCII


def test_learns_and_round_trips_without_pickle(corpus_splits, tmp_path):
    pytest.importorskip("fasttext")
    x, y = xy(corpus_splits.train)
    xt, yt = xy(corpus_splits.test)
    clf = get_baseline("fasttext", **SMALL).fit(x, y)
    assert clf.score(xt, yt) >= 0.9
    p = clf.predict_proba(xt)
    d = clf.save_pretrained(tmp_path / "ft")
    assert sorted(f.name for f in d.iterdir()) == ["arrays.safetensors", "baseline.json", "vocabulary.json"]
    for f in d.iterdir():
        assert not f.read_bytes().startswith(b"\x80")  # no pickle protocol header anywhere
    meta = json.loads((d / "baseline.json").read_text())
    assert meta["name"] == "fasttext" and meta["params"]["word_ngrams"] == 2
    again = load_baseline(d)
    assert type(again) is FastTextBaseline and again.get_params() == clf.get_params()
    assert np.array_equal(again.predict_proba(xt), p)
    arrays = d / "arrays.safetensors"
    raw = bytearray(arrays.read_bytes())
    raw[-1] ^= 1
    arrays.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="arrays.safetensors does not match its checksum"):
        load_baseline(d)


def test_numpy_predictor_gives_fasttexts_probabilities(corpus_splits):
    """Built data with words never seen in training, accents and emoji (multi-byte UTF-8,
    whose hash depends on fastText reading bytes as signed chars), and n-grams of 1 to 3."""
    pytest.importorskip("fasttext")
    x, y = xy(corpus_splits.train)
    x = [t + (" café déjà vu 😀" if i % 3 else " naïve") for i, t in enumerate(x)]
    probe = xy(corpus_splits.test)[0] + ["zorblax quux! déjà 😀😀", "naïve café", "?", "unseen words only here"]
    for n in (1, 2, 3):
        clf = FastTextBaseline(word_ngrams=n, **SMALL)
        model = clf._train(x, np.array(y))
        clf.from_fasttext(model)
        np.testing.assert_allclose(clf.predict_proba(probe)[:, 1], fasttext_p_positive(model, probe), atol=2e-5)
    assert EOS in clf.words_  # every line ends with </s>, which is a word of its own


@pytest.mark.smoke
def test_agrees_with_fasttext_on_imdb_reviews():
    """Real reviews (HTML, long texts, rare words): the saved form predicts what fastText does."""
    pytest.importorskip("fasttext")
    archive = SHARED / "imdb" / "aclImdb_v1_labeled.tar.gz"
    if not archive.is_file():
        pytest.skip("../shared/data/imdb is not here")
    from sentiment_lab.data import load_imdb, subsample

    records = load_imdb(archive, progress=False)
    train = subsample([r for r in records if r.split == "train"], 3000, 0)
    test = subsample([r for r in records if r.split == "test"], 2000, 0)
    clf = FastTextBaseline(bucket=200_000)
    model = clf._train(*(lambda t, y: (t, np.array(y)))(*xy(train)))
    clf.from_fasttext(model)
    texts = [r.text for r in test]
    ours, theirs = clf.predict_proba(texts)[:, 1], fasttext_p_positive(model, texts)
    np.testing.assert_allclose(ours, theirs, atol=2e-5)  # fastText adds 1e-5 before its log
    assert np.mean((ours >= 0.5) == np.array([r.label for r in test])) > 0.7


def test_missing_package_is_one_line_naming_the_extra(corpus_splits, monkeypatch, tmp_path, imdb_archive):
    monkeypatch.setitem(sys.modules, "fasttext", None)  # import fasttext -> ImportError
    with pytest.raises(SentimentLabError, match=r"pip install 'sentiment-lab\[fasttext\]'"):
        get_baseline("fasttext").fit(*xy(corpus_splits.train))
    r = CliRunner().invoke(app, ["baseline", "train", "fasttext", "--data", str(imdb_archive), "-o", str(tmp_path / "f")])
    errors = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
    assert r.exit_code == 1 and "Traceback" not in r.output and len(errors) == 1, r.output
    assert "sentiment-lab[fasttext]" in errors[0] and not (tmp_path / "f").exists()


def test_a_saved_model_predicts_without_the_package(corpus_splits, monkeypatch, tmp_path):
    pytest.importorskip("fasttext")
    d = get_baseline("fasttext", **SMALL).fit(*xy(corpus_splits.train)).save_pretrained(tmp_path / "ft")
    monkeypatch.setitem(sys.modules, "fasttext", None)
    assert load_baseline(d)(["a superb story and wonderful actors"])[0]["label"] == "positive"


@pytest.mark.parametrize("params, fragment", [({"lr": 0}, "lr=0"), ({"word_ngrams": 9}, "word_ngrams=9"),
                                              ({"epoch": "five"}, "epoch='five'"), ({"bucket": 1.5}, "bucket=1.5")])
def test_bad_parameters_are_refused_before_training(params, fragment):
    with pytest.raises(ConfigError, match=fragment):
        FastTextBaseline(**params).fit(["good film", "bad film"], [1, 0])


def test_cli_train_and_predict(imdb_archive, tmp_path):
    pytest.importorskip("fasttext")
    out = tmp_path / "ft"
    r = CliRunner().invoke(app, ["baseline", "train", "fasttext", "--data", str(imdb_archive), "-p", "bucket=1000",
                                 "-p", "epoch=20", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads((out / "baseline.json").read_text())["params"]["bucket"] == 1000
    r = CliRunner().invoke(app, ["baseline", "predict", str(out), "a great film"])
    assert r.exit_code == 0 and json.loads(r.output)["label"] in ("positive", "negative")
