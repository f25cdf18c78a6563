"""The language note: a French text given to an English model is classified all the same, with
one line that says which language the model reads (Python API, CLI on stderr, web API `note`)."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sentiment_lab.cli import app
from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.serve import create_app
from sentiment_lab.text.language import guess_language, language_note, words

FRENCH = "Ce film est vraiment génial, je l’ai adoré et je le recommande à tous"
ENGLISH = "This movie is absolutely fantastic and I loved it"


@pytest.mark.parametrize("text, language", [
    (ENGLISH, "en"), ("Terrible movie, waste of time", "en"), ("The film was not bad at all", "en"),
    (FRENCH, "fr"), ("Je n'ai pas aimé ce livre", "fr"), ("C'est un film magnifique avec de bons acteurs", "fr"),
    ("Superbe!", None), ("le film", None), ("great film", None),  # too short to say
    ("it 's the kind of movie that is n't worth it .", "en"),  # Penn-Treebank contractions are not French elisions
    ("schindler 's list it ai n't .", None),
    ("Brad Pitt Angelina Jolie Paris Texas", None),  # no function words: no guess
])
def test_guess(text, language):
    assert guess_language(text) == language


def test_elisions_count_as_french_words():
    assert words("L’amour n'a pas de prix, it ai n't") == ["l'", "amour", "n'", "a", "pas", "de", "prix", "it", "ai",
                                                           "n't"]


def test_note_says_which_language_the_model_reads():
    assert language_note(FRENCH, "en", "imdb") == "this text looks French; the model `imdb` reads English"
    assert language_note(ENGLISH, "fr", "marc") == "this text looks English; the model `marc` reads French"
    assert language_note(FRENCH, "fr", "marc") is None and language_note(ENGLISH, "en") is None
    assert language_note("Superbe!", "en") is None


@pytest.fixture
def clf(tiny_bundle):
    return SentimentClassifier.from_pretrained(tiny_bundle, backend="numpy")


def test_classifier_note(clf):
    assert clf.language == "en" and clf.language_note(ENGLISH) is None
    assert clf.language_note(FRENCH) == f"this text looks French; the model `{clf.name}` reads English"
    clf.config.text.language = "fr"  # a model that reads French: no note for French text
    assert clf.language_note(FRENCH) is None


def test_cli_prints_the_note_on_stderr_and_still_predicts(tiny_bundle):
    r = CliRunner().invoke(app, ["predict", "-m", str(tiny_bundle), FRENCH, ENGLISH, "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["label"] in ("positive", "negative") for x in rows] == [True, True]
    assert rows[0]["note"].startswith("this text looks French; the model") and rows[1]["note"] is None
    assert r.stderr.splitlines() == [f"note: {rows[0]['note']}"]
    plain = CliRunner().invoke(app, ["predict", "-m", str(tiny_bundle), ENGLISH])
    assert plain.exit_code == 0 and "note" not in plain.stderr


def test_api_answers_a_note(tiny_bundle):
    with TestClient(create_app(tiny_bundle), base_url="http://localhost") as client:
        r = client.post("/v1/predict", json={"text": [FRENCH, ENGLISH]})
    assert r.status_code == 200
    first, second = r.json()["predictions"]
    assert first["label"] in ("positive", "negative")
    assert first["note"].startswith("this text looks French; the model") and first["note"].endswith("reads English")
    assert second["note"] is None
