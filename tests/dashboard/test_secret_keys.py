"""No published or weak key ever signs anything (issue 17, item 1).

Every signing value written in the repository's tracked files (examples, docs, configs,
tests) is collected and must be refused as the login cookie key, as the OIDC cookie
secret and as the customer-link secret; an auth file that keeps the example's key refuses
to start (log and page name the file and the key); a cookie forged with the example key,
sent through the app's real cookie path (st.context.cookies), never signs anyone in.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from dashboard.access import auth, secret_keys
from dashboard.access.secret_keys import new_secret, secret_problem
from dashboard.access.users import run
from dashboard.services import tokens
from dashboard.ui.texts import md_escape
from etl.settings import PROJECT_ROOT
from tests.dashboard.apptest_support import world_db
from tests.dashboard.conftest import make_app

EXAMPLE = PROJECT_ROOT / ".streamlit" / "auth.example.yaml"
EXAMPLE_KEY = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["cookie"]["key"]
LOGIN_TITLE = auth.auth_text("login_title", "es")

# `name = value` / `name: value` for every name that holds a signing key: in YAML, TOML,
# Markdown, shell and env snippets any value; in Python quoted literals given to a name
# that says secret (widget `key=` arguments are names, not keys).
_KEY_NAMES = r"(?:cookie[_.]?key|key|cookie_?secret|cookieSecret|eslabon_secret|ESLABON_SECRET)"
_ASSIGNED = re.compile(
    rf"""["']?\b{_KEY_NAMES}["']?\s*[:=]\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"'#,)`]+))"""
)
_PY_ASSIGNED = re.compile(
    r"""(?i)["']?\b\w*(?:secret|cookie_key)\w*["']?\s*[:=,]\s*(?:"([^"\n]*)"|'([^'\n]*)')"""
)
_TEXT_SUFFIXES = {".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".ini", ".env", ".sh"}


def published_secrets() -> set[str]:
    """Every value assigned to a key/secret name in the repository's tracked files."""
    listed = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    found: set[str] = set()
    for name in listed:
        path = PROJECT_ROOT / name
        if path.suffix == ".py":
            pattern = _PY_ASSIGNED
        elif path.suffix in _TEXT_SUFFIXES or "example" in path.name:
            pattern = _ASSIGNED
        else:
            continue
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in pattern.finditer(text):
            value = next(g for g in match.groups() if g is not None)
            if value and "{" not in value:  # an f-string or a template fills it at run time
                found.add(value)
    return found


def test_the_collection_finds_the_published_keys() -> None:
    found = published_secrets()
    assert EXAMPLE_KEY in found  # the example's placeholder (61 characters)
    assert "<32+ random characters>" in found  # docs/auth.md's OIDC cookie_secret
    assert len(EXAMPLE_KEY) >= auth.MIN_COOKIE_KEY  # so length alone never caught it


def test_every_key_in_the_repository_is_refused_everywhere() -> None:
    found = published_secrets()
    accepted = {v for v in found if secret_problem(v, min_length=tokens.MIN_SECRET_LENGTH) is None}
    assert not accepted, f"published values accepted as keys: {sorted(accepted)}"
    for value in found:
        assert auth.cookie_key_problem(value) is not None, value
        assert auth.oidc_cookie_secret_problem({"cookie_secret": value}) is not None, value
        assert tokens.configured_secret({"ESLABON_SECRET": value}) is None, value
        with pytest.raises(tokens.TokenConfigError):
            tokens.make_token("Acme", value)
        assert tokens.read_token("x.y", value) == tokens.TokenRefusal("missing_secret")


def test_the_list_of_published_keys_is_refused() -> None:
    for value in secret_keys.KNOWN_SECRETS:
        assert secret_problem(value, min_length=16) is not None, value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("short-but-random-Q7x", "shorter than 32"),
        ("a" * 40, "distinct"),
        ("0123456789" * 4, "repeats"),
        ("abcdefghijklmnopqrstuvwxyz0123456789", "consecutive"),
        ("correcthorsebatterystaplecorrecthorse", "repeats"),
        ("my-Changeme-key-9f8e7d6c5b4a39281706", "changeme"),
        ("EXAMPLE_k3Jd9sQwPz7LmN2vB8xC4rT6yH1gF5", "example"),
        ("replace_me_Jd9sQwPz7LmN2vB8xC4rT6yH1gF5", "replace"),
        ("<put 32 random characters here please>", "template"),
        ("Jd9sQwPz 7LmN2vB8xC4rT6yH1gF5aK3eU0oI", "spaces"),
    ],
)
def test_weak_or_placeholder_keys_are_refused_with_a_reason(value: str, reason: str) -> None:
    problem = secret_problem(value, min_length=32)
    assert problem is not None and reason in problem
    if len(value) > 6:
        assert value not in problem  # the reason never quotes the key


