"""Eslabón's Streamlit entry point: page registry, shared sidebar, view in the URL.

Run with `streamlit run dashboard/app.py`. This file is the frame around every page:
it registers the pages (one module each in dashboard/pages/), draws the shared filter
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
import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project root.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from dashboard.i18n import t  # noqa: E402
from dashboard.pages import common  # noqa: E402

# (url path = file name in dashboard/pages/, title key in dashboard.i18n, icon)
PAGES: tuple[tuple[str, str, str], ...] = (
    ("resumen", "page_resumen", ":material/dashboard:"),
    ("cumplimiento", "page_cumplimiento", ":material/schedule:"),
    ("cadena", "page_cadena", ":material/account_tree:"),
    ("satisfaccion", "page_satisfaccion", ":material/sentiment_satisfied:"),
    ("revision", "page_revision", ":material/event_note:"),
    ("seguimiento", "page_seguimiento", ":material/track_changes:"),
    ("avisos", "page_avisos", ":material/notifications_active:"),
    ("metas", "page_metas", ":material/flag:"),
    ("datos", "page_datos", ":material/upload_file:"),
)
DEFAULT_PAGE = "resumen"
# Pages drawn without the filter sidebar.
SIDEBAR_FREE: frozenset[str] = frozenset()
# Query key for deep links such as ?page=seguimiento&commitment=ID.
PAGE_PARAM = "page"
# A customer's signed link (?token=...) opens the customer view and nothing else: no
# navigation, no sidebar, no other page reachable from that session's URL.
CUSTOMER_PAGE = "cliente"
TOKEN_PARAM = "token"


def registered_pages(lang: str) -> dict[str, st.Page]:
    """Every page whose file exists, by url path, titled in the current language."""
    pages: dict[str, st.Page] = {}
    for name, title_key, icon in PAGES:
        if common.page_path(name) is not None:
            module = importlib.import_module(f"dashboard.pages.{name}")
            pages[name] = st.Page(
                module.page,
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
    if target is None or target.url_path == current.url_path:
        del st.query_params[PAGE_PARAM]
        return
    rest = {k: st.query_params.get_all(k) for k in st.query_params if k != PAGE_PARAM}
    st.switch_page(target, query_params=rest)


def customer_view(lang: str) -> bool:
    """Run only the customer view when the URL carries a customer token; True if it did."""
    if TOKEN_PARAM not in st.query_params or common.page_path(CUSTOMER_PAGE) is None:
        return False
    module = importlib.import_module(f"dashboard.pages.{CUSTOMER_PAGE}")
    only = st.Page(module.page, title=t("page_cliente", lang), url_path=CUSTOMER_PAGE, default=True)
    st.navigation([only], position="hidden").run()
    return True


def main() -> None:
    """Frame every page: config, navigation, sidebar, URL, then the page itself."""
    st.set_page_config(page_title="Eslabón", page_icon="🔗", layout="wide")
    lang = common.current_lang()
    if customer_view(lang):
        return
    pages = registered_pages(lang)
    current = st.navigation(list(pages.values()), position="sidebar")
    common.remember_pages(pages)
    follow_page_param(pages, current)
    if current.url_path in SIDEBAR_FREE:
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
    view = common.sidebar(at, stages)
    common.sync_url(view)
    current.run()


if __name__ == "__main__":
    main()
