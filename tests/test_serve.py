"""The web API in-process (TestClient): predictions, limits and their messages, model info,
health probes, explanations, file uploads, and micro-batching (results equal one-by-one
scoring; concurrent requests really share forward passes)."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import app_client
from fastapi.testclient import TestClient

from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.serve import create_app, schemas

TEXTS = ["a great film, really great", "an awful film", "great great great", "awful and boring, a waste",
         "zorglub quux great", "the film", "great but awful", "not great at all, really awful and bad and boring"]


@pytest.fixture(scope="module")
def client(tiny_bundle):
    with app_client(tiny_bundle, max_wait_ms=50) as c:
        yield c


@pytest.fixture(scope="module")
def clf(tiny_bundle):
    return SentimentClassifier.from_pretrained(tiny_bundle)


def test_predict_one_text_matches_the_python_api(client, clf):
    r = client.post("/v1/predict", json={"text": TEXTS[4]})
    assert r.status_code == 200
    (pred,) = r.json()["predictions"]
    expected = clf(TEXTS[4])
    assert pred["label"] == expected["label"]
    assert pred["score"] == pytest.approx(expected["score"], abs=1e-5)
    assert pred["p_positive"] == pytest.approx(clf.predict_proba([TEXTS[4]])[0, 1], abs=1e-5)
    assert pred["unknown_words"] == clf.unknown_words(TEXTS[4]) == ["zorglub", "quux"]


def test_predict_a_list_keeps_the_order(client, clf):
    r = client.post("/v1/predict", json={"text": TEXTS})
    assert r.status_code == 200
    preds = r.json()["predictions"]
    p = clf.predict_proba(TEXTS)[:, 1]
    assert [x["p_positive"] for x in preds] == pytest.approx(list(p), abs=1e-5)
    assert [x["label"] for x in preds] == clf.predict(TEXTS)


@pytest.mark.parametrize("body, status, message", [
    ({"text": ""}, 422, "text is empty or only whitespace"),
    ({"text": " \n\t "}, 422, "text is empty or only whitespace"),
    ({"text": "x" * (schemas.MAX_TEXT_CHARS + 1)}, 422, "text has 20,001 characters; the limit is 20,000"),
    ({"text": []}, 422, "the list of texts is empty"),
    ({"text": ["fine", "  "]}, 422, "text[1] is empty or only whitespace"),
    ({"text": ["ok"] * (schemas.MAX_BATCH + 1)}, 422, "257 texts in one request; the limit is 256"),
    ({"text": 5}, 422, "text must be a string or a list of strings, got a number"),
    ({"text": ["ok", None]}, 422, "text[1] must be a string, got null"),
    ({}, 422, "text: Field required"),
    ({"text": "ok", "extra": 1}, 422, "extra: Extra inputs are not permitted"),
])
def test_bad_predict_requests_say_what_is_wrong(client, body, status, message):
    r = client.post("/v1/predict", json=body)
    assert r.status_code == status
    assert message in r.json()["message"]


@pytest.mark.parametrize("raw, message", [
    (b'{"text": "good \\ud800 movie"}', "text is not valid Unicode text"),
    (b'{"text": ["good", "bad \\udfff"]}', "text[1] is not valid Unicode text"),
])
def test_a_lone_surrogate_is_a_422_and_does_not_fail_its_batch(client, raw, message):
    """Valid JSON, but no text a tokenizer takes: it was a 500, and failed the valid requests
    that shared its micro-batch."""
    from concurrent.futures import ThreadPoolExecutor

    def bad():
        return client.post("/v1/predict", content=raw, headers={"content-type": "application/json"})

    def good(i):
        return client.post("/v1/predict", json={"text": f"a great film {i}"})

    with ThreadPoolExecutor(8) as pool:
        goods = [pool.submit(good, i) for i in range(12)]
        r = pool.submit(bad).result()
        assert all(g.result().status_code == 200 for g in goods)
    assert r.status_code == 422 and message in r.json()["message"]


def test_invalid_json_is_a_422_with_a_message(client):
    r = client.post("/v1/predict", content=b'{"text": "unterminated', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["message"].startswith("the body is not valid JSON")


def test_a_body_over_the_cap_is_refused_from_its_content_length(client):
    r = client.post("/v1/predict", content=b"x" * (schemas.MAX_JSON_BYTES + 1),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["detail"] == "request body is 2,097,153 bytes; the limit is 2 MB"


def test_a_streamed_body_over_the_cap_is_refused(client):
    # No Content-Length (chunked): the body is counted as it arrives. TestClient buffers the
    # generator itself; tests/test_serve_browser.py checks a real socket stops early.
    chunks = (b"x" * 65536 for _ in range(64))
    r = client.post("/v1/predict", content=chunks, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "exceeds the limit of 2 MB" in r.json()["detail"]


def test_model_info(client, tiny_bundle):
    info = client.get("/v1/model").json()
    assert info["name"] == tiny_bundle.name
    assert info["labels"] == ["negative", "positive"]
    assert info["architecture"]["arch"] == "lstm.v1"
    assert info["metrics"]["test"]["accuracy"] > 0
    assert info["card"].startswith("# sentiment-lab model card")
    assert info["config"]["model"]["hidden_size"] == 16
    assert info["limits"]["max_text_chars"] == schemas.MAX_TEXT_CHARS
    assert info["serving"]["backends"] == {"small_batches": "numpy", "large_batches": "torch"}


def test_health_probes(client, tiny_bundle):
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").json()["status"] == "ready"
    cold = TestClient(create_app(tiny_bundle), base_url="http://localhost")  # no `with`: the lifespan has not run, nothing is loaded
    assert cold.get("/healthz").status_code == 200
    assert cold.get("/readyz").status_code == 503
    r = cold.post("/v1/predict", json={"text": "great"})
    assert r.status_code == 503 and "not loaded" in r.json()["detail"]


def test_openapi_docs_and_the_page_are_served(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/explain", "/v1/model", "/v1/predict/file", "/healthz", "/readyz"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js">' in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    assert "http://" not in page.text and "https://" not in page.text  # nothing loaded from outside


def test_explain_agrees_with_predict(client, clf):
    from sentiment_lab.analysis.explain import read_tokens

    text = "a great film but awful zorglub"
    ex = client.post("/v1/explain", json={"text": text}).json()
    pred = client.post("/v1/predict", json={"text": text}).json()["predictions"][0]
    _, tokens, unknown, _ = read_tokens(clf, text)
    assert ex["tokens"] == tokens and ex["unknown"] == unknown
    assert len(ex["attributions"]) == len(ex["occlusion"]) == len(ex["trajectory"]) == len(tokens)
    assert ex["p_positive"] == pytest.approx(pred["p_positive"], abs=1e-3)
    assert ex["trajectory"][-1] == pytest.approx(ex["p_positive"], abs=1e-3)
    assert ex["label"] == pred["label"] and ex["score"] == pytest.approx(pred["score"], abs=1e-5)
    assert ex["score"] == max(ex["p_positive"], 1 - ex["p_positive"])  # not 1 - a rounded p (0.52679999...)
    assert ex["gates"] is None and ex["hidden"] is None  # internals are opt-in
    deep = client.post("/v1/explain", json={"text": text, "internals": True, "ig_steps": 8}).json()
    assert len(deep["hidden"]) == len(tokens) and set(deep["gates"]) >= {"input", "forget", "output"}


@pytest.mark.parametrize("body, message", [
    ({"text": "  "}, "text is empty or only whitespace"),
    ({"text": "fine", "ig_steps": 0}, "ig_steps: Input should be greater than or equal to 1"),
    ({"text": "fine", "ig_steps": True}, "ig_steps: Input should be a valid integer"),
    ({"text": "fine", "internals": "yes"}, "internals: Input should be a valid boolean"),
])
def test_bad_explain_requests(client, body, message):
    r = client.post("/v1/explain", json=body)
    assert r.status_code == 422 and message in r.json()["message"]


def test_file_upload(client, clf):
    csv = "id,review\n1,a great film\n2,\"awful, really awful\"\n3,zorglub\n"
    r = client.post("/v1/predict/file", files={"file": ("reviews.csv", csv.encode())}, data={"text_column": "review"})
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3 and body["text_column"] == "review"
    texts = ["a great film", "awful, really awful", "zorglub"]
    assert [p["text"] for p in body["predictions"]] == texts
    assert [p["label"] for p in body["predictions"]] == clf.predict(texts)
    assert body["predictions"][2]["unknown_words"] == ["zorglub"]
    txt = client.post("/v1/predict/file", files={"file": ("lines.txt", b"great\n\nawful\n")})
    assert [p["text"] for p in txt.json()["predictions"]] == ["great", "awful"]


@pytest.mark.parametrize("name, content, column, status, message", [
    ("r.csv", b"id,review\n1,great\n", "text", 400, "no column 'text' in the file; its columns are: id, review"),
    ("r.csv", b"text\ngreat\n\"  \"\n", "text", 400, "row 2: text is empty"),
    ("r.csv", b"text\n\xff\xfe bad bytes\n", "text", 400, "not valid UTF-8"),
    ("r.xlsx", b"whatever", "text", 400, "unknown file type '.xlsx'"),
    ("r.jsonl", b'{"text": "great"}\n{"text": null}\n', "text", 400, "row 2: text is empty"),  # was scored as "nan"
    ("r.jsonl", b'{"text": "great"}\n{"id": 2}\n', "text", 400, "row 2: text is empty"),
    ("r.jsonl", b'{"text": "great"}\n{"text": 5}\n', "text", 400, "row 2: text must be a string, got a number"),
    ("r.csv", b"text\n" + b"great\n" * (schemas.MAX_FILE_ROWS + 1), "text", 413, "rows; the limit is 10,000"),
])
def test_bad_uploads_say_what_is_wrong(client, name, content, column, status, message):
    r = client.post("/v1/predict/file", files={"file": (name, content)}, data={"text_column": column})
    assert r.status_code == status
    assert message in r.json()["detail"]


def test_an_upload_over_10_mb_is_refused(client):
    r = client.post("/v1/predict/file", files={"file": ("big.csv", b"text\n" + b"great film\n" * 1_000_000)})
    assert r.status_code == 413 and "the limit is 10 MB" in r.json()["detail"]


def test_concurrent_requests_are_batched_and_equal_one_by_one(client):
    state = client.app.state.serve
    alone = [client.post("/v1/predict", json={"text": t}).json()["predictions"][0] for t in TEXTS]
    before = state.batcher.stats.to_dict()
    together: list = [None] * len(TEXTS)
    barrier = threading.Barrier(len(TEXTS))

    def call(i: int) -> None:
        barrier.wait()
        together[i] = client.post("/v1/predict", json={"text": TEXTS[i]}).json()["predictions"][0]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(TEXTS))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    after = state.batcher.stats.to_dict()
    batches, items = after["batches"] - before["batches"], after["items"] - before["items"]
    assert items == len(TEXTS)
    assert batches < len(TEXTS) and after["largest_batch"] >= 2  # some requests shared a forward pass
    for a, b in zip(alone, together):
        assert a["label"] == b["label"] and a["unknown_words"] == b["unknown_words"]
        assert a["p_positive"] == pytest.approx(b["p_positive"], abs=1e-5)


def test_engine_batch_equals_one_by_one_on_both_backends(tiny_bundle):
    from sentiment_lab.serve.engine import Engine

    engine = Engine(tiny_bundle, backend="auto", small_batch=1)
    batch = engine.predict(TEXTS)  # PyTorch, padded batch
    single = [engine.predict([t])[0] for t in TEXTS]  # NumPy, one at a time
    assert engine.calls == {"small": len(TEXTS), "large": 1}
    np.testing.assert_allclose([b["p_positive"] for b in batch], [s["p_positive"] for s in single], atol=1e-5)


def test_the_model_is_warmed_up_before_the_heap_is_frozen(tiny_bundle, monkeypatch):
    """What a first prediction builds (the encoder's fast path on both backends) is built at
    startup, before gc.freeze: built later, it stayed in the collector's view and full
    collections paused single requests ~45 ms. The counters still count requests only."""
    import gc

    from sentiment_lab.serve.engine import Engine

    engine = Engine(tiny_bundle, backend="auto", small_batch=2)
    assert engine.large.encoder._fast is None  # built by the first large batch
    engine.warm_up()
    assert engine.large.encoder._fast is not None  # small batches (<= 2 texts) never need it
    assert engine.calls == {"small": 0, "large": 0}

    order = []
    warm_up = Engine.warm_up
    monkeypatch.setattr(Engine, "warm_up", lambda self: order.append("warm_up") or warm_up(self))
    monkeypatch.setattr(gc, "freeze", lambda: order.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: None)
    with app_client(tiny_bundle) as c:
        assert c.get("/readyz").status_code == 200
    assert order == ["warm_up", "freeze"]


def test_cli_refuses_bad_setups_in_one_line(tiny_bundle, tmp_path):
    import socket

    from typer.testing import CliRunner

    from sentiment_lab.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["serve", str(tmp_path / "missing")])
    assert r.exit_code == 1 and "model bundle not found" in r.output
    r = runner.invoke(app, ["serve", str(tiny_bundle), "--backend", "tensorflow"])
    assert r.exit_code == 1 and "--backend must be one of auto, numpy, torch, onnx" in r.output
    r = runner.invoke(app, ["serve", str(tiny_bundle), "--backend", "onnx"])
    assert r.exit_code == 1 and "needs onnxruntime and a model.onnx" in r.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = runner.invoke(app, ["serve", str(tiny_bundle), "--port", str(port)])
    assert r.exit_code == 1 and f"127.0.0.1:{port} is already in use" in r.output