def test_generated_keys_pass() -> None:
    keys = {new_secret() for _ in range(300)}
    assert len(keys) == 300
    assert all(len(k) >= 43 and secret_problem(k, min_length=32) is None for k in keys)
    # what the docs tell people to run for the link secret passes too
    import secrets

    assert all(secret_problem(secrets.token_urlsafe(32), min_length=16) is None for _ in range(300))


# --- the auth file ---------------------------------------------------------------------------

HASH = auth.hash_password("correct horse battery")


def _example_with_a_user(tmp_path: Path) -> Path:
    """What the issue's attacker found: the example copied, a real hash put in by hand."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["credentials"]["usernames"]["marta"]["password"] = HASH
    data["credentials"]["usernames"]["marta"]["roles"] = ["admin"]
    path = tmp_path / "auth.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_an_auth_file_with_the_example_key_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    path = _example_with_a_user(tmp_path)
    with pytest.raises(auth.UnsafeKeyError) as err:
        auth.load_auth_config(path)
    assert str(path) in str(err.value) and "cookie.key" in str(err.value)
    assert "published" in str(err.value)
    assert EXAMPLE_KEY not in str(err.value)
    assert (err.value.file_name, err.value.key) == ("auth.yaml", "cookie.key")


def test_a_published_key_is_refused_even_with_the_cookie_off(tmp_path: Path) -> None:
    data = yaml.safe_load(_example_with_a_user(tmp_path).read_text(encoding="utf-8"))
    data["cookie"]["expiry_days"] = 0  # the key would still verify incoming cookies
    path = tmp_path / "off.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(auth.UnsafeKeyError):
        auth.load_auth_config(path)
    del data["cookie"]["key"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert auth.load_auth_config(path).cookie_key == ""  # no key, no cookie: fine


def _cli(path: Path, *argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = run(["--file", str(path), *argv], io.StringIO(stdin), out)
    return code, out.getvalue()


def test_the_cli_replaces_the_example_key_when_it_adds_a_user(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")  # cp example
    code, out = _cli(path, "add", "marta", "--role", "admin", stdin="marta's long password\n")
    assert code == 0 and "cookie.key" in out and "replaced" in out
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["cookie"]["key"] != EXAMPLE_KEY
    assert secret_problem(raw["cookie"]["key"], min_length=32) is None
    assert auth.role_for_user(auth.load_auth_config(path), "marta") == "admin"


@pytest.mark.parametrize("weak", ["k" * 40, "short", "changeme-changeme-changeme-changeme"])
def test_the_cli_replaces_a_weak_key_and_new_key_always_replaces(tmp_path: Path, weak: str) -> None:
    path = tmp_path / "auth.yaml"
    data = auth.with_user({}, "vera", "viewer", HASH)
    data["cookie"]["key"] = weak
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert _cli(path, "remove", "vera")[0] == 0  # any write replaces it
    first = yaml.safe_load(path.read_text(encoding="utf-8"))["cookie"]["key"]
    assert first != weak and auth.cookie_key_problem(first) is None
    assert _cli(path, "new-key")[0] == 0
    second = yaml.safe_load(path.read_text(encoding="utf-8"))["cookie"]["key"]
    assert second != first and auth.cookie_key_problem(second) is None


# --- the running app -------------------------------------------------------------------------


@dataclass
class FakeClient:
    """What Streamlit's websocket handler hands st.context: the browser's cookies."""

    cookies: dict[str, str] = field(default_factory=dict)
    headers: list[tuple[str, str]] = field(default_factory=list)
    remote_ip: str | None = "192.0.2.10"


def send_cookies(monkeypatch: pytest.MonkeyPatch, cookies: dict[str, str]) -> None:
    """Make every st.context read of this test see `cookies`, as a real browser's would."""
    client = FakeClient(cookies=dict(cookies))
    monkeypatch.setattr("streamlit.runtime.context._get_client_context", lambda: client)


