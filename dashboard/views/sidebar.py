"""The shared sidebar: the language switch, the filters every analysis page follows and
the note that says which rows a scoped user's numbers count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import streamlit as st

from dashboard.ui.i18n import LANGUAGES, fmt_datetime, norm_lang, t
from dashboard.ui.state import CUSTOMER_TYPES, DIRECTIONS, PERIODS, ViewState
from dashboard.ui.texts import md_escape
from dashboard.views import access_gate, url_state
from dashboard.views.url_state import K_CTYPE, K_DIR, K_FROM, K_LANG, K_PERIOD, K_STAGES, K_TO


def scope_note(lang: str) -> None:
    """On every page of a scoped user, the sidebar says which rows every number counts
    (pages without the filters too: the scope is not a filter they can change)."""
    scope = access_gate.current_scope()
    if not scope.unrestricted:
        st.sidebar.caption(t("row_scope", lang, scope=md_escape(scope.describe(lang))))


def language_switch() -> str:
    """The ES/EN switch (also shown on pages without the filter sidebar)."""
    url_state.seed_widget(K_LANG, url_state.url_view().lang)
    if st.session_state.get(K_LANG) not in LANGUAGES:  # the active choice was clicked off
        st.session_state[K_LANG] = url_state.current_lang()
    lang = st.sidebar.segmented_control(
        t("language", url_state.current_lang()),
        options=list(LANGUAGES),
        format_func=lambda code: {"es": "Español", "en": "English"}[code],
        key=K_LANG,
        selection_mode="single",
    )
    lang = norm_lang(lang) if lang in LANGUAGES else url_state.current_lang()
    previous = st.session_state.get(url_state.LAST_LANG)
    st.session_state[url_state.LAST_LANG] = lang
    if previous is not None and previous != lang:
        url_state.resend_translated()
    return lang


def filters(
    at: datetime | None, stages: Sequence[str], *, hidden: frozenset[str] = frozenset()
) -> ViewState:
    """The shared filter sidebar; returns the view it describes (no drill level).

    Values the URL asked for but the data does not have (an unknown stage, a hostile
    string) are dropped before they reach a widget. Filters named in `hidden` ("period",
    "direction") are not drawn, for pages where they change nothing; their values are
    kept for the next page that uses them.
    """
    seed = url_state.url_view()
    lang = language_switch()
    url_state.seed_widget(K_PERIOD, seed.period)
    url_state.seed_widget(K_STAGES, [s for s in seed.stages if s in stages])
    url_state.seed_widget(K_CTYPE, seed.customer_type)
    url_state.seed_widget(K_DIR, seed.direction)
    st.session_state[K_STAGES] = [s for s in st.session_state[K_STAGES] if s in stages]
    side = st.sidebar
    side.header(t("sidebar_filters", lang))
    if "period" in hidden:
        url_state.keep_filters(K_PERIOD, K_FROM, K_TO)
        period = st.session_state[K_PERIOD]
    else:
        period = side.selectbox(
            t("period", lang),
            options=list(PERIODS),
            format_func=lambda p: t(f"period_{p}", lang),
            key=K_PERIOD,
        )
    date_from: date | None = None
    date_to: date | None = None
    if period == "custom" and "period" in hidden:
        date_from = st.session_state.get(K_FROM, seed.date_from)
        date_to = st.session_state.get(K_TO, seed.date_to)
    elif period == "custom":
        default_to = seed.date_to or (at.date() if at else date.today())
        default_from = seed.date_from or default_to.replace(day=1)
        url_state.seed_widget(K_FROM, default_from)
        url_state.seed_widget(K_TO, default_to)
        date_from = side.date_input(
            t("date_from", lang),
            key=K_FROM,
            format="DD/MM/YYYY" if lang == "es" else "YYYY-MM-DD",
        )
        date_to = side.date_input(
            t("date_to", lang),
            key=K_TO,
            format="DD/MM/YYYY" if lang == "es" else "YYYY-MM-DD",
        )
    chosen = side.multiselect(
        t("stages", lang),
        options=list(stages),
        key=K_STAGES,
        placeholder=t("stages_all", lang),
    )
    ctype = side.selectbox(
        t("customer_type", lang),
        options=list(CUSTOMER_TYPES),
        format_func=lambda c: t(f"customer_type_{c}", lang),
        key=K_CTYPE,
    )
    if "direction" in hidden:
        url_state.keep_filters(K_DIR)
        direction = st.session_state[K_DIR]
    else:
        direction = side.radio(
            t("direction", lang),
            options=list(DIRECTIONS),
            format_func=lambda d: t(f"direction_{d}", lang),
            key=K_DIR,
        )
    if at is not None:
        side.caption(f"{t('as_of_label', lang)}: **{fmt_datetime(at, lang)}**")
    scope_note(lang)
    side.caption(t("view_link_help", lang))
    start, end = (date_from, date_to) if period == "custom" else (None, None)
    if isinstance(start, date) and isinstance(end, date) and start > end:
        start, end = end, start
    view = ViewState(
        period=period,
        date_from=start if isinstance(start, date) else None,
        date_to=end if isinstance(end, date) else None,
        stages=tuple(chosen),
        customer_type=ctype,
        direction=direction,
        lang=lang,
    )
    st.session_state[url_state.SIDEBAR_VIEW] = view
    return view
