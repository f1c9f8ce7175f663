"""Real receivers on loopback for the delivery tests: an SMTP server (aiosmtpd) that can
refuse for a while, and an HTTP webhook receiver (http.server in a thread).

Both bind port 0 (the system picks a free port) and keep every message they accept.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass
class Received:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpHandler:
    """aiosmtpd handler: keeps accepted messages; while `refusing`, answers DATA with a
    temporary failure (451), as a server in trouble does."""

    received: list[Received] = field(default_factory=list)
    refusing: bool = False
    refused: int = 0
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refusing:
            self.refused += 1
            return "451 4.3.0 Temporary failure, try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


class _LoopbackController(Controller):
    """aiosmtpd's Controller on a port the system picks (it only takes a fixed one)."""

    def _create_server(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        return self.loop.create_server(self._factory_invoker, sock=sock, ssl=self.ssl_context)


@contextlib.contextmanager
def smtp_server(
    handler: SmtpHandler | None = None, *, login: tuple[str, str] | None = None
) -> Iterator[tuple[SmtpHandler, int]]:
    """A running SMTP server on 127.0.0.1: (its handler, its port). With `login`, it
    offers AUTH (without TLS, loopback only) and accepts only that user and password."""
    handler = handler or SmtpHandler()
    kwargs: dict[str, Any] = {}
    if login is not None:

        def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
            ok = (auth_data.login.decode(), auth_data.password.decode()) == login
            if ok:
                handler.logins.append(auth_data.login.decode())
            return AuthResult(success=ok, handled=False)

        kwargs = {"authenticator": authenticator, "auth_require_tls": False}
    controller = _LoopbackController(handler, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (a server that is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class WebhookReceiver:
    """What the HTTP receiver got: each request's path, headers and JSON body."""

    url: str
    requests: list[dict] = field(default_factory=list)
    status: int = 200


@contextlib.contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A real HTTP server on 127.0.0.1 that records every POST and answers `status`."""
    state = WebhookReceiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "json": json.loads(body.decode("utf-8")),
                }
            )
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:  # quiet
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
