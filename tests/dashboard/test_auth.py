"""dashboard.access.auth and `python -m dashboard.access`: the permission table,
password hashes, the auth file (what it accepts and refuses), OIDC e-mail roles, the
loopback check."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from dashboard.access import auth
from dashboard.access.secret_keys import new_secret
from dashboard.access.users import run
from etl.settings import PROJECT_ROOT

# Worked out by hand from the issue: viewer reads; editor also targets, notices, actions;
# admin also loads data.
EXPECTED = {
    "viewer": {"read"},
    "editor": {
        "read",
        "set_targets",
        "record_notices",
        "record_actions",
        "manage_subscriptions",
        "set_standards",
    },
    "admin": {
        "read",
        "set_targets",
        "record_notices",
        "record_actions",
        "manage_subscriptions",
        "set_standards",
        "load_data",
    },
}
PAGES = ("resumen", "cumplimiento", "metas", "avisos", "revision", "datos")


@pytest.mark.parametrize("role", auth.ROLES)
def test_each_role_may_do_exactly_its_actions(role: str) -> None:
    allowed = {a for a in auth.PERMISSIONS if auth.role_allows(role, a)}
    assert allowed == EXPECTED[role]


@pytest.mark.parametrize("role", [None, "", "root", "ADMIN", "superuser"])
def test_no_role_or_an_unknown_role_may_do_nothing(role: str | None) -> None:
    assert not any(auth.role_allows(role, a) for a in auth.PERMISSIONS)


def test_an_unknown_action_is_refused_even_to_admin() -> None:
    assert not auth.role_allows("admin", "drop_everything")


def test_navigation_lists_datos_for_admin_only() -> None:
    assert auth.visible_pages("viewer", PAGES) == PAGES[:-1]
    assert auth.visible_pages("editor", PAGES) == PAGES[:-1]
    assert auth.visible_pages("admin", PAGES) == PAGES
    assert auth.visible_pages(None, PAGES) == ()


@given(
    st.sampled_from(auth.ROLES),
    st.sampled_from(auth.ROLES),
    st.sampled_from(list(auth.PERMISSIONS)),
)
def test_a_higher_role_may_do_whatever_a_lower_one_may(low: str, high: str, action: str) -> None:
    if auth.role_rank(high) >= auth.role_rank(low) and auth.role_allows(low, action):
        assert auth.role_allows(high, action)


# --- passwords -------------------------------------------------------------------------


def test_hash_verifies_its_password_only() -> None:
    hashed = auth.hash_password("correct horse battery")
    assert hashed.startswith("$2b$") and "correct" not in hashed
    assert auth.verify_password("correct horse battery", hashed)
    assert not auth.verify_password("correct horse batterY", hashed)
    assert not auth.verify_password("", hashed)
    assert auth.hash_password("correct horse battery") != hashed  # salted


@pytest.mark.parametrize("bad", ["", "correct horse battery", "$2b$12$short", "x" * 60, "$1$abc"])
def test_a_malformed_hash_never_verifies(bad: str) -> None:
    assert not auth.verify_password("correct horse battery", bad)


def test_password_rules() -> None:
    assert auth.password_problem("short") is not None
    assert auth.password_problem("long enough pass") is None
    assert auth.password_problem("ñ" * 40) is not None  # 80 bytes: bcrypt would cut it


# --- the auth file ---------------------------------------------------------------------


def _write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


HASH = auth.hash_password("correct horse battery")
KEY = new_secret()  # "k" * 40 is refused now: too few distinct characters


def _valid(**overrides: object) -> dict:
    data = {
        "credentials": {
            "usernames": {
                "marta": {
                    "name": "Marta",
                    "email": "m@x.es",
                    "password": HASH,
                    "roles": ["editor"],
                },
                "vera": {"password": HASH, "roles": ["viewer", "admin"]},
            }
        },
        "cookie": {"name": "c", "key": KEY, "expiry_days": 2},
        "oidc": {"emails": {"Ana@Example.com": "admin"}, "domains": {"example.com": "viewer"}},
    }
    data.update(overrides)
    return data


def test_no_file_means_no_configuration(tmp_path: Path) -> None:
    config = auth.load_auth_config(tmp_path / "none.yaml")
    assert not config.exists and not config.has_passwords


def test_a_valid_file_gives_users_roles_cookie_and_oidc(tmp_path: Path) -> None:
    config = auth.load_auth_config(_write(tmp_path / "a.yaml", _valid()))
    assert config.exists and set(config.users) == {"marta", "vera"}
    assert auth.role_for_user(config, "marta") == "editor"
    assert auth.role_for_user(config, "vera") == "admin"  # the highest listed
    assert auth.role_for_user(config, "MARTA ") == "editor"  # as the form lower-cases it
    assert auth.role_for_user(config, "nobody") is None
    assert auth.role_for_user(config, None) is None
    assert config.users["vera"].name == "vera"
    assert (config.cookie_name, config.cookie_key, config.cookie_expiry_days) == ("c", KEY, 2.0)
    creds = auth.authenticator_credentials(config)
    assert creds["usernames"]["marta"] == {
        "name": "Marta", "email": "m@x.es", "password": HASH, "roles": ["editor"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "names"),
    [
        (_valid(credentials={"usernames": {"marta": {"password": "plain12345"}}}),
         "credentials.usernames.marta.password"),
        (_valid(credentials={"usernames": {"marta": {"password": HASH, "roles": ["root"]}}}),
         "credentials.usernames.marta.roles"),
        (_valid(credentials={"usernames": {"marta": {"password": HASH}}}),
         "credentials.usernames.marta.roles"),
        (_valid(credentials={"usernames": {"Marta": {"password": HASH, "roles": ["viewer"]}}}),
         "credentials.usernames.Marta"),
        (_valid(cookie={"key": "short"}), "cookie.key"),
        (_valid(cookie={"key": KEY, "expiry_days": "soon"}), "cookie.expiry_days"),
        (_valid(oidc={"emails": {"a@b.c": "god"}}), "oidc.emails.a@b.c"),
        (_valid(oidc={"domains": ["example.com"]}), "oidc.domains"),
        (["not", "a", "mapping"], "top level"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_naming_the_key(tmp_path: Path, data: object, names: str) -> None:
    path = _write(tmp_path / "bad.yaml", data)
    with pytest.raises(auth.AuthConfigError) as err:
        auth.load_auth_config(path)
    assert str(path) in str(err.value) and names in str(err.value)


def test_unparseable_yaml_is_refused_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("credentials: [unclosed\n", encoding="utf-8")
    with pytest.raises(auth.AuthConfigError, match=r"broken\.yaml"):
        auth.load_auth_config(path)


def test_no_cookie_key_is_fine_when_the_cookie_is_off(tmp_path: Path) -> None:
    config = auth.load_auth_config(_write(tmp_path / "a.yaml", _valid(cookie={"expiry_days": 0})))
    assert config.cookie_expiry_days == 0 and config.has_passwords


def test_the_shipped_example_parses_once_its_placeholders_are_replaced(tmp_path: Path) -> None:
    example = PROJECT_ROOT / ".streamlit" / "auth.example.yaml"
    with pytest.raises(auth.AuthConfigError, match="not a bcrypt hash"):
        auth.load_auth_config(example)  # never usable as shipped
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    data["credentials"]["usernames"]["marta"]["password"] = HASH
    data["cookie"]["key"] = KEY
    config = auth.load_auth_config(_write(tmp_path / "a.yaml", data))
    assert auth.role_for_user(config, "marta") == "editor"
    assert auth.role_for_email(config, "ana@example.com") == "admin"


def test_the_auth_file_is_git_ignored() -> None:
    done = subprocess.run(
        ["git", "check-ignore", "-q", ".streamlit/auth.yaml"], cwd=PROJECT_ROOT, check=False
    )
    assert done.returncode == 0


def test_auth_file_path_from_the_environment(tmp_path: Path) -> None:
    assert auth.auth_config_path({}) == PROJECT_ROOT / ".streamlit" / "auth.yaml"
    assert (
        auth.auth_config_path({"ESLABON_AUTH_FILE": str(tmp_path / "x.yaml")})
        == tmp_path / "x.yaml"
    )


# --- OIDC e-mails ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "verified", "role"),
    [
        ("ana@example.com", True, "admin"),  # exact e-mail beats the domain
        ("ANA@example.COM", None, "admin"),
        ("luis@example.com", True, "viewer"),  # by domain
        ("luis@example.com", False, None),  # the provider says unverified
        ("luis@sub.example.com", True, None),  # no subdomains
        ("luis@example.com.evil.net", True, None),
        ("luis@notexample.com", True, None),
        ("example.com", True, None),
        ("@example.com", True, None),
        ("", True, None),
        (None, True, None),
    ],
)
def test_oidc_role_by_email_then_domain(
    tmp_path: Path, email: str | None, verified: bool | None, role: str | None
) -> None:
    config = auth.load_auth_config(_write(tmp_path / "a.yaml", _valid()))
    assert auth.role_for_email(config, email, verified=verified) == role


# --- single-user mode ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        (None, False),  # Streamlit then listens on every interface
        ("", False),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("localhost.evil.example", False),
        ("eslabon.example.com", False),
    ],
)
def test_single_user_mode_only_on_loopback(address: str | None, loopback: bool) -> None:
    assert auth.is_loopback(address) is loopback
    assert auth.single_user_allowed(address) is loopback


def test_the_shipped_server_config_listens_on_loopback() -> None:
    import tomllib

    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text("utf-8"))
    assert auth.is_loopback(config["server"]["address"])


# --- the CLI ---------------------------------------------------------------------------


def _cli(path: Path, *argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = run(["--file", str(path), *argv], io.StringIO(stdin), out)
    return code, out.getvalue()


def test_cli_adds_lists_changes_and_removes_users(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "auth.yaml"
    assert _cli(path, "add", "Marta", "--role", "editor", "--email", "m@x.es",
                stdin="first password\n")[0] == 0  # fmt: skip
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert "first password" not in text
    config = auth.load_auth_config(path)
    marta = config.users["marta"]
    assert (marta.role, marta.name, marta.email) == ("editor", "Marta", "m@x.es")
    assert auth.verify_password("first password", marta.password_hash)
    key = config.cookie_key
    assert len(key) >= auth.MIN_COOKIE_KEY

    assert (
        _cli(path, "add", "vera", "--role", "viewer", "--password-stdin", stdin="vera's pass 1\n")[
            0
        ]
        == 0
    )
    assert _cli(path, "add", "marta", "--role", "admin", stdin="second password\n")[0] == 0
    config = auth.load_auth_config(path)
    assert config.cookie_key == key  # kept: signed-in browsers stay signed in
    assert config.users["marta"].role == "admin" and config.users["marta"].name == "Marta"
    assert auth.verify_password("second password", config.users["marta"].password_hash)
    assert not auth.verify_password("first password", config.users["marta"].password_hash)

    code, listing = _cli(path, "list")
    assert code == 0
    assert listing.splitlines() == ["marta\tadmin\tMarta\tm@x.es", "vera\tviewer\tvera\t"]
    assert "$2" not in listing  # never a hash

    assert _cli(path, "remove", "marta")[0] == 0
    assert set(auth.load_auth_config(path).users) == {"vera"}
    assert _cli(path, "remove", "marta")[0] == 2


def test_cli_refuses_a_short_password_and_leaves_the_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "auth.yaml"
    assert _cli(path, "add", "marta", "--role", "editor", stdin="short\n")[0] == 2
    assert "at least" in capsys.readouterr().err
    assert not path.exists()


def test_cli_refuses_an_unknown_role(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _cli(tmp_path / "auth.yaml", "add", "marta", "--role", "root", stdin="long enough pw\n")


def test_cli_refuses_to_write_over_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    path.write_text("credentials: [unclosed\n", encoding="utf-8")
    assert _cli(path, "add", "marta", "--role", "editor", stdin="long enough pw\n")[0] == 2
    assert path.read_text(encoding="utf-8") == "credentials: [unclosed\n"


def test_cli_as_a_real_command_reading_stdin(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.access", "--file", str(path), "add", "ci",
         "--role", "viewer", "--password-stdin"],
        input="a script's password\n", capture_output=True, text=True, cwd=PROJECT_ROOT,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ci (viewer) saved" in done.stdout
    user = auth.load_auth_config(path).users["ci"]
    assert auth.verify_password("a script's password", user.password_hash)


def test_auth_and_users_do_not_import_streamlit() -> None:
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys, dashboard.access.auth, dashboard.access.users; "
         "print('streamlit' in sys.modules)"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "False"
