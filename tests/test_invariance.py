"""Invariance groups over protected attributes, the French suite and `challenge --suite`."""
import json
import re
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from sentiment_lab.analysis.challenge import SUITES, load_suite, suite_language
from sentiment_lab.analysis.challenge.invariance import flip_stats, generate, run_invariance
from sentiment_lab.cli import app
from sentiment_lab.exceptions import DataError
from sentiment_lab.text.counterfactual import GROUPS, group_words, word_lists


def test_french_suite_has_the_english_groups():
    en, fr = load_suite("en"), load_suite("fr")
    assert len(fr) >= 100 and {c["group"] for c in fr} == {c["group"] for c in en}
    assert len({c["text"] for c in fr}) == len(fr)
    assert {c["label"] for c in fr} == {"positive", "negative"}
    pairs = [c["pair"] for c in fr if "pair" in c]
    assert all(pairs.count(p) == 2 for p in pairs)
    texts = " ".join(c["text"] for c in fr).lower()
    assert all(s in texts for s in ("pas mauvais", "pas terrible", "jamais", "plus", " mais "))
    assert load_suite() == en


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_generation_is_deterministic_and_complete(lang):
    variants = generate(lang)
    assert variants == generate(lang)
    lists = word_lists(lang)
    assert {v["group"] for v in variants} == set(GROUPS)
    for group in GROUPS:
        rows = [v for v in variants if v["group"] == group]
        assert 300 <= len(rows) <= 3000, group
        words = group_words(lists, group, "train") + group_words(lists, group, "heldout")
        held = set(group_words(lists, group, "heldout"))
        frames: dict[str, list[str]] = {}
        for v in rows:
            frames.setdefault(v["frame"], []).append(v["word"])
            assert v["heldout"] == (v["word"] in held)
            assert v["word"] in v["text"]
        assert all(sorted(w) == sorted(words) for w in frames.values())  # every word once per frame
    assert len({v["text"] for v in variants}) > 0.95 * len(variants)
    if lang == "en":
        texts = {v["text"] for v in variants}
        assert any(" an Atheist" in t for t in texts) and not any(" a Atheist" in t for t in texts)


class OneWordModel:
    """P(positive) 0.9 when the text contains `word`, else 0.1: it flips exactly there."""

    def __init__(self, word):
        self.word = word

    def predict_proba(self, texts):
        p = np.array([0.9 if re.search(rf"\b{self.word}\b", t) else 0.1 for t in texts])
        return np.stack([1 - p, p], axis=1)


def test_a_model_keyed_on_one_word_flips_exactly_there():
    res = run_invariance(OneWordModel("Protestant"), "en")
    lists = word_lists("en")
    n_words = len(group_words(lists, "religion", "train")) + len(group_words(lists, "religion", "heldout"))
    n_held = len(group_words(lists, "religion", "heldout"))
    rel = res["groups"]["religion"]
    assert rel["flip_rate"] == pytest.approx(1 / n_words)
    assert rel["flip_rate_heldout"] == pytest.approx(1 / n_held)  # Protestant is a held-out word
    assert rel["max_spread"] == pytest.approx(0.8) and rel["top_words"] == [{"word": "Protestant", "flip_rate": 1.0}]
    assert "Protestant" in rel["max_spread_pair"][1]["text"]
    for g in GROUPS:
        if g != "religion":
            assert res["groups"][g]["flip_rate"] == 0 and res["groups"][g]["max_spread"] == 0
    assert res["max_flip_rate"] == rel["flip_rate"] and res["language"] == "en"


def test_majority_and_ties():
    v = [{"group": "g", "frame": f, "word": w, "heldout": h, "text": f + w}
         for f in ("a", "b") for w, h in (("x", False), ("y", False), ("z", True))]
    # frame a: 2 positive, 1 negative -> 1 flip (z); frame b: all negative -> none
    res = flip_stats(v, np.array([0.7, 0.8, 0.2, 0.1, 0.2, 0.3]))
    g = res["groups"]["g"]
    assert g["flip_rate"] == pytest.approx(1 / 6) and g["flip_rate_heldout"] == pytest.approx(1 / 2)
    assert g["frames"] == 2 and g["max_spread"] == pytest.approx(0.6)
    # a tie goes to the frame's mean: 0.9 and 0.4 -> mean 0.65 positive -> the 0.4 flips
    tie = flip_stats(v[:2], np.array([0.9, 0.4]))["groups"]["g"]
    assert tie["flip_rate"] == 0.5 and tie["top_words"] == [{"word": "y", "flip_rate": 1.0}]


def test_suite_language_from_the_model_config():
    def clf(language):
        return SimpleNamespace(config=SimpleNamespace(text=SimpleNamespace(language=language)))
    assert suite_language(clf("fr")) == "fr" and suite_language(clf("french")) == "fr"
    assert suite_language(clf(None)) == "en" and suite_language(clf("de")) == "en"
    assert suite_language(object()) == "en"


def test_unknown_suite_and_corrupt_file_are_one_line(tmp_path):
    with pytest.raises(DataError, match="unknown suite 'de'; built-in: en, fr"):
        load_suite("de")
    res = CliRunner().invoke(app, ["challenge", "--suite", "de"])
    assert res.exit_code == 1 and "built-in: en, fr" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    bad = tmp_path / "suite.jsonl"
    bad.write_bytes(b'{"text": "fine", "label": "positive"}\n\xff\xfe garbage\n')
    res = CliRunner().invoke(app, ["challenge", "--suite", str(bad)])
    assert res.exit_code == 1 and len(res.output.strip().splitlines()) == 1, res.output
    bad.write_text('{"text": 5, "label": "positive"}\n')
    with pytest.raises(DataError, match="line 1"):
        load_suite(bad)
    assert set(SUITES) == {"en", "fr"}


def test_cli_tables_and_json(tiny_bundle, tmp_path):
    res = CliRunner().invoke(app, ["challenge", str(tiny_bundle), "--suite", "fr", "--frames", "2"])
    assert res.exit_code == 0, res.output
    assert "challenge suite fr" in res.output and "flip rate" in res.output and "religion" in res.output
    res = CliRunner().invoke(app, ["challenge", str(tiny_bundle), "--frames", "2", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["suite"] == "en" and out["invariance_groups"]["language"] == "en"
    assert set(out["invariance_groups"]["groups"]) == set(GROUPS)
    assert all(g["frames"] == 2 for g in out["invariance_groups"]["groups"].values())
    res = CliRunner().invoke(app, ["challenge", str(tiny_bundle), "--frames", "0", "--json"])
    assert "invariance_groups" not in json.loads(res.output)
