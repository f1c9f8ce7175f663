"""Signed customer tokens: the key of the customer tracking link.

A token names one customer and an expiry, signed with HMAC-SHA256 under a server secret
(ESLABON_SECRET, or `eslabon_secret` in .streamlit/secrets.toml). Whoever holds a valid
token sees that customer's commitments and nothing else; changing one character of the
customer, the expiry or the signature makes the token worthless.

Reading never raises: a bad token is a `TokenRefusal` with a reason, which the customer
view turns into a polite message. The secret is never part of the token or a message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlencode

from dashboard.access.secret_keys import secret_problem
from etl.settings import PROJECT_ROOT

SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
SECRET_ENV = "ESLABON_SECRET"
SECRET_KEY = "eslabon_secret"
MIN_SECRET_LENGTH = 16
_VERSION = 1
# Keeps a link from being "forever": a token cannot be valid for more than this.
MAX_DAYS = 366
log = logging.getLogger(__name__)

RefusalReason = Literal["missing_secret", "missing_token", "malformed", "bad_signature", "expired"]


class TokenConfigError(ValueError):
    """A token cannot be made: no usable secret, or an invalid customer or lifetime."""


@dataclass(frozen=True)
class CustomerAccess:
    """A valid token: which customer it opens, until when (UTC)."""

    customer: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenRefusal:
    """A token that opens nothing, and why (for logs; the customer sees a polite text)."""

    reason: RefusalReason


def _secret_and_source(
    env: Mapping[str, str] | None, secrets_file: Path | None
) -> tuple[str | None, str]:
    """The configured secret as written (or None) and where it came from, for messages."""
    env = os.environ if env is None else env
    secret = env.get(SECRET_ENV)
    if secret:
        return secret, SECRET_ENV
    path = SECRETS_FILE if secrets_file is None else secrets_file
    try:
        with path.open("rb") as handle:
            value = tomllib.load(handle).get(SECRET_KEY)
    except (OSError, tomllib.TOMLDecodeError):
        value = None
    return (value if isinstance(value, str) and value else None), f"{SECRET_KEY} in {path.name}"


def secret_refusal(
    env: Mapping[str, str] | None = None, secrets_file: Path | None = None
) -> str | None:
    """Why the configured secret is refused, naming where it is set (never its value);
    None when it is usable or there is none (links are then simply off)."""
    secret, source = _secret_and_source(env, secrets_file)
    if secret is None:
        return None
    problem = secret_problem(secret, min_length=MIN_SECRET_LENGTH)
    if problem is None:
        return None
    return (
        f"{source}: the customer-link secret cannot be used: {problem}; customer links are "
        "off until it is replaced (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    )


def configured_secret(
    env: Mapping[str, str] | None = None, secrets_file: Path | None = None
) -> str | None:
    """The signing secret from ESLABON_SECRET, else from secrets.toml; None when absent.

    A published, placeholder, short or non-random secret (`secret_keys.secret_problem`)
    counts as absent and is logged: a known key would let anyone mint links for any
    customer.
    """
    secret, _source = _secret_and_source(env, secrets_file)
    if secret is None:
        return None
    refusal = secret_refusal(env, secrets_file)
    if refusal:
        log.error("%s", refusal)
        return None
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), payload.encode("ascii"), hashlib.sha256).digest()
    return _b64(digest)


def make_token(
    customer: str, secret: str | None, *, days: float = 30, now: datetime | None = None
) -> str:
    """A token opening `customer`'s tracking for `days` days from `now` (UTC)."""
    problem = secret_problem(secret, min_length=MIN_SECRET_LENGTH)
    if problem or secret is None:
        raise TokenConfigError(
            f"no signing secret: set {SECRET_ENV} or `{SECRET_KEY}` in .streamlit/secrets.toml "
            f"to a random value of at least {MIN_SECRET_LENGTH} characters ({problem})"
        )
    if not customer or not customer.strip():
        raise TokenConfigError("a tracking link needs a customer name")
    if not 0 < days <= MAX_DAYS:
        raise TokenConfigError(f"days must be more than 0 and at most {MAX_DAYS}")
    now = now or datetime.now(UTC)
    expires = int((now + timedelta(days=days)).timestamp())
    body = json.dumps({"v": _VERSION, "c": customer, "e": expires}, ensure_ascii=False)
    payload = _b64(body.encode("utf-8"))
    return f"{payload}.{_signature(secret, payload)}"


def read_token(
    token: str | None, secret: str | None, *, now: datetime | None = None
) -> CustomerAccess | TokenRefusal:
    """The customer a token opens, or why it opens nothing. Never raises.

    The signature is checked (in constant time) before the payload is even decoded, so a
    forged payload is never parsed.
    """
    if secret is None or secret_problem(secret, min_length=MIN_SECRET_LENGTH):
        return TokenRefusal("missing_secret")
    if not token or not isinstance(token, str):
        return TokenRefusal("missing_token")
    payload, sep, signature = token.strip().partition(".")
    if not sep or not payload or not signature or len(token) > 4096:
        return TokenRefusal("malformed")
    try:
        expected = _signature(secret, payload)
    except UnicodeEncodeError:
        return TokenRefusal("malformed")
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        return TokenRefusal("bad_signature")
    try:
        data = json.loads(_unb64(payload).decode("utf-8"))
        customer, expires = data["c"], data["e"]
        version = data.get("v")
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        return TokenRefusal("malformed")
    if version != _VERSION or not isinstance(customer, str) or not isinstance(expires, int):
        return TokenRefusal("malformed")
    expires_at = datetime.fromtimestamp(expires, UTC)
    if (now or datetime.now(UTC)) >= expires_at:
        return TokenRefusal("expired")
    return CustomerAccess(customer, expires_at)


def tracking_link(base_url: str, token: str) -> str:
    """The URL a customer opens: the app's root with `?token=` (the app switches to the
    customer view before anything else renders)."""
    return f"{base_url.rstrip('/')}/?{urlencode({'token': token}, quote_via=quote)}"
