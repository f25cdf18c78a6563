"""A real HTTP server on 127.0.0.1 that speaks enough of the OpenAI / Mistral chat
completions API for the LLM client's tests: scripted responses (status, body, headers,
delay) first, then a default that answers like a well-behaved model."""
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

    def __enter__(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
