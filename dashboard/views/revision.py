"""Revisión semanal: run the weekly meeting from one page — KPIs against last week and the
target, the week's root breaches and their impact, what broke, what is at risk next week,
and the action items (raised here, carried until closed) — and leave with the HTML report
and the Excel workbook.

?week=2026-W47 opens a given week. The sidebar's stages, customer type and direction
apply; the period is the chosen week. Layout only: dashboard.services.review assembles,
dashboard.report.weekly renders the files, dashboard.records.actions records.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.charts.kpi import root_impact_figure, weekly_rate_figure
from dashboard.records.actions import STATUSES, create_action, update_action_status
from dashboard.report.weekly import review_html, review_xlsx
from dashboard.services.review import default_review_week, review_weeks, weekly_review
from dashboard.ui.i18n import fmt_date, fmt_num, fmt_stored
from dashboard.ui.texts import md_escape, tr
from dashboard.views import access_gate, cache, dispatch, url_state
from dashboard.views.records_ui import cached, flash, show_flash, show_lights, who, write

Q_WEEK = "week"
K_WEEK = "w_rev_week"


def _days(value: Any, lang: str) -> str:  # a table cell
    return "" if value is None or pd.isna(value) else fmt_num(float(value), lang, 1)


def chosen_week(options: list[str], default: str, lang: str) -> str:
    """The week picker, seeded once from ?week= (ignored unless it is an offered week)."""
    if K_WEEK not in st.session_state:
        asked = st.query_params.get(Q_WEEK)
        st.session_state[K_WEEK] = asked if asked in options else default
    week = st.selectbox(tr("review_week", lang), options, key=K_WEEK)
    if st.query_params.get(Q_WEEK) != week:
        st.query_params[Q_WEEK] = week
    return week


def roots_table(roots: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("col_root", lang): roots["root_id"].astype(str),
            tr("col_process", lang): roots["process"].astype(str),
            tr("col_performer", lang): roots["performer"].fillna("").astype(str),
            tr("col_customer", lang): roots["customer"].astype(str),
            tr("col_due", lang): [fmt_stored(v, lang) for v in roots["due_at"]],
            tr("col_delay", lang): [_days(v, lang) for v in roots["delay_days"]],
            tr("col_impact", lang): roots["impact"],
            tr("col_external", lang): roots["external_customer_names"].fillna("").astype(str),
        }
    )


def breached_table(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("col_commitment", lang): rows["commitment_id"].astype(str),
            tr("col_title", lang): rows["title"].fillna("").astype(str),
            tr("col_process", lang): rows["process"].astype(str),
            tr("col_performer", lang): rows["performer"].fillna("").astype(str),
            tr("col_customer", lang): rows["customer"].astype(str),
            tr("col_due", lang): [fmt_stored(v, lang) for v in rows["due_at"]],
            tr("col_delivered", lang): [fmt_stored(v, lang) for v in rows["delivered_at"]],
            tr("col_delay", lang): [_days(v, lang) for v in rows["delay_days"]],
            tr("col_upstreams", lang): rows["upstreams"].fillna("").astype(str),
        }
    )


def at_risk_table(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("col_commitment", lang): rows["commitment_id"].astype(str),
            tr("col_title", lang): rows["title"].fillna("").astype(str),
            tr("col_process", lang): rows["process"].astype(str),
            tr("col_customer", lang): rows["customer"].astype(str),
            tr("col_due", lang): [fmt_stored(v, lang) for v in rows["due_at"]],
            tr("col_breached_upstreams", lang): rows["breached_upstreams"].astype(str),
            tr("col_predicted", lang): [fmt_stored(v, lang) for v in rows["predicted_delivery"]],
        }
    )


def actions_table(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "#": rows["action_id"],
            tr("action_week", lang): rows["week"].astype(str),
            tr("action_what", lang): rows["what"].astype(str),
            tr("action_owner", lang): rows["owner"].fillna("").astype(str),
            tr("action_due", lang): [
                fmt_stored(v, lang, with_time=False) for v in rows["due_date"]
            ],
            tr("action_status", lang): [tr(f"action_{s}", lang) for s in rows["status"]],
            tr("action_carried", lang): rows["carried"].astype(bool),
        }
    )


def section(title_key: str, frame: pd.DataFrame, table: pd.DataFrame, lang: str) -> None:
    st.subheader(tr(title_key, lang))
    if frame.empty:
        st.caption(tr("review_none", lang))
    else:
        st.dataframe(table, hide_index=True, width="stretch")


def actions_section(review: object, lang: str) -> None:
    """The action items with a form to add one and a control to close or reopen one."""
    actions = review.actions  # type: ignore[attr-defined]
    section("review_actions", actions, actions_table(actions, lang), lang)
    if not access_gate.allowed("record_actions"):  # viewers read the action items only
        return
    author = who(lang)
    with st.form("w_rev_add_action", clear_on_submit=True):
        cols = st.columns([3, 1, 1.3, 1])
        what = cols[0].text_input(tr("action_what", lang), max_chars=500, key="w_rev_what")
        owner = cols[1].text_input(tr("action_owner", lang), max_chars=120, key="w_rev_owner")
        due = cols[2].date_input(
            tr("action_due", lang),
            value=None,
            format="DD/MM/YYYY" if lang == "es" else "YYYY-MM-DD",
            key="w_rev_due",
        )
        commitment = cols[3].text_input(
            tr("action_commitment", lang), max_chars=200, key="w_rev_commitment"
        )
        if st.form_submit_button(tr("action_add", lang)):
            ok, _ = write(
                create_action,
                review.week,  # type: ignore[attr-defined]
                what,
                owner,
                due,
                commitment,
                author,
            )
            if ok:
                flash(tr("action_added", lang))
                st.rerun()
    if actions.empty:
        return
    cols = st.columns([1, 2, 1])
    action_id = cols[0].selectbox("#", list(actions["action_id"]), key="w_rev_action")
    status = cols[1].segmented_control(
        tr("action_status", lang),
        list(STATUSES),
        format_func=lambda s: tr(f"action_{s}", lang),
        default="done",
        key="w_rev_status",
    )
    with cols[2]:
        st.write("")
        if st.button(tr("action_update", lang), key="w_rev_update") and status:
            ok, _ = write(update_action_status, int(action_id), status)
            if ok:
                st.rerun()


def render() -> None:
    """The Revisión page."""
    view = url_state.current_view()
    lang = view.lang
    at = cache.as_of()
    base = view.to_filter(at)
    week = chosen_week(review_weeks(at), default_review_week(at), lang)
    review = cached(weekly_review, week, at, base)
    st.title(tr("review_title", lang, week=review.week))
    show_flash()
    st.caption(
        tr("review_period", lang, start=fmt_date(review.monday, lang),
           end=fmt_date(review.sunday, lang))
        + " · " + md_escape(base.with_(date_from=None, date_to=None).describe(lang))
    )  # fmt: skip
    cols = st.columns(2)
    cols[0].download_button(
        tr("review_download_html", lang),
        data=review_html(review, lang).encode("utf-8"),
        file_name=f"revision_{review.week}.html",
        mime="text/html",
        key="w_rev_html",
    )
    cols[1].download_button(
        tr("review_download_xlsx", lang),
        data=review_xlsx(review, lang),
        file_name=f"revision_{review.week}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="w_rev_xlsx",
    )
    st.subheader(tr("review_kpis", lang))
    show_lights(review.kpis, lang)
    st.plotly_chart(
        weekly_rate_figure(review.trend, lang, target=review.on_time_target,
                           title=tr("review_trend", lang)),
        key="w_rev_trend",
        config={"displayModeBar": False},
    )  # fmt: skip
    st.subheader(tr("review_roots", lang))
    if review.roots.empty:
        st.caption(tr("review_none", lang))
    else:
        st.plotly_chart(
            root_impact_figure(review.chart_roots(), lang),
            key="w_rev_roots",
            config={"displayModeBar": False},
        )
        st.dataframe(roots_table(review.roots, lang), hide_index=True, width="stretch")
    section("review_breached", review.breached, breached_table(review.breached, lang), lang)
    section(
        "review_at_risk",
        review.at_risk_next_week,
        at_risk_table(review.at_risk_next_week, lang),
        lang,
    )
    actions_section(review, lang)


def page() -> None:
    """The page as registry.PAGES registers it."""
    dispatch.run_page(render)
