"""The conversation's memory: what is sent with each turn, kept within a context budget.

Every request carries the system prompt, the messages still in context and the new one. When
that, plus room for the reply, would pass the budget (`max_context_tokens`), whole turns (a
user message and the replies to it) are dropped, oldest first; the system prompt is always
kept, and so is the new message. With `summarize`, the dropped turns are replaced by a summary
the LLM writes (role "summary", sent as a system message); see session.py.

Token counts. A message's size is first ESTIMATED, before the server has counted it:
`MESSAGE_OVERHEAD + ceil(characters / CHARS_PER_TOKEN)`, i.e. about 4 characters per token
(BPE vocabularies of Mistral/Llama-family models on English prose; French runs a little
denser) plus 4 tokens for the role markers of a chat template. After each reply the server's
usage report replaces the estimates: the reply's own count is `completion_tokens`, and the
`prompt_tokens` of the request, less the messages already counted, is shared among the
messages it first counted, in proportion to their estimates (the report gives one total, not
one per message). The transcript says which figure each message has (`tokens_source`).
"""
from __future__ import annotations

import math

from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.chat.transcript import Message

CHARS_PER_TOKEN = 4.0
MESSAGE_OVERHEAD = 4


class ContextOverflow(SentimentLabError):
    """A message that does not fit in the context budget even alone with the system prompt."""


def estimate_tokens(text: str) -> int:
    """The documented estimate of a message's size before the server has counted it."""
    return MESSAGE_OVERHEAD + math.ceil(len(text) / CHARS_PER_TOKEN)


def account_usage(sent: list[Message], prompt_tokens: int) -> None:
    """The server counted `prompt_tokens` for the messages `sent`: messages with a count from an
    earlier report keep it, the others share what is left in proportion to their estimates."""
    known = sum(m.tokens for m in sent if m.tokens_source == "usage")
    fresh = [m for m in sent if m.tokens_source != "usage"]
    left, estimated = prompt_tokens - known, sum(m.tokens for m in fresh)
    if not fresh or left <= 0 or estimated <= 0:
        return  # a report that does not add up (a server counting differently): keep the estimates
    for m in fresh:
        m.tokens = max(1, round(m.tokens * left / estimated))
        m.tokens_source = "usage"


def turns(messages: list[Message]) -> list[list[Message]]:
    """The droppable units, oldest first: a summary alone, or a user message with the replies
    that follow it (system messages are never in a unit: they are never dropped)."""
    units: list[list[Message]] = []
    for m in messages:
        if m.role == "system":
            continue
        if m.role in ("user", "summary") or not units or units[-1][0].role == "summary":
            units.append([m])
        else:
            units[-1].append(m)
    return units


def to_drop(context: list[Message], new: Message, budget: int, reserve: int) -> list[Message]:
    """The oldest messages of `context` to drop so that context + `new` + `reserve` (room for the
    reply) fits in `budget` tokens, or ContextOverflow when even the system prompt and `new`
    alone do not fit."""
    total = sum(m.tokens for m in context) + new.tokens + reserve
    if total <= budget:
        return []
    system = sum(m.tokens for m in context if m.role == "system")
    if system + new.tokens + reserve > budget:
        raise ContextOverflow(
            f"this message is about {new.tokens:,} tokens; with the system prompt ({system:,}) and room for the "
            f"reply ({reserve:,}) it passes the context budget of {budget:,} tokens: shorten it or raise "
            "--max-context-tokens")
    dropped: list[Message] = []
    for unit in turns(context):
        if total <= budget:
            break
        dropped += unit
        total -= sum(m.tokens for m in unit)
    return dropped
