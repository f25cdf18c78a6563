"""The challenge suite: content, scoring (with a stub model), CLI and bad input."""
import json

import pytest
from typer.testing import CliRunner

from sentiment_lab.analysis.challenge import load_suite, run_challenge
from sentiment_lab.cli import app
from sentiment_lab.exceptions import DataError

GROUPS = {"plain_positive", "plain_negative", "negated_positive", "negated_negative", "contrast_but",
          "intensifiers_diminishers", "sarcasm_irony", "so_bad_its_good", "mixed_aspects", "typos",
          "other_domains", "invariance", "notebook"}


def test_suite_covers_every_capability():
    cases = load_suite()
    assert len(cases) >= 150
    assert {c["group"] for c in cases} == GROUPS
    assert len({c["text"] for c in cases}) == len(cases)  # no duplicates
    pairs = [c["pair"] for c in cases if "pair" in c]
    assert all(pairs.count(p) == 2 for p in pairs)
    assert {"This movie is absolutely fantastic and amazing"} <= {c["text"] for c in cases}


class KeywordStub:
    """Says positive iff the text contains 'good'/'great'/'loved': its scores are known in advance."""

    def __call__(self, texts):
        return [{"label": "positive" if any(w in t.lower() for w in ("good", "great", "loved")) else "negative",
                 "score": 0.9} for t in texts]


def test_scoring_per_group_and_invariance():
    cases = [{"group": "a", "text": "good", "label": "positive"}, {"group": "a", "text": "bad", "label": "positive"},
             {"group": "b", "text": "not good", "label": "negative"},
             {"group": "invariance", "text": "Ann loved it", "label": "positive", "pair": 0},
             {"group": "invariance", "text": "Bob liked it", "label": "positive", "pair": 0}]
    res = run_challenge(KeywordStub(), cases)
    assert res["groups"]["a"] == {"n": 2, "accuracy": 0.5}
    assert res["groups"]["b"]["accuracy"] == 0.0
    assert res["invariance"] == {"pairs": 1, "consistent": 0, "broken": [["Ann loved it", "Bob liked it"]]}
    assert res["accuracy"] == pytest.approx(2 / 5)
    assert [f["text"] for f in res["failures"]] == ["bad", "not good", "Bob liked it"]


def test_cli_on_a_bundle(tiny_bundle, tmp_path):
    out = tmp_path / "challenge.json"
    res = CliRunner().invoke(app, ["challenge", str(tiny_bundle), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "negated_positive" in res.output
    saved = json.loads(out.read_text())
    assert saved["n"] >= 150 and set(saved["groups"]) == GROUPS


def test_bad_suite_is_one_clear_error(tmp_path):
    bad = tmp_path / "suite.jsonl"
    bad.write_text('{"text": "fine", "label": "positive"}\n{"text": "x", "label": "meh"}\n')
    with pytest.raises(DataError, match="line 2"):
        load_suite(bad)
    res = CliRunner().invoke(app, ["challenge", "--suite", str(bad)])
    assert res.exit_code == 1 and "line 2" in res.output
