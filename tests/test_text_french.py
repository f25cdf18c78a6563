"""French tokenization (text.language = "fr"): accents kept, ’ read as ', elisions as tokens of
their own, negations never dropped; the fast path gives the tokenizer's own ids; the setting
travels in config.json and bundles, and English bundles (none of which has it) read as before."""
from __future__ import annotations

import json

import pytest
from test_text_path import adversarial_texts, fuzz_texts, shipped, suite_texts

from sentiment_lab.config import Config, load_config
from sentiment_lab.exceptions import ConfigError
from sentiment_lab.text.tokenizer import TextEncoder, _FastWords

FRENCH = [
    "L’amour, c'est beau ! Je n'aime PAS ça. Qu'il vienne jusqu’à l'école ?",
    "Aujourd'hui, lorsqu'il pleut, puisqu'elle dort, d'accord, s'il t'aime, m'a, j'ai, quoiqu'on dise",
    "Très ÉLÉGANT, où est la naïveté ? Ne jamais plus rien, ce n’est pas bon",
    "l' amour, l'  école, 'l'amour' ‘l’amour’ lʼamour prud'homme presqu'île",
    "C’était nul!!! Je ne recommande pas. Rien à voir avec l’original... 2/10",
]


@pytest.fixture(scope="module")
def fr() -> TextEncoder:
    return TextEncoder.fit(FRENCH * 2, vocab_size=500, max_len=400, language="fr")


def pieces(enc: TextEncoder, text: str) -> list[str]:
    """The words the tokenizer makes of `text` before the vocabulary (an unknown one stays itself)."""
    tok = enc.tokenizer
    return [w for w, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(text))]


@pytest.mark.parametrize("text, tokens", [
    ("L'amour", ["l'", "amour"]),
    ("L’amour", ["l'", "amour"]),  # typographic apostrophe, as the French keyboard types it
    ("lʼamour", ["l'", "amour"]),
    ("Je n'aime pas ça", ["je", "n'", "aime", "pas", "ça"]),
    ("qu'il jusqu'à lorsqu'il puisqu'elle", ["qu'", "il", "jusqu'", "à", "lorsqu'", "il", "puisqu'", "elle"]),
    ("d'accord, c'est s'il t'aime m'a j'ai", ["d'", "accord", "c'", "est", "s'", "il", "t'", "aime", "m'", "a", "j'", "ai"]),
    ("Aujourd'hui prud'homme", ["aujourd'hui", "prud'homme"]),  # an inner apostrophe keeps the word whole
    ("Très ÉLÉGANT, naïveté où", ["très", "élégant", "naïveté", "où"]),  # lowercase, accents kept
    ("ne pas jamais plus rien", ["ne", "pas", "jamais", "plus", "rien"]),  # negations are never dropped
    ("l' amour", ["l", "amour"]),  # an apostrophe before a space elides nothing
    ("Nul ! Vraiment ?", ["nul", "!", "vraiment", "?"]),
])
def test_french_tokens(fr, text, tokens):
    assert pieces(fr, text) == tokens
    known = [t for t in tokens if t in fr.tokenizer.get_vocab()]
    assert [t for t in fr.tokens(text) if t != "[UNK]"] == known  # the ids the model reads follow the pieces


def test_english_keeps_elided_words_whole():
    en = TextEncoder.fit(FRENCH * 2, vocab_size=500, max_len=400)
    assert pieces(en, "L’amour n'est pas") == ["l’amour", "n'est", "pas"]


def test_the_fast_path_gives_the_tokenizers_ids(fr):
    texts = FRENCH + suite_texts() + adversarial_texts() + fuzz_texts(1500) + [t.replace("'", "’") for t in FRENCH]
    assert isinstance(_FastWords.of(fr.tokenizer), _FastWords)
    flat, lengths = fr.encode_untruncated(texts)
    want = fr.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    assert lengths.tolist() == [len(e.ids) for e in want]
    assert flat.tolist() == [i for e in want for i in e.ids]


def test_french_normalizer_is_not_taken_for_english():
    """The fast path reads the language from the normalizer: a French tokenizer never goes the
    English way (l’ would stay glued), and the shipped English one is untouched."""
    fast = _FastWords.of(TextEncoder(shipped(), 10, "tail").tokenizer)  # converted on load
    assert fast is not None and fast.apostrophes is None
    assert pieces(TextEncoder(shipped(), 10, "tail"), "l’amour") == ["l’amour"]


def test_language_setting():
    assert Config().text.language == "en" and load_config("french").text.language == "fr"
    with pytest.raises(ConfigError, match="text.language='de' is not valid; choose one of en, fr"):
        load_config("seed", ["text.language=de"])
    with pytest.raises(ConfigError, match="English list; with text.language='fr' use text.stopwords='none'"):
        load_config("seed", ["text.language=fr", "text.stopwords=english"])


def test_config_json_names_the_language_only_when_not_english():
    """English configs are written as before (no key): run folders and bundles stay comparable."""
    assert "language" not in load_config("default").to_dict()["text"]
    french = load_config("french")
    assert french.to_dict()["text"]["language"] == "fr"
    assert Config.from_dict(json.loads(json.dumps(french.to_dict()))) == french
    old = load_config("default").to_dict()
    assert "language" not in old["text"] and Config.from_dict(old).text.language == "en"


def test_a_french_bundle_round_trip(tmp_path, corpus_splits):
    from conftest import tiny_config

    from sentiment_lab.inference.classifier import SentimentClassifier
    from sentiment_lab.training.loop import fit

    result = fit(tiny_config(**{"text.language": "fr", "train.epochs": "1"}), corpus_splits, tmp_path / "run",
                 progress=False)
    meta = json.loads((result.run_dir / "bundle" / "config.json").read_text())
    assert meta["config"]["text"]["language"] == "fr"
    clf = SentimentClassifier.from_pretrained(result.run_dir / "bundle", backend="numpy")
    assert clf.config.text.language == "fr"
    assert pieces(clf.encoder, "L’école n’est pas finie") == ["l'", "école", "n'", "est", "pas", "finie"]


def test_an_old_bundle_reads_as_english_with_the_same_ids(tiny_bundle):
    """Bundles saved before text.language have no such key (the shipped one, the tiny one): they
    load as English and give the ids their own tokenizer.json gives."""
    from sentiment_lab.inference.bundle import default_bundle
    from sentiment_lab.inference.classifier import SentimentClassifier
    from tokenizers import Tokenizer

    texts = FRENCH + ["It's a GREAT film, isn’t it?! <br />The end."]
    for bundle in (default_bundle(), tiny_bundle):
        assert "language" not in json.loads((bundle / "config.json").read_text())["config"]["text"]
        clf = SentimentClassifier.from_pretrained(bundle, backend="numpy")
        assert clf.config.text.language == "en"
        raw = Tokenizer.from_file(str(bundle / "tokenizer.json"))
        want = [e.ids for e in raw.encode_batch(texts, add_special_tokens=False)]
        assert [a.tolist() for a in clf.encoder.encode(texts)] == [clf.encoder.clip(w).tolist() for w in want]
