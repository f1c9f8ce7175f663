"""dashboard.access.signin and the login page (issue 17, items 4 and 7a/7b): sign-in throttled per
username and per client on the server, walked through with an injected clock (no sleeps);
unknown usernames take the same bcrypt path; failures logged without the password; the
re-authentication cookie of a removed user or of another algorithm gets the form, never
a crash; a password is used exactly as typed and cannot be set with spaces at its ends.
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import bcrypt
import jwt
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access import auth, signin
from dashboard.access.users import run
from dashboard.views import access_gate
from tests.dashboard.apptest_support import world_db
from tests.dashboard.conftest import make_app
from tests.dashboard.test_secret_keys import send_cookies

PASSWORDS = {"ada": "ada's long password", "vera": "vera's long password"}
LOGIN_TITLE = auth.auth_text("login_title", "es")


def _fast_hash(password: str) -> str:
    """A real bcrypt hash at the lowest cost, so the suite does not wait on bcrypt."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=4)).decode("ascii")


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {user: _fast_hash(pw) for user, pw in PASSWORDS.items()}


def _config(
    tmp_path: Path, hashes: dict[str, str], **cookie: object
) -> tuple[Path, auth.AuthConfig]:
    data: dict = {}
    for user, hashed in hashes.items():
        data = auth.with_user(data, user, "admin" if user == "ada" else "viewer", hashed)
    data["cookie"].update(cookie)
    path = tmp_path / "auth.yaml"
    auth.write_raw_config(path, data)
    return path, auth.load_auth_config(path)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the back-off, worked out by hand ---------------------------------------------------------


def test_lock_lengths_double_from_the_fifth_failure_up_to_fifteen_minutes() -> None:
    locks = [signin.USER_POLICY.lock_seconds(n) for n in range(1, 12)]
    assert locks == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]
    assert [signin.CLIENT_POLICY.lock_seconds(n) for n in (19, 20, 21)] == [0, 30, 60]


def test_five_wrong_passwords_lock_the_user_and_the_right_one_waits_for_the_window(
    tmp_path: Path, hashes: dict[str, str]
) -> None:
    _, config = _config(tmp_path, hashes)
    clock = Clock()
    throttle = signin.SignInThrottle(clock)
    for i in range(5):  # t = 1000 … 1004
        clock.now = 1000.0 + i
        result = signin.attempt_sign_in(config, "ada", f"guess {i}", "203.0.113.5", throttle)
        assert (result.user, result.reason) == (None, "wrong_password")
    assert result.retry_after == 30.0  # the 5th failure, at 1004, locks until 1034

    clock.now = 1010.0  # the right password inside the window: refused, unchecked
    result = signin.attempt_sign_in(config, "ada", PASSWORDS["ada"], "203.0.113.5", throttle)
    assert (result.user, result.reason, result.retry_after) == (None, "locked", 24.0)
    clock.now = 1033.5
    result = signin.attempt_sign_in(config, "ADA ", PASSWORDS["ada"], "198.51.100.7", throttle)
    assert result.reason == "locked"  # per user: another client, the same username, too

    clock.now = 1034.0  # the window is over
    result = signin.attempt_sign_in(config, "ada", PASSWORDS["ada"], "203.0.113.5", throttle)
    assert result.reason == "ok" and result.user is not None and result.user.username == "ada"

    # a success starts the username again from zero: one more failure does not lock
    result = signin.attempt_sign_in(config, "ada", "wrong again", "198.51.100.7", throttle)
    assert (result.reason, result.retry_after) == ("wrong_password", 0.0)


def test_each_further_failure_doubles_the_lock(tmp_path: Path, hashes: dict[str, str]) -> None:
    _, config = _config(tmp_path, hashes)
    clock = Clock()
    throttle = signin.SignInThrottle(clock)
    waits = []
    for _ in range(7):
        wait = throttle.wait_seconds("ada", None)
        clock.now += wait  # wait out any lock, then fail again
        waits.append(signin.attempt_sign_in(config, "ada", "nope", None, throttle).retry_after)
    assert waits == [0, 0, 0, 0, 30, 60, 120]


def test_a_client_trying_many_usernames_is_locked_everywhere(
    tmp_path: Path, hashes: dict[str, str]
) -> None:
    _, config = _config(tmp_path, hashes)
    clock = Clock()
    throttle = signin.SignInThrottle(clock)
    attacker, colleague = "203.0.113.9", "198.51.100.20"
    for i in range(20):  # twenty usernames, one guess each: no username is locked
        result = signin.attempt_sign_in(config, f"user{i}", "guess", attacker, throttle)
        assert result.reason == "unknown_user"
    assert result.retry_after == 30.0  # but the client is, from the 20th failure
    right = signin.attempt_sign_in(config, "vera", PASSWORDS["vera"], attacker, throttle)
    assert right.reason == "locked"
    other = signin.attempt_sign_in(config, "vera", PASSWORDS["vera"], colleague, throttle)
    assert other.reason == "ok"  # vera herself, from her own machine, is not locked
    # knowing one password does not clear the client's count
    clock.now += 30
    assert (
        signin.attempt_sign_in(config, "vera", PASSWORDS["vera"], attacker, throttle).reason == "ok"
    )
    assert signin.attempt_sign_in(config, "x", "y", attacker, throttle).retry_after == 60.0


