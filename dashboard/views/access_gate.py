"""Who is signed in to this session and what their role allows (dashboard.access.auth),
worked out on the server on every run, never taken from the browser: the mode (single
user, login, refused, broken), the role, the row scope, and the checks pages call
(`allowed`, `require`)."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard.access import auth, signin
from dashboard.metrics.filters import EVERYTHING, RowScope

log = logging.getLogger(__name__)


IDENTITY_KEY = "_eslabon_identity"  # the password user this session signed in as
NO_ROWS = RowScope(stages=(), customers=())


@dataclass(frozen=True)
class Access:
    """This session's access, worked out on the server on every run.

    mode: "single" (no auth configured, loopback: admin), "login" (auth configured;
    role None until someone with a role signs in), "refused" (no auth configured but the
    server is reachable from other machines) or "broken" (the auth file is invalid).
    """

    mode: str
    role: str | None = None
    who: str | None = None
    method: str | None = None  # "password" or "oidc" once signed in
    unsafe_key: tuple[str, str] | None = None  # "broken" by a published or weak key: (file, key)
    # the rows this person may see (auth file); nobody signed in sees none
    scope: RowScope = NO_ROWS


@functools.cache
def _startup_option(key: str) -> Any:
    """A server option fixed once the server has started, read once: st.get_option takes
    a process-wide lock, and asking on every metric call queued concurrent sessions."""
    return st.get_option(key)


def server_address() -> str | None:
    """The address the server listens on (server.address; empty means every interface)."""
    value: str | None = _startup_option("server.address")
    return value


@dataclass(frozen=True)
class _OidcRead:
    """The `[auth]` section read while no secrets file existed, and from which object."""

    secrets: object  # the st.secrets object read (held, so its identity stays unique)
    section: dict[str, Any] | None


_read_without_file: list[_OidcRead] = []  # at most one: the last such reading


def _secrets_file_exists() -> bool:
    """Does any of the secrets files (or folders) Streamlit looks for exist now?"""
    return any(os.path.exists(path) for path in _startup_option("secrets.files"))


def oidc_section() -> dict[str, Any] | None:
    """The `[auth]` section of .streamlit/secrets.toml (st.login's provider), if any.

    Asked on every metric call of every session. With no secrets file, Streamlit looks
    for one again on each access under one process-wide lock, which queued concurrent
    sessions behind each other (bench.sessions); so while no file exists, the answer of
    the same st.secrets object is remembered. Once a file exists, Streamlit keeps the
    parsed file itself and reloads it when it changes.
    """
    secrets, no_file = st.secrets, not _secrets_file_exists()
    if no_file:
        last = _read_without_file[0] if _read_without_file else None
        if last is not None and last.secrets is secrets:
            return dict(last.section) if last.section else None
    try:
        found = secrets.get("auth")
        section = dict(found) if found else None
    except Exception:  # no secrets file, or an unreadable one: no OIDC
        section = None
    if no_file:
        _read_without_file[:] = [_OidcRead(secrets, section)]
    return dict(section) if section else None


def oidc_providers() -> list[str]:
    """Named providers ([auth.NAME] sections); empty for the single default provider."""
    section = oidc_section() or {}
    return [name for name, value in section.items() if isinstance(value, Mapping)]


def auth_config() -> auth.AuthConfig:
    """The auth file as it is now, so removed or demoted users lose rights at once.

    Checked on every call (a stat), parsed again only when the file changed: the row
    scope is asked for on every metric call of a page, and parsing the YAML each time
    cost about 8 ms a call.
    """
    path = auth.auth_config_path()
    try:
        info = path.stat()
        stamp: tuple[int, int, int] | None = (info.st_mtime_ns, info.st_size, info.st_ino)
    except OSError:
        stamp = None
    return _auth_config_at(str(path), stamp)


@functools.lru_cache(maxsize=8)
def _auth_config_at(path: str, stamp: tuple[int, int, int] | None) -> auth.AuthConfig:
    """The parsed file for one (path, modification stamp); errors are not cached."""
    return auth.load_auth_config(Path(path))


@st.cache_resource(show_spinner=False)
def sign_in_throttle() -> signin.SignInThrottle:
    """The server's one count of failed sign-ins (per username and per client): kept on
    the server, so a new tab or a cleared cookie starts nowhere afresh."""
    return signin.SignInThrottle()


def client_address() -> str | None:
    """The browser's address, for the sign-in throttle and the log: the connection's, or,
    when the connection comes from this machine (Streamlit then says None: a reverse proxy
    on the same host, deploy/nginx-eslabon.conf), the last X-Forwarded-For entry — the
    address the proxy itself appended, which the browser cannot choose."""
    try:
        direct = st.context.ip_address
        if direct:
            return direct
        forwarded = st.context.headers.get("X-Forwarded-For") or ""
    except Exception:
        return None
    last = forwarded.split(",")[-1].strip()
    return last[:64] or None


def browser_cookie(name: str) -> str | None:
    """A cookie the browser sent when this session opened (st.context.cookies)."""
    try:
        return st.context.cookies.get(name)
    except Exception:
        return None


def _oidc_user() -> dict[str, Any]:
    """st.user as a dict when someone is signed in through st.login, else {}."""
    try:
        info = dict(st.user.to_dict())
    except Exception:
        return {}
    return info if info.get("is_logged_in") is True else {}


def current_access() -> Access:
    """This session's mode, role and name (never taken from the browser: the role is
    looked up in the auth file for the user the server authenticated)."""
    try:
        config = auth_config()
    except auth.AuthConfigError as exc:
        log.error("auth configuration: %s", exc)
        unsafe = (exc.file_name, exc.key) if isinstance(exc, auth.UnsafeKeyError) else None
        return Access(mode="broken", unsafe_key=unsafe)
    oidc = oidc_section()
    problem = auth.oidc_cookie_secret_problem(oidc)
    if problem:  # st.login's identity cookie would be signed with a public key
        log.error(
            "auth configuration: .streamlit/secrets.toml: %s. Replace it with a random "
            "secret: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            problem,
        )
        return Access(mode="broken", unsafe_key=("secrets.toml", "[auth] cookie_secret"))
    if not config.exists and not oidc:
        if auth.single_user_allowed(server_address()):
            return Access(mode="single", role="admin", scope=EVERYTHING)
        return Access(mode="refused")
    username = st.session_state.get(IDENTITY_KEY)
    if username and st.session_state.get("authentication_status") is True:
        user = config.users.get(str(username))
        if user is not None:
            return Access(
                mode="login", role=user.role, who=user.name, method="password", scope=user.scope
            )
    if oidc:
        info = _oidc_user()
        if info:
            verified = info.get("email_verified")
            groups = info.get("groups")
            role, scope = auth.oidc_access(
                config,
                info.get("email"),
                verified=verified if isinstance(verified, bool) else None,
                groups=[str(g) for g in groups] if isinstance(groups, list) else (),
            )
            who = str(info.get("email") or info.get("name") or "")
            return Access(mode="login", role=role, who=who or None, method="oidc", scope=scope)
    return Access(mode="login")


def in_visitor_run() -> bool:
    """Whether this code runs for a visitor's page (a script-run context), not for the
    server's own warming (`serve.warm_caches`, `serve.keep_warm`). "No" is an expected
    answer there, so Streamlit's warning about a missing context is not logged."""
    return get_script_run_ctx(suppress_warning=True) is not None


def current_scope() -> RowScope:
    """The rows this session may see, from the auth file on every call (never the
    browser): every metric call of a page is narrowed to it (`metric`, records_ui).

    Outside any session (no script-run context: only the server's own start-up work,
    `serve.warm_caches`, which fills the shared caches for the unrestricted view) there
    is no user to restrict; every visitor's run has a context. The cache keys hold the
    scope, so a scoped user never reads an entry computed for another scope.
    """
    if not in_visitor_run():
        return EVERYTHING
    return current_access().scope


def current_role() -> str | None:
    """The role of this session (None: not signed in, or no role)."""
    return current_access().role


def allowed(action: str) -> bool:
    """May this session do `action` (a key of dashboard.access.auth.PERMISSIONS)?"""
    return auth.role_allows(current_role(), action)


def require(action: str, lang: str) -> bool:
    """allowed(action), with a polite "not allowed" on the page when it is not."""
    if allowed(action):
        return True
    st.warning(auth.auth_text("not_allowed", lang, action=action))
    return False
