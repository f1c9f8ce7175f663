"""Running a page body: the role check, then the error state (database unreachable or
too slow), the empty state (no commitments yet: load the sample or go to Datos) or the
page itself, with any failure turned into a plain message. Also the page header."""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
import streamlit as st

from dashboard.access import auth
from dashboard.metrics.filters import MetricFilter
from dashboard.ui.i18n import t
from dashboard.ui.texts import md_escape, tr
from dashboard.views import access_gate, database, registry, sample, url_state
from etl import querywatch
from etl.settings import load_settings

log = logging.getLogger(__name__)


def page_header(title_key: str, f: MetricFilter, lang: str) -> None:
    """The page title and, under it, the filter in words and the as_of in use.

    `title_key` may live in dashboard.ui.i18n or dashboard.ui.texts.
    """
    st.title(tr(title_key, lang))
    st.caption(md_escape(f.describe(lang)))  # stage / performer names are user data


def empty_state(lang: str) -> None:
    """What to do when the database holds no commitments: load the sample, or go to Datos."""
    st.title(t("app_title", lang))
    st.subheader(t("empty_title", lang))
    st.markdown(t("empty_body", lang))
    cols = st.columns([1, 1, 2])
    may_load = access_gate.allowed("load_data")  # loading is the admin's (auth.PERMISSIONS)
    if may_load and cols[0].button(
        t("load_sample", lang),
        type="primary",
        key="load_sample",
        disabled=not sample.sample_available(),
    ):
        if not access_gate.require("load_data", lang):
            return
        with st.spinner(t("loading_sample", lang)):
            ok, reason = sample.load_sample(database.db_url())
        database.invalidate_data()
        if ok:
            st.success(t("sample_loaded", lang))
            st.rerun()
        else:
            st.error(t("sample_failed", lang, reason=md_escape(reason)))
    datos = registry.registered_page("datos")
    if datos is not None and may_load:
        with cols[1]:
            st.page_link(datos, label=t("go_to_datos", lang), icon=":material/upload_file:")
    else:
        cols[1].markdown(f"**{t('go_to_datos', lang)}**: `python -m etl load <carpeta> --db URL`")


def timeout_reason(exc: BaseException, lang: str) -> str | None:
    """The plain words for a query stopped by ESLABON_STATEMENT_TIMEOUT, else None."""
    if not querywatch.is_statement_timeout(exc):
        return None
    seconds = load_settings().statement_timeout or 0
    return t("query_timeout", lang, seconds=f"{seconds:g}")


def status_reason(status: database.DbStatus, lang: str) -> str:
    """Why the database status is not ok, in words (a timeout says which setting)."""
    if status.timed_out:
        seconds = load_settings().statement_timeout or 0
        return t("query_timeout", lang, seconds=f"{seconds:g}")
    return status.error


def error_state(lang: str, reason: str) -> None:
    """A clear message about an unreachable or broken database; never a traceback."""
    st.title(t("app_title", lang))
    st.error(
        f"**{t('db_error_title', lang)}**\n\n"
        + t(
            "db_error_body",
            lang,
            url=database.url_for_people(database.db_url()).replace("`", ""),
            reason=md_escape(reason),
        )
    )


def run_page(
    render: Callable[[], None],
    *,
    needs_data: bool = True,
    action: str = "read",
    all_rows: bool = False,
) -> None:
    """Run a page body, turning any database failure into the error state.

    Pages that make sense on an empty database (Datos, where data is loaded) pass
    `needs_data=False` and skip the empty state. The role is checked first, on the
    server, whatever the navigation showed: without `action` nothing of the page is drawn.
    A page that spans every row (`all_rows`, auth.ALL_ROWS_PAGES) draws nothing for a
    user with a row scope.
    """
    database.watch_session_queries()
    lang = url_state.current_lang()
    if not access_gate.require(action, lang):
        return
    if all_rows and not access_gate.current_scope().unrestricted:
        st.warning(auth.auth_text("not_allowed", lang, action=action))
        return
    status = database.db_status()
    if not status.ok:
        error_state(lang, status_reason(status, lang))
        return
    if needs_data and status.commitments == 0:
        empty_state(lang)
        return
    try:
        render()
    except sa.exc.SQLAlchemyError as exc:  # the database failed mid-page
        log.warning("database error on a page: %s", database.short_reason(exc))
        error_state(lang, timeout_reason(exc, lang) or database.short_reason(exc))
    except Exception:  # a bug: the details go to the server log, a plain message to the user
        log.exception("page failed")
        st.error(t("page_failed", lang))
