"""E-mail out: the SMTP settings, a message with its attachments, and the two ways it
leaves (an SMTP server, or a folder of .eml files for a dry run).

Settings come from the environment first (ESLABON_SMTP_HOST, _PORT, _SECURITY =
none|starttls|ssl, _USER, _PASSWORD, _SENDER), then from the `[smtp]` table of
.streamlit/secrets.toml (keys host, port, security, user, password, sender), so a password
need not sit in a unit file or a crontab.
"""

from __future__ import annotations

import json
import os
import re
import smtplib
import ssl
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

from etl.settings import PROJECT_ROOT

SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
SECURITIES: tuple[str, ...] = ("none", "starttls", "ssl")
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
SMTP_TIMEOUT = 30.0


class DeliveryError(RuntimeError):
    """Delivery cannot start (no SMTP settings, a bad setting); the message says which."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand messages over."""

    host: str
    port: int
    security: str  # none / starttls / ssl
    user: str | None
    password: str | None
    sender: str

    def describe(self) -> str:
        """`smtp.example.com:587 (starttls) as eslabon@example.com`, never the password."""
        who = f" as {self.user}" if self.user else ""
        return f"{self.host}:{self.port} ({self.security}){who}"


def _secrets_table(path: Path) -> Mapping[str, object]:
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle).get("smtp")
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return table if isinstance(table, dict) else {}


def smtp_settings(
    env: Mapping[str, str] | None = None, secrets_file: Path | None = None
) -> SmtpSettings | None:
    """The configured SMTP server, or None when no host is set anywhere.

    Each value: the environment variable if set, else the secrets file's `[smtp]` key.
    A bad security mode or port raises DeliveryError naming the setting.
    """
    env = os.environ if env is None else env
    table = _secrets_table(SECRETS_FILE if secrets_file is None else secrets_file)

    def value(name: str) -> str | None:
        found = env.get(f"ESLABON_SMTP_{name.upper()}")
        if found in (None, ""):
            raw = table.get(name)
            found = None if raw is None else str(raw)
        return found.strip() if isinstance(found, str) and found.strip() else None

    host = value("host")
    if host is None:
        return None
    security = (value("security") or "starttls").lower()
    if security not in SECURITIES:
        raise DeliveryError(
            f"ESLABON_SMTP_SECURITY {security!r} is not one of {', '.join(SECURITIES)}"
        )
    port_text = value("port")
    try:
        port = int(port_text) if port_text else DEFAULT_PORTS[security]
    except ValueError:
        raise DeliveryError(f"ESLABON_SMTP_PORT {port_text!r} is not a port number") from None
    if not 0 < port < 65536:
        raise DeliveryError(f"ESLABON_SMTP_PORT {port} is not a port number")
    user = value("user")
    sender = value("sender") or (user if user and "@" in user else None)
    if sender is None:
        raise DeliveryError("ESLABON_SMTP_SENDER is not set (the From address of every message)")
    return SmtpSettings(host, port, security, user, value("password"), sender)


@dataclass(frozen=True)
class Attachment:
    """A file that travels with a message."""

    filename: str
    content: bytes
    mime: str  # maintype/subtype


def build_message(
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    *,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A MIME message: plain text, an HTML alternative, then the attachments."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    for name, content in (headers or {}).items():
        msg[name] = content
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for item in attachments:
        maintype, _, subtype = item.mime.partition("/")
        msg.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
    return msg


class Transport(Protocol):
    """Something that takes a message away: raises on failure."""

    def send(self, msg: EmailMessage) -> str:
        """Hand the message over; returns a short note for the log."""
        ...


class SmtpTransport:
    """One SMTP connection per message: a failure stays with that message."""

    def __init__(self, settings: SmtpSettings, *, timeout: float = SMTP_TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout

    def send(self, msg: EmailMessage) -> str:
        """Deliver to the server; raises smtplib/OS errors (the caller logs them)."""
        s = self.settings
        context = ssl.create_default_context()
        if s.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=self.timeout, context=context
            )
        else:
            server = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        with server:
            if s.security == "starttls":
                server.starttls(context=context)
            if s.user:
                server.login(s.user, s.password or "")
            refused = server.send_message(msg)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        return f"accepted by {s.host}:{s.port}"


class OutboxTransport:
    """A dry run: each message written as an .eml file into a folder, nothing sent."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, msg: EmailMessage) -> str:
        """Write the message; returns the file's path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.@-]+", "_", f"{msg['X-Eslabon-Occurrence'] or 'msg'}")
        to = re.sub(r"[^A-Za-z0-9_.@-]+", "_", str(msg["To"]))
        path = self.folder / f"{stem}-{to}.eml"
        n = 2
        while path.exists():
            path = self.folder / f"{stem}-{to}-{n}.eml"
            n += 1
        path.write_bytes(bytes(msg))
        return str(path)

    def post(self, url: str, payload: dict[str, Any]) -> str:
        """A dry-run webhook: the JSON body written beside the messages."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", url.split("://", 1)[-1])[:80]
        path = self.folder / f"webhook-{stem}.json"
        n = 2
        while path.exists():
            path = self.folder / f"webhook-{stem}-{n}.json"
            n += 1
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
        return str(path)
