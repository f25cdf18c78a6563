"""A real HTTP server on 127.0.0.1 that speaks enough of the OpenAI / Mistral chat
completions API for the LLM client's tests: scripted responses (status, body, headers,
delay) first, then a default that answers like a well-behaved model.

Streamed requests ("stream": true) are answered with server-sent events, one chunk per word,
the usage in a last chunk when asked for (stream_options.include_usage), then `data: [DONE]`.
A scripted step may shape the stream: "chunks" (the texts to send), "first_delay" (seconds
before the first token), "chunk_delay", "cut_after" (close the connection after n chunks,
mid chunked body), "malformed_at" (chunk n is not JSON)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


def completion(content: str, prompt_tokens: int = 50, completion_tokens: int = 12, model: str = "fake") -> dict:
    return {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def stream_chunk(content: str | None, finish: str | None = None) -> dict:
    delta = {} if content is None else {"role": "assistant", "content": content}
    return {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def default_answer(body: dict) -> str:
    """Classify by keyword (good enough for tests); write a review when asked to."""
    last = body["messages"][-1]["content"].lower()
    if body["messages"][0]["content"].startswith("You write"):
        mood = "great" if "positive" in last else "dreadful"
        return json.dumps({"review": f"A {mood} film, honestly. ({last[:30]})"})
    label = "positive" if any(w in last for w in ("great", "love", "wonderful")) else "negative"
    return json.dumps({"label": label, "confidence": 0.9, "reason": "keyword"})


class FakeLLMServer:
    """Use as a context manager; `.url` is the base URL (…/v1); `.script` a list of
    responses to give first: dicts with status, body (dict or str), headers, delay."""

    def __init__(self, answer: Callable[[dict], str] = default_answer) -> None:
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.answer = answer
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server._lock:
                    server.requests.append({"path": self.path, "body": body, "headers": {k.lower(): v for k, v in self.headers.items()}})
                    step = server.script.pop(0) if server.script else {}
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                # A request stops counting as in flight before its answer is written: once the
                # client has the answer it may send its next request at once, and counting until
                # this handler thread's cleanup would see one request too many.
                try:
                    time.sleep(step.get("delay", 0.0))
                finally:
                    with server._lock:
                        server.in_flight -= 1
                try:
                    server._respond(self, body, step)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _respond(self, h: BaseHTTPRequestHandler, body: dict, step: dict) -> None:
        status = step.get("status", 200)
        if body.get("stream") and status == 200 and step.get("body") is None:
            return self._stream(h, body, step)
        payload = step.get("body")
        if payload is None:
            payload = completion(self.answer(body), model=body.get("model", "fake"))
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in step.get("headers", {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _stream(self, h: BaseHTTPRequestHandler, body: dict, step: dict) -> None:
        """SSE over HTTP/1.1 chunked encoding, so that a cut (no final zero-length chunk) is
        seen by the client as a broken body, as it is from a real server."""
        content = self.answer(body)
        words = step.get("chunks") or [w + " " for w in content.split(" ")[:-1]] + content.split(" ")[-1:]
        h.protocol_version = "HTTP/1.1"
        h.close_connection = True
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()

        def send(data: str) -> None:
            raw = f"data: {data}\n\n".encode()
            h.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            h.wfile.flush()

        time.sleep(step.get("first_delay", 0.0))
        for i, word in enumerate(words):
            if i == step.get("cut_after"):
                return  # the connection closes without the terminating chunk
            if i == step.get("malformed_at"):
                send("{not json")
                continue
            send(json.dumps(stream_chunk(word)))
            time.sleep(step.get("chunk_delay", 0.0))
        send(json.dumps(stream_chunk(None, finish="stop")))
        if (body.get("stream_options") or {}).get("include_usage"):
            prompt = sum(len(m["content"]) // 4 + 4 for m in body["messages"])
            send(json.dumps({**stream_chunk(None), "choices": [],
                             "usage": {"prompt_tokens": prompt, "completion_tokens": len(words),
                                       "total_tokens": prompt + len(words)}}))
        send("[DONE]")
        h.wfile.write(b"0\r\n\r\n")

    def __enter__(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
