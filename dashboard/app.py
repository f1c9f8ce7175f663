"""Eslabón's Streamlit entry point: page registry, shared sidebar, view in the URL.

Run with `streamlit run dashboard/app.py`. This file is the frame around every page:
it registers the pages (one module each in dashboard/views/), draws the shared filter
sidebar, keeps the view in the query string and then runs the chosen page. Pages are
registered only when their file exists, so pages can land one at a time.

A page module exposes `page() -> None` (usually `common.run_page(render)`) and runs
nothing at import. Pages are registered as callables, not file paths: Streamlit (and
AppTest) may run a file of a `pages/` folder beside the entry point on its own, without
this frame; each page file therefore ends with `if __name__ == "__main__": main()`
from this module, so even then the whole app is drawn.
"""

from __future__ import annotations

import importlib
import logging
import math
import secrets
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:  # imported where it is used: a third of a second a single user never needs
    import streamlit_authenticator as stauth

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project root.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from dashboard.access import auth, browser_access, hosts, signin  # noqa: E402
from dashboard.metrics.filters import EVERYTHING, RowScope  # noqa: E402
from dashboard.ui.i18n import t  # noqa: E402
from dashboard.views import common  # noqa: E402

# (url path = file name in dashboard/views/, title key in dashboard.ui.i18n, icon)
PAGES: tuple[tuple[str, str, str], ...] = (
    ("resumen", "page_resumen", ":material/dashboard:"),
    ("cumplimiento", "page_cumplimiento", ":material/schedule:"),
    ("cadena", "page_cadena", ":material/account_tree:"),
    ("satisfaccion", "page_satisfaccion", ":material/sentiment_satisfied:"),
    ("revision", "page_revision", ":material/event_note:"),
    ("seguimiento", "page_seguimiento", ":material/track_changes:"),
    ("avisos", "page_avisos", ":material/notifications_active:"),
    ("metas", "page_metas", ":material/flag:"),
    ("estandares", "page_estandares", ":material/timer:"),
    ("suscripciones", "page_suscripciones", ":material/mail:"),
    ("datos", "page_datos", ":material/upload_file:"),
)
DEFAULT_PAGE = "resumen"
# Pages drawn without the filter sidebar (only the language switch): one commitment
# (Seguimiento) and the loads (Datos) follow no filter.
SIDEBAR_FREE: frozenset[str] = frozenset({"seguimiento", "datos"})
# Filters a page's numbers do not follow, left out of its sidebar: Revisión and Metas
# judge one ISO week, Avisos lists what is open now, on our commitments.
HIDDEN_FILTERS: dict[str, frozenset[str]] = {
    "revision": frozenset({"period"}),
    "metas": frozenset({"period"}),
    "avisos": frozenset({"period", "direction"}),
}
# Query key for deep links such as ?page=seguimiento&commitment=ID.
PAGE_PARAM = "page"
# A customer's signed link (?token=...) opens the customer view and nothing else: no
# navigation, no sidebar, no other page reachable from that session's URL.
CUSTOMER_PAGE = "cliente"
TOKEN_PARAM = "token"
# set when a password sign-in succeeds; the next run stores the re-authentication cookie
_COOKIE_PENDING = "_eslabon_cookie_pending"
_RERUN = "_eslabon_signed_in_rerun"
_SIGN_OUT = "_eslabon_sign_out"
# set at sign-out: st.context.cookies keeps the cookie the browser sent when the session
# opened, so from then on this session ignores it
_SIGNED_OUT_ONCE = "_eslabon_signed_out"
_COOKIE_REFUSED_LOGGED = "_eslabon_cookie_refused_logged"
log = logging.getLogger(__name__)


def page_runner(name: str) -> Callable[[], None]:
    """The `page()` of dashboard/views/<name>.py, its module imported when the page runs.

    Why not import every page up front: the navigation needs only titles and paths, and
    importing all nine page modules (with the review, records and report modules behind
    them) cost the first visit of a fresh server about 0.2 s before anything was drawn.
    """

    def run() -> None:
        importlib.import_module(f"dashboard.views.{name}").page()

    run.__name__ = f"{name}_page"
    return run


