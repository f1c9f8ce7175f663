"""Roles through the real app (AppTest of dashboard/app.py): before signing in only the
login form; a viewer reads and changes nothing, an editor also sets targets, records
notices and action items, an admin also loads data; single-user mode and its loopback
check; OIDC through st.login; the customer link needs no login and shows nothing else.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.access import auth
from dashboard.access.secret_keys import new_secret
from dashboard.services.tokens import make_token
from dashboard.ui.i18n import t
from dashboard.ui.texts import tr
from dashboard.views import access_gate
from etl.db import create_db_engine
from etl.schema import create_schema
from tests.dashboard.apptest_support import all_text, world_db
from tests.dashboard.conftest import make_app

USERS = {  # username: (role, password)
    "vera": ("viewer", "vera's password"),
    "edu": ("editor", "edu's password!"),
    "ada": ("admin", "ada's password!"),
}
ALL_PAGES = {
    "resumen", "cumplimiento", "cadena", "satisfaccion", "revision", "seguimiento",
    "avisos", "metas", "estandares", "suscripciones", "datos",
}  # fmt: skip
LOGIN_TITLE = auth.auth_text("login_title", "es")
DATA_WORDS = ("Acme", "Globex", "Resumen", "Cumplimiento")  # from the world and page titles
SECRET = new_secret()


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {u: auth.hash_password(pw) for u, (_, pw) in USERS.items()}


def write_auth(path: Path, hashes: dict[str, str], **extra: object) -> Path:
    data: dict = {}
    for user, (role, _) in USERS.items():
        data = auth.with_user(data, user, role, hashes[user])
    data.update(extra)
    auth.write_raw_config(path, data)
    return path


@pytest.fixture
def world(tmp_path: Path) -> str:
    return world_db(tmp_path)


@pytest.fixture
def auth_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashes: dict[str, str]) -> Path:
    path = write_auth(
        tmp_path / "auth.yaml",
        hashes,
        oidc={"emails": {"ana@example.com": "admin"}, "domains": {"example.com": "viewer"}},
    )
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(path))
    return path


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _login(at: AppTest, user: str, password: str | None = None) -> AppTest:
    fields = {t.label: t for t in at.text_input}
    fields[auth.auth_text("login_user", "es")].input(user)
    fields[auth.auth_text("login_password", "es")].input(password or USERS[user][1])
    next(b for b in at.button if b.label == auth.auth_text("login_button", "es")).click()
    return _run(at)


def _signed_in(monkeypatch: pytest.MonkeyPatch, url: str, user: str) -> AppTest:
    return _login(_run(make_app(monkeypatch, url)), user)


def _open(at: AppTest, page: str) -> AppTest:
    at.query_params["page"] = page
    return _run(at)


def _pages(at: AppTest) -> set[str]:
    """The pages app.py handed to st.navigation this run."""
    return set(at.session_state["_eslabon_pages"])


def _keys(at: AppTest, kind: str) -> set[str]:
    return {key for e in at.get(kind) if (key := getattr(e, "key", None))}


def _button_labels(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def _assert_only_login_form(at: AppTest) -> None:
    assert [t.value for t in at.title] == [LOGIN_TITLE]
    assert not at.sidebar.children  # no navigation, no filters, no notice
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    text = all_text(at)
    assert not any(word in text for word in DATA_WORDS), text
    assert "_eslabon_pages" not in at.session_state


# --- before signing in ---------------------------------------------------------------------


@pytest.mark.parametrize("page", [None, "resumen", "datos", "metas"])
def test_before_login_only_the_login_form(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path, page: str | None
) -> None:
    at = _run(make_app(monkeypatch, world, **({"page": page} if page else {})))
    _assert_only_login_form(at)
    assert {t.label for t in at.text_input} == {
        auth.auth_text("login_user", "es"),
        auth.auth_text("login_password", "es"),
    }


def test_a_wrong_password_shows_nothing_but_the_error(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path
) -> None:
    at = _login(_run(make_app(monkeypatch, world)), "vera", "edu's password!")
    _assert_only_login_form(at)
    assert auth.auth_text("login_failed", "es") in [e.value for e in at.error]
    at = _login(at, "nobody", "whatever password")
    _assert_only_login_form(at)


# --- each role ---------------------------------------------------------------------------


def test_viewer_reads_every_internal_page_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path
) -> None:
    at = _signed_in(monkeypatch, world, "vera")
    assert _pages(at) == ALL_PAGES - {"datos"}
    assert [t.value for t in at.title] == [tr("page_resumen", "es")]
    assert auth.auth_text("signed_in_as", "es", who="vera", role="lectura") in [
        c.value for c in at.sidebar.caption
    ]
    assert auth.auth_text("single_user", "es") not in all_text(at)

    at = _open(at, "metas")
    assert [t.value for t in at.title] == [tr("page_metas", "es")]
    assert at.table  # the lights are there (a static table, every row)
    assert tr("targets_new", "es") not in [s.value for s in at.subheader]
    assert "w_t_kpi" not in _keys(at, "selectbox")
    assert "w_t_upload" not in _keys(at, "file_uploader")
    assert "w_t_export" in _keys(at, "download_button")  # exporting is reading

    at = _open(at, "avisos")
    assert [t.value for t in at.title] == [tr("page_avisos", "es")]
    assert tr("notices_mark", "es") not in _button_labels(at)

    at = _open(at, "revision")
    assert tr("review_actions", "es") in [s.value for s in at.subheader]
    assert tr("action_add", "es") not in _button_labels(at)
    assert "w_rev_update" not in _keys(at, "button")

    at = _open(at, "suscripciones")  # the list and the log, no editor
    assert [t.value for t in at.title] == [tr("page_suscripciones", "es")]
    assert "w_s_pick" not in _keys(at, "selectbox")
    assert tr("subs_save", "es") not in _button_labels(at)

    at = _open(at, "datos")  # typed by hand: refused politely, nothing of Datos drawn
    assert auth.auth_text("not_allowed", "es", action="load_data") in [w.value for w in at.warning]
    assert tr("datos_title", "es") not in [t.value for t in at.title]
    assert not at.get("file_uploader")


def test_editor_sets_targets_records_notices_and_actions_but_cannot_load(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path
) -> None:
    at = _signed_in(monkeypatch, world, "edu")
    assert _pages(at) == ALL_PAGES - {"datos"}

    at = _open(at, "avisos")
    assert tr("notices_mark", "es") in _button_labels(at)
    at = _open(at, "revision")
    assert tr("action_add", "es") in _button_labels(at)
    assert "w_rev_what" in _keys(at, "text_input")

    at = _open(at, "suscripciones")
    assert "w_s_pick" in _keys(at, "selectbox")

    at = _open(at, "metas")
    assert "w_t_upload" in _keys(at, "file_uploader")
    assert "w_records_who" not in _keys(at, "text_input")  # the author is the signed-in user
    at.number_input(key="w_t_value").set_value(0.9)
    at.date_input(key="w_t_from").set_value(date(2026, 11, 1))
    next(b for b in at.button if b.label == tr("targets_save", "es")).click()
    at = _run(at)
    assert tr("targets_saved", "es") in [s.value for s in at.success]
    engine = create_db_engine(world)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT set_by, target_value FROM targets")).fetchall()
    engine.dispose()
    assert rows == [("edu", 0.9)]

    at = _open(at, "datos")
    assert auth.auth_text("not_allowed", "es", action="load_data") in [w.value for w in at.warning]
    assert tr("datos_title", "es") not in [t.value for t in at.title]
    assert not any((u.key or "").startswith("datos_files_") for u in at.get("file_uploader"))


def test_admin_also_loads_data(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path
) -> None:
    at = _signed_in(monkeypatch, world, "ada")
    assert _pages(at) == ALL_PAGES
    at = _open(at, "datos")
    assert [t.value for t in at.title] == [tr("datos_title", "es")]
    assert any((u.key or "").startswith("datos_files_") for u in at.get("file_uploader"))
    assert not at.warning


def test_signing_out_returns_to_the_login_form(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path
) -> None:
    at = _signed_in(monkeypatch, world, "ada")
    next(b for b in at.sidebar.button if b.label == auth.auth_text("logout", "es")).click()
    at = _run(at)
    assert [t.value for t in at.title] == [LOGIN_TITLE]
    assert not at.metric and not at.dataframe
    at = _run(at)  # and it stays so on the next run
    _assert_only_login_form(at)


def test_a_user_removed_from_the_file_loses_access_at_the_next_click(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path, hashes: dict[str, str]
) -> None:
    at = _signed_in(monkeypatch, world, "edu")
    assert _pages(at) == ALL_PAGES - {"datos"}
    data, _ = auth.without_user(auth.read_raw_config(auth_file), "edu")
    auth.write_raw_config(auth_file, data)
    at = _run(at)
    assert [t.value for t in at.title] == [LOGIN_TITLE]
    assert not at.metric and not at.dataframe


# --- the write guard on the server ------------------------------------------------------


def _write_target_as(user: str) -> None:
    """What a page's write does, for a session signed in (by password) as `user`."""
    from datetime import date as day

    import streamlit as st

    from dashboard.records.targets import set_target
    from dashboard.views import access_gate
    from dashboard.views.records_ui import write

    st.session_state[access_gate.IDENTITY_KEY] = user  # what a successful login leaves
    st.session_state["authentication_status"] = True
    ok, _ = write(set_target, "on_time_rate", 0.9, "higher", 0.05, day(2026, 11, 1), "x")
    st.text(f"ok={ok}")


