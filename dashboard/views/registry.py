"""The dashboard's pages: their url paths, titles and icons, which filters each one
follows, and the st.Page objects a role may open (one module per page in this package,
exposing `page() -> None` and running nothing at import)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import streamlit as st

from dashboard.access import auth
from dashboard.metrics.filters import EVERYTHING, RowScope
from dashboard.ui.i18n import t

# (url path = module name in dashboard/views/, title key in dashboard.ui.i18n, icon)
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
# Pages whose sidebar has no filters (only the language switch and the row-scope note):
# Seguimiento shows one commitment and Datos the loads, neither follows a filter.
UNFILTERED_PAGES: frozenset[str] = frozenset({"seguimiento", "datos"})
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
    """Every page `role` may open, by url path, titled in the
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


def remember_pages(pages: dict[str, st.Page]) -> None:
    """Keep this run's registered pages so states can link to them (e.g. to Datos)."""
    st.session_state["_eslabon_pages"] = pages


def registered_page(name: str) -> st.Page | None:
    """A page registered in this run (frame.main), by its url path."""
    return (st.session_state.get("_eslabon_pages") or {}).get(name)
