"""Signing in and out: the password form (the check and its throttle are
dashboard.access.signin's), the OIDC buttons, the re-authentication cookie, the account
box, and the login form as the session's only page until someone with a role is in."""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import streamlit as st

from dashboard.access import auth, browser_access, signin
from dashboard.ui.texts import md_escape, tr
from dashboard.views import access_gate, registry

if TYPE_CHECKING:  # imported where it is used: a third of a second a single user never needs
    import streamlit_authenticator as stauth

log = logging.getLogger(__name__)


# set when a password sign-in succeeds; the next run stores the re-authentication cookie
_COOKIE_PENDING = "_eslabon_cookie_pending"
_RERUN = "_eslabon_signed_in_rerun"
_SIGN_OUT = "_eslabon_sign_out"
# set at sign-out: st.context.cookies keeps the cookie the browser sent when the session
# opened, so from then on this session ignores it
_SIGNED_OUT_ONCE = "_eslabon_signed_out"
_COOKIE_REFUSED_LOGGED = "_eslabon_cookie_refused_logged"


def only_page(body: Callable[[], object], lang: str) -> None:
    """Run `body` as the session's one page: no navigation, no sidebar, no page titles.

    It answers at every page's URL too, so a bookmarked /datos shows the login form (not
    Streamlit's "page not found") and opens that page once signed in, if the role may.
    """
    title = auth.auth_text("login_title", lang)

    def run() -> None:
        body()

    gates = [st.Page(run, title=title, url_path="login", default=True)]
    gates += [st.Page(partial(run), title=title, url_path=name) for name, _, _ in registry.PAGES]
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
    sign-out read, and the identity access_gate.current_access looks up in the file)."""
    st.session_state["authentication_status"] = True
    st.session_state["username"] = user.username
    st.session_state["name"] = user.name
    st.session_state["email"] = user.email
    st.session_state["roles"] = [user.role]
    st.session_state["logout"] = None
    st.session_state[access_gate.IDENTITY_KEY] = user.username


def forget_sign_in() -> None:
    """A session whose user left the file (or never signed in): no identity left."""
    st.session_state.pop(access_gate.IDENTITY_KEY, None)
    for key in ("authentication_status", "username", "name", "email", "roles"):
        st.session_state[key] = None


def cookie_sign_in(config: auth.AuthConfig) -> auth.User | None:
    """The user a valid re-authentication cookie names, else None. A bad cookie (forged,
    another algorithm, a removed user, expired) is logged once per session and ignored:
    the visitor gets the form, never an error page. After a sign-out in this session the
    cookie the browser sent at the start no longer counts."""
    if st.session_state.get(_SIGNED_OUT_ONCE):
        return None
    token = access_gate.browser_cookie(config.cookie_name)
    if token is None:
        return None
    username, reason = signin.cookie_username(token, config, time.time())
    if username is None:
        if not st.session_state.get(_COOKIE_REFUSED_LOGGED):
            st.session_state[_COOKIE_REFUSED_LOGGED] = True
            log.warning(
                "re-authentication cookie refused: reason=%s client=%s",
                reason, signin.for_log(access_gate.client_address()),
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
        config, username, password, access_gate.client_address(), access_gate.sign_in_throttle()
    )
    if result.user is not None:
        mark_signed_in(result.user)
        st.session_state[_COOKIE_PENDING] = True
        st.session_state[_RERUN] = True  # signed_in reruns, outside the page
    elif result.reason == "locked":
        minutes = max(1, math.ceil(result.retry_after / 60))
        st.error(auth.auth_text("login_locked", lang, minutes=minutes))
    else:
        st.error(auth.auth_text("login_failed", lang))


def login_page(authenticator: stauth.Authenticate | None, lang: str) -> None:
    """The login form (password and/or OIDC buttons): the only thing a visitor sees. A
    browser with a valid re-authentication cookie is signed in before anything is drawn."""
    config = access_gate.auth_config()
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
    access = access_gate.current_access()
    if access.method == "oidc" and access.role is None:  # signed in, but given no role
        st.warning(auth.auth_text("login_no_role", lang, who=md_escape(access.who or "?")))
        if st.button(auth.auth_text("logout", lang), key="eslabon_oidc_logout"):
            st.logout()
        return
    if authenticator is not None:
        login_form(config, lang)
    if access_gate.oidc_section():
        providers = access_gate.oidc_providers()
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
    st.session_state.pop(access_gate.IDENTITY_KEY, None)
    st.session_state[_SIGN_OUT] = True


def sign_out(access: access_gate.Access, authenticator: stauth.Authenticate | None) -> None:
    """Forget the session's sign-in: the password state and cookie, or st.logout (OIDC)."""
    st.session_state.pop(access_gate.IDENTITY_KEY, None)
    st.session_state[_SIGNED_OUT_ONCE] = True
    if authenticator is not None and st.session_state.get("authentication_status"):
        authenticator.logout(location="unrendered")  # clears the state, deletes the cookie
    forget_sign_in()
    if access.method == "oidc":
        st.logout()