@pytest.mark.parametrize(("user", "written"), [("vera", 0), ("edu", 1), ("ada", 1)])
def test_write_functions_check_the_role_whatever_the_page_drew(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path, user: str, written: int
) -> None:
    monkeypatch.setenv("ESLABON_DB_URL", world)
    at = AppTest.from_function(_write_target_as, default_timeout=60, args=(user,))
    at = _run(at)
    assert [t.value for t in at.text] == [f"ok={written == 1}"]
    engine = create_db_engine(world)
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM targets")).scalar()
    engine.dispose()
    assert count == written
    if not written:
        assert auth.auth_text("not_allowed", "es", action="set_targets") in [
            w.value for w in at.warning
        ]


# --- single-user mode ----------------------------------------------------------------------


def test_without_users_single_user_admin_with_a_notice(
    monkeypatch: pytest.MonkeyPatch, world: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(tmp_path / "none.yaml"))
    at = _run(make_app(monkeypatch, world))
    # a folded notice: its title in the sidebar, the full warning inside
    assert [e.label for e in at.sidebar.expander] == [tr("single_user_short", "es")]
    assert auth.auth_text("single_user", "es") in [c.value for c in at.sidebar.caption]
    assert _pages(at) == ALL_PAGES
    at = _open(at, "datos")
    assert [t.value for t in at.title] == [tr("datos_title", "es")]


