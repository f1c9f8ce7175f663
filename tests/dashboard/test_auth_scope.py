"""Row scopes in the auth file and in `python -m dashboard.access`
(dashboard.access.auth, users).

A scope is read strictly (a typo must never mean "all rows"), an admin cannot be scoped,
OIDC entries carry scopes by e-mail, group or domain, and the CLI writes, keeps, lists and
lifts them.
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest

from dashboard.access import auth
from dashboard.access.users import run
from dashboard.metrics.filters import EVERYTHING, RowScope

HASH = auth.hash_password("a long enough password")
NOTHING = RowScope(stages=(), customers=())


def _config(tmp_path: Path, **users: dict) -> auth.AuthConfig:
    data = {
        "credentials": {
            "usernames": {
                name: {"password": HASH, "roles": [entry.pop("role", "viewer")], **entry}
                for name, entry in users.items()
            }
        },
        "cookie": {"key": secrets.token_urlsafe(32)},
    }
    return auth.parse_auth_config(data, tmp_path / "auth.yaml")


def test_a_password_user_gets_the_scope_of_the_file(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        sol={"scope": {"stages": ["Ventas", "Compras"], "customers": "Acme"}},
        val={},
    )
    assert config.users["sol"].scope == RowScope(stages=("Compras", "Ventas"), customers=("Acme",))
    assert auth.scope_for_user(config, "SOL ") == config.users["sol"].scope
    assert auth.scope_for_user(config, "val") == EVERYTHING
    assert auth.scope_for_user(config, "gone") == NOTHING  # fail closed


@pytest.mark.parametrize(
    ("scope", "role", "names"),
    [
        ({"stage": ["Ventas"]}, "viewer", "unknown key 'stage'"),
        ({"stages": []}, "viewer", "non-empty list"),
        ({"stages": [""]}, "viewer", "non-empty list"),
        ({"customers": [3]}, "viewer", "non-empty list"),
        ({}, "viewer", "list stages and/or customers"),
        ("Ventas", "viewer", "must be a mapping"),
        ({"stages": ["Ventas"]}, "admin", "an admin sees every row"),
    ],
)
def test_a_bad_scope_is_refused_naming_the_key(
    tmp_path: Path, scope: object, role: str, names: str
) -> None:
    with pytest.raises(auth.AuthConfigError, match=names) as err:
        _config(tmp_path, sol={"role": role, "scope": scope})
    assert "credentials.usernames.sol.scope" in str(err.value)


def test_oidc_scopes_by_email_then_group_then_domain(tmp_path: Path) -> None:
    data = {
        "oidc": {
            "emails": {"ana@example.com": "admin",
                       "luz@example.com": {"role": "viewer", "customers": ["Acme"]}},
            "groups": {"ventas": {"role": "editor", "stages": ["Ventas"]}, "all": "viewer"},
            "domains": {"example.com": {"role": "viewer", "stages": ["Logística"]}},
        }
    }  # fmt: skip
    config = auth.parse_auth_config(data, tmp_path / "auth.yaml")
    assert auth.oidc_access(config, "ana@example.com") == ("admin", EVERYTHING)
    assert auth.oidc_access(config, "LUZ@example.com") == (
        "viewer", RowScope(customers=("Acme",)),
    )  # fmt: skip
    assert auth.oidc_access(config, "bo@example.com", groups=["Ventas", "all"]) == (
        "editor", RowScope(stages=("Ventas",)),
    )  # fmt: skip
    assert auth.oidc_access(config, "bo@example.com", groups=["all"]) == ("viewer", EVERYTHING)
    assert auth.oidc_access(config, "bo@example.com") == (
        "viewer", RowScope(stages=("Logística",)),
    )  # fmt: skip
    assert auth.oidc_access(config, "bo@example.com", verified=False) == (None, NOTHING)
    assert auth.oidc_access(config, "x@other.org") == (None, NOTHING)
    # the role tables other code reads are unchanged by the richer entries
    assert config.oidc_emails["luz@example.com"] == "viewer"
    assert auth.role_for_email(config, "bo@example.com") == "viewer"


def test_an_oidc_admin_entry_cannot_carry_a_scope(tmp_path: Path) -> None:
    data = {"oidc": {"groups": {"it": {"role": "admin", "customers": ["Acme"]}}}}
    with pytest.raises(auth.AuthConfigError, match=r"oidc\.groups\.it: an admin"):
        auth.parse_auth_config(data, tmp_path / "auth.yaml")


def _cli(path: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run(["--file", str(path), *argv], io.StringIO("a long enough password\n"), out)
    return code, out.getvalue()


def test_cli_writes_keeps_lists_and_lifts_a_scope(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    code, said = _cli(path, "add", "sol", "--role", "viewer", "--stage", "Ventas",
                      "--stage", "Compras", "--customer", "Acme")  # fmt: skip
    assert code == 0 and "rows: stages: Compras, Ventas; customers: Acme" in said
    scope = RowScope(stages=("Compras", "Ventas"), customers=("Acme",))
    assert auth.load_auth_config(path).users["sol"].scope == scope
    assert _cli(path, "add", "sol", "--role", "editor")[0] == 0  # a new password keeps it
    assert auth.load_auth_config(path).users["sol"].scope == scope
    listing = _cli(path, "list")[1].splitlines()
    assert listing == ["sol\teditor\tsol\t\trows: stages: Compras, Ventas; customers: Acme"]
    assert _cli(path, "add", "sol", "--role", "viewer", "--all-rows")[0] == 0
    assert auth.load_auth_config(path).users["sol"].scope == EVERYTHING
    assert _cli(path, "list")[1].splitlines() == ["sol\tviewer\tsol\t"]


def test_cli_refuses_a_scoped_admin_and_contradictory_options(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    assert _cli(path, "add", "ada", "--role", "admin", "--customer", "Acme")[0] == 2
    assert not path.exists()
    assert _cli(path, "add", "sol", "--role", "viewer", "--all-rows", "--stage", "V")[0] == 2
