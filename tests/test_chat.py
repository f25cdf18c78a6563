"""The chat (sentiment_lab.chat, `sentiment-lab chat`) against the fake OpenAI-compatible server
on 127.0.0.1, streaming: replies token by token, a stream cut midway, a malformed chunk, 429
then success, a slow first token; the context budget (trimming, summaries), transcripts
(resume equals the uninterrupted conversation, corrupt or foreign files), the key never
written, the sentiment monitor's rules and the personas."""
from __future__ import annotations

import json

import pytest
from fake_llm_server import FakeLLMServer
from typer.testing import CliRunner

from sentiment_lab.chat import (Chat, ChatError, ContextOverflow, Message, Monitor, MonitorRules, TranscriptError,
                                load_persona)
from sentiment_lab.chat.memory import estimate_tokens
from sentiment_lab.chat.personas import COMMANDS, NAMES, TOPICS
from sentiment_lab.chat.session import SUMMARY_PREFIX
from sentiment_lab.cli import app
from sentiment_lab.compare.llm import LLMClient, LLMError

KEY = "sk-chat-SECRET-9876543210"
runner = CliRunner()


def answer(body: dict) -> str:
    """A reply that depends on the whole conversation sent (so that any difference shows)."""
    first = body["messages"][0]["content"]
    if first.startswith("Summarize"):
        return "SUMMARY: the student asked about gates."
    turns = sum(m["role"] == "user" for m in body["messages"])
    return f"Reply {turns} to '{body['messages'][-1]['content'][:20]}' with {len(body['messages'])} messages sent."


def keyword_scorer(texts):
    """A stand-in sentiment model: negative when a text says so (tests need no bundle)."""
    bad = ("lost", "hate", "awful", "stupid", "wrong")
    return [{"label": "negative", "score": 0.95} if any(w in t.lower() for w in bad)
            else {"label": "positive", "score": 0.9} for t in texts]


@pytest.fixture
def server():
    with FakeLLMServer(answer) as s:
        yield s


