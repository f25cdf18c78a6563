"""POST /v1/chat in-process (TestClient) against the fake OpenAI-compatible server on 127.0.0.1:
the turn streamed as server-sent events with each message's sentiment (the served model),
off (404, saying how to turn it on) with no LLM, one-line errors, the key never sent out."""
from __future__ import annotations

import json

import pytest
from fake_llm_server import FakeLLMServer
from fastapi.testclient import TestClient

from sentiment_lab.compare.llm import LLMClient
from sentiment_lab.serve import create_app
from sentiment_lab.serve.chat_routes import ChatSettings

KEY = "sk-web-SECRET-55555"


def answer(body):
    return f"Gates decide what the cell keeps. You sent {len(body['messages'])} messages. Great question!"


def parse(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


@pytest.fixture(scope="module")
def llm():
    with FakeLLMServer(answer) as s:
        yield s


def app_with(llm_url, monkeypatch=None, **kw):
    client = LLMClient(provider="openai", base_url=llm_url, model="tiny-chat", use_cache=False, json_mode=False,
                       max_retries=0, **kw)
    return create_app(None, backend="numpy", chat=ChatSettings(client=client, persona="tutor-en"))


@pytest.fixture(scope="module")
def api(llm):
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_API_KEY", KEY)
    with TestClient(app_with(llm.url), base_url="http://localhost") as c:
        yield c
    mp.undo()


def test_a_turn_streams_with_sentiments(api, llm):
    messages = [{"role": "user", "text": "What is a gate?"}, {"role": "assistant", "text": "A learned valve."},
                {"role": "user", "text": "I am completely lost and this is awful"}]
    r = api.post("/v1/chat", json={"messages": messages})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = parse(r.text)
    names = [e for e, _ in events]
    assert names[0] == "user" and names[-1] == "done" and names.count("token") > 5
    assert events[0][1]["sentiment"]["label"] == "negative"  # the served (shipped) model
    reply = "".join(d["text"] for e, d in events if e == "token")
    assert reply == answer({"messages": [0, 1, 2, 3]})
    done = events[-1][1]
    assert done["sentiment"]["label"] in ("positive", "negative") and done["interrupted"] is False
    sent = llm.requests[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert "teaching assistant" in sent[0]["content"] and sent[-1]["content"] == messages[-1]["text"]
    assert llm.requests[-1]["headers"]["authorization"] == f"Bearer {KEY}" and KEY not in r.text


@pytest.mark.parametrize("body, fragment", [
    ({"messages": [{"role": "assistant", "text": "hi"}]}, "the last message must be the user's"),
    ({"messages": [{"role": "user", "text": "hi"}], "persona": "pirate"}, "persona"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "user", "text": "   "}]}, "empty"),
])
def test_bad_requests_are_4xx_with_a_message(api, body, fragment):
    r = api.post("/v1/chat", json=body)
    assert r.status_code == 422 and fragment in json.dumps(r.json())


def test_an_llm_that_is_down_is_one_error_event(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with TestClient(app_with("http://127.0.0.1:9/v1"), base_url="http://localhost") as c:
        r = c.post("/v1/chat", json={"messages": [{"role": "user", "text": "hello"}]})
    events = parse(r.text)
    assert r.status_code == 200 and [e for e, _ in events] == ["error"]
    assert "cannot reach http://127.0.0.1:9/v1" in events[0][1]["message"] and KEY not in r.text


def test_off_without_an_llm_is_404_saying_how_to_turn_it_on():
    with TestClient(create_app(None, backend="numpy"), base_url="http://localhost") as c:
        r = c.post("/v1/chat", json={"messages": [{"role": "user", "text": "hello"}]})
        assert r.status_code == 404 and "--chat" in r.json()["detail"] and "--llm-base-url" in r.json()["detail"]
        info = c.get("/v1/chat")  # a 200 the page reads, not a failed request in its console
        assert info.status_code == 200 and info.json()["enabled"] is False and "--chat" in info.json()["detail"]


def test_info_says_the_chat_is_on_without_the_key(api):
    r = api.get("/v1/chat")
    assert r.status_code == 200 and r.json()["enabled"] is True and r.json()["llm"] == "openai:tiny-chat" and "tutor-fr" in r.json()["personas"]
    assert KEY not in r.text


def test_too_many_replies_in_flight_is_503_with_retry_after(api):
    from sentiment_lab.serve.chat_routes import MAX_CHATS

    settings = api.app.state.chat
    settings.in_flight = MAX_CHATS
    try:
        r = api.post("/v1/chat", json={"messages": [{"role": "user", "text": "hello"}]})
    finally:
        settings.in_flight = 0
    assert r.status_code == 503 and "Retry-After" in r.headers and "retry shortly" in r.json()["detail"]
    assert api.post("/v1/chat", json={"messages": [{"role": "user", "text": "hello"}]}).status_code == 200
