"""Request-body size caps, enforced before a body is read into memory.

A plain ASGI middleware in front of the app: a declared Content-Length over the cap is
answered 413 at once, without receiving a byte of the body; a body without one (chunked
transfer) is counted as it streams in and refused as soon as it passes the cap. Route code
that reads the body (FastAPI's JSON parsing, the multipart parser) therefore never holds
more than the cap, and uvicorn's flow control leaves the unread rest in the socket.

(FastAPI 0.165 has `max_body_size` too, but answers a declared oversize body with a
plain-text "Content Too Large" that cannot be replaced; every other error of this API is
JSON with a `detail` that says what is wrong, so the limit is enforced here.)
"""
from __future__ import annotations

import json
from typing import Any, Callable

from fastapi import HTTPException

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MB"


class BodyLimit:
    """Cap request bodies at `default` bytes, or at `per_path[path]` for the listed paths."""

    def __init__(self, app: Any, default: int, per_path: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.default)
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None:
            if not declared.isdigit():
                await _send_error(send, 400, "Content-Length is not a number")
                return
            if int(declared) > limit:
                await _send_error(send, 413, f"request body is {int(declared):,} bytes; the limit is {_mb(limit)}")
                return
        received = 0
        started = False

        async def counted_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # FastAPI turns this into a JSON 413 response
                    raise HTTPException(413, f"request body exceeds the limit of {_mb(limit)}")
            return message

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except HTTPException as exc:  # raised where no exception handler runs
            if started or exc.status_code != 413:
                raise
            await _send_error(send, 413, str(exc.detail))


async def _send_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    # connection: close, since the rest of the refused body is never read
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
