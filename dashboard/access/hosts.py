"""Which Host names the server answers to: the defence against DNS rebinding.

A page on `evil.example` can make its own name resolve to 127.0.0.1 a moment later and
then talk to a loopback-only server with the browser's full trust: same origin for the
browser, so the websocket's Origin matches its Host. The one thing the attacker cannot
change is the Host header, which carries *their* name. So every HTTP request and every
websocket upgrade must name a host the server was configured for; loopback names are
always allowed (only a browser really pointed at this machine sends them).

`ESLABON_ALLOWED_HOSTS` (comma separated, any port accepted) adds the names a reverse
proxy forwards (`proxy_set_header Host $host`). `*` switches the check off, for a proxy
that already refuses unknown names itself. Pure ASGI, no Streamlit: dashboard/serve.py
installs `HostCheckMiddleware`; the page frame (dashboard/views/frame.py) checks the
websocket's Host again, so `streamlit run dashboard/app.py` refuses a foreign name too.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

ALLOWED_HOSTS_ENV = "ESLABON_ALLOWED_HOSTS"
LOOPBACK_HOSTS: frozenset[str] = frozenset({"localhost", "127.0.0.1", "[::1]"})
ANY_HOST = "*"
REFUSED_BODY = b"Forbidden: unknown host name (Eslabon: see ESLABON_ALLOWED_HOSTS)\n"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def host_name(header: str | None) -> str | None:
    """The name part of a Host header, lower case, without port or trailing dot.

    `[::1]:8501` → `[::1]`, `Localhost.:80` → `localhost`. None for a missing, empty or
    malformed header (a bracket never closed, a port that is not a number, spaces).
    """
    if header is None:
        return None
    value = header.strip().lower()
    if not value or any(ch.isspace() or ch in "/\\@?#" for ch in value):
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[: end + 1], value[end + 1 :]
    else:
        name, colon, port = value.partition(":")
        rest = colon + port
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    name = name.rstrip(".")
    return name or None


def allowed_hosts(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """Loopback names plus ESLABON_ALLOWED_HOSTS (ports dropped); `*` allows any name."""
    env = os.environ if env is None else env
    configured = set()
    for item in (env.get(ALLOWED_HOSTS_ENV) or "").split(","):
        item = item.strip()
        if item == ANY_HOST:
            configured.add(ANY_HOST)
        elif (name := host_name(item)) is not None:
            configured.add(name)
    return LOOPBACK_HOSTS | configured


def is_allowed_host(header: str | None, allowed: Iterable[str]) -> bool:
    """Whether a request whose Host header is `header` may be served."""
    allowed = frozenset(allowed)
    if ANY_HOST in allowed:
        return True
    name = host_name(header)
    return name is not None and name in allowed


def _header(scope: Scope, wanted: bytes) -> str | None:
    """The first value of one request header in an ASGI scope (latin-1, as HTTP is)."""
    for key, value in scope.get("headers") or ():
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


class HostCheckMiddleware:
    """ASGI middleware: a request or websocket naming a host not allowed gets 403.

    Plain HTTP gets a 403 text response; a websocket is closed before it is accepted,
    which the server answers with HTTP 403 to the upgrade request. The allowed names are
    read once, when the server starts.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str] | None = None) -> None:
        self.app = app
        self.allowed = frozenset(allowed) if allowed is not None else allowed_hosts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket") or is_allowed_host(
            _header(scope, b"host"), self.allowed
        ):
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(REFUSED_BODY)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": REFUSED_BODY})