def test_single_user_mode_is_refused_off_loopback(
    monkeypatch: pytest.MonkeyPatch, world: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(tmp_path / "none.yaml"))
    monkeypatch.setattr(access_gate, "server_address", lambda: "0.0.0.0")
    at = _run(make_app(monkeypatch, world, page="datos"))
    assert [e.value for e in at.error] == [
        auth.auth_text("single_user_refused", "es", address="0.0.0.0")
    ]
    assert not at.title and not at.sidebar.children and not at.metric and not at.dataframe
    assert "_eslabon_pages" not in at.session_state


def test_a_broken_auth_file_lets_nobody_in(
    monkeypatch: pytest.MonkeyPatch, world: str, tmp_path: Path
) -> None:
    path = tmp_path / "auth.yaml"
    path.write_text("credentials:\n  usernames:\n    ada: {password: plain, roles: [admin]}\n")
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(path))
    at = _run(make_app(monkeypatch, world))
    assert [e.value for e in at.error] == [auth.auth_text("config_broken", "es")]
    assert not at.sidebar.children and not at.metric and not at.dataframe
    assert "_eslabon_pages" not in at.session_state


# --- OIDC (st.login) -----------------------------------------------------------------------

OIDC = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": new_secret(),
        "client_id": "eslabon",
        "client_secret": "s",
        "server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
    }
}


def _oidc_app(monkeypatch: pytest.MonkeyPatch, url: str, user: dict) -> AppTest:
    at = make_app(monkeypatch, url)
    at.secrets = OIDC
    at.user = user
    return _run(at)


