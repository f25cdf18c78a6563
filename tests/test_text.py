import numpy as np
import pytest

from sentiment_lab.exceptions import InputError
from sentiment_lab.text.tokenizer import MAX_TEXT_CHARS, PAD_ID, UNK_ID, TextEncoder, check_text, pad_batch, truncate

TEXTS = ["This movie is absolutely fantastic and amazing", "Terrible, boring film.<br />I hated it",
         "Un film très réussi", "fantastic fantastic amazing movie"]


@pytest.fixture(scope="module")
def enc():
    return TextEncoder.fit(TEXTS, vocab_size=100, max_len=5, truncation="tail")


def test_special_ids_and_normalization(enc):
    assert enc.tokenizer.token_to_id("[PAD]") == PAD_ID and enc.tokenizer.token_to_id("[UNK]") == UNK_ID
    assert enc.tokens("Terrible,<br />BORING") == ["terrible", "boring"]  # html, lowercase, punctuation
    pieces = [p for p, _ in enc.tokenizer.pre_tokenizer.pre_tokenize_str("didn't (like) it... !?")]
    assert pieces == ["didn't", "like", "it", "!", "?"]
    assert enc.tokens("Très ﬁlm") == ["très", "film"]  # accents kept, NFKC folds the ligature


def test_no_offset_bug_prediction_uses_training_ids(enc):
    # The notebook encoded its own sentences without Keras's +3 offset. Here the same
    # tokenizer maps a training text and a typed sentence to the same ids.
    vocab = enc.tokenizer.get_vocab()
    ids = enc.encode(["fantastic amazing"])[0]
    assert ids.tolist() == [vocab["fantastic"], vocab["amazing"]]


def test_unknown_words_as_written(enc):
    assert enc.unknown_words("Fantastic Zorblax movie, Zorblax!") == ["Zorblax"]
    assert UNK_ID in enc.encode(["zorblax"])[0].tolist()


def test_stopwords_are_dropped_but_negations_kept(tmp_path):
    texts = ["The film was not good and it is the worst", "I never liked this one, but the cast is fine"]
    enc = TextEncoder.fit(texts, vocab_size=100, max_len=50, stopwords="english")
    assert enc.tokens("The film was NOT good, but it's the one I never liked") == \
        ["film", "not", "good", "but", "[UNK]", "one", "never", "liked"]
    assert "the" not in enc.tokenizer.get_vocab()  # nor does it take a vocabulary slot
    enc.save(tmp_path / "tok.json")  # the rule travels with the tokenizer, so predictions drop them too
    again = TextEncoder.load(tmp_path / "tok.json", 50, "tail")
    assert again.encode(["the film is good"])[0].tolist() == enc.encode(["film good"])[0].tolist()
    assert TextEncoder.fit(texts, vocab_size=100, max_len=50).tokens("the film")[0] == "the"  # off by default


def test_stopwords_only_for_word_level():
    with pytest.raises(ValueError, match="needs text.level='word'"):
        TextEncoder.fit(TEXTS, vocab_size=100, max_len=5, level="bpe", stopwords="english")


@pytest.mark.parametrize("side, expected", [("head", [0, 1, 2, 3]), ("tail", [6, 7, 8, 9]),
                                            ("head+tail", [0, 1, 8, 9])])
def test_truncation(side, expected):
    assert truncate(list(range(10)), 4, side) == expected
    assert truncate([1, 2], 4, side) == [1, 2]


def test_encode_truncates_and_never_empty(enc):
    out = enc.encode(["fantastic " * 20, "!!!"])
    assert len(out[0]) == 5
    assert len(out[1]) >= 1


def test_pad_batch_right_pads_with_zero():
    ids, lengths = pad_batch([np.array([5, 6, 7]), np.array([8])])
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]


@pytest.mark.parametrize("bad, message", [("", "empty"), ("   \n", "empty"), (b"\xff\xfe", "UTF-8"),
                                          ("x" * (MAX_TEXT_CHARS + 1), "limit"), (3, "must be a string")])
def test_check_text(bad, message):
    with pytest.raises(InputError, match=message):
        check_text(bad)


def test_save_load_identical(enc, tmp_path):
    enc.save(tmp_path / "tok.json")
    back = TextEncoder.load(tmp_path / "tok.json", 5, "tail")
    assert [a.tolist() for a in back.encode(TEXTS)] == [a.tolist() for a in enc.encode(TEXTS)]


def test_bpe_has_no_unknown_words():
    enc = TextEncoder.fit(TEXTS * 5, vocab_size=200, max_len=50, level="bpe")
    assert enc.unknown_words("fantastical zorblax") == []
