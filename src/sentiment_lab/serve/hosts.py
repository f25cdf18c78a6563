"""Which hosts and origins the server answers: DNS rebinding and cross-site form posts."""
from __future__ import annotations

from typing import Any, Sequence

from sentiment_lab.serve.limits import Receive, Scope, Send, _send_error

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _header(scope: Scope, name: bytes) -> str | None:
    value = next((v for k, v in scope.get("headers", []) if k == name), None)
    return None if value is None else value.decode("latin-1")


def _hostname(host: str) -> str:
    """The name in a Host header or an origin's netloc, without port or IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class HostGuard:
    """Serve only the host names the server was started for, and refuse cross-origin writes.

    DNS rebinding: a page on evil.example can re-point its own name at 127.0.0.1 and then
    read this server's answers as same-origin; the browser still sends `Host: evil.example`,
    which is refused here (400). Cross-site form posts: a multipart POST from another site is
    a "simple" request that browsers send without asking first; browsers send `Origin` with
    every POST, so a POST, PUT, PATCH or DELETE whose Origin is not this server's own origin is
    refused (403). Clients that are not browsers (curl, requests) send no Origin and are served.
    `allowed_hosts` holds host names, or "*" for any (behind a proxy that checks them)."""

    def __init__(self, app: Any, allowed_hosts: Sequence[str] = LOCAL_HOSTS) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.allowed = {_hostname(h) for h in allowed_hosts if h != "*"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host") or ""
        if not self.any_host and _hostname(host) not in self.allowed:
            await _send_error(send, 400, f"this server does not answer for the host {host[:100]!r}; "
                                         "start it with --allowed-host NAME to serve that name")
            return
        origin = _header(scope, b"origin")
        if origin is not None and scope.get("method", "GET") not in SAFE_METHODS:
            netloc = origin.split("://", 1)[-1].rstrip("/")
            if origin == "null" or netloc.lower() != host.lower():
                await _send_error(send, 403, f"cross-origin request refused (Origin {origin[:100]!r}); "
                                             "send it from this server's own page or without a browser")
                return
        await self.app(scope, receive, send)
