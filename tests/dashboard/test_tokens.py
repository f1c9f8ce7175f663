"""Customer tokens: a valid one opens exactly its customer; anything altered opens nothing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.access.secret_keys import new_secret
from dashboard.services.tokens import (
    CustomerAccess,
    RefusalReason,
    TokenConfigError,
    TokenRefusal,
    configured_secret,
    make_token,
    read_token,
    tracking_link,
)

SECRET = new_secret()  # a literal in the repository would be refused (secret_keys)
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _payload(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _forge(token: str, **changes: object) -> str:
    """The token with its payload changed but the original signature kept."""
    data = {**_payload(token), **changes}
    body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{body}.{token.split('.')[1]}"


def test_valid_token_opens_its_customer_until_expiry() -> None:
    token = make_token("Acme, S.A.", SECRET, days=7, now=NOW)
    access = read_token(token, SECRET, now=NOW + timedelta(days=6, hours=23))
    assert access == CustomerAccess("Acme, S.A.", NOW + timedelta(days=7))


def test_expired_token_is_refused() -> None:
    token = make_token("Acme", SECRET, days=7, now=NOW)
    assert read_token(token, SECRET, now=NOW + timedelta(days=7)) == TokenRefusal("expired")


def test_altered_customer_is_refused() -> None:
    token = make_token("Acme", SECRET, now=NOW)
    forged = _forge(token, c="Globex")
    assert _payload(forged)["c"] == "Globex"
    assert read_token(forged, SECRET, now=NOW) == TokenRefusal("bad_signature")


def test_extended_expiry_is_refused() -> None:
    token = make_token("Acme", SECRET, days=1, now=NOW)
    forged = _forge(token, e=_payload(token)["e"] + 86400 * 365)
    assert read_token(forged, SECRET, now=NOW) == TokenRefusal("bad_signature")


def test_tampered_signature_is_refused() -> None:
    token = make_token("Acme", SECRET, now=NOW)
    body, sig = token.split(".")
    flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    assert read_token(f"{body}.{flipped}", SECRET, now=NOW) == TokenRefusal("bad_signature")


def test_wrong_secret_is_refused() -> None:
    token = make_token("Acme", SECRET, now=NOW)
    other = new_secret()
    assert read_token(token, other, now=NOW) == TokenRefusal("bad_signature")


@pytest.mark.parametrize("secret", [None, "", "short"])
def test_missing_or_weak_secret_refuses_and_cannot_sign(secret: str | None) -> None:
    token = make_token("Acme", SECRET, now=NOW)
    assert read_token(token, secret, now=NOW) == TokenRefusal("missing_secret")
    with pytest.raises(TokenConfigError):
        make_token("Acme", secret, now=NOW)


@pytest.mark.parametrize(
    "token, reason",
    [
        (None, "missing_token"),
        ("", "missing_token"),
        ("no-dot-here", "malformed"),
        (".sig", "malformed"),
        ("body.", "malformed"),
        ("ñ.ñ", "malformed"),
        ("YWJj.bm90LWEtc2ln", "bad_signature"),
    ],
)
def test_garbage_is_refused_with_a_reason(token: str | None, reason: RefusalReason) -> None:
    assert read_token(token, SECRET, now=NOW) == TokenRefusal(reason)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_refused_never_raises(text: str) -> None:
    assert isinstance(read_token(text, SECRET, now=NOW), TokenRefusal)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=80).filter(lambda s: s.strip()), st.data())
def test_any_single_character_change_is_refused(customer: str, data: st.DataObject) -> None:
    token = make_token(customer, SECRET, now=NOW)
    assert read_token(token, SECRET, now=NOW) == CustomerAccess(customer, NOW + timedelta(days=30))
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("AbZ09-_.x").filter(lambda c: c != token[position]))
    changed = token[:position] + replacement + token[position + 1 :]
    result = read_token(changed, SECRET, now=NOW)
    # A change in the base64 padding bits can decode to the same bytes; then the token is
    # the same token. Anything else must be refused.
    if isinstance(result, CustomerAccess):
        assert result.customer == customer
    else:
        assert isinstance(result, TokenRefusal)


def test_secret_from_env_then_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    in_file = new_secret()
    secrets.write_text(f'eslabon_secret = "{in_file}"\n', encoding="utf-8")
    assert configured_secret({"ESLABON_SECRET": SECRET}, secrets) == SECRET
    assert configured_secret({}, secrets) == in_file
    assert configured_secret({}, tmp_path / "missing.toml") is None
    secrets.write_text("not [valid toml", encoding="utf-8")
    assert configured_secret({}, secrets) is None


def test_link_carries_the_token_url_encoded() -> None:
    token = make_token("Acme", SECRET, now=NOW)
    link = tracking_link("https://eslabon.example.org/", token)
    assert link == f"https://eslabon.example.org/?token={token}"
    assert make_token("Acme", SECRET, now=NOW) == token  # deterministic for the same input


def test_command_line_prints_a_link_that_reads_back(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from dashboard.report.cli import main

    monkeypatch.setenv("ESLABON_SECRET", SECRET)
    assert main(["tracking-link", "--customer", "Acme", "--days", "3",
                 "--base-url", "https://x.example"]) == 0  # fmt: skip
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://x.example/?token=")
    token = link.split("token=", 1)[1]
    access = read_token(token, SECRET)
    assert isinstance(access, CustomerAccess) and access.customer == "Acme"
    monkeypatch.setenv("ESLABON_SECRET", "")
    monkeypatch.setattr("dashboard.services.tokens.SECRETS_FILE", Path("/nonexistent/secrets.toml"))
    assert main(["tracking-link", "--customer", "Acme"]) == 2
    assert "no signing secret" in capsys.readouterr().err
