"""Request-body size caps, enforced before a body is read into memory, and body-read timeouts.

A plain ASGI middleware in front of the app: a declared Content-Length over the cap is
answered 413 at once, without receiving a byte of the body; a body without one (chunked
transfer) is counted as it streams in and refused as soon as it passes the cap. Route code
that reads the body (FastAPI's JSON parsing, the multipart parser) therefore never holds
more than the cap, and uvicorn's flow control leaves the unread rest in the socket.

(FastAPI 0.165 has `max_body_size` too, but answers a declared oversize body with a
plain-text "Content Too Large" that cannot be replaced; every other error of this API is
JSON with a `detail` that says what is wrong, so the limit is enforced here.)

Timeouts: a client that sends its headers and then the body slowly (or not at all) would
hold its connection and the request's memory for as long as it likes; uvicorn has no body
timeout. So once a request has started, each next piece of its body must arrive within
`idle_timeout` seconds and the whole body within `total_timeout` seconds (a client that
trickles one byte a second passes the first and not the second); otherwise the answer is
408 with `connection: close`. The timeouts only run while the body is incomplete: the
receive() calls an app makes afterwards (waiting for a disconnect) are left alone.

Overload: before a body is read, the app's state may refuse the request (503 with
Retry-After, `ServeState.refuse_before_body` in routes.py): an upload or a large list while
the queue of lists and files is full is refused without receiving, parsing and validating
megabytes that would be refused anyway.
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Callable

from fastapi import HTTPException

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


RETRY_AFTER_S = 1  # seconds a client refused as overloaded (503) should wait
BODY_IDLE_TIMEOUT_S = 10.0  # most seconds between two pieces of a request body
BODY_TOTAL_TIMEOUT_S = 120.0  # most seconds for a whole body (10 MB at 85 KB/s)


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MB"


class BodyLimit:
    """Cap request bodies at `default` bytes, or at `per_path[path]` for the listed paths, and
    refuse (408) a body that stalls for `idle_timeout` s or takes over `total_timeout` s
    (None: the module's BODY_IDLE_TIMEOUT_S / BODY_TOTAL_TIMEOUT_S, read when the app starts)."""

    def __init__(self, app: Any, default: int, per_path: dict[str, int] | None = None,
                 idle_timeout: float | None = None, total_timeout: float | None = None) -> None:
        self.app = app
        self.default = default
        self.per_path = per_path or {}
        self.idle_timeout = BODY_IDLE_TIMEOUT_S if idle_timeout is None else idle_timeout
        self.total_timeout = BODY_TOTAL_TIMEOUT_S if total_timeout is None else total_timeout

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
        state = getattr(getattr(scope.get("app"), "state", None), "serve", None)
        refuse = getattr(state, "refuse_before_body", None)
        busy = refuse(scope.get("path", ""), int(declared) if declared is not None else None) if refuse else None
        if busy is not None:
            await _send_error(send, 503, busy, [(b"retry-after", b"%d" % RETRY_AFTER_S)])
            return
        received = 0
        started = False
        body_done = False
        deadline = time.monotonic() + self.total_timeout

        async def counted_receive() -> dict[str, Any]:
            nonlocal received, body_done
            if body_done:  # e.g. waiting for a disconnect: no timeout
                return await receive()
            wait = min(self.idle_timeout, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), max(wait, 0.0))
            except TimeoutError:  # FastAPI turns this into a JSON 408 response
                what = "the rest of the request body" if received else "the request body"
                raise HTTPException(408, f"{what} did not arrive in time (a body must come within "
                                         f"{self.total_timeout:g} s, with no pause over {self.idle_timeout:g} s)",
                                    headers={"connection": "close"}) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > limit:  # FastAPI turns this into a JSON 413 response
                    raise HTTPException(413, f"request body exceeds the limit of {_mb(limit)}")
            else:
                body_done = True
            return message

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except HTTPException as exc:  # raised where no exception handler runs
            if started or exc.status_code not in (408, 413):
                raise
            await _send_error(send, exc.status_code, str(exc.detail))


async def _send_error(send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": message}).encode()
    # connection: close, since the rest of the refused body is never read
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})
