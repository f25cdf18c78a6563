"""One chat client for Mistral's API and for any OpenAI-compatible server (a local Ollama,
vLLM or llama.cpp server, OpenAI itself), through the maintained `openai` SDK.

    provider "mistral": base URL https://api.mistral.ai/v1, key from $MISTRAL_API_KEY,
                        model "mistral-small-latest" unless told otherwise (a small current model)
    provider "openai":  base URL from --base-url (required), key from $OPENAI_API_KEY or the
                        variable named by --api-key-env (optional: local servers need none)

What it adds to the SDK: the on-disk answer cache (a re-run costs nothing), a concurrency
limit (a thread pool of `concurrency` workers), token and cost accounting, and errors in
words. Retries with exponential backoff and jitter on 408/409/429/5xx, connection errors
and timeouts (honouring Retry-After) are the SDK's own, with `max_retries` and `timeout`
set here; `retries` in the accounting counts them.

The key is read from the environment and handed to the SDK only: it is never printed,
logged, cached or put in an error message. With no key (Mistral) or no base URL, the
client refuses to start with a message saying how to configure one: nothing here ever
simulates an answer.
"""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any, Iterator, Sequence
from urllib.parse import urlparse

from sentiment_lab.exceptions import SentimentLabError
from sentiment_lab.compare.llm.cache import AnswerCache, cache_key

MISTRAL_BASE_URL = "https://api.mistral.ai/v1"
DEFAULT_MISTRAL_MODEL = "mistral-small-latest"
PROVIDERS = ("mistral", "openai")
# USD per million tokens (input, output). ESTIMATES recorded 2026-11-22 from Mistral's
# published list prices; prices change: check https://mistral.ai/pricing and pass
# price_in / price_out (--price-in / --price-out) for figures you can rely on.
PRICES_USD_PER_M: dict[str, tuple[float, float]] = {
    "mistral-small-latest": (0.10, 0.30),
    "ministral-8b-latest": (0.10, 0.10),
    "ministral-3b-latest": (0.04, 0.04),
}
PRICES_NOTE = "estimated list prices (USD per 1M tokens) recorded 2026-11-22; check https://mistral.ai/pricing"


class LLMNotConfigured(SentimentLabError):
    """No key / no server: the message says how to configure one."""


class LLMError(SentimentLabError):
    """A failure that would repeat for every request (bad key, unknown model, no server)."""


def setup_help(provider: str = "mistral") -> str:
    return ("set MISTRAL_API_KEY (a key from https://console.mistral.ai) for Mistral's API, "
            "or pass --base-url http://127.0.0.1:11434/v1 (Ollama; vLLM: :8000/v1, llama.cpp: :8080/v1) "
            "for any OpenAI-compatible server" if provider == "mistral" else
            "pass --base-url for the OpenAI-compatible server (e.g. http://127.0.0.1:11434/v1 for Ollama) "
            "and, if it needs one, a key in $OPENAI_API_KEY or in the variable named by --api-key-env")


@dataclass
class LLMSettings:
    provider: str = "mistral"
    model: str | None = None  # None: mistral-small-latest for Mistral; required for other servers
    base_url: str | None = None
    api_key_env: str | None = None  # None: MISTRAL_API_KEY / OPENAI_API_KEY
    timeout: float = 60.0  # seconds per request attempt
    max_retries: int = 4
    concurrency: int = 4
    temperature: float = 0.0
    max_tokens: int = 200
    json_mode: bool = True  # response_format {"type": "json_object"}; turn off for servers without it
    price_in: float | None = None  # USD per 1M input tokens (None: the estimate table, 0 for local servers)
    price_out: float | None = None
    cache_dir: str | None = None
    use_cache: bool = True


@dataclass
class Reply:
    content: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    latency_s: float = 0.0
    retries: int = 0
    error: str | None = None


@dataclass
class Usage:
    """Running totals; cost is None when no price is known for the model."""
    requests: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    errors: int = 0
    cost_usd: float | None = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, r: Reply, cost: float | None) -> None:
        with self._lock:
            self.requests += 1
            self.cache_hits += int(r.cached)
            self.retries += r.retries
            self.errors += int(r.error is not None)
            if not r.cached:  # a cached answer was paid for on an earlier run
                self.prompt_tokens += r.prompt_tokens
                self.completion_tokens += r.completion_tokens
                self.cost_usd = None if cost is None or self.cost_usd is None else self.cost_usd + cost

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}


def _is_local(url: str) -> bool:
    return (urlparse(url).hostname or "") in ("127.0.0.1", "localhost", "::1", "0.0.0.0")