def test_oidc_role_comes_from_the_email_mapping(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path
) -> None:
    user = {"is_logged_in": True, "email": "ana@example.com", "email_verified": True}
    at = _oidc_app(monkeypatch, world, user)
    assert _pages(at) == ALL_PAGES  # ana is admin by e-mail
    user = {"is_logged_in": True, "email": "luis@example.com", "email_verified": True}
    at = _oidc_app(monkeypatch, world, user)
    assert _pages(at) == ALL_PAGES - {"datos"}  # viewer by domain


def test_oidc_sign_in_without_a_role_shows_no_data(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path
) -> None:
    user = {"is_logged_in": True, "email": "zed@other.org", "email_verified": True}
    at = _oidc_app(monkeypatch, world, user)
    assert [t.value for t in at.title] == [LOGIN_TITLE]
    assert auth.auth_text("login_no_role", "es", who="zed@other.org") in [
        w.value for w in at.warning
    ]
    assert not at.metric and not at.dataframe and "_eslabon_pages" not in at.session_state


def test_oidc_not_signed_in_offers_the_provider_button(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path
) -> None:
    at = _oidc_app(monkeypatch, world, {"is_logged_in": False})
    _assert_only_login_form(at)
    assert auth.auth_text("login_oidc_default", "es") in _button_labels(at)


# --- the customer link ---------------------------------------------------------------------


def test_customer_link_needs_no_login_and_shows_nothing_else(
    monkeypatch: pytest.MonkeyPatch, world: str, auth_file: Path
) -> None:
    monkeypatch.setenv("ESLABON_SECRET", SECRET)
    at = _run(make_app(monkeypatch, world, token=make_token("Acme", SECRET)))
    text = all_text(at)
    assert "Acme" in text and "Globex" not in text
    assert LOGIN_TITLE not in text and not at.text_input
    assert not at.sidebar.children

    at = _run(make_app(monkeypatch, world, token="forged"))
    assert tr("cust_refused", "es") in [w.value for w in at.warning]
    assert LOGIN_TITLE not in all_text(at) and not at.text_input and not at.dataframe


# --- the empty state's sample button ---------------------------------------------------------


@pytest.mark.parametrize(("user", "offered"), [("vera", False), ("edu", False), ("ada", True)])
def test_empty_database_offers_loading_to_admins_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, auth_file: Path, user: str, offered: bool
) -> None:
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    engine = create_db_engine(url)
    create_schema(engine)
    engine.dispose()
    at = _signed_in(monkeypatch, url, user)
    assert t("empty_title", "es") in [s.value for s in at.subheader]
    assert ("load_sample" in _keys(at, "button")) is offered


def test_oidc_section_sees_a_secrets_file_written_while_the_server_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The section is remembered only while no secrets file exists (so sessions do not
    queue on Streamlit's lock); a file that appears, changes or goes is seen at once."""
    import streamlit as st
    from streamlit import config
    from streamlit.runtime.secrets import Secrets

    path = tmp_path / "secrets.toml"
    saved = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(path)])
    monkeypatch.setattr(access_gate, "_startup_option", lambda key: [str(path)])
    reads: list[str] = []
    real_get = Secrets.get

    def counted_get(self: Secrets, key: str, default: object = None) -> object:
        reads.append(key)
        return real_get(self, key, default)

    monkeypatch.setattr(Secrets, "get", counted_get)
    try:
        monkeypatch.setattr(st, "secrets", Secrets())
        assert access_gate.oidc_section() is None
        assert access_gate.oidc_section() is None
        assert reads == ["auth"]  # remembered while no file exists: Streamlit asked once
        path.write_text('[auth]\nclient_id = "first"\n', encoding="utf-8")
        assert access_gate.oidc_section() == {"client_id": "first"}
        path.unlink()
        assert access_gate.oidc_section() is None
        given = Secrets()
        given.merge_programmatic_secrets({"auth": {"client_id": "given"}})
        monkeypatch.setattr(st, "secrets", given)  # another object: read again
        assert access_gate.oidc_section() == {"client_id": "given"}
    finally:
        config.set_option("secrets.files", saved)