def test_failures_are_forgotten_a_day_after_the_last_one(
    tmp_path: Path, hashes: dict[str, str]
) -> None:
    _, config = _config(tmp_path, hashes)
    clock = Clock()
    throttle = signin.SignInThrottle(clock)
    for _ in range(4):
        signin.attempt_sign_in(config, "ada", "nope", None, throttle)
    clock.now += 24 * 3600 + 1
    assert signin.attempt_sign_in(config, "ada", "nope", None, throttle).retry_after == 0.0


def test_a_flood_of_made_up_usernames_keeps_memory_bounded() -> None:
    clock = Clock()
    throttle = signin.SignInThrottle(clock, max_entries=100)
    for i in range(1000):
        throttle.failed(f"user{i}", None)
    assert len(throttle._records) <= 100


# --- unknown usernames: the same bcrypt path ------------------------------------------------


def test_unknown_usernames_are_checked_against_a_dummy_hash_of_the_same_cost(
    tmp_path: Path, hashes: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, config = _config(tmp_path, hashes)
    calls: list[tuple[str, str]] = []
    real = auth.verify_password

    def recording(password: str, hashed: str) -> bool:
        calls.append((password, hashed))
        return real(password, hashed)

    monkeypatch.setattr(auth, "verify_password", recording)
    throttle = signin.SignInThrottle(Clock())
    unknown = signin.attempt_sign_in(config, "nobody", "some password", None, throttle)
    known = signin.attempt_sign_in(config, "ada", "some password", None, throttle)
    dummy = signin.dummy_hash(4)
    assert calls == [("some password", dummy), ("some password", hashes["ada"])]
    assert dummy.startswith("$2b$04$") and auth.is_password_hash(dummy)  # the users' cost
    assert (unknown.reason, known.reason) == ("unknown_user", "wrong_password")
    assert unknown.retry_after == known.retry_after == 0.0  # the same answer to the page
    # the dummy hash matches no password anybody could type
    assert not real("", dummy) and not real("some password", dummy)


def test_an_unknown_username_is_locked_exactly_like_a_real_one(
    tmp_path: Path, hashes: dict[str, str]
) -> None:
    _, config = _config(tmp_path, hashes)
    answers = {}
    for name in ("ada", "nobody"):
        throttle = signin.SignInThrottle(Clock())
        seen = [signin.attempt_sign_in(config, name, "x", None, throttle) for _ in range(6)]
        answers[name] = [(r.user, r.reason == "locked", r.retry_after) for r in seen]
    assert answers["ada"] == answers["nobody"]


def test_failures_are_logged_with_user_client_and_reason_never_the_password(
    tmp_path: Path, hashes: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, config = _config(tmp_path, hashes)
    throttle = signin.SignInThrottle(Clock())
    with caplog.at_level(logging.INFO, logger="dashboard.access.signin"):
        signin.attempt_sign_in(config, "ada", "Secret-Guess-1", "203.0.113.5", throttle)
        signin.attempt_sign_in(config, "evil\nuser=ada", "Secret-Guess-2", "203.0.113.5", throttle)
        for _ in range(5):  # 4 more failures (the 5th locks), then a locked attempt
            signin.attempt_sign_in(config, "ada", "Secret-Guess-3", "203.0.113.5", throttle)
        signin.attempt_sign_in(config, "vera", PASSWORDS["vera"], "203.0.113.6", throttle)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "sign-in refused: user='ada' client='203.0.113.5' reason=wrong_password"
    assert messages[1] == (
        "sign-in refused: user='evil\\nuser=ada' client='203.0.113.5' reason=unknown_user"
    )  # one line: a typed line break cannot forge a second log entry
    assert messages[-2].startswith("sign-in refused: user='ada' client='203.0.113.5' reason=locked")
    assert messages[-1] == "signed in: user='vera' client='203.0.113.6'"
    assert not any("Secret-Guess" in m or PASSWORDS["vera"] in m for m in messages)


# --- passwords: as typed; no spaces at the ends when set --------------------------------------


@pytest.mark.parametrize(
    "password", [" leading space pw", "trailing space pw ", "\ttabbed password"]
)
def test_a_password_with_spaces_at_its_ends_cannot_be_set(tmp_path: Path, password: str) -> None:
    problem = auth.password_problem(password)
    assert problem is not None and "start or end with a space" in problem
    err = io.StringIO()
    path = tmp_path / "auth.yaml"
    import contextlib

    with contextlib.redirect_stderr(err):
        code = run(
            ["--file", str(path), "add", "ada", "--role", "admin", "--password-stdin"],
            io.StringIO(password + "\n"),
            io.StringIO(),
        )
    assert code == 2 and "start or end with a space" in err.getvalue()
    assert not path.exists()


def test_a_password_is_checked_exactly_as_typed(tmp_path: Path) -> None:
    inner = "spaces inside are fine"
    assert auth.password_problem(inner) is None
    path = tmp_path / "auth.yaml"
    assert run(["--file", str(path), "add", "ada", "--role", "admin", "--password-stdin"],
               io.StringIO(inner + "\n"), io.StringIO()) == 0  # fmt: skip
    config = auth.load_auth_config(path)
    throttle = signin.SignInThrottle(Clock())
    assert signin.attempt_sign_in(config, "ada", inner, None, throttle).reason == "ok"
    for typed in (inner + " ", " " + inner, "spaces  inside are fine"):
        assert signin.attempt_sign_in(config, "ada", typed, None, throttle).reason != "ok"
    # a hash made before this rule, of a password with a trailing space, still works as typed
    legacy = auth.with_user({}, "old", "viewer", _fast_hash("old password "))
    auth.write_raw_config(path, legacy)
    config = auth.load_auth_config(path)
    assert signin.attempt_sign_in(config, "old", "old password ", None, throttle).reason == "ok"


# --- the re-authentication cookie --------------------------------------------------------------

NOW = 1_800_000_000.0


def _cookie(key: str, algorithm: str = "HS256", **claims: object) -> str:
    payload = {"username": "ada", "exp_date": NOW + 3600, **claims}
    return jwt.encode(payload, key if algorithm != "none" else "", algorithm=algorithm)


def test_cookie_reading_never_raises_and_says_why(tmp_path: Path, hashes: dict[str, str]) -> None:
    _, config = _config(tmp_path, hashes, expiry_days=1)
    key = config.cookie_key
    cases = {
        _cookie(key): ("ada", "ok"),
        _cookie(key, username="ADA"): ("ada", "ok"),
        _cookie(key, username="ghost"): (None, "unknown_user"),  # removed from the file
        _cookie(key * 2, "HS512"): (None, "other_algorithm"),
        _cookie(key, "none"): (None, "other_algorithm"),
        _cookie("another key, not this server's one, 123456"): (None, "bad_signature"),
        _cookie(key, exp_date="tomorrow"): (None, "malformed"),
        _cookie(key, exp_date=True): (None, "malformed"),
        _cookie(key, username=["ada"]): (None, "malformed"),
        _cookie(key, exp_date=NOW - 1): (None, "expired"),
        _cookie(key, exp_date=NOW + 400 * 86400): (None, "outlives_expiry_days"),
        jwt.encode({"exp_date": NOW + 10}, key, algorithm="HS256"): (None, "malformed"),
        "not.a.jwt": (None, "malformed"),
        "x" * 5000: (None, "malformed"),
        "": (None, "no_cookie"),
    }
    for token, expected in cases.items():
        assert signin.cookie_username(token, config, NOW) == expected, token
    _, off = _config(tmp_path, hashes, expiry_days=0)
    assert signin.cookie_username(_cookie(off.cookie_key), off, NOW) == (None, "cookies_off")


# --- the login page (AppTest) ------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> str:
    return world_db(tmp_path)


@pytest.fixture
def app_auth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashes: dict[str, str]
) -> tuple[Path, auth.AuthConfig]:
    path, config = _config(tmp_path, hashes)
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(path))
    return path, config


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _only_login_form(at: AppTest) -> None:
    assert [t.value for t in at.title] == [LOGIN_TITLE]
    assert {t.label for t in at.text_input} == {
        auth.auth_text("login_user", "es"),
        auth.auth_text("login_password", "es"),
    }
    assert not at.sidebar.children and "_eslabon_pages" not in at.session_state