def account_box(
    access: access_gate.Access, authenticator: stauth.Authenticate | None, lang: str
) -> None:
    """Who is signed in, with which role, and the sign-out button (sidebar)."""
    if authenticator is not None and st.session_state.pop(_COOKIE_PENDING, False):
        authenticator.cookie_controller.set_cookie()  # after the rerun that showed the app
    role = auth.auth_text(f"role_{access.role}", lang)
    who = md_escape(access.who or "?")
    st.sidebar.caption(auth.auth_text("signed_in_as", lang, who=who, role=role))
    st.sidebar.button(
        auth.auth_text("logout", lang), key="eslabon_logout", on_click=_request_sign_out
    )


def admit_browser(allowed: bool) -> None:
    """Let this browser fetch the session's downloads (/media) while it is signed in,
    and no longer once it is not (dashboard.access.browser_access; checked by serve.py)."""
    cookie = access_gate.browser_cookie(browser_access.XSRF_COOKIE)
    token = browser_access.browser_token(cookie)
    if allowed:
        browser_access.SIGNED_IN_BROWSERS.admit(token)
    else:
        browser_access.SIGNED_IN_BROWSERS.revoke(token)


def signed_in(lang: str) -> access_gate.Access | None:
    """This session's access once someone with a role is signed in, else None after
    drawing the login form (or why nobody can sign in). Nothing else is drawn before."""
    access = _signed_in(lang)
    admit_browser(access is not None and access.role is not None)
    return access


def _signed_in(lang: str) -> access_gate.Access | None:
    """signed_in without the browser bookkeeping (several early returns)."""
    access = access_gate.current_access()
    if access.mode == "single":
        # folded: the full warning took a quarter of the sidebar on every page
        with st.sidebar.expander(tr("single_user_short", lang), icon=":material/lock_open:"):
            st.caption(auth.auth_text("single_user", lang))
        return access
    if access.mode == "refused":
        address = md_escape(access_gate.server_address() or "0.0.0.0")
        only_page(
            lambda: st.error(auth.auth_text("single_user_refused", lang, address=address)), lang
        )
        return None
    if access.mode == "broken":
        if access.unsafe_key:
            file_name, key = access.unsafe_key
            file_name, key = md_escape(file_name), md_escape(key)
            text = auth.auth_text("config_unsafe_key", lang, file=file_name, name=key)
        else:
            text = auth.auth_text("config_broken", lang)
        only_page(lambda: st.error(text), lang)
        return None
    config = access_gate.auth_config()
    authenticator = password_authenticator(config) if config.has_passwords else None
    if st.session_state.pop(_SIGN_OUT, False):
        sign_out(access, authenticator)
        access = access_gate.current_access()
    if access.role is not None:
        account_box(access, authenticator, lang)
        return access
    st.session_state.pop("_eslabon_pages", None)  # registry.remember_pages: none for nobody
    only_page(lambda: login_page(authenticator, lang), lang)
    if st.session_state.pop(_RERUN, False):
        st.rerun()  # from the frame, not from inside the page
    return None
