"""A recorded conversation for docs/chat.md: what the sentiment monitor catches and misses.

The student's messages are scripted (plain frustration, then sarcasm and negation, the challenge
suite's weak groups); the assistant's replies come from the tests' fake OpenAI-compatible server
on 127.0.0.1 (tests/fake_llm_server.py), canned, one of them deliberately harsh and one curt, so
that the run needs no LLM and gives the same transcript every time. The monitor is the real
one: the shipped model scores every message.

    python examples/chat_recorded.py docs/examples/chat/transcript.jsonl
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fake_llm_server import FakeLLMServer  # noqa: E402

from sentiment_lab.chat import Chat, Monitor, load_scorer  # noqa: E402
from sentiment_lab.compare.llm import LLMClient  # noqa: E402

# (the student's message, what a person reads in it)
STUDENT = [
    ("Hi! I would like to understand what a gate does in an LSTM.", "positive"),
    ("I don't get it. I have read this three times and I am still lost.", "negative"),
    ("This is so frustrating, nothing works and my model is terrible.", "negative"),
    ("Oh great, another formula. I just love spending my Sunday on sigmoids.", "negative (sarcasm)"),
    ("Your explanation is not bad at all, and it is not confusing any more.", "positive (negation)"),
    ("I wouldn't say I hate it, I'm just not a fan of padding.", "mixed (negation)"),
    ("Thanks, that finally makes sense!", "positive"),
]
REPLIES = [
    "A gate is a small learned valve: a sigmoid between 0 and 1 that decides how much information passes. "
    "Which of the three gates do you think forgets?",
    "That's fine, it is a lot at once. Let's take one gate only: the forget gate multiplies the old cell state "
    "by a number between 0 and 1. What happens when that number is 0?",
    "No wonder it fails: your code is wrong, the loss is awful and the whole approach is a terrible mess.",
    "Sigmoids are just squashing functions. Look it up.",
    "Glad it helps! Try `sentiment-lab explain \"the film was not good\"` to see the gates at work.",
    "Padding makes every review in a batch the same length; the model must not read the pad tokens. Why?",
    "You're welcome! Next step: attention. What do you think it adds to an LSTM?",
]


def answer(body: dict) -> str:
    turn = sum(m["role"] == "user" for m in body["messages"]) - 1
    return REPLIES[min(turn, len(REPLIES) - 1)]


def main(out: str) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).unlink(missing_ok=True)
    with FakeLLMServer(answer) as server:
        client = LLMClient(provider="openai", base_url=server.url, model="fake-tutor", use_cache=False,
                           json_mode=False)
        chat = Chat(client, persona="tutor-en", monitor=Monitor(load_scorer()), path=out)
        print("| # | who | message | a reader | monitor | rule |")
        print("|---|---|---|---|---|---|")
        for i, (text, truth) in enumerate(STUDENT, 1):
            reply = chat.send(text)
            user = chat.history[-2]
            rule = "encouragement note sent" if user.note else ""
            print(f"| {i} | student | {text} | {truth} | {user.sentiment['label']} {user.sentiment['score']:.2f} | {rule} |")
            flag = "flagged for review" if reply.flagged else ""
            print(f"| {i} | assistant | {reply.text} | | {reply.sentiment['label']} {reply.sentiment['score']:.2f} | {flag} |")
        print(f"\n{chat.monitor.mood(chat.context())}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/examples/chat/transcript.jsonl")
