"""Which browsers may fetch the server's plain HTTP files: exports only for signed-in ones.

Streamlit serves two things over plain HTTP, outside the signed-in websocket session:
`/media/<id>` (every download button's file: the targets, notices, weekly-pack and
rejects exports) and `/_stcore/metrics` (session and cache statistics). Neither asks
who is asking: a media URL seen in a proxy log, a browser history or a shared screen
opened the export for anyone while the file lived, and a media id is a hash of the
file's content, so a guess about an export could be confirmed. Here:

- `/_stcore/metrics` answers 404 to everybody (nothing in Eslabón reads it).
- `/media/…` answers only a browser whose session is signed in right now. The proof is
  the browser's own random XSRF cookie (`_streamlit_xsrf`, 16 random bytes Streamlit
  gives every browser and which the browser sends with every same-site request): each
  run of a signed-in session admits its browser's token, signing out or losing the role
  revokes it, and an admitted token lapses `ttl` seconds after its session's last run.

Pure module (no streamlit): the sign-in (views/sign_in.py) admits and revokes, the HTTP middleware
(serve.py) checks. One registry per server process, like Streamlit's own media storage.
"""

from __future__ import annotations

import binascii
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any

XSRF_COOKIE = "_streamlit_xsrf"
METRICS_PATH = "/_stcore/metrics"
DEFAULT_TTL = 12 * 3600.0  # a working day: a page left open keeps its downloads
MAX_BROWSERS = 100_000


def browser_token(cookie_value: str | None) -> str | None:
    """The browser's raw XSRF token (hex) from the cookie, or None when it is not a
    well-formed version-2 token ("2|mask|masked token|timestamp"). The mask changes each
    time Streamlit re-sets the cookie; the token under it stays the same for the browser.
    """
    if not cookie_value or len(cookie_value) > 200:
        return None
    parts = cookie_value.strip('"').split("|")
    if len(parts) != 4 or parts[0] != "2":
        return None
    try:
        mask = binascii.a2b_hex(parts[1])
        masked = binascii.a2b_hex(parts[2])
    except (binascii.Error, ValueError):
        return None
    if len(mask) != 4 or len(masked) < 16:
        return None
    token = bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
    return token.hex()


class SignedInBrowsers:
    """Browser tokens of sessions that are signed in, each until `ttl` after its last run."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, ttl: float = DEFAULT_TTL):
        self._clock = clock
        self._ttl = ttl
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def admit(self, token: str | None) -> None:
        """A run of a signed-in session: its browser may fetch media for another `ttl`."""
        if not token:
            return
        now = self._clock()
        with self._lock:
            self._until[token] = now + self._ttl
            if len(self._until) > MAX_BROWSERS:
                for key in [k for k, until in self._until.items() if until <= now]:
                    del self._until[key]

    def revoke(self, token: str | None) -> None:
        """Sign-out, or a session that lost its role: that browser fetches nothing more."""
        if token:
            with self._lock:
                self._until.pop(token, None)

    def admitted(self, token: str | None) -> bool:
        """May the browser holding `token` fetch media now?"""
        if not token:
            return False
        with self._lock:
            until = self._until.get(token)
        return until is not None and self._clock() < until


SIGNED_IN_BROWSERS = SignedInBrowsers()  # the server's one registry (see the docstring)


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """One cookie from a Cookie header (None when absent or unparseable)."""
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def is_media_path(path: str) -> bool:
    """A download's URL (`[/<base>]/media/<id>`), not the page's own fonts and icons
    (`[/<base>]/static/media/...`), which every browser needs before it signs in."""
    parts = path.split("/")
    return "media" in parts[:3] and "static" not in parts[:3]


def refusal(path: str, cookie_header: str | None, browsers: SignedInBrowsers) -> int | None:
    """The HTTP status that refuses this request (404 metrics, 403 media without a
    signed-in browser), or None to let Streamlit answer."""
    if path.rstrip("/").endswith(METRICS_PATH):  # also under a server.baseUrlPath
        return 404
    if is_media_path(path):
        token = browser_token(cookie_value(cookie_header, XSRF_COOKIE))
        return None if browsers.admitted(token) else 403
    return None


ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class PrivateRoutes:
    """ASGI middleware: `refusal` applied to every HTTP request before Streamlit sees it."""

    def __init__(self, app: ASGIApp, browsers: SignedInBrowsers = SIGNED_IN_BROWSERS) -> None:
        self.app = app
        self.browsers = browsers

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        cookies = "; ".join(
            value.decode("latin-1")
            for key, value in scope.get("headers", [])
            if key.lower() == b"cookie"
        )
        status = refusal(str(scope.get("path", "")), cookies, self.browsers)
        if status is None:
            await self.app(scope, receive, send)
            return
        body = b"Not found\n" if status == 404 else b"Sign in to download this file\n"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode("ascii")),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