class LLMClient:
    def __init__(self, settings: LLMSettings | None = None, **overrides: Any) -> None:
        s = settings or LLMSettings()
        for k, v in overrides.items():
            setattr(s, k, v)
        if s.provider not in PROVIDERS:
            raise SentimentLabError(f"unknown LLM provider {s.provider!r}; choose one of {', '.join(PROVIDERS)}")
        if s.concurrency < 1 or s.max_retries < 0 or s.timeout <= 0:
            raise SentimentLabError("concurrency must be >= 1, max_retries >= 0 and timeout > 0")
        self.settings = s
        self.provider = s.provider
        self.base_url = (s.base_url or (MISTRAL_BASE_URL if s.provider == "mistral" else "")).rstrip("/")
        if not self.base_url:
            raise LLMNotConfigured(f"no server for provider {s.provider!r}: {setup_help(s.provider)}")
        env = s.api_key_env or ("MISTRAL_API_KEY" if s.provider == "mistral" else "OPENAI_API_KEY")
        key = os.environ.get(env, "").strip()
        if any(not 0x21 <= ord(c) <= 0x7E for c in key):  # never echoed: an HTTP library's error would print it
            raise LLMNotConfigured(f"${env} holds spaces, line breaks or other characters no API key has; "
                                   "set it to the key alone")
        if not key and s.provider == "mistral":
            raise LLMNotConfigured(f"no Mistral API key: ${env} is not set; {setup_help('mistral')}")
        self.model = s.model or (DEFAULT_MISTRAL_MODEL if s.provider == "mistral" else "")
        if not self.model:
            raise LLMNotConfigured(f"--llm-model is required for an OpenAI-compatible server ({self.base_url}): "
                                   "the name the server serves, e.g. llama3.2 for Ollama")
        self._secret = key
        from openai import OpenAI

        # Local servers ignore the key but the SDK insists on one.
        self._sdk = OpenAI(api_key=key or "not-needed", base_url=self.base_url, timeout=s.timeout,
                           max_retries=s.max_retries)
        self.cache = AnswerCache(s.cache_dir, enabled=s.use_cache)
        self.usage = Usage()
        if s.price_in is not None or s.price_out is not None:
            self.prices: tuple[float, float] | None = (s.price_in or 0.0, s.price_out or 0.0)
        elif _is_local(self.base_url):
            self.prices = (0.0, 0.0)
        else:
            self.prices = PRICES_USD_PER_M.get(self.model) if s.provider == "mistral" else None

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.model}"

    def __repr__(self) -> str:  # never the key
        return f"LLMClient(provider={self.provider!r}, model={self.model!r}, base_url={self.base_url!r})"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        if self.prices is None:
            return None
        return (prompt_tokens * self.prices[0] + completion_tokens * self.prices[1]) / 1e6

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def chat(self, messages: list[dict[str, str]], temperature: float | None = None,
             json_mode: bool | None = None) -> Reply:
        """One chat completion (or the cached one). Per-request failures come back in
        `Reply.error`; failures that every request would hit raise LLMError."""
        s = self.settings
        temperature = s.temperature if temperature is None else temperature
        json_mode = s.json_mode if json_mode is None else json_mode
        key = cache_key(provider=self.provider, base_url=self.base_url, model=self.model, messages=messages,
                        temperature=temperature, max_tokens=s.max_tokens, json_mode=json_mode)
        t0 = time.perf_counter()
        hit = self.cache.get(key)
        if hit is not None:
            reply = Reply(content=hit.get("content"), prompt_tokens=hit.get("prompt_tokens", 0),
                          completion_tokens=hit.get("completion_tokens", 0), cached=True,
                          latency_s=time.perf_counter() - t0)
        else:
            reply = self._request(messages, temperature, json_mode)
            reply.latency_s = time.perf_counter() - t0
            if reply.error is None:
                self.cache.put(key, {"content": reply.content, "prompt_tokens": reply.prompt_tokens,
                                     "completion_tokens": reply.completion_tokens, "model": self.model})
        self.usage.add(reply, self.cost(reply.prompt_tokens, reply.completion_tokens))
        return reply

    def _request(self, messages: list[dict[str, str]], temperature: float, json_mode: bool) -> Reply:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": temperature,
                                  "max_tokens": self.settings.max_tokens}
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            raw = self._sdk.chat.completions.with_raw_response.create(**kwargs)
            completion = raw.parse()
        except Exception as exc:  # noqa: BLE001  (what is not the SDK's own error is re-raised)
            error, retried = self._failure(exc)
            return Reply(None, retries=retried, error=error)
        if not completion.choices:
            return Reply(None, retries=raw.retries_taken, error="the response has no choices")
        usage = completion.usage
        return Reply(content=completion.choices[0].message.content or "", retries=raw.retries_taken,
                     prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                     completion_tokens=getattr(usage, "completion_tokens", 0) or 0)

    def _failure(self, exc: Exception) -> tuple[str, int]:
        """(error, retries) for a failure of this one request; raises LLMError for the failures
        every request would hit (no server, a refused key, an unknown model), and re-raises what
        is not an API error. Every message passes through _redact: the key never appears."""
        import openai

        if isinstance(exc, openai.APITimeoutError):
            s = self.settings
            return f"timed out after {s.timeout:g} s ({s.max_retries} retries)", s.max_retries
        if isinstance(exc, openai.APIConnectionError):
            raise LLMError(f"cannot reach {self.base_url}: {self._redact(str(exc.__cause__ or exc))} "
                           f"(is the server running? {setup_help(self.provider)})") from None
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            env = self.settings.api_key_env or ("MISTRAL_API_KEY" if self.provider == "mistral" else "OPENAI_API_KEY")
            raise LLMError(f"{self.base_url} refused the key (HTTP {exc.status_code}): check ${env}") from None
        if isinstance(exc, openai.NotFoundError):
            raise LLMError(f"{self.base_url}: model {self.model!r} or the chat endpoint was not found (HTTP 404)") from None
        if isinstance(exc, openai.APIStatusError):
            retried = self.settings.max_retries if exc.status_code in (408, 409, 429) or exc.status_code >= 500 else 0
            return f"HTTP {exc.status_code} after {retried} retries: {self._redact(_short(exc.message))}", retried
        if isinstance(exc, openai.APIResponseValidationError):
            return f"unreadable response: {self._redact(_short(str(exc)))}", 0
        raise exc

    def stream(self, messages: list[dict[str, str]], temperature: float | None = None,
               max_tokens: int | None = None) -> "ReplyStream":
        """A streamed chat completion (never cached: a conversation is not asked twice). The
        request is sent here, with the SDK's retries on 429/5xx before the first token; the
        returned ReplyStream yields the text as it arrives. Failures every request would hit
        raise LLMError here; one that only this request hit is the stream's `error`."""
        kwargs: dict[str, Any] = {
            "model": self.model, "messages": messages, "stream": True,
            "temperature": self.settings.temperature if temperature is None else temperature,
            "max_tokens": max_tokens or self.settings.max_tokens,
            "stream_options": {"include_usage": True}}  # usage in the last chunk (Mistral, OpenAI, vLLM, Ollama)
        try:
            sdk_stream = self._sdk.chat.completions.create(**kwargs)
        except Exception as exc:  # noqa: BLE001
            error, _ = self._failure(exc)
            return ReplyStream(self, None, error=error)
        return ReplyStream(self, sdk_stream)

    def chat_many(self, conversations: Sequence[list[dict[str, str]]], temperature: float | None = None,
                  json_mode: bool | None = None) -> list[Reply]:
        """chat() over many conversations, at most `concurrency` in flight, results in order."""
        if not conversations:
            return []
        workers = min(self.settings.concurrency, len(conversations))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm") as pool:
            futures = [pool.submit(self.chat, c, temperature, json_mode) for c in conversations]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise


