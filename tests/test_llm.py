"""The LLM client against a fake OpenAI/Mistral-compatible server on 127.0.0.1 (real HTTP):
success, 429 then success, 500, timeout, malformed JSON, a refusal in plain text, the
cache, the concurrency limit, the key handling. Nothing here reaches the internet."""
from __future__ import annotations

import json

import numpy as np
import pytest
from fake_llm_server import FakeLLMServer, completion
from typer.testing import CliRunner

from sentiment_lab.cli import app
from sentiment_lab.data import load_table
from sentiment_lab.compare.llm import LLMClassifier, LLMClient, LLMError, LLMNotConfigured, generate_reviews, write_jsonl
from sentiment_lab.compare.llm.client import DEFAULT_MISTRAL_MODEL, MISTRAL_BASE_URL
from sentiment_lab.compare.llm.prompts import AnswerError, parse_answer

KEY = "sk-test-SECRET-0123456789"


@pytest.fixture
def server():
    with FakeLLMServer() as s:
        yield s


@pytest.fixture(autouse=True)
def no_keys(monkeypatch):
    for var in ("MISTRAL_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


def client(server, tmp_path, **kw):
    kw.setdefault("cache_dir", str(tmp_path / "cache"))
    return LLMClient(provider="openai", base_url=server.url, model="tiny-llm", **kw)


def test_success_with_usage_cost_and_key_sent(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_KEY", KEY)
    c = client(server, tmp_path, api_key_env="MY_KEY", price_in=1.0, price_out=2.0)
    llm = LLMClassifier(c)
    out = llm(["A great film", "a dull, boring plot"])
    assert [o["label"] for o in out] == ["positive", "negative"] and out[0]["score"] == 0.9
    assert out[0]["reason"] == "keyword"
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["body"]["model"] == "tiny-llm"
    assert req["body"]["response_format"] == {"type": "json_object"} and req["body"]["temperature"] == 0
    assert req["headers"]["authorization"] == f"Bearer {KEY}"
    u = c.usage
    assert (u.requests, u.prompt_tokens, u.completion_tokens, u.errors) == (2, 100, 24, 0)
    assert u.cost_usd == pytest.approx((100 * 1.0 + 24 * 2.0) / 1e6)
    assert KEY not in repr(c) and KEY not in json.dumps(u.as_dict())
    p = llm.predict_proba(["A great film"])
    assert p.shape == (1, 2) and p[0, 1] == pytest.approx(0.9)


def test_cache_makes_a_rerun_free(server, tmp_path):
    LLMClassifier(client(server, tmp_path)).predict(["A great film", "awful"])
    assert len(server.requests) == 2
    c2 = client(server, tmp_path, price_in=1.0, price_out=1.0)
    assert LLMClassifier(c2).predict(["A great film", "awful"]) == ["positive", "negative"]
    assert len(server.requests) == 2  # nothing new was sent
    assert c2.usage.cache_hits == 2 and c2.usage.cost_usd == 0 and c2.usage.prompt_tokens == 0
    # a different model is a different cache key
    LLMClassifier(LLMClient(provider="openai", base_url=server.url, model="other",
                            cache_dir=str(tmp_path / "cache"))).predict(["A great film"])
    assert len(server.requests) == 3


def test_429_then_success_is_retried(server, tmp_path):
    server.script = [{"status": 429, "body": {"error": {"message": "rate limited"}}, "headers": {"retry-after-ms": "20"}}]
    c = client(server, tmp_path, max_retries=2)
    assert LLMClassifier(c).predict(["I love it"]) == ["positive"]
    assert len(server.requests) == 2 and c.usage.retries == 1 and c.usage.errors == 0


def test_500_after_retries_is_invalid_not_guessed(server, tmp_path):
    server.script = [{"status": 500, "body": {"error": {"message": "boom"}}, "headers": {"retry-after-ms": "10"}}] * 2
    c = client(server, tmp_path, max_retries=1)
    pred = LLMClassifier(c).classify(["I love it"])[0]
    assert pred.label == "invalid" and np.isnan(pred.p_positive) and "HTTP 500" in pred.error
    assert len(server.requests) == 2 and c.usage.errors == 1
    assert len(c.cache) == 0  # errors are never cached


def test_timeout(server, tmp_path):
    server.script = [{"delay": 1.5}]
    c = client(server, tmp_path, timeout=0.3, max_retries=0)
    pred = LLMClassifier(c).classify(["I love it"])[0]
    assert pred.label == "invalid" and "timed out" in pred.error


@pytest.mark.parametrize("content, fragment", [
    ('{"label": "positive", "confidence": 0.9', "malformed JSON"),
    ("I'm sorry, but I can't help with classifying this review.", "not a JSON object"),
    ('{"label": "neutral", "confidence": 0.5, "reason": "meh"}', "label must be"),
])
def test_bad_answers_are_invalid(server, tmp_path, content, fragment):
    server.script = [{"body": completion(content)}]
    llm = LLMClassifier(client(server, tmp_path))
    pred = llm.classify(["I love it"])[0]
    assert pred.label == "invalid" and fragment in pred.error
    assert llm.score(["I love it"], [1]) == 0.0  # the (cached) bad answer counts as wrong


def test_concurrency_limit(tmp_path):
    with FakeLLMServer() as s:
        s.script = [{"delay": 0.15}] * 6
        c = LLMClient(provider="openai", base_url=s.url, model="m", concurrency=2, use_cache=False)
        assert len(LLMClassifier(c).predict([f"great {i}" for i in range(6)])) == 6
        assert s.max_in_flight <= 2


def test_no_key_no_server_clear_message(tmp_path):
    with pytest.raises(LLMNotConfigured, match="MISTRAL_API_KEY.*--base-url"):
        LLMClient(provider="mistral")
    with pytest.raises(LLMNotConfigured, match="base-url"):
        LLMClient(provider="openai", model="m")
    with pytest.raises(LLMNotConfigured, match="--llm-model"):
        LLMClient(provider="openai", base_url="http://127.0.0.1:9/v1")


def test_mistral_defaults_and_key_from_env(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    c = LLMClient(provider="mistral", cache_dir=str(tmp_path))
    assert (c.base_url, c.model) == (MISTRAL_BASE_URL, DEFAULT_MISTRAL_MODEL) and c.prices is not None
    # the same provider against the local server (base URL overridden): Mistral's key is sent
    c = LLMClient(provider="mistral", base_url=server.url, cache_dir=str(tmp_path))
    assert LLMClassifier(c).predict(["wonderful"]) == ["positive"]
    assert server.requests[-1]["headers"]["authorization"] == f"Bearer {KEY}"
    assert server.requests[-1]["body"]["model"] == DEFAULT_MISTRAL_MODEL


def test_bad_key_raises_without_printing_it(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    server.script = [{"status": 401, "body": {"error": {"message": f"invalid key {KEY}"}}}]
    with pytest.raises(LLMError, match=r"refused the key \(HTTP 401\): check \$MISTRAL_API_KEY") as e:
        LLMClassifier(LLMClient(provider="mistral", base_url=server.url, cache_dir=str(tmp_path))).predict(["x y"])
    assert KEY not in str(e.value)


def test_server_down_is_one_clear_error(tmp_path):
    c = LLMClient(provider="openai", base_url="http://127.0.0.1:9/v1", model="m", max_retries=0, use_cache=False)
    with pytest.raises(LLMError, match="cannot reach http://127.0.0.1:9/v1"):
        LLMClassifier(c).predict(["x"])


def test_k_shot_prompt_has_balanced_examples(server, tmp_path):
    texts = ["great film", "loved it", "superb acting", "awful", "boring plot", "bad"]
    llm = LLMClassifier(client(server, tmp_path), k_shot=4, seed=1).fit(texts, [1, 1, 1, 0, 0, 0])
    assert sorted(y for _, y in llm.examples_) == [0, 0, 1, 1]
    llm.predict(["wonderful"])
    msgs = server.requests[-1]["body"]["messages"]
    assert [m["role"] for m in msgs] == ["system"] + ["user", "assistant"] * 4 + ["user"]
    assert all(parse_answer(m["content"]).confidence == 1.0 for m in msgs if m["role"] == "assistant")
    with pytest.raises(Exception, match="fit"):
        LLMClassifier(client(server, tmp_path), k_shot=2).predict(["x"])


def test_parse_answer_is_strict():
    assert parse_answer('```json\n{"label": "Negative", "confidence": 1, "reason": "a\\nb"}\n```').label == "negative"
    for bad in ('{"label": "positive", "confidence": 1.5, "reason": ""}', '{"label": "positive", "reason": ""}',
                '{"label": "positive", "confidence": true, "reason": ""}', '["positive"]',
                'Sure! {"label": "positive", "confidence": 0.9, "reason": "x"}'):
        with pytest.raises(AnswerError):
            parse_answer(bad)


def test_generate_writes_training_jsonl(server, tmp_path):
    rows, problems = generate_reviews(client(server, tmp_path), "positive", 3, "a science-fiction film")
    assert len(rows) == 3 and not problems and all(r["label"] == "positive" and r["synthetic"] for r in rows)
    assert len({r["text"] for r in rows}) == 3  # each request asked for a different angle
    assert server.requests[0]["body"]["temperature"] == 0.9
    path = write_jsonl(rows, tmp_path / "synthetic.jsonl")
    records = load_table(path)
    assert [r.label for r in records] == [1, 1, 1]


runner = CliRunner()


def test_cli_generate_and_no_key_error(server, tmp_path):
    out = tmp_path / "gen.jsonl"
    r = runner.invoke(app, ["generate", "--sentiment", "negative", "--n", "2", "--topic", "a musical",
                            "--base-url", server.url, "--model", "m", "--cache-dir", str(tmp_path / "c"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert [json.loads(x)["label"] for x in out.read_text().splitlines()] == ["negative", "negative"]
    r = runner.invoke(app, ["generate", "--sentiment", "positive", "--n", "2", "--topic", "x", "-o", str(tmp_path / "n.jsonl")])
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 1 and len(lines) == 1 and "MISTRAL_API_KEY" in lines[0]
    assert not (tmp_path / "n.jsonl").exists()


@pytest.mark.parametrize("key", ["sk-secret\nINJECTED", "sk-secret INJECTED", "sk-secret\x07INJECTED", "sk-sécret"])
def test_a_key_with_whitespace_or_control_characters_is_refused_without_echoing_it(key, server, monkeypatch):
    """Found in an audit: a key with a line break inside reached the HTTP library, whose error
    ("Illegal header value b'Bearer sk-...'") printed the key."""
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with pytest.raises(LLMNotConfigured) as info:
        LLMClient(provider="openai", base_url=server.url, model="m", use_cache=False)
    assert "secret" not in str(info.value) and "INJECTED" not in str(info.value) and "OPENAI_API_KEY" in str(info.value)


def test_generate_check_reports_controllability(tmp_path):
    """--check: each review scored by the sentiment model, the share that matches --sentiment."""
    def mixed(body):  # every third review comes out with the wrong mood
        i = int(body["messages"][-1]["content"].split("review number ")[1].split()[0])
        return json.dumps({"review": "An awful, boring, dreadful mess." if i % 3 == 0 else
                           "A wonderful, moving film; I loved every minute."})
    with FakeLLMServer(mixed) as s:
        out = tmp_path / "gen.jsonl"
        r = runner.invoke(app, ["generate", "--sentiment", "positive", "--n", "6", "--base-url", s.url, "--llm-model", "m",
                                "--no-cache", "-o", str(out), "--check"])
    assert r.exit_code == 0, r.output
    assert "controllability: 4 of 6 reviews (67%) read as positive by the sentiment model (the shipped model)" in r.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [row["check_label"] for row in rows] == ["positive", "positive", "negative"] * 2
    assert all(0.5 <= row["check_score"] <= 1 for row in rows)
    assert [r.label for r in load_table(out)] == [1] * 6  # still training data
    r = runner.invoke(app, ["generate", "--sentiment", "positive", "--base-url", "http://127.0.0.1:9/v1",
                            "--llm-model", "m", "--check", "--sentiment-model", str(tmp_path / "none"), "-o", str(out)])
    assert r.exit_code == 1 and "no model bundle at" in r.output
