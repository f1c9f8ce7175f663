"""Streamlit helpers shared by the Metas, Revisión, Seguimiento, Avisos and Estándares
pages: cached calls to their pure modules, writes that clear the caches, and "who is doing this".

Like cache.metric(), every cached result is keyed by the database, its data version
and the arguments; a write made on one of these pages (a target, an action item, a
notice) clears every cached result, so the traffic lights and rates change at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.access import auth
from dashboard.delivery.run import send_test_pack
from dashboard.metrics.filters import MetricFilter
from dashboard.records import RecordError
from dashboard.records.actions import create_action, update_action_status
from dashboard.records.notices import mark_notified
from dashboard.records.standards import save_policy_version
from dashboard.records.subscriptions import (
    add_subscription,
    remove_subscription,
    update_subscription,
)
from dashboard.records.targets import (
    import_targets_csv,
    set_target,
)
from dashboard.report.weekly import format_kpi, format_kpi_delta, format_kpi_or_reason
from dashboard.ui.texts import kpi_label, md_escape, tr
from dashboard.views import access_gate, cache, database, url_state
from etl.db import DatabaseError

# The writes these pages may run through `write`, and the action (dashboard.access.auth.PERMISSIONS)
# each needs; anything else is refused.
WRITE_ACTIONS: dict[Callable[..., Any], str] = {
    set_target: "set_targets",
    import_targets_csv: "set_targets",
    mark_notified: "record_notices",
    create_action: "record_actions",
    update_action_status: "record_actions",
    add_subscription: "manage_subscriptions",
    update_subscription: "manage_subscriptions",
    remove_subscription: "manage_subscriptions",
    send_test_pack: "manage_subscriptions",
    save_policy_version: "set_standards",
}
# Writes whose effect spans every row (a subscription mails any filter to any address):
# refused to a user with a row scope, whatever page drew the button.
ALL_ROWS_WRITES: frozenset[Callable[..., Any]] = frozenset(
    {add_subscription, update_subscription, remove_subscription, send_test_pack}
)
K_WHO = "w_records_who"
K_FLASH = "_records_flash"


@st.cache_data(show_spinner=False, max_entries=300)
def _cached(
    url: str, version: str, key: str, _func: Callable[..., Any], args: tuple, kwargs: tuple
) -> Any:
    with database.engine_for(url).connect() as conn:
        return _func(conn, *args, **dict(kwargs))


def cached(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`func(conn, *args, **kwargs)`, cached per database version and arguments.

    Row-level access: every MetricFilter argument is narrowed to the session's scope and
    a function with a `scope` parameter gets it (cache.scoped_call), on every call.
    """
    scope = access_gate.current_scope()
    args = tuple(a.within(scope) if isinstance(a, MetricFilter) else a for a in args)
    _, kwargs = cache.scoped_call(func, None, kwargs, scope)
    version = database.db_status().version
    kw = tuple(sorted(kwargs.items()))
    return _cached(database.db_url(), version, cache.metric_key(func), func, args, kw)


def write(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """Run one write in its own transaction; (True, result) or (False, message shown).

    A RecordError (a value a person typed) is shown as a message; the caches are cleared
    after a successful write so every number on every page reflects it. The session's
    role is checked here, on the server, whatever the page drew (WRITE_ACTIONS).
    """
    lang = url_state.current_lang()
    action = WRITE_ACTIONS.get(func, "unlisted write")
    if not access_gate.require(action, lang):
        return False, "not allowed"
    if func in ALL_ROWS_WRITES and not access_gate.current_scope().unrestricted:
        st.warning(auth.auth_text("not_allowed", lang, action=action))
        return False, "not allowed"
    try:
        with database.engine_for(database.db_url()).begin() as conn:
            result = func(conn, *args, **kwargs)
    except RecordError as exc:
        st.error(md_escape(exc))  # it may quote what a person typed
        return False, str(exc)
    except DatabaseError as exc:  # e.g. a load holds the database: its own clear message
        st.error(md_escape(exc))
        return False, str(exc)
    except Exception as exc:  # database failure: a message, never a traceback
        message = tr("error_generic", lang, message=type(exc).__name__)
        st.error(message)
        return False, message
    database.invalidate_data()
    return True, result


def logged_in_user() -> str | None:
    """The signed-in user's name (password login) or e-mail (OIDC); None in single-user
    mode, where the person types it."""
    return access_gate.current_access().who


def who(lang: str, *, widget: bool = True) -> str | None:
    """The name recorded as author of a change: the logged-in user when there is one,
    else what the person typed (one text field, kept for the session). With
    `widget=False` the field is not drawn again (it is already on the page)."""
    user = logged_in_user()
    if user is not None:
        return user
    if widget:
        st.text_input(tr("recorded_by", lang), key=K_WHO, max_chars=120)
    name = str(st.session_state.get(K_WHO) or "").strip()
    return name or None


def flash(message: str) -> None:
    """Show `message` on the next run (after st.rerun), once."""
    st.session_state[K_FLASH] = message


def show_flash() -> None:
    """Show and forget the message left by flash()."""
    message = st.session_state.pop(K_FLASH, None)
    if message:
        st.success(message)


def lights_table(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The KPI table of a week as text cells, with a symbol and a word for each light; an
    empty value whose input was never loaded says why (the review's `reason` code)."""

    def light(status: Any) -> str:  # a table cell
        if status is None or pd.isna(status):
            return tr("status_none", lang)
        return tr(f"status_{status}", lang)  # its own symbol (✓ ! ✗): no emoji font needed

    return pd.DataFrame(
        {
            tr("col_kpi", lang): [kpi_label(k, lang) for k in table["kpi"]],
            tr("review_current", lang): [
                format_kpi_or_reason(k, v, r, lang)
                for k, v, r in zip(
                    table["kpi"],
                    table["current"],
                    table.get("reason", pd.Series([None] * len(table), index=table.index)),
                    strict=True,
                )
            ],
            tr("review_delta", lang): [
                format_kpi_delta(k, v, lang)
                for k, v in zip(table["kpi"], table["delta"], strict=True)
            ],
            tr("review_target", lang): [
                format_kpi(k, v, lang)
                for k, v in zip(table["kpi"], table["target_value"], strict=True)
            ],
            tr("review_status", lang): [light(s) for s in table["status"]],
        }
    )


def show_lights(table: pd.DataFrame, lang: str) -> None:
    """The week's KPI table with every row on the page (a static table): a scrolling box
    of ten rows hid the red ones below its fold."""
    st.table(lights_table(table, lang), hide_index=True)
