"""Counterfactual augmentation: attribute words swapped within their group, train half only."""
import numpy as np
import pytest

from conftest import tiny_config
from sentiment_lab.config import load_config
from sentiment_lab.exceptions import ConfigError
from sentiment_lab.text.augment import Augmenter
from sentiment_lab.text.counterfactual import GROUPS, CounterfactualTable, group_words, word_lists
from sentiment_lab.text.tokenizer import TextEncoder

TEXTS = [
    "Edward is a Christian and he loved the film with his wife",
    "Mary from London thought it was a boring movie",
    "The Jew and the Catholic and the Muslim and the Hindu watched it in Paris and Lagos",
    "James and Jennifer liked the acting a lot",
    "A plain sentence with no attribute words at all",
    "The American and the Mexican and the British actor",
    "she said her husband fell asleep",
]


@pytest.fixture(scope="module")
def encoder():
    return TextEncoder.fit(TEXTS * 3, vocab_size=500, max_len=100)


@pytest.fixture(scope="module")
def table(encoder):
    return CounterfactualTable.build(encoder, "en")


def _ids(encoder, text):
    return encoder.encode([text])[0]


def _words(encoder, ids):
    return [encoder.tokenizer.id_to_token(int(i)) for i in ids]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_word_lists_are_split_and_disjoint(lang):
    lists = word_lists(lang)
    assert set(GROUPS) <= set(lists)
    seen: dict[str, str] = {}
    for g in GROUPS:
        train, held = group_words(lists, g, "train"), group_words(lists, g, "heldout")
        assert len(train) >= 4 and len(held) >= 4, g
        for w in train + held:
            key = w.lower()
            if g == "gender" and key in seen and seen[key] == g:
                continue
            assert key not in seen, f"{w!r} in {seen.get(key)} and {g}"
            seen[key] = g
    extra = {w.lower() for pair in lists["gender_extra"] for w in pair}
    assert not extra & {w.lower() for g in GROUPS for h in ("train", "heldout") for w in group_words(lists, g, h)}


def test_swaps_only_listed_words_within_their_group(encoder, table):
    lists = word_lists("en")
    train_of = {g: {w.lower() for w in group_words(lists, g, "train")} for g in GROUPS if g != "gender"}
    group_of = {w: g for g, ws in train_of.items() for w in ws}
    pairs = {tuple(p) for p in lists["gender"]["train"] + lists["gender_extra"]}
    aug = Augmenter("counterfactual", 0.1, 100, "tail", counterfactual=table)
    rng = np.random.default_rng(0)
    changed = 0
    for text in TEXTS:
        before = _ids(encoder, text)
        for _ in range(20):
            after = aug(before, rng)
            assert len(after) == len(before)
            for a, b in zip(_words(encoder, before), _words(encoder, after)):
                if a != b:
                    changed += 1
                    if a in group_of:
                        assert b in train_of[group_of[a]], (a, b)
                    else:  # a gendered word flipped to its partner
                        assert (a, b) in pairs or (b, a) in pairs, (a, b)
    assert changed > 50


def test_uses_only_the_training_half(encoder, table):
    """Held-out words are never read (left as they are) and never written."""
    lists = word_lists("en")
    held = {w.lower() for g in GROUPS for w in group_words(lists, g, "heldout")}
    text = "The Jew and the Catholic and the Muslim and the Hindu watched it in Paris and Lagos"
    before = _ids(encoder, text)
    aug = Augmenter("counterfactual", 0.1, 100, "tail", counterfactual=table)
    rng = np.random.default_rng(1)
    words_before = _words(encoder, before)
    assert {"muslim", "hindu", "paris"} <= held and {"muslim", "hindu", "paris"} <= set(words_before)
    outputs = [_words(encoder, aug(before, rng)) for _ in range(50)]
    for out in outputs:
        for a, b in zip(words_before, out):
            assert b not in held or a == b
            if a in held:
                assert a == b
    assert any(out != words_before for out in outputs)


def test_no_op_without_attribute_words_and_labels_untouched(encoder, table):
    text = "A plain sentence with no attribute words at all"
    before = _ids(encoder, text)
    aug = Augmenter("counterfactual", 0.1, 100, "tail", counterfactual=table)
    rng = np.random.default_rng(2)
    assert all(np.array_equal(aug(before, rng), before) for _ in range(20))
    y = np.array([1, 0, 1])
    seqs = [_ids(encoder, t) for t in TEXTS[:3]]
    ids, lengths = aug.batch(seqs, rng)  # the augmenter sees ids only: labels cannot change
    assert ids.shape[0] == len(y) and lengths.tolist() == [len(s) for s in seqs]


def test_deterministic_under_a_seed_and_consistent_within_a_review(encoder, table):
    seqs = [_ids(encoder, t) for t in TEXTS]
    aug = Augmenter("counterfactual,swap", 0.1, 100, "tail", counterfactual=table)
    a = aug.batch(seqs, np.random.default_rng(7))
    b = aug.batch(seqs, np.random.default_rng(7))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    same = _ids(encoder, "Edward and Edward and Edward and Mary")
    for seed in range(10):
        out = _words(encoder, aug.__class__("counterfactual", 0.1, 100, "tail", counterfactual=table)(
            same, np.random.default_rng(seed)))
        assert out[0] == out[2] == out[4]  # one draw per word and review


def test_gender_flips_together(encoder, table):
    text = "she said her husband fell asleep"
    before = _words(encoder, _ids(encoder, text))
    aug = Augmenter("counterfactual", 0.1, 100, "tail", counterfactual=table)
    seen = set()
    for seed in range(30):
        out = _words(encoder, aug(_ids(encoder, text), np.random.default_rng(seed)))
        assert out in (before, ["he", "said", "his", "wife", "fell", "asleep"])
        seen.add(tuple(out))
    assert len(seen) == 2


def test_config_and_errors():
    cfg = load_config(None, ['train.augment=counterfactual,delete'])
    assert cfg.train.augment == "counterfactual,delete"
    with pytest.raises(ValueError, match="attribute words"):
        Augmenter("counterfactual", 0.1, 10, "tail")
    with pytest.raises(ConfigError, match="known: en, fr"):
        word_lists("de")
    assert word_lists("French") == word_lists("fr")


def test_training_with_counterfactual_augmentation(tmp_path):
    from sentiment_lab.training.loop import train

    cfg = tiny_config(**{"train.augment": "counterfactual", "train.epochs": "1", "train.max_steps": "3"})
    result = train(cfg, tmp_path / "run")
    assert (tmp_path / "run" / "bundle" / "model.safetensors").exists() and result is not None
