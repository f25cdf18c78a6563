"""One server, several models (issue 30): the model it started with and every shipped model,
listed by GET /v1/models, chosen per request with `model`, loaded on first use and kept; every
answer says which model answered; an unknown name is a 404 that lists the names."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import app_client

from sentiment_lab.inference import shipped
from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.serve.engine import Engines

TEXTS = ["a great film, really great", "an awful film", "great but awful"]


@pytest.fixture(scope="module")
def client(tiny_bundle):
    with app_client(tiny_bundle, max_wait_ms=20) as c:
        yield c


@pytest.fixture(scope="module")
def imdb():
    return SentimentClassifier.from_pretrained("imdb")


def test_models_lists_the_served_model_first_then_the_shipped_ones_unloaded(client, tiny_bundle):
    # first in this module: nothing has asked for imdb yet
    body = client.get("/v1/models").json()
    assert body["default"] == tiny_bundle.name
    names = [m["name"] for m in body["models"]]
    assert names == [tiny_bundle.name, *shipped.available()]
    served, *others = body["models"]
    assert served["default"] and served["loaded"] and served["language"] == "en"
    assert all(not m["default"] and not m["loaded"] for m in others)
    imdb_row = next(m for m in others if m["name"] == "imdb")
    assert imdb_row["data"] == "imdb" and imdb_row["test_accuracy"]["imdb"] > 0.85
    assert imdb_row["size_bytes"] > 1_000_000
    assert client.app.state.serve.engines.loaded() == [tiny_bundle.name]


def test_each_answer_says_which_model_answered(client, tiny_bundle, imdb):
    served = client.post("/v1/predict", json={"text": TEXTS[0]}).json()
    assert served["model"] == tiny_bundle.name
    one = client.post("/v1/predict", json={"text": TEXTS[0], "model": "imdb"}).json()
    many = client.post("/v1/predict", json={"text": TEXTS, "model": "imdb"}).json()
    assert one["model"] == many["model"] == "imdb"
    expected = imdb.predict_proba(TEXTS)[:, 1]
    assert one["predictions"][0]["p_positive"] == pytest.approx(expected[0], abs=1e-5)
    np.testing.assert_allclose([p["p_positive"] for p in many["predictions"]], expected, atol=1e-5)
    assert "imdb" in client.app.state.serve.engines.loaded()  # loaded once, and kept
    assert next(m for m in client.get("/v1/models").json()["models"] if m["name"] == "imdb")["loaded"]
    ex = client.post("/v1/explain", json={"text": TEXTS[1], "model": "imdb", "ig_steps": 4}).json()
    assert ex["model"] == "imdb" and ex["p_positive"] == pytest.approx(expected[1], abs=1e-4)
    up = client.post("/v1/predict/file", files={"file": ("t.txt", "\n".join(TEXTS).encode())},
                     data={"model": "imdb"}).json()
    assert up["model"] == "imdb" and [p["label"] for p in up["predictions"]] == [p["label"] for p in many["predictions"]]
    info = client.get("/v1/model", params={"model": "imdb"}).json()
    assert info["name"] == "imdb" and info["language"] == "en" and info["metrics"]["test"]["n"] == 25_000
    assert client.get("/v1/model").json()["name"] == tiny_bundle.name


@pytest.mark.parametrize("route, body", [("/v1/predict", {"text": "great"}), ("/v1/explain", {"text": "great"})])
def test_an_unknown_model_is_a_404_listing_the_names(client, tiny_bundle, route, body):
    r = client.post(route, json={**body, "model": "nope"})
    assert r.status_code == 404
    assert r.json()["detail"] == f"unknown model 'nope'; this server has: {', '.join([tiny_bundle.name, *shipped.available()])}"
    assert client.get("/v1/model", params={"model": "nope"}).status_code == 404
    assert client.post(route, json={**body, "model": 3}).status_code == 422


def test_single_texts_of_two_models_share_a_batch_with_one_forward_pass_each(tiny_bundle, imdb):
    engines = Engines(tiny_bundle, "auto")
    items = [("imdb" if i % 2 else tiny_bundle.name, t) for i, t in enumerate(TEXTS * 2)]
    calls = {"small": 0, "large": 0}
    together = engines.predict_items(items)
    for name in (tiny_bundle.name, "imdb"):
        for k, v in engines.get(name).calls.items():
            calls[k] += v
    assert sum(calls.values()) == 2  # one forward pass per model, not one per text
    alone = [engines.get(name).predict([t])[0] for name, t in items]
    for a, b in zip(together, alone):
        assert a["label"] == b["label"] and a["p_positive"] == pytest.approx(b["p_positive"], abs=1e-5)


def test_a_served_folder_named_like_a_shipped_model_keeps_its_own_name(tiny_bundle, tmp_path):
    shutil.copytree(tiny_bundle, tmp_path / "imdb")
    engines = Engines(tmp_path / "imdb", "numpy")
    assert engines.default == "./imdb" and engines.names()[0] == "./imdb" and "imdb" in engines.names()[1:]
    assert engines.get("imdb").path == shipped.shipped_bundle("imdb")  # the name is the shipped model
