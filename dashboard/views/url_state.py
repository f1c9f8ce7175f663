"""The view in the session and in the URL: the widget keys of the shared filters, the
view the URL asked for, the language of this run, and writing the view back into the
query string so the address bar always reopens what is on screen."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.ui.i18n import LANGUAGES, norm_lang
from dashboard.ui.state import VIEW_KEYS, ViewState, parse_view

# session_state keys of the shared widgets (sidebar) and of the drill-down
K_LANG, K_PERIOD, K_FROM, K_TO = "w_lang", "w_period", "w_from", "w_to"
K_STAGES, K_CTYPE, K_DIR = "w_stages", "w_ctype", "w_dir"
K_DRILL_STAGE, K_DRILL_PERFORMER = "w_drill_stage", "w_drill_performer"
# Widgets whose option labels are translated: the browser sends a choice back as its label,
# so on a language switch the server must send each one its value in the new labels.
FRAME_TRANSLATED: tuple[str, ...] = (K_PERIOD, K_CTYPE, K_DIR, K_DRILL_STAGE, K_DRILL_PERFORMER)
LAST_LANG = "_eslabon_last_lang"
_TRANSLATED = "_eslabon_translated_widgets"
_URL_VIEW = "_eslabon_url_view"
SIDEBAR_VIEW = "_eslabon_view"


def _query_dict() -> dict[str, list[str]]:
    """The current query string with every value of repeated keys."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def url_view() -> ViewState:
    """The view the URL asked for when this session started (parsed defensively)."""
    if _URL_VIEW not in st.session_state:
        st.session_state[_URL_VIEW] = parse_view(_query_dict())
    return st.session_state[_URL_VIEW]


def current_lang() -> str:
    """The language of this run (the sidebar switch, else the URL, else Spanish)."""
    chosen = st.session_state.get(K_LANG)
    if chosen in LANGUAGES:
        return norm_lang(chosen)
    return norm_lang(st.session_state.get(LAST_LANG) or url_view().lang)


def seed_widget(key: str, value: Any) -> None:
    """Give a widget its starting value from the URL, once (later its own state rules)."""
    if key not in st.session_state:
        st.session_state[key] = value


def translated_key(key: str) -> str:
    """`key`, remembered as the key of a widget whose option labels are translated.

    Streamlit's browser side keeps a choice as its *label*: after a language switch the
    old label matches no option and the widget falls back to its first option (a second
    switch turned "Last 26 weeks" into "Last 4 weeks"). Every remembered widget gets its
    value re-sent on the switch (`_resend_translated`).
    """
    st.session_state.setdefault(_TRANSLATED, set()).add(key)
    return key


def resend_translated() -> None:
    """Assign each translated widget its own value again, before it is drawn: a value set
    through session state is sent to the browser with the new labels."""
    for key in (*FRAME_TRANSLATED, *sorted(st.session_state.get(_TRANSLATED, ()))):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def keep_filters(*keys: str) -> None:
    """Keep the filter widgets' values through a run that does not draw them (Streamlit
    forgets a keyed widget's state when a run skips it): back on a filtered page, the
    view is the one the user left."""
    for key in keys or (K_PERIOD, K_FROM, K_TO, K_STAGES, K_CTYPE, K_DIR):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def last_view() -> ViewState:
    """The view the sidebar last described (or the URL's), for pages that draw no filter."""
    view = st.session_state.get(SIDEBAR_VIEW) or url_view().with_(
        drill_stage=None, drill_performer=None
    )
    return view.with_(lang=current_lang())


def current_view() -> ViewState:
    """The view of this run as the sidebar left it (or as the URL says, without sidebar)."""
    view = st.session_state.get(SIDEBAR_VIEW)
    if view is None:
        view = url_view().with_(drill_stage=None, drill_performer=None)
    return view.with_(lang=current_lang())


def sync_url(view: ViewState) -> None:
    """Write the view into the query string so the link in the address bar reopens it.

    Only the view's own keys are touched; other pages' parameters are left alone.
    """
    wanted = view.to_query()
    current = _query_dict()
    for key in VIEW_KEYS:
        value = wanted.get(key)
        if value is None:
            if key in current:
                del st.query_params[key]
            continue
        as_list = value if isinstance(value, list) else [value]
        if current.get(key) != as_list:
            st.query_params[key] = value