def registered_pages(
    lang: str, role: str | None = "admin", scope: RowScope = EVERYTHING
) -> dict[str, st.Page]:
    """Every page whose file exists and `role` may open, by url path, titled in the
    current language (a viewer's navigation has no Datos at all; a user with a row scope
    gets no page that spans every row, auth.ALL_ROWS_PAGES)."""
    pages: dict[str, st.Page] = {}
    for name, title_key, icon in PAGES:
        if auth.page_open_to(role, scope, name):
            pages[name] = st.Page(
                page_runner(name),
                title=t(title_key, lang),
                icon=icon,
                url_path=name,
                default=name == DEFAULT_PAGE,
            )
    return pages


def follow_page_param(pages: dict[str, st.Page], current: st.Page) -> None:
    """Honour ?page=NAME links: switch to that page keeping the other parameters."""
    requested = st.query_params.get(PAGE_PARAM)
    if requested is None:
        return
    target = pages.get(requested)
    if target is None and requested in {name for name, _, _ in PAGES}:
        # a page this role may not open: say so instead of silently showing another
        st.warning(
            auth.auth_text("not_allowed", common.current_lang(), action=auth.page_action(requested))
        )
    if target is None or target.url_path == current.url_path:
        del st.query_params[PAGE_PARAM]
        return
    rest = {k: st.query_params.get_all(k) for k in st.query_params if k != PAGE_PARAM}
    st.switch_page(target, query_params=rest)


def customer_view(lang: str) -> bool:
    """Run only the customer view when the URL carries a customer token; True if it did."""
    if TOKEN_PARAM not in st.query_params:
        return False
    module = importlib.import_module(f"dashboard.views.{CUSTOMER_PAGE}")
    only = st.Page(module.page, title=t("page_cliente", lang), url_path=CUSTOMER_PAGE, default=True)
    st.navigation([only], position="hidden").run()
    return True


def only_page(body: Callable[[], object], lang: str) -> None:
    """Run `body` as the session's one page: no navigation, no sidebar, no page titles.

    It answers at every page's URL too, so a bookmarked /datos shows the login form (not
    Streamlit's "page not found") and opens that page once signed in, if the role may.
    """
    title = auth.auth_text("login_title", lang)

    def run() -> None:
        body()

    gates = [st.Page(run, title=title, url_path="login", default=True)]
    gates += [st.Page(partial(run), title=title, url_path=name) for name, _, _ in PAGES]
    st.navigation(gates, position="hidden").run()


def password_authenticator(config: auth.AuthConfig) -> stauth.Authenticate:
    """streamlit-authenticator on the file's users, used only to write and delete the
    re-authentication cookie in the browser (its cookie component must be drawn on every
    run, in the same place). Who is signed in is decided by dashboard.access.signin, not by the
    library's login form (see that module for why). Without a cookie key (the file may
    omit it when cookies are off) a random one is used. The package is imported here, not
    at the top: it takes about 0.4 s (requests, bcrypt, extra_streamlit_components) that
    a single-user server's first page would otherwise wait for."""
    import streamlit_authenticator as stauth

    return stauth.Authenticate(
        auth.authenticator_credentials(config),
        config.cookie_name,
        config.cookie_key or secrets.token_urlsafe(32),
        config.cookie_expiry_days,
        auto_hash=False,
    )


def mark_signed_in(user: auth.User) -> None:
    """Record in the session who signed in (the keys the library's cookie writer and
    sign-out read, and the identity common.current_access looks up in the file)."""
    st.session_state["authentication_status"] = True
    st.session_state["username"] = user.username
    st.session_state["name"] = user.name
    st.session_state["email"] = user.email
    st.session_state["roles"] = [user.role]
    st.session_state["logout"] = None
    st.session_state[common.IDENTITY_KEY] = user.username


def forget_sign_in() -> None:
    """A session whose user left the file (or never signed in): no identity left."""
    st.session_state.pop(common.IDENTITY_KEY, None)
    for key in ("authentication_status", "username", "name", "email", "roles"):
        st.session_state[key] = None


