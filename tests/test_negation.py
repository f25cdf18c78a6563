"""Negation augmentation (data/negation.py, data.negation): which words count as polar, which
texts get negated and how, the copies' labels, and that no copy is a validation or test text."""
import numpy as np
import pandas as pd
import pytest

from sentiment_lab.config import load_config
from sentiment_lab.data import load_splits
from sentiment_lab.data.mixture import add_negations, text_key
from sentiment_lab.data.negation import is_copy, negate, negated_rows, polar_words, words
from sentiment_lab.data.records import Record, Splits
from sentiment_lab.exceptions import ConfigError


def _phrases(n: int = 25) -> list[Record]:
    """Short labelled texts like SST-2's phrases: 'boring' and 'dull' negative, 'funny' positive,
    each after 'is' often enough to count as adjectives; 'cast' is frequent but never polar;
    'mess' is negative but never follows 'is' (a noun)."""
    rows = []
    for i in range(n):
        rows += [Record(f"is boring {i}", 0, id=f"b{i}"), Record("dull", 0, id=f"d{i}"),
                 Record(f"the film is dull {i}", 0, id=f"fd{i}"),
                 Record(f"it is funny {i}", 1, id=f"f{i}"), Record("a mess", 0, id=f"m{i}"),
                 Record(f"the cast {i}", i % 2, id=f"c{i}")]
    return rows


def test_polar_words_are_frequent_one_sided_adjectives():
    polar = polar_words(_phrases())
    assert polar == {"boring": 0, "dull": 0, "funny": 1}  # not "cast" (both labels), not "mess" (never after "is")
    assert polar_words(_phrases(5)) == {}  # too rare to judge


def test_long_texts_teach_no_polar_words():
    long = [Record("is boring " + "word " * 10, 0, id=str(i)) for i in range(50)]
    assert polar_words(long) == {}


@pytest.mark.parametrize("text, label, expected", [
    ("boring", 0, {"not boring", "never boring", "not boring at all"}),
    ("very funny", 1, {"not very funny", "never very funny", "not very funny at all"}),
    ("The film is boring.", 0, {"the film is not boring", "the film isn't boring", "the film is never boring"}),
    ("it was so dull", 0, {"it was not so dull", "it wasn't so dull", "it was never so dull"}),
    ("It's funny", 1, {"it's not funny", "it's never funny"}),  # "'s" has no n't form
])
def test_negated_forms(text, label, expected):
    polar = {"boring": 0, "dull": 0, "funny": 1}
    rng = np.random.default_rng(0)
    seen = {negate(text, label, polar, rng) for _ in range(200)}
    assert seen == expected


@pytest.mark.parametrize("text, label", [
    ("the film is not boring", 1),          # already negated
    ("the film isn't funny", 0),            # n't counts as a negation
    ("never boring", 1),
    ("the film is boring", 1),              # the polar word disagrees with the label
    ("boring but funny", 0),                # two polar words
    ("the film's boring score", 0),         # "'s" after a noun is a possessive, not "is"
    ("the plot is boring and the cast is weak", 0),  # a second clause after the polar word
    ("a boring film", 0),                   # not after a form of "to be", not alone
    ("the film is boring " + "x " * 10, 0),  # too long
])
def test_texts_left_alone(text, label):
    assert negate(text, label, {"boring": 0, "funny": 1}, np.random.default_rng(0)) is None


def test_words_split_is_from_its_subject():
    assert words("It’s the film's BEST") == ["it", "'s", "the", "film", "'s", "best"]


def test_negated_rows_flip_labels_and_keep_the_source():
    train = [Record("the film is boring", 0, id="a", source="sst2"), Record("a film", 1, id="b", source="sst2")]
    rows = negated_rows(train, {"boring": 0}, seed=1, copies=3)
    assert len(rows) == 3 and {r.label for r in rows} == {1} and {r.source for r in rows} == {"sst2"}
    assert [r.id for r in rows] == ["a~not0", "a~not1", "a~not2"] and all(map(is_copy, rows))
    assert not any(map(is_copy, train))
    assert negated_rows(train, {"boring": 0}, seed=1, copies=3) == rows  # seeded


def test_no_copy_is_a_validation_or_test_text():
    train = _phrases()
    held = Record("is not boring 3", 1, split="val", id="v")
    splits = {"sst2": Splits(train=list(train), val=[held], test=[Record("not dull", 1, split="test", id="t")])}
    added = add_negations(splits, seed=0, copies=2)
    new = splits["sst2"].train[len(train):]
    assert added == {"sst2": len(new)} and new
    keys = {text_key(r.text) for r in new}
    assert "is not boring 3" not in keys and "not dull" not in keys
    assert {r.label for r in new if "boring" in r.text or "dull" in r.text} == {1}
    assert {r.label for r in new if "funny" in r.text} == {0}


def test_data_negation_setting_adds_rows_to_train_only(tmp_path):
    path = tmp_path / "reviews.csv"
    pd.DataFrame([{"text": r.text, "label": r.label} for r in _phrases()]).to_csv(path, index=False)
    base = load_splits(load_config("default", [f"data.source={path}"]).data, progress=False)
    cfg = load_config("default", [f"data.source={path}", "data.negation=2"])
    splits = load_splits(cfg.data, progress=False)
    assert [r.text for r in splits.val] == [r.text for r in base.val]
    added = [r for r in splits.train if is_copy(r)]
    assert len(splits.train) == len(base.train) + len(added) and added
    assert all(" not " in f" {r.text} " or "n't" in r.text or "never" in r.text for r in added)


@pytest.mark.parametrize("copies", [-1, 1.5, True, "3"])
def test_add_negations_wants_a_whole_number_of_copies(copies):
    with pytest.raises(ConfigError, match="negation must be a whole number of copies"):
        add_negations({"x": Splits(train=_phrases(), val=[], test=[])}, seed=0, copies=copies)


def test_data_negation_is_english_only():
    with pytest.raises(ConfigError, match="data.negation writes English negations"):
        load_config("french", ["data.negation=3"])
    with pytest.raises(ConfigError):
        load_config("default", ["data.negation=-1"])


def test_both_directions_are_equally_many():
    train = [Record(f"it is funny {i}", 1, id=f"f{i}") for i in range(6)] + [Record("is dull", 0, id="d")]
    rows = negated_rows(train, {"funny": 1, "dull": 0}, seed=0, copies=2)
    to_negative = [r for r in rows if r.label == 0]
    to_positive = [r for r in rows if r.label == 1]
    assert len(to_negative) == 12 and len(to_positive) == 12  # 2 per funny text; 12 of the one dull text
    assert {r.text for r in to_positive} <= {"is not dull", "isn't dull", "is never dull"}


def test_training_with_negation_counts_its_rows_in_metrics_and_card(tmp_path):
    from sentiment_lab.training.loop import train

    path = tmp_path / "reviews.csv"
    pd.DataFrame([{"text": r.text, "label": r.label} for r in _phrases()]).to_csv(path, index=False)
    cfg = load_config("seed", [f"data.source={path}", "data.negation=2", "train.epochs=1", "train.max_steps=2",
                               "text.vocab_size=200", "model.embedding_dim=8", "model.hidden_size=8"])
    result = train(cfg, tmp_path / "run", progress=False)
    n = result.metrics["negated_train_rows"]
    assert n > 0 and n == sum(map(is_copy, load_splits(cfg.data, progress=False).train))
    card = (tmp_path / "run" / "bundle" / "README.md").read_text(encoding="utf-8")
    assert f"- Negated copies: {n:,} training rows" in card
