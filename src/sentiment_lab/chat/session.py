"""`Chat`: a conversation with an LLM that keeps its context within a budget, scores every
message with a sentiment model and writes its transcript after each turn.

    from sentiment_lab.chat import Chat
    from sentiment_lab.compare.llm import LLMClient
    chat = Chat(LLMClient(provider="openai", base_url="http://127.0.0.1:11434/v1", model="llama3.2"),
                persona="tutor-en", path="chat.jsonl")
    for piece in chat.stream("What does the forget gate do?"):
        print(piece, end="", flush=True)
    chat.send("And the input gate?").text      # the whole reply at once
    chat.history                                # Messages: role, text, tokens, sentiment, ...
    Chat.load("chat.jsonl", client)             # resume where the transcript ends

What is sent: ONE system message (the persona's prompt, then any summaries of dropped turns,
then the monitor's note for this turn when there is one), then the user and assistant messages
still in context, in order. One system message first and alternating roles is what every chat
template accepts (llama.cpp's and vLLM's templates refuse a system message elsewhere).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from sentiment_lab.exceptions import InputError, SentimentLabError
from sentiment_lab.chat.memory import account_usage, estimate_tokens, to_drop
from sentiment_lab.chat.monitor import Monitor
from sentiment_lab.chat.personas import Persona, load_persona
from sentiment_lab.chat.transcript import Message, load_transcript, now, save_transcript

SUMMARY_PROMPT = ("Summarize the conversation below for the assistant who will continue it, in at most {words} "
                  "words and in its language: what the student asked, what was explained, what the student "
                  "found hard. Write the summary only.")
SUMMARY_PREFIX = "Summary of the earlier part of the conversation: "


class ChatError(SentimentLabError):
    """A turn that got no reply (the transcript is left as it was before the turn)."""


class Chat:
    def __init__(self, client: Any, persona: str | Path | Persona | None = None, monitor: Monitor | None = None,
                 max_context_tokens: int = 8192, reply_tokens: int = 512, summarize: bool = False,
                 temperature: float = 0.7, path: str | Path | None = None) -> None:
        if max_context_tokens < 256 or reply_tokens < 16:
            raise InputError("--max-context-tokens must be at least 256 (and the reply room at least 16)")
        self.client = client  # an LLMClient, or anything with .stream(), .chat() and .name
        self.persona = persona if isinstance(persona, Persona) else load_persona(persona)
        self.monitor = monitor or Monitor()
        self.max_context_tokens, self.reply_tokens = max_context_tokens, reply_tokens
        self.summarize, self.temperature = summarize, temperature
        self.path = Path(path) if path is not None else None  # written after every turn when set
        self.created = now()
        self.messages: list[Message] = [self._system(self.persona.prompt)]
        self.notices: list[str] = []  # what the user should be told (a summary that failed, ...)

    # -- state --------------------------------------------------------------------------------
    @property
    def history(self) -> list[Message]:
        """Every message so far, dropped ones included (`in_context` says which are still sent)."""
        return list(self.messages)

    def context(self) -> list[Message]:
        return [m for m in self.messages if m.in_context]

    def _system(self, text: str) -> Message:
        return Message("system", text, tokens=estimate_tokens(text))

    def set_system(self, text: str) -> None:
        """Replace the system prompt (`/system TEXT`); the conversation goes on."""
        if not text.strip():
            raise InputError("/system needs a text: /system You are ...")
        self.messages[0] = self._system(text.strip())
        self._autosave()

    def reset(self) -> None:
        """Start over with the same system prompt; earlier messages stay in the transcript, out of context."""
        for m in self.messages[1:]:
            m.in_context = False
        self._autosave()

    # -- a turn -------------------------------------------------------------------------------
    def send(self, text: str) -> Message:
        """One turn, the whole reply at once: the assistant's Message."""
        for _ in self.stream(text):
            pass
        return self.messages[-1]

    def stream(self, text: str) -> Iterator[str]:
        """One turn, the reply's text as it arrives. Closing the iterator early (Ctrl-C) keeps
        the partial reply, marked interrupted; a reply that never came raises ChatError and
        leaves the transcript as it was."""
        user = self._user(text)
        sent = self.context()
        payload = self.payload(user.note)
        try:
            reply_stream = self.client.stream(payload, temperature=self.temperature, max_tokens=self.reply_tokens)
        except SentimentLabError:
            self._undo(user)
            raise
        finished = False
        try:
            yield from reply_stream
            finished = True
        finally:
            reply_stream.close()
            self._finish(user, sent, reply_stream, finished)

    def _user(self, text: str) -> Message:
        text = (text or "").strip()
        if not text:
            raise InputError("the message is empty")
        user = Message("user", text, tokens=estimate_tokens(text), sentiment=self.monitor.score(text))
        self._fit(user)  # ContextOverflow before anything changes
        self.messages.append(user)
        user.note = self.monitor.note_for(self.context())
        return user

    def _undo(self, user: Message) -> None:
        self.messages.remove(user)

    def _finish(self, user: Message, sent: list[Message], reply_stream: Any, finished: bool) -> None:
        if finished and not reply_stream.text and reply_stream.error:
            self._undo(user)
            raise ChatError(f"no reply from {self.client.name}: {reply_stream.error}")
        reply = Message("assistant", reply_stream.text)
        reply.interrupted = not finished or reply_stream.error is not None
        reply.error = reply_stream.error if finished else "interrupted by the user"
        if reply_stream.usage_reported:
            reply.tokens, reply.tokens_source = reply_stream.completion_tokens, "usage"
            note = [Message("system", user.note, tokens=estimate_tokens(user.note))] if user.note else []
            account_usage(sent + note, reply_stream.prompt_tokens)
        else:
            reply.tokens = estimate_tokens(reply.text)
        reply.sentiment = self.monitor.score(reply.text)
        reply.flagged = self.monitor.flag(reply)
        self.messages.append(reply)
        self._autosave()

    def payload(self, note: str | None = None) -> list[dict[str, str]]:
        """The messages sent to the LLM for the context as it stands (see the module docstring)."""
        ctx = self.context()
        system = [m.text for m in ctx if m.role == "system"] + [SUMMARY_PREFIX + m.text for m in ctx if m.role == "summary"]
        out = [{"role": "system", "content": "\n\n".join(system + ([note] if note else []))}]
        for m in ctx:
            if m.role in ("user", "assistant") and m.text:
                if out[-1]["role"] == m.role:  # an empty (interrupted) reply left two user messages in a row
                    out[-1] = {"role": m.role, "content": out[-1]["content"] + "\n\n" + m.text}
                else:
                    out.append({"role": m.role, "content": m.text})
        return out

    # -- the context budget -------------------------------------------------------------------
    def _fit(self, new: Message) -> None:
        drop = to_drop(self.context(), new, self.max_context_tokens, self.reply_tokens)
        if drop and self.summarize:
            summary = self._summary_of(drop)
            if summary is not None:
                self.messages.insert(self.messages.index(drop[0]), summary)
                for m in drop:
                    m.in_context = False
                drop = to_drop(self.context(), new, self.max_context_tokens, self.reply_tokens)
        for m in drop:
            m.in_context = False

    def _summary_of(self, dropped: list[Message]) -> Message | None:
        words = max(30, self.max_context_tokens // 16)
        lines = "\n".join(f"{'Student' if m.role == 'user' else 'Assistant'}: {m.text}" if m.role != "summary"
                          else f"(earlier summary) {m.text}" for m in dropped)
        reply = self.client.chat([{"role": "system", "content": SUMMARY_PROMPT.format(words=words)},
                                  {"role": "user", "content": lines}], temperature=0.2, json_mode=False)
        if reply.error or not (reply.content or "").strip():
            self.notices.append(f"the summary could not be written ({reply.error or 'empty answer'}); "
                                "the oldest turns were dropped instead")
            return None
        text = reply.content.strip()
        tokens = reply.completion_tokens or estimate_tokens(text)
        return Message("summary", text, tokens=tokens, tokens_source="usage" if reply.completion_tokens else "estimate")

    # -- transcripts --------------------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        return {"persona": self.persona.name, "persona_version": self.persona.version, "llm": self.client.name,
                "max_context_tokens": self.max_context_tokens, "reply_tokens": self.reply_tokens,
                "summarize": self.summarize, "created": self.created}

    def save(self, path: str | Path) -> Path:
        """Write the transcript (JSONL, atomically) to `path`."""
        return save_transcript(path, self.header(), self.messages)

    def _autosave(self) -> None:
        if self.path is not None:
            self.save(self.path)

    @classmethod
    def load(cls, path: str | Path, client: Any, **kwargs: Any) -> "Chat":
        """Resume the conversation of a transcript: the same context, the same next request.
        Settings not given in `kwargs` come from the transcript's header; new turns are written
        back to `path` unless `kwargs` names another one."""
        header, messages = load_transcript(path)
        if not messages or messages[0].role != "system":
            raise ChatError(f"{path}: a transcript starts with the system prompt")
        for key in ("max_context_tokens", "reply_tokens", "summarize"):
            if key in header:
                kwargs.setdefault(key, header[key])
        kwargs.setdefault("path", path)
        given = kwargs.pop("persona", None)
        persona = given or Persona(header.get("persona", "file"), header.get("persona_version", 0), "en",
                                   messages[0].text)
        chat = cls(client, persona=persona, **kwargs)
        chat.messages = messages  # the transcript's own system prompt, as it was sent...
        if given is not None:  # ...unless another persona is asked for: it replaces it, as /system would
            chat.messages[0] = chat._system(chat.persona.prompt)
        chat.created = header.get("created", chat.created)
        return chat
