"""The frame around every page (dashboard/app.py runs `main`): page config, the Host
check, the customer view, sign-in, navigation, the shared sidebar and the view in the URL,
then the chosen page. Pages are registered as callables (registry.py), so Streamlit never
runs a page module on its own."""

from __future__ import annotations

import importlib

import streamlit as st

from dashboard.access import auth, hosts
from dashboard.ui.i18n import t
from dashboard.ui.texts import md_escape, tr
from dashboard.views import (
    cache,
    database,
    registry,
    sidebar,
    sign_in,
    url_state,
)


def uploader_words(lang: str) -> None:
    """Streamlit's file uploader says "Upload" and "200MB per file" in English whatever
    the page's language: in Spanish, a style rule draws the page's own words instead
    (the English text stays in the DOM at size 0, so nothing else moves). An empty date
    input's placeholder is the format in English letters (DD/MM/YYYY): in Spanish it is
    hidden, and the field's label says the format in Spanish (`date_format_hint`)."""
    if lang != "es":
        return
    button = tr("uploader_button", lang)
    limit = tr("uploader_limit", lang, mb=st.get_option("server.maxUploadSize"))
    zone = '[data-testid="stFileUploaderDropzone"]'
    st.html(
        "<style>"
        f'{zone} button [data-testid="stMarkdownContainer"] p {{font-size: 0}}'
        f'{zone} button [data-testid="stMarkdownContainer"] p::after '
        f'{{content: "{button}"; font-size: 1rem}}'
        f'{zone} [data-testid="stFileUploaderDropzoneInstructions"] span {{font-size: 0}}'
        f'{zone} [data-testid="stFileUploaderDropzoneInstructions"] span::after '
        f'{{content: "{limit}"; font-size: 0.875rem}}'
        '[data-testid="stDateInput"] [data-type="year"][data-placeholder="true"] '
        "{font-size: 0}"
        '[data-testid="stDateInput"] [data-type="year"][data-placeholder="true"]::after '
        '{content: "aaaa"; font-size: 1rem}'
        "</style>"
    )


def follow_page_param(pages: dict[str, st.Page], current: st.Page) -> None:
    """Honour ?page=NAME links: switch to that page keeping the other parameters."""
    requested = st.query_params.get(registry.PAGE_PARAM)
    if requested is None:
        return
    target = pages.get(requested)
    if target is None and requested in {name for name, _, _ in registry.PAGES}:
        # a page this role may not open: say so instead of silently showing another
        st.warning(
            auth.auth_text(
                "not_allowed", url_state.current_lang(), action=auth.page_action(requested)
            )
        )
    if target is None or target.url_path == current.url_path:
        del st.query_params[registry.PAGE_PARAM]
        return
    rest = {k: st.query_params.get_all(k) for k in st.query_params if k != registry.PAGE_PARAM}
    st.switch_page(target, query_params=rest)


def customer_view(lang: str) -> bool:
    """Run only the customer view when the URL carries a customer token; True if it did."""
    if registry.TOKEN_PARAM not in st.query_params:
        return False
    module = importlib.import_module(f"dashboard.views.{registry.CUSTOMER_PAGE}")
    only = st.Page(
        module.page, title=t("page_cliente", lang), url_path=registry.CUSTOMER_PAGE, default=True
    )
    st.navigation([only], position="hidden").run()
    return True


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
    database.watch_session_queries()
    lang = url_state.current_lang()
    host = foreign_host()
    if host is not None:
        st.error(t("host_refused", lang, host=md_escape(host[:100])))
        return
    if customer_view(lang):
        return
    access = sign_in.signed_in(lang)
    if access is None:
        return
    uploader_words(lang)
    pages = registry.registered_pages(lang, access.role, access.scope)
    current = st.navigation(list(pages.values()), position="sidebar")
    registry.remember_pages(pages)
    follow_page_param(pages, current)
    if current.url_path in registry.UNFILTERED_PAGES:
        sidebar.scope_note(sidebar.language_switch())
        url_state.keep_filters()
        url_state.sync_url(url_state.last_view())
        current.run()
        return
    status = database.db_status()
    at = None
    stages: list[str] = []
    if status.ok and status.commitments:
        try:
            at = cache.as_of()
            stages = cache.stage_options(at)
        except Exception:  # the page itself shows the database error state
            at, stages = None, []
    view = sidebar.filters(
        at, stages, hidden=registry.HIDDEN_FILTERS.get(current.url_path, frozenset())
    )
    url_state.sync_url(view)
    current.run()