def _submit(at: AppTest, user: str, password: str) -> AppTest:
    fields = {t.label: t for t in at.text_input}
    fields[auth.auth_text("login_user", "es")].input(user)
    fields[auth.auth_text("login_password", "es")].input(password)
    next(b for b in at.button if b.label == auth.auth_text("login_button", "es")).click()
    return _run(at)


@pytest.mark.parametrize(
    "cookie",
    ["removed user", "HS512", "none", "string expiry", "garbage"],
)
def test_a_bad_cookie_gets_the_sign_in_form_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
    world: str,
    app_auth: tuple[Path, auth.AuthConfig],
    cookie: str,
) -> None:
    _path, config = app_auth
    key, later = config.cookie_key, time.time() + 3600
    tokens = {
        "removed user": jwt.encode({"username": "ghost", "exp_date": later}, key, "HS256"),
        "HS512": jwt.encode({"username": "ada", "exp_date": later}, key * 2, "HS512"),
        "none": jwt.encode({"username": "ada", "exp_date": later}, "", "none"),
        "string expiry": jwt.encode({"username": "ada", "exp_date": "later"}, key, "HS256"),
        "garbage": "eyJhbGciOi.garbage",
    }
    send_cookies(monkeypatch, {config.cookie_name: tokens[cookie]})
    at = _run(make_app(monkeypatch, world))
    _only_login_form(at)
    at = _run(at)  # and on every later run: no permanent error page
    _only_login_form(at)
    at = _submit(at, "ada", PASSWORDS["ada"])  # the form works with the bad cookie present
    assert "datos" in at.session_state["_eslabon_pages"]