def forged_cookie(username: str, key: str) -> str:
    """A re-authentication cookie exactly as streamlit-authenticator signs one."""
    exp = time.time() + 86400
    return jwt.encode({"username": username, "exp_date": exp}, key, algorithm="HS256")


@pytest.fixture
def world(tmp_path: Path) -> str:
    return world_db(tmp_path)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_server_with_the_example_key_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
    world: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = _example_with_a_user(tmp_path)
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(path))
    send_cookies(monkeypatch, {"eslabon_auth": forged_cookie("marta", EXAMPLE_KEY)})
    with caplog.at_level(logging.ERROR):
        at = _run(make_app(monkeypatch, world))
    assert [e.value for e in at.error] == [
        auth.auth_text("config_unsafe_key", "es", file="auth.yaml", name="cookie.key")
    ]
    assert not at.text_input and not at.sidebar.children and not at.metric
    assert "_eslabon_pages" not in at.session_state and "_eslabon_identity" not in at.session_state
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert str(path) in logged and "cookie.key" in logged and EXAMPLE_KEY not in logged


def test_a_cookie_signed_with_the_example_key_never_signs_in(
    monkeypatch: pytest.MonkeyPatch, world: str, tmp_path: Path
) -> None:
    path = tmp_path / "auth.yaml"
    auth.write_raw_config(path, auth.with_user({}, "ada", "admin", HASH))  # a random key
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(path))
    real_key = auth.load_auth_config(path).cookie_key

    send_cookies(monkeypatch, {"eslabon_auth": forged_cookie("ada", EXAMPLE_KEY)})
    at = _run(make_app(monkeypatch, world))
    assert [t.value for t in at.title] == [LOGIN_TITLE]
    assert not at.sidebar.children and "_eslabon_pages" not in at.session_state

    # the same cookie signed with the file's own key does sign in: the path is live
    send_cookies(monkeypatch, {"eslabon_auth": forged_cookie("ada", real_key)})
    at = _run(make_app(monkeypatch, world))
    at = _run(at)  # the sign-in run asks for a rerun outside the page
    assert "datos" in at.session_state["_eslabon_pages"]


def test_a_weak_oidc_cookie_secret_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, world: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(tmp_path / "none.yaml"))
    at = make_app(monkeypatch, world)
    at.secrets = {
        "auth": {
            "redirect_uri": "http://localhost:8501/oauth2callback",
            "cookie_secret": "<32+ random characters>",  # docs/auth.md, copied as is
            "client_id": "eslabon",
            "client_secret": "s",
            "server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
        }
    }
    at.user = {"is_logged_in": True, "email": "ana@example.com", "email_verified": True}
    at = _run(at)
    assert [e.value for e in at.error] == [
        auth.auth_text(
            "config_unsafe_key", "es", file="secrets.toml", name=md_escape("[auth] cookie_secret")
        )
    ]
    assert "_eslabon_pages" not in at.session_state and not at.sidebar.children


def test_customer_links_refuse_a_published_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text('eslabon_secret = "0123456789abcdef0123"\n', encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        assert tokens.configured_secret({}, secrets_file) is None
    refusal = tokens.secret_refusal({}, secrets_file)
    assert refusal is not None and "eslabon_secret in secrets.toml" in refusal
    assert "0123456789abcdef0123" not in refusal and refusal in caplog.text
    value = "s3cret-for-tests-only-0123456789"  # once in this repository's tests
    refusal = tokens.secret_refusal({"ESLABON_SECRET": value})
    assert refusal is not None and refusal.startswith("ESLABON_SECRET:")


def test_the_server_says_at_start_why_nobody_can_sign_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from dashboard import serve

    path = _example_with_a_user(tmp_path)
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(path))
    monkeypatch.setenv("ESLABON_SECRET", "REPLACE-me-with-a-long-random-value-0000")
    with caplog.at_level(logging.ERROR):
        serve.log_unsafe_configuration()
    assert f"{path}: cookie.key cannot sign the login cookie" in caplog.text
    assert "ESLABON_SECRET: the customer-link secret cannot be used" in caplog.text
    assert EXAMPLE_KEY not in caplog.text and "REPLACE-me" not in caplog.text
