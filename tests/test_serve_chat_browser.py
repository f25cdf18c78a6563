"""The page's Chat tab end to end: `sentiment-lab serve --llm-base-url` in a subprocess, the fake
OpenAI-compatible server on 127.0.0.1 behind it, the page driven in headless Chromium
(Playwright, Debian's /usr/bin/chromium): type, watch the reply stream in, see each message's
sentiment, stop a reply midway."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import free_port, live_server
from fake_llm_server import FakeLLMServer

from sentiment_lab.inference.classifier import SentimentClassifier

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (/usr/bin/chromium)")
KEY = "sk-browser-SECRET-424242"
REPLY = ("A gate is a small learned valve: it reads the input and the previous state and decides, between 0 and 1, "
         "how much to let through. Which gate do you think forgets?")


@pytest.fixture(scope="module")
def llm():
    with FakeLLMServer(lambda body: REPLY) as s:
        yield s


@pytest.fixture(scope="module")
def server(llm, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    cmd = [sys.executable, "-c", "from sentiment_lab.cli import main; main()", "serve", "--backend", "numpy",
           "--port", str(port), "--no-access-log", "--llm-base-url", llm.url, "--llm-model", "tiny-chat"]
    env_before = os.environ.get("OPENAI_API_KEY")
    os.environ["OPENAI_API_KEY"] = KEY  # the subprocess inherits it; the page must never see it
    try:
        # 300 s: this server imports torch at start-up, which took over 120 s on the shared
        # 2-core machine under a load average of 19 (the default deadline failed there)
        with live_server(cmd, port, log, timeout=300) as (base, proc):
            yield base
    finally:
        if env_before is None:
            os.environ.pop("OPENAI_API_KEY", None)
        else:
            os.environ["OPENAI_API_KEY"] = env_before


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        ctx = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-US")
        page = ctx.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(server + "/")
        page.wait_for_selector("#tab-chat")
        yield page
        browser.close()


def test_type_stream_and_see_the_sentiment(page, llm):
    clf = SentimentClassifier.from_pretrained(None, backend="numpy")
    text = "I am completely lost with these gates, this is awful"
    llm.script = [{"chunk_delay": 0.05}]
    page.click("#tab-chat")
    assert page.is_visible("#panel-chat") and page.is_hidden("#panel-single")
    assert page.input_value("#chat-persona") == "tutor-en"
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
    # streaming: part of the reply is on the page while the reply is still coming
    page.wait_for_function("(() => { const t = document.querySelectorAll('.chat-msg.assistant .chat-text');"
                           " return t.length && t[0].textContent.length > 0 && !document.getElementById('chat-stop').disabled; })()")
    partial = page.inner_text(".chat-msg.assistant .chat-text")
    assert 0 < len(partial) < len(REPLY)
    page.wait_for_function("document.getElementById('chat-stop').disabled")
    assert page.inner_text(".chat-msg.assistant .chat-text") == REPLY
    user_badge = page.inner_text(".chat-msg.user .chat-sentiment")
    expected = clf(text)
    assert user_badge == f"{expected['label']} {round(expected['score'] * 100)}%"
    reply_expected = clf(REPLY)
    assert page.inner_text(".chat-msg.assistant .chat-sentiment") == \
        f"{reply_expected['label']} {round(reply_expected['score'] * 100)}%"
    assert "−" in page.inner_text("#chat-mood")
    assert KEY not in page.content() and page.errors == []
    sent = llm.requests[-1]["body"]["messages"]
    assert sent[0]["role"] == "system" and sent[-1] == {"role": "user", "content": text}


def test_stop_keeps_the_partial_reply_marked(page, llm):
    llm.script = [{"chunk_delay": 0.3}]
    page.fill("#chat-input", "and the forget gate?")
    page.click("#chat-send")
    page.wait_for_function("document.querySelectorAll('.chat-msg.assistant .chat-text')[1]?.textContent.length > 0")
    page.click("#chat-stop")
    page.wait_for_function("document.getElementById('chat-stop').disabled")
    second = page.locator(".chat-msg.assistant").nth(1)
    assert "(interrupted)" in second.inner_text() and len(second.locator(".chat-text").inner_text()) < len(REPLY)
    page.fill("#chat-input", "thanks, that helps")
    page.click("#chat-send")
    page.wait_for_function("document.querySelectorAll('.chat-msg.assistant').length === 3 && "
                           "document.getElementById('chat-stop').disabled")
    sent = [m["role"] for m in llm.requests[-1]["body"]["messages"]]
    assert sent == ["system", "user", "assistant", "user", "assistant", "user"]  # the partial reply was sent back
    assert page.errors == []