def cookie_sign_in(config: auth.AuthConfig) -> auth.User | None:
    """The user a valid re-authentication cookie names, else None. A bad cookie (forged,
    another algorithm, a removed user, expired) is logged once per session and ignored:
    the visitor gets the form, never an error page. After a sign-out in this session the
    cookie the browser sent at the start no longer counts."""
    if st.session_state.get(_SIGNED_OUT_ONCE):
        return None
    token = common.browser_cookie(config.cookie_name)
    if token is None:
        return None
    username, reason = signin.cookie_username(token, config, time.time())
    if username is None:
        if not st.session_state.get(_COOKIE_REFUSED_LOGGED):
            st.session_state[_COOKIE_REFUSED_LOGGED] = True
            log.warning(
                "re-authentication cookie refused: reason=%s client=%s",
                reason, signin.for_log(common.client_address()),
            )  # fmt: skip
        return None
    return config.users[username]


def login_form(config: auth.AuthConfig, lang: str) -> None:
    """The password form; the check, the throttle and the log are dashboard.access.signin's."""
    with st.form(key="eslabon_login"):
        st.subheader(auth.auth_text("login_form", lang))
        username = st.text_input(auth.auth_text("login_user", lang), autocomplete="username")
        password = st.text_input(
            auth.auth_text("login_password", lang),
            type="password",
            autocomplete="current-password",
        )
        submitted = st.form_submit_button(auth.auth_text("login_button", lang))
    if not submitted:
        return
    result = signin.attempt_sign_in(
        config, username, password, common.client_address(), common.sign_in_throttle()
    )
    if result.user is not None:
        mark_signed_in(result.user)
        st.session_state[_COOKIE_PENDING] = True
        st.session_state[_RERUN] = True  # app.signed_in reruns, outside the page
    elif result.reason == "locked":
        minutes = max(1, math.ceil(result.retry_after / 60))
        st.error(auth.auth_text("login_locked", lang, minutes=minutes))
    else:
        st.error(auth.auth_text("login_failed", lang))


def login_page(authenticator: stauth.Authenticate | None, lang: str) -> None:
    """The login form (password and/or OIDC buttons): the only thing a visitor sees. A
    browser with a valid re-authentication cookie is signed in before anything is drawn."""
    config = common.auth_config()
    if authenticator is not None:
        if st.session_state.get("authentication_status") is True:
            # signed in as someone no longer in the file: forget it, delete the cookie
            authenticator.logout(location="unrendered")
            forget_sign_in()
        user = cookie_sign_in(config)
        if user is not None:
            mark_signed_in(user)
            st.session_state[_RERUN] = True
            return
    st.title(auth.auth_text("login_title", lang))
    access = common.current_access()
    if access.method == "oidc" and access.role is None:  # signed in, but given no role
        st.warning(auth.auth_text("login_no_role", lang, who=common.plain_md(access.who or "?")))
        if st.button(auth.auth_text("logout", lang), key="eslabon_oidc_logout"):
            st.logout()
        return
    if authenticator is not None:
        login_form(config, lang)
    if common.oidc_section():
        providers = common.oidc_providers()
        for provider in providers if providers else [None]:
            label = (
                auth.auth_text("login_oidc", lang, provider=provider)
                if provider
                else auth.auth_text("login_oidc_default", lang)
            )
            if st.button(label, key=f"eslabon_oidc_{provider or 'default'}"):
                if provider:
                    st.login(provider)
                else:
                    st.login()


def _request_sign_out() -> None:
    """The sign-out button's callback: runs before the next run draws anything, so
    that run already shows the login form (signed_in finishes the job)."""
    st.session_state.pop(common.IDENTITY_KEY, None)
    st.session_state[_SIGN_OUT] = True


def sign_out(access: common.Access, authenticator: stauth.Authenticate | None) -> None:
    """Forget the session's sign-in: the password state and cookie, or st.logout (OIDC)."""
    st.session_state.pop(common.IDENTITY_KEY, None)
    st.session_state[_SIGNED_OUT_ONCE] = True
    if authenticator is not None and st.session_state.get("authentication_status"):
        authenticator.logout(location="unrendered")  # clears the state, deletes the cookie
    forget_sign_in()
    if access.method == "oidc":
        st.logout()


def account_box(
    access: common.Access, authenticator: stauth.Authenticate | None, lang: str
) -> None:
    """Who is signed in, with which role, and the sign-out button (sidebar)."""
    if authenticator is not None and st.session_state.pop(_COOKIE_PENDING, False):
        authenticator.cookie_controller.set_cookie()  # after the rerun that showed the app
    role = auth.auth_text(f"role_{access.role}", lang)
    who = common.plain_md(access.who or "?")
    st.sidebar.caption(auth.auth_text("signed_in_as", lang, who=who, role=role))
    st.sidebar.button(
        auth.auth_text("logout", lang), key="eslabon_logout", on_click=_request_sign_out
    )