def _short(text: str, n: int = 160) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= n else s[:n] + "..."


class ReplyStream:
    """The text of a streamed reply as it arrives (iterate it), then `text`, the usage counts,
    `error` (None, or why the reply is incomplete: a cut connection, a malformed chunk, a stream
    that ended without its finish) and `close()` to stop reading (Ctrl-C). Usage is counted in
    the client's totals once the stream ends or is closed."""

    def __init__(self, client: LLMClient, sdk_stream: Any, error: str | None = None) -> None:
        self._client, self._sdk_stream = client, sdk_stream
        self.parts: list[str] = []
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.usage_reported = False
        self.finished = False
        self.error = error
        self._t0 = time.perf_counter()
        self._done = sdk_stream is None
        if self._done:
            client.usage.add(Reply(None, error=error), 0.0)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def __iter__(self) -> Iterator[str]:
        if self._done:
            return
        try:
            for chunk in self._sdk_stream:
                if getattr(chunk, "usage", None):
                    self.usage_reported = True
                    self.prompt_tokens = chunk.usage.prompt_tokens or 0
                    self.completion_tokens = chunk.usage.completion_tokens or 0
                for choice in chunk.choices or ():
                    self.finished = self.finished or choice.finish_reason is not None
                    if choice.delta and choice.delta.content:
                        self.parts.append(choice.delta.content)
                        yield choice.delta.content
            if not self.finished:
                self.error = "the stream ended before the reply was complete"
        except Exception as exc:  # noqa: BLE001  a cut connection, a chunk that is not JSON, an error event
            self.error = f"the stream broke off: {self._client._redact(_short(str(exc) or type(exc).__name__))}"
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading (the connection is closed) and count the usage; safe to call twice."""
        if self._done:
            return
        self._done = True
        try:
            self._sdk_stream.close()
        except Exception:  # noqa: BLE001  closing a broken connection may fail; nothing is lost
            pass
        reply = Reply(self.text, prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens,
                      latency_s=time.perf_counter() - self._t0, error=self.error)
        self._client.usage.add(reply, self._client.cost(self.prompt_tokens, self.completion_tokens))
