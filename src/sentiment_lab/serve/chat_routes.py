"""POST /v1/chat: one turn of a conversation with the configured LLM, streamed to the page as
server-sent events. The browser keeps the conversation and sends it whole with each turn (the
server holds no sessions); the server adds the persona, trims the history to the context
budget (chat/memory.py), forwards to the LLM with its key (which never leaves the server) and
scores both messages with the served model, through the same micro-batcher as /v1/predict.

Events, each `event: NAME` + `data: JSON`:
    user     {"sentiment": {...}, "note": bool}    the user's message scored; note: the monitor
                                                    asked the assistant to slow down
    token    {"text": "..."}                        a piece of the reply
    done     {"sentiment", "flagged", "interrupted", "error", "tokens"}
    error    {"message": "..."}                     no reply (the LLM is down, the message is
                                                    over the budget, ...): one line

GET /v1/chat says whether the chat is on (`enabled`; the page shows its Chat tab only then). With
no LLM configured (`serve` without --chat / --llm-base-url) POST /v1/chat answers 404 with a
message saying how to turn it on, and GET says `enabled: false` with the same message (a 200, so
that every page load does not log a failed request in the browser's console).
"""
from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Any, AsyncIterator, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from sentiment_lab.chat import Chat, Message, Monitor, estimate_tokens, load_persona
from sentiment_lab.chat.personas import NAMES
from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.serve.limits import RETRY_AFTER_S
from sentiment_lab.serve.routes import ServeState, get_state
from sentiment_lab.serve.schemas import MAX_TEXT_CHARS, Text

chat_router = APIRouter()
MAX_TURNS = 200  # messages in one request
MAX_CHATS = 4  # turns in flight at once (each holds a thread and a connection to the LLM); more get 503
OFF = ("the chat is off: no LLM is configured on this server; start it with `sentiment-lab serve --chat` "
       "(Mistral, key in $MISTRAL_API_KEY) or `--llm-base-url http://127.0.0.1:11434/v1 --llm-model NAME` "
       "(an OpenAI-compatible server)")


@dataclass
class ChatSettings:
    """What create_app is given to turn the chat on: the LLM client and the defaults."""

    client: Any  # an LLMClient (built at startup, so that a missing key fails there)
    persona: str | None = None
    max_context_tokens: int = 8192
    reply_tokens: int = 512
    in_flight: int = 0  # turns being answered now (MAX_CHATS at most)


class ChatTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    text: Text


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"messages": [{"role": "user", "text": "What does the forget gate do?"}], "persona": "tutor-en"}]})
    messages: list[ChatTurn] = Field(min_length=1, max_length=MAX_TURNS,
                                     description=f"the conversation so far, ending with the user's new message "
                                                 f"(each at most {MAX_TEXT_CHARS:,} characters)")
    persona: Literal["tutor-fr", "tutor-en", "plain"] | None = Field(None, description=f"one of {', '.join(NAMES)}")


@chat_router.get("/v1/chat", tags=["chat"], summary="Whether the chat is on, with which LLM and personas")
async def chat_info(request: Request) -> dict[str, Any]:
    settings: ChatSettings | None = getattr(request.app.state, "chat", None)
    if settings is None:
        return {"enabled": False, "detail": OFF}
    return {"enabled": True, "llm": settings.client.name, "personas": list(NAMES), "persona": settings.persona,
            "max_context_tokens": settings.max_context_tokens}


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@chat_router.post("/v1/chat", tags=["chat"], summary="One turn with the configured LLM, streamed (server-sent events)",
                  responses={404: {"description": "no LLM is configured on this server"},
                             503: {"description": "too many chat replies in flight"}})
async def chat(body: ChatRequest, request: Request, state: ServeState = Depends(get_state)) -> StreamingResponse:
    settings: ChatSettings | None = getattr(request.app.state, "chat", None)
    if settings is None:
        raise HTTPException(404, OFF)
    if body.messages[-1].role != "user":
        raise HTTPException(422, "the last message must be the user's")
    if settings.in_flight >= MAX_CHATS:
        raise HTTPException(503, f"server busy: {MAX_CHATS} chat replies are being written; retry shortly",
                            headers={"Retry-After": str(RETRY_AFTER_S)})
    try:
        persona = load_persona(body.persona or settings.persona)
    except SentimentLabError as exc:
        raise HTTPException(422, str(exc)) from None
    loop = asyncio.get_running_loop()

    model = state.engines.check(None)  # the served model scores the conversation

    def scorer(texts: list[str]) -> list[dict[str, Any]]:  # on the chat's thread, through the batcher
        return [asyncio.run_coroutine_threadsafe(state.batcher.submit((model, t)), loop).result() for t in texts]

    conversation = Chat(settings.client, persona=persona, monitor=Monitor(scorer),
                        max_context_tokens=settings.max_context_tokens, reply_tokens=settings.reply_tokens)
    conversation.messages += [Message(m.role, m.text, tokens=estimate_tokens(m.text)) for m in body.messages[:-1]]
    return StreamingResponse(events(conversation, body.messages[-1].text, loop, settings), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})


async def events(conversation: Chat, text: str, loop: asyncio.AbstractEventLoop,
                 settings: ChatSettings) -> AsyncIterator[str]:
    """The turn runs on its own thread (the LLM client is synchronous); its events come back
    through a queue. If the browser goes away, the thread stops reading the LLM's stream."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    stop = threading.Event()
    put = lambda item: loop.call_soon_threadsafe(queue.put_nowait, item)  # noqa: E731
    thread = threading.Thread(target=run_turn, args=(conversation, text, put, stop), daemon=True, name="chat")
    settings.in_flight += 1
    thread.start()
    try:
        while (item := await queue.get()) is not None:
            yield item
    finally:
        stop.set()
        settings.in_flight -= 1


def run_turn(conversation: Chat, text: str, put: Any, stop: threading.Event) -> None:
    try:
        pieces = conversation.stream(text)
        for i, piece in enumerate(pieces):
            if i == 0:
                user = conversation.messages[-1]
                put(sse("user", {"sentiment": user.sentiment, "note": bool(user.note)}))
            if stop.is_set():
                pieces.close()
                break
            put(sse("token", {"text": piece}))
        reply = conversation.messages[-1]
        put(sse("done", {"sentiment": reply.sentiment, "flagged": reply.flagged, "interrupted": reply.interrupted,
                         "error": reply.error, "tokens": reply.tokens,
                         "user_sentiment": conversation.messages[-2].sentiment}))
    except SentimentLabError as exc:
        put(sse("error", {"message": str(exc)}))
    except Exception as exc:  # noqa: BLE001  a bug: the page still gets one line, the log the traceback
        import logging

        logging.getLogger("sentiment_lab.serve").exception("chat turn failed")
        put(sse("error", {"message": f"internal error ({type(exc).__name__})"}))
    finally:
        put(None)