def admit_browser(allowed: bool) -> None:
    """Let this browser fetch the session's downloads (/media) while it is signed in,
    and no longer once it is not (dashboard.access.browser_access; checked by serve.py)."""
    cookie = common.browser_cookie(browser_access.XSRF_COOKIE)
    token = browser_access.browser_token(cookie)
    if allowed:
        browser_access.SIGNED_IN_BROWSERS.admit(token)
    else:
        browser_access.SIGNED_IN_BROWSERS.revoke(token)


def signed_in(lang: str) -> common.Access | None:
    """This session's access once someone with a role is signed in, else None after
    drawing the login form (or why nobody can sign in). Nothing else is drawn before."""
    access = _signed_in(lang)
    admit_browser(access is not None and access.role is not None)
    return access


def _signed_in(lang: str) -> common.Access | None:
    """signed_in without the browser bookkeeping (several early returns)."""
    access = common.current_access()
    if access.mode == "single":
        # folded: the full warning took a quarter of the sidebar on every page
        with st.sidebar.expander(
            common.text("single_user_short", lang), icon=":material/lock_open:"
        ):
            st.caption(auth.auth_text("single_user", lang))
        return access
    if access.mode == "refused":
        address = common.plain_md(common.server_address() or "0.0.0.0")
        only_page(
            lambda: st.error(auth.auth_text("single_user_refused", lang, address=address)), lang
        )
        return None
    if access.mode == "broken":
        if access.unsafe_key:
            file_name, key = access.unsafe_key
            file_name, key = common.plain_md(file_name), common.plain_md(key)
            text = auth.auth_text("config_unsafe_key", lang, file=file_name, name=key)
        else:
            text = auth.auth_text("config_broken", lang)
        only_page(lambda: st.error(text), lang)
        return None
    config = common.auth_config()
    authenticator = password_authenticator(config) if config.has_passwords else None
    if st.session_state.pop(_SIGN_OUT, False):
        sign_out(access, authenticator)
        access = common.current_access()
    if access.role is not None:
        account_box(access, authenticator, lang)
        return access
    st.session_state.pop("_eslabon_pages", None)  # common.remember_pages: none for nobody
    only_page(lambda: login_page(authenticator, lang), lang)
    if st.session_state.pop(_RERUN, False):
        st.rerun()  # from the frame, not from inside the page
    return None


def foreign_host() -> str | None:
    """The Host this session's websocket named, when it is not an allowed one (DNS
    rebinding: dashboard/access/hosts.py); None when allowed.

    dashboard/serve.py already refuses such requests; this covers `streamlit run
    dashboard/app.py`. A run without any request headers (AppTest) has no Host to check.
    """
    headers = st.context.headers
    if not headers:
        return None
    host = headers.get("Host")
    return None if hosts.is_allowed_host(host, hosts.allowed_hosts()) else (host or "")


def main() -> None:
    """Frame every page: config, sign-in, navigation, sidebar, URL, then the page itself."""
    st.set_page_config(page_title="Eslabón", page_icon=":material/link:", layout="wide")
    common.watch_session_queries()
    lang = common.current_lang()
    host = foreign_host()
    if host is not None:
        st.error(t("host_refused", lang, host=common.plain_md(host[:100])))
        return
    if customer_view(lang):
        return
    access = signed_in(lang)
    if access is None:
        return
    common.uploader_words(lang)
    pages = registered_pages(lang, access.role, access.scope)
    current = st.navigation(list(pages.values()), position="sidebar")
    common.remember_pages(pages)
    follow_page_param(pages, current)
    if current.url_path in SIDEBAR_FREE:
        common.scope_note(common.language_switch())
        common.keep_filters()
        common.sync_url(common.last_view())
        current.run()
        return
    status = common.db_status()
    at = None
    stages: list[str] = []
    if status.ok and status.commitments:
        try:
            at = common.as_of()
            stages = common.stage_options(at)
        except Exception:  # the page itself shows the database error state
            at, stages = None, []
    view = common.sidebar(at, stages, hidden=HIDDEN_FILTERS.get(current.url_path, frozenset()))
    common.sync_url(view)
    current.run()


if __name__ == "__main__":
    main()