@pytest.fixture(autouse=True)
def key(monkeypatch):
    for var in ("MISTRAL_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def client(server, **kw):
    kw.setdefault("max_retries", 2)
    return LLMClient(provider="openai", base_url=server.url, model="tiny-chat", use_cache=False, json_mode=False, **kw)


def make_chat(server, tmp_path=None, **kw):
    kw.setdefault("monitor", Monitor(keyword_scorer))
    kw.setdefault("persona", "plain")
    return Chat(client(server), path=tmp_path / "chat.jsonl" if tmp_path else None, **kw)


def sent(server, i=-1):
    return server.requests[i]["body"]["messages"]


def test_a_reply_streams_token_by_token_with_usage_sentiment_and_transcript(server, tmp_path):
    chat = make_chat(server, tmp_path)
    pieces = list(chat.stream("What does a gate do?"))
    assert len(pieces) > 3 and "".join(pieces) == "Reply 1 to 'What does a gate do?' with 2 messages sent."
    body = server.requests[0]["body"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    system, user, reply = chat.history
    assert reply.tokens == len(pieces) and reply.tokens_source == "usage" and not reply.interrupted
    prompt = sum(len(m["content"]) // 4 + 4 for m in body["messages"])  # what the fake server reports
    assert system.tokens + user.tokens == prompt and user.tokens_source == "usage"
    assert user.sentiment == {"label": "positive", "score": 0.9} and reply.sentiment["label"] == "positive"
    header, *rows = [json.loads(x) for x in (tmp_path / "chat.jsonl").read_text().splitlines()]
    assert header["format"] == "sentiment-lab.chat" and header["version"] == 1 and header["llm"] == "openai:tiny-chat"
    assert [r["role"] for r in rows] == ["system", "user", "assistant"] and rows[2]["text"] == reply.text
    assert chat.send("and the forget gate?").text.startswith("Reply 2")
    assert [m["role"] for m in sent(server)] == ["system", "user", "assistant", "user"]


def test_before_the_first_reply_tokens_are_the_documented_estimate(server):
    assert estimate_tokens("") == 4 and estimate_tokens("x" * 40) == 14 and estimate_tokens("x" * 41) == 15
    chat = make_chat(server)
    assert chat.history[0].tokens == estimate_tokens(chat.history[0].text)
    assert chat.history[0].tokens_source == "estimate"


def test_the_history_is_trimmed_to_the_budget_oldest_turns_first(server):
    chat = make_chat(server, max_context_tokens=300, reply_tokens=100)
    for i in range(6):
        chat.send(f"question {i} " + "about recurrent networks " * 8)
    msgs = sent(server)
    assert msgs[0]["role"] == "system" and msgs[-1]["content"].startswith("question 5")
    assert "question 0" not in json.dumps(msgs) and len(msgs) < 12
    kept = sum(m.tokens for m in chat.context()[:-1])
    assert kept + estimate_tokens(msgs[-1]["content"]) + 100 <= 300 + 40  # the budget, give or take the estimate
    dropped = [m for m in chat.history if not m.in_context]
    assert dropped and dropped[0].text.startswith("question 0") and chat.history[0].in_context
    assert len(chat.history) == 13  # nothing dropped from the transcript itself


def test_with_summarize_dropped_turns_become_a_summary(server):
    chat = make_chat(server, max_context_tokens=300, reply_tokens=100, summarize=True)
    for i in range(5):
        chat.send(f"question {i} " + "about recurrent networks " * 8)
    summaries = [m for m in chat.context() if m.role == "summary"]
    assert len(summaries) == 1 and summaries[0].text.startswith("SUMMARY")
    summary_requests = [r for r in server.requests if not r["body"].get("stream")]
    assert summary_requests and "question 0" in summary_requests[0]["body"]["messages"][1]["content"]
    assert SUMMARY_PREFIX + "SUMMARY" in sent(server)[0]["content"]
    assert "question 0" not in json.dumps(sent(server))


def test_resuming_a_transcript_gives_the_uninterrupted_conversation(tmp_path):
    questions = [f"question {i} " + "on LSTM gates " * 6 for i in range(5)]
    kw = dict(max_context_tokens=300, reply_tokens=80, summarize=True)
    with FakeLLMServer(answer) as s1:
        straight = make_chat(s1, tmp_path / "a", **kw)
        for q in questions:
            straight.send(q)
        whole = [r["body"] for r in s1.requests]
    with FakeLLMServer(answer) as s2:
        first = make_chat(s2, tmp_path / "b", **kw)
        for q in questions[:3]:
            first.send(q)
        resumed = Chat.load(tmp_path / "b" / "chat.jsonl", client(s2), monitor=Monitor(keyword_scorer))
        for q in questions[3:]:
            resumed.send(q)
        split = [r["body"] for r in s2.requests]
    assert split == whole
    strip = lambda msgs: [(m.role, m.text, m.tokens, m.in_context, m.sentiment) for m in msgs]  # noqa: E731
    assert strip(resumed.history) == strip(straight.history)


@pytest.mark.parametrize("step, fragment", [({"cut_after": 3}, "broke off"), ({"malformed_at": 2}, "broke off")])
def test_a_stream_cut_midway_or_a_malformed_chunk_keeps_the_partial_reply_marked(server, tmp_path, step, fragment):
    server.script = [step]
    chat = make_chat(server, tmp_path)
    pieces = list(chat.stream("tell me about padding"))
    reply = chat.history[-1]
    assert reply.role == "assistant" and reply.interrupted and fragment in reply.error
    assert reply.text == "".join(pieces) and len(pieces) >= 2
    rows = [json.loads(x) for x in (tmp_path / "chat.jsonl").read_text().splitlines()]
    assert rows[-1]["interrupted"] is True and KEY not in (tmp_path / "chat.jsonl").read_text()
    assert chat.send("go on").text.startswith("Reply 2")  # the conversation goes on


def test_429_then_success_and_a_slow_first_token(server):
    server.script = [{"status": 429, "body": {"error": {"message": "rate limited"}}, "headers": {"retry-after-ms": "20"}},
                     {"first_delay": 0.6}]
    chat = make_chat(server)
    reply = chat.send("hello")
    assert reply.text.startswith("Reply 1") and not reply.interrupted and len(server.requests) == 2


def test_closing_the_stream_midway_is_ctrl_c_the_partial_reply_is_kept_interrupted(server, tmp_path):
    server.script = [{"chunk_delay": 0.05}]
    chat = make_chat(server, tmp_path)
    gen = chat.stream("explain embeddings")
    got = [next(gen), next(gen)]
    gen.close()
    reply = chat.history[-1]
    assert reply.interrupted and reply.error == "interrupted by the user" and reply.text == "".join(got)
    saved = [json.loads(x) for x in (tmp_path / "chat.jsonl").read_text().splitlines()]
    assert saved[-1]["text"] == "".join(got) and saved[-1]["interrupted"]
    assert chat.send("again").text.startswith("Reply 2")


def test_a_server_that_is_down_or_fails_leaves_the_transcript_as_it_was(server, tmp_path):
    chat = make_chat(server, tmp_path)
    chat.send("first")
    before = (tmp_path / "chat.jsonl").read_text()
    server.script = [{"status": 500, "body": {"error": {"message": f"boom {KEY}"}}, "headers": {"retry-after-ms": "5"}}] * 3
    with pytest.raises(ChatError, match="no reply from openai:tiny-chat: HTTP 500") as info:
        chat.send("second")
    assert KEY not in str(info.value) and len(chat.history) == 3
    assert (tmp_path / "chat.jsonl").read_text() == before
    down = Chat(LLMClient(provider="openai", base_url="http://127.0.0.1:9/v1", model="m", max_retries=0),
                persona="plain", monitor=Monitor(None))
    with pytest.raises(LLMError, match="cannot reach http://127.0.0.1:9/v1") as info:
        down.send("hello")
    assert len(down.history) == 1 and KEY not in str(info.value) and "\n" not in str(info.value)


def test_a_message_over_the_budget_on_its_own_is_refused_before_anything_changes(server, tmp_path):
    chat = make_chat(server, tmp_path, max_context_tokens=300, reply_tokens=100)
    chat.send("hello")
    before = (tmp_path / "chat.jsonl").read_text()
    with pytest.raises(ContextOverflow, match="passes the context budget of 300 tokens"):
        chat.send("word " * 400)
    assert len(chat.history) == 3 and (tmp_path / "chat.jsonl").read_text() == before
    assert len(server.requests) == 1


def test_the_key_is_never_in_transcripts_or_requests_bodies(server, tmp_path):
    chat = make_chat(server, tmp_path)
    chat.send("hello")
    chat.save(tmp_path / "copy.jsonl")
    for f in tmp_path.glob("*.jsonl"):
        assert KEY not in f.read_text()
    assert KEY not in repr(chat.client) and server.requests[0]["headers"]["authorization"] == f"Bearer {KEY}"
    assert KEY not in json.dumps(chat.header())


@pytest.mark.parametrize("content, fragment", [
    ("", "is empty"),
    ("not json\n", "line 1: corrupt JSON"),
    ('{"format": "something-else"}\n', "not a sentiment-lab chat transcript"),
    ('{"format": "sentiment-lab.chat", "version": 7}\n', "version 7 transcript"),
    ('{"format": "sentiment-lab.chat", "version": 1}\n{"role": "robot", "text": "x"}\n', "line 2: not a chat message"),
    ('{"format": "sentiment-lab.chat", "version": 1}\n{"role": "user", "text": "hi"\n', "line 2: corrupt JSON"),
])
def test_a_corrupt_or_foreign_transcript_is_one_clear_error(server, tmp_path, content, fragment):
    path = tmp_path / "t.jsonl"
    path.write_text(content)
    with pytest.raises((TranscriptError, ChatError), match=fragment):
        Chat.load(path, client(server))


def test_the_monitor_notes_a_frustrated_student_and_flags_negative_replies(tmp_path):
    def gloomy(body):
        return "That is wrong and awful." if "flag" in body["messages"][-1]["content"] else "Fine."
    with FakeLLMServer(gloomy) as s:
        chat = make_chat(s, monitor=Monitor(keyword_scorer, MonitorRules(window=3, frustrated_after=2)))
        chat.send("I am lost")
        assert "sentiment monitor" not in sent(s)[0]["content"]  # one negative message is not a pattern
        chat.send("I hate this, I am lost again")
        assert sent(s)[0]["content"].endswith(MonitorRules().note) and chat.history[-2].note
        assert chat.monitor.mood(chat.context()) == "mood (last 2): - -  frustrated"
        for _ in range(3):
            chat.send("thanks, that helps")
        assert "sentiment monitor" not in sent(s)[0]["content"]
        reply = chat.send("please flag this")
        assert reply.flagged and "review" in reply.flagged
        assert not chat.history[-3].flagged
    with pytest.raises(Exception, match="frustrated_after"):
        MonitorRules(window=2, frustrated_after=3)


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_persona_renders(name):
    p = load_persona(name)
    assert p.name == name and p.version >= 1 and "{" not in p.prompt and "%" not in p.prompt
    if name.startswith("tutor"):
        assert all(t in p.prompt for t in TOPICS) and all(c in p.prompt for _, c in COMMANDS)
        assert ("Tu es" in p.prompt) == (name == "tutor-fr")


def test_the_tutors_suggest_commands_that_exist():
    import typer.main

    names = set(typer.main.get_command(app).commands)
    assert {c.split()[1] for _, c in COMMANDS} <= names


def test_persona_default_by_language_files_and_unknown_names(monkeypatch, tmp_path):
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert load_persona().name == "tutor-fr"
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert load_persona().name == "tutor-en"
    (tmp_path / "p.txt").write_text("You are a pirate.\n")
    assert load_persona(str(tmp_path / "p.txt")).prompt == "You are a pirate."
    with pytest.raises(Exception, match="unknown persona 'pirate': choose one of tutor-fr, tutor-en, plain"):
        load_persona("pirate")


def test_the_key_is_never_in_the_logs(server, tmp_path, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    server.script = [{"status": 429, "body": {"error": {"message": "slow down"}}, "headers": {"retry-after-ms": "5"}}]
    make_chat(server, tmp_path).send("hello")
    assert caplog.records and KEY not in caplog.text  # the SDK logs its requests at DEBUG


# -- the command line ---------------------------------------------------------------------------

def chat_cli(server, tmp_path, *extra, input="hello\n/quit\n"):
    args = ["chat", "--base-url", server.url, "--llm-model", "tiny-chat", "--persona", "tutor-en", *extra]
    return runner.invoke(app, args, input=input)


def test_cli_chat_streams_scores_saves_and_takes_commands(server, tmp_path):
    out = tmp_path / "t.jsonl"
    r = chat_cli(server, tmp_path, "--save", str(out),
                 input=f"I am lost, I hate this\n/save {tmp_path / 'copy.jsonl'}\n/system Be brief.\n/bogus\n"
                       "thanks, that helps\n/reset\nhello again\n/quit\n")
    assert r.exit_code == 0, r.output
    assert "Reply 1 to 'I am lost, I hate th" in r.output and "negative" in r.output and "positive" in r.output
    assert "mood (last 1): -" in r.output and "unknown command /bogus" in r.output
    rows = [json.loads(x) for x in out.read_text().splitlines()][1:]
    assert [m["role"] for m in rows] == ["system", "user", "assistant"] * 1 + ["user", "assistant"] * 2
    assert rows[0]["text"] == "Be brief." and [m["in_context"] for m in rows[1:5]] == [False] * 4
    assert rows[1]["sentiment"]["label"] == "negative"  # the shipped model
    assert (tmp_path / "copy.jsonl").is_file() and KEY not in out.read_text()
    assert server.requests[-1]["body"]["messages"][0]["content"] == "Be brief."
    assert [m["role"] for m in server.requests[-1]["body"]["messages"]] == ["system", "user"]


def test_cli_ctrl_c_mid_reply_keeps_the_partial_reply_and_the_conversation(server, tmp_path, monkeypatch):
    from sentiment_lab.cli import chat as chat_cli_module

    calls = []
    real = chat_cli_module.write

    def press_ctrl_c_on_the_third_piece(piece):
        calls.append(piece)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(piece)
    monkeypatch.setattr(chat_cli_module, "write", press_ctrl_c_on_the_third_piece)
    server.script = [{"chunk_delay": 0.02}]
    out = tmp_path / "t.jsonl"
    r = chat_cli(server, tmp_path, "--no-monitor", "-o", str(out), input="first\nsecond\n/quit\n")
    assert r.exit_code == 0, r.output
    assert "[interrupted by the user]" in r.output
    rows = [json.loads(x) for x in out.read_text().splitlines()][1:]
    assert rows[2]["interrupted"] and rows[2]["text"] == "".join(calls[:3])  # what arrived, the piece cut short too
    assert rows[4]["text"].startswith("Reply 2") and not rows[4]["interrupted"]


def test_cli_resume_continues_the_transcript(server, tmp_path):
    out = tmp_path / "t.jsonl"
    assert chat_cli(server, tmp_path, "--no-monitor", "-o", str(out), input="one\n").exit_code == 0
    r = runner.invoke(app, ["chat", "--base-url", server.url, "--llm-model", "tiny-chat", "--no-monitor",
                            "--resume", str(out)], input="two\n/quit\n")
    assert r.exit_code == 0, r.output
    assert "you> one" in r.output and "Reply 2 to 'two'" in r.output
    assert len(out.read_text().splitlines()) == 6


@pytest.mark.parametrize("args, fragment", [
    (["chat"], "no Mistral API key: $MISTRAL_API_KEY is not set"),
    (["chat", "--base-url", "http://127.0.0.1:9/v1", "--llm-model", "m", "--persona", "pirate"], "unknown persona 'pirate'"),
    (["chat", "--base-url", "http://127.0.0.1:9/v1", "--llm-model", "m", "--no-monitor", "--resume", "CORRUPT"],
     "line 1: corrupt JSON"),
    (["chat", "--base-url", "http://127.0.0.1:9/v1", "--llm-model", "m", "--sentiment-model", "nowhere"],
     "--sentiment-model: no model bundle at nowhere"),
    (["chat", "--base-url", "http://127.0.0.1:9/v1"], "--llm-model is required"),
])
def test_cli_bad_setup_is_one_line_and_exit_1(tmp_path, args, fragment):
    (tmp_path / "CORRUPT").write_text("{oops\n")
    args = [str(tmp_path / a) if a == "CORRUPT" else a for a in args]
    r = runner.invoke(app, args, input="hello\n")
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 1 and len(lines) == 1 and fragment in lines[0], r.output
    assert KEY not in r.output


def test_cli_a_failing_turn_is_one_line_and_the_conversation_goes_on(server, tmp_path):
    out = tmp_path / "t.jsonl"
    r = runner.invoke(app, ["chat", "--base-url", "http://127.0.0.1:9/v1", "--llm-model", "m", "--no-monitor",
                            "--max-retries", "0", "-o", str(out)], input="hello\nhello again\n/quit\n")
    errors = [ln for ln in r.output.splitlines() if "error:" in ln]
    assert r.exit_code == 0 and len(errors) == 2 and "cannot reach http://127.0.0.1:9/v1" in errors[0], r.output
    r = chat_cli(server, tmp_path, "--no-monitor", "--max-context-tokens", "700", "--reply-tokens", "100",
                 input="hi\n" + "word " * 400 + "\nbye\n/quit\n")
    errors = [ln for ln in r.output.splitlines() if "error:" in ln]
    assert len(errors) == 1 and "passes the context budget of 700 tokens" in errors[0] and "Reply 2 to 'bye'" in r.output


def test_the_recorded_conversation_in_the_docs_is_a_current_transcript():
    """docs/chat.md shows docs/examples/chat/transcript.jsonl: it must load and resume today."""
    from pathlib import Path

    from sentiment_lab.chat import load_transcript

    header, messages = load_transcript(Path(__file__).resolve().parents[1] / "docs/examples/chat/transcript.jsonl")
    assert header["persona"] == "tutor-en" and [m.role for m in messages[:3]] == ["system", "user", "assistant"]
    assert len(messages) == 15 and all(m.sentiment for m in messages[1:])


def test_resuming_with_another_persona_replaces_the_system_prompt(server, tmp_path):
    chat = make_chat(server, tmp_path)
    chat.send("hello")
    same = Chat.load(tmp_path / "chat.jsonl", client(server))
    assert same.history[0].text == load_persona("plain").prompt
    other = Chat.load(tmp_path / "chat.jsonl", client(server), persona=load_persona("tutor-en"))
    assert other.history[0].text == load_persona("tutor-en").prompt and len(other.history) == 3
    other.send("and now?")
    assert sent(server)[0]["content"].startswith(load_persona("tutor-en").prompt)


def test_ctrl_c_while_waiting_for_the_next_token_keeps_the_partial_reply(server, tmp_path, monkeypatch):
    """In a terminal, Ctrl-C mostly lands while the client waits on the socket, inside the stream,
    not between two pieces: the KeyboardInterrupt rises through the stream and the Chat."""
    from sentiment_lab.compare.llm.client import ReplyStream

    class CtrlCOnTheThirdPiece(ReplyStream):
        def __iter__(self):
            for i, piece in enumerate(super().__iter__()):
                if i == 2:
                    raise KeyboardInterrupt
                yield piece

    chat = make_chat(server, tmp_path)
    real = chat.client.stream

    def stream(*args, **kwargs):
        s = real(*args, **kwargs)
        s.__class__ = CtrlCOnTheThirdPiece
        return s
    monkeypatch.setattr(chat.client, "stream", stream)
    got = []
    with pytest.raises(KeyboardInterrupt):
        for piece in chat.stream("what is attention?"):
            got.append(piece)
    reply = chat.history[-1]
    assert reply.role == "assistant" and reply.interrupted and reply.error == "interrupted by the user"
    assert reply.text.startswith("".join(got)) and len(got) == 2
    assert json.loads((tmp_path / "chat.jsonl").read_text().splitlines()[-1])["interrupted"]


def test_the_monitor_takes_a_shipped_model_by_name():
    """--sentiment-model imdb means the shipped IMDB model, as -m imdb does everywhere."""
    from sentiment_lab.chat.monitor import load_scorer

    scores = load_scorer("imdb")(["A wonderful film.", "A dreadful, boring film."])
    assert [s["label"] for s in scores] == ["positive", "negative"]