def test_a_user_removed_while_signed_in_by_cookie_gets_the_form(
    monkeypatch: pytest.MonkeyPatch, world: str, app_auth: tuple[Path, auth.AuthConfig]
) -> None:
    path, config = app_auth
    token = jwt.encode({"username": "vera", "exp_date": time.time() + 3600}, config.cookie_key)
    send_cookies(monkeypatch, {config.cookie_name: token})
    at = _run(_run(make_app(monkeypatch, world)))
    assert "resumen" in at.session_state["_eslabon_pages"]  # the cookie signed vera in
    data, _ = auth.without_user(auth.read_raw_config(path), "vera")
    auth.write_raw_config(path, data)
    at = _run(at)
    _only_login_form(at)
    at = _run(at)
    _only_login_form(at)


def test_the_login_page_locks_after_five_failures_and_opens_after_the_window(
    monkeypatch: pytest.MonkeyPatch, world: str, app_auth: tuple[Path, auth.AuthConfig]
) -> None:
    clock = Clock()
    throttle = signin.SignInThrottle(clock)
    monkeypatch.setattr(access_gate, "sign_in_throttle", lambda: throttle)
    at = _run(make_app(monkeypatch, world))
    for i in range(5):
        at = _submit(at, "ada", f"wrong {i}")
        assert [e.value for e in at.error] == [auth.auth_text("login_failed", "es")]
    at = _submit(at, "ada", PASSWORDS["ada"])  # right, but inside the 30 s window
    assert [e.value for e in at.error] == [auth.auth_text("login_locked", "es", minutes=1)]
    _only_login_form(at)
    clock.now += 30
    at = _submit(at, "ada", PASSWORDS["ada"])
    assert "datos" in at.session_state["_eslabon_pages"]


def test_a_new_session_does_not_reset_the_count(
    monkeypatch: pytest.MonkeyPatch, world: str, app_auth: tuple[Path, auth.AuthConfig]
) -> None:
    throttle = signin.SignInThrottle(Clock())
    monkeypatch.setattr(access_gate, "sign_in_throttle", lambda: throttle)
    for i in range(5):  # each guess from a fresh session, as a script would
        _submit(_run(make_app(monkeypatch, world)), "vera", f"wrong {i}")
    at = _submit(_run(make_app(monkeypatch, world)), "vera", PASSWORDS["vera"])
    assert [e.value for e in at.error] == [auth.auth_text("login_locked", "es", minutes=1)]


def _show_client() -> None:
    import streamlit as st

    from dashboard.views import access_gate

    st.text(f"client={access_gate.client_address()}")


@pytest.mark.parametrize(
    ("remote", "headers", "client"),
    [
        ("192.0.2.10", [], "192.0.2.10"),  # a direct connection
        ("192.0.2.10", [("X-Forwarded-For", "10.9.9.9")], "192.0.2.10"),  # not from a proxy
        ("127.0.0.1", [("X-Forwarded-For", "10.9.9.9, 203.0.113.7")], "203.0.113.7"),  # nginx
        ("127.0.0.1", [], "None"),  # local development
    ],
)
def test_the_client_is_the_address_the_local_proxy_saw(
    monkeypatch: pytest.MonkeyPatch, remote: str, headers: list, client: str
) -> None:
    from tests.dashboard.test_secret_keys import FakeClient

    fake = FakeClient(headers=headers, remote_ip=remote)
    monkeypatch.setattr("streamlit.runtime.context._get_client_context", lambda: fake)
    at = _run(AppTest.from_function(_show_client, default_timeout=30))
    assert [t.value for t in at.text] == [f"client={client}"]
