"""Satisfacción: what customers say and what a breach costs in their satisfaction.

CSAT% and NPS by week and by stage; CSAT% on time vs. root and propagated breaches (the
cost of a breach, in points); complaints and resolution time against a target in hours;
the survey comments, searchable. The search text and the target hours live in the URL
(`q`, `hours`) so a copied link reopens the same view.

Customer text (comments, names) is only ever shown inside st.dataframe, which renders
plain text: never Markdown, never HTML. The search text reaches SQL as a bound parameter.
Layout only: every number comes from dashboard.metrics through common.metric().
"""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit may run this file on its own (its pages/ folder convention, for the first
# request of a fresh server): make the project importable, then the guard at the end
# draws the whole app.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import math
from datetime import date

import pandas as pd
import streamlit as st

from dashboard.charts.satisfaction import (
    breach_cost_figure,
    complaints_figure,
    satisfaction_figure,
)
from dashboard.metrics import complaints, process_map, satisfaction
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.trends import is_partial_week
from dashboard.ui.i18n import fmt_datetime, fmt_int, fmt_num, fmt_pct
from dashboard.ui.texts import tr
from dashboard.views import common

SEARCH_PARAM, HOURS_PARAM = "q", "hours"
K_SEARCH, K_HOURS = "w_sat_search", "w_sat_hours"
_SEEDED = "_sat_seeded"
DEFAULT_TARGET_HOURS = complaints.DEFAULT_TARGET_HOURS
MIN_HOURS, MAX_HOURS = 1.0, 24.0 * 365
MAX_SEARCH = 200  # longest search text accepted (from the box or a URL)
COMMENTS_SHOWN = 500
CHART_CONFIG = {"displayModeBar": False}


def search_from_url(raw: str | None) -> str:
    """A search text from the URL as plain data: printable, trimmed, capped."""
    if not raw:
        return ""
    return "".join(ch for ch in raw if ch.isprintable()).strip()[:MAX_SEARCH]


def hours_from_url(raw: str | None) -> float:
    """Target hours from the URL: a finite number within bounds, else the default."""
    try:
        value = float(raw) if raw is not None else DEFAULT_TARGET_HOURS
    except ValueError:
        return DEFAULT_TARGET_HOURS
    if not math.isfinite(value):
        return DEFAULT_TARGET_HOURS
    return min(max(value, MIN_HOURS), MAX_HOURS)


def _seed() -> None:
    """Start the search box and the target hours from the URL, once per session."""
    if st.session_state.get(_SEEDED):
        return
    st.session_state[_SEEDED] = True
    st.session_state[K_SEARCH] = search_from_url(st.query_params.get(SEARCH_PARAM))
    st.session_state[K_HOURS] = hours_from_url(st.query_params.get(HOURS_PARAM))


def _sync_param(key: str, value: str | None) -> None:
    """Keep one page parameter of the URL in step with its widget (None removes it)."""
    if value is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value


def headline(f: MetricFilter, cost: dict, lang: str) -> None:
    """CSAT%, NPS, the cost of a breach in points, complaints per 100."""
    overall = common.metric(satisfaction.satisfaction_summary, f.with_(group_by="none"))
    row = overall.iloc[0] if not overall.empty else {}
    overall_complaints = common.metric(complaints.complaints_summary, f.with_(group_by="none"))
    crow = overall_complaints.iloc[0] if not overall_complaints.empty else {}
    cols = st.columns(4)
    cols[0].metric(tr("kpi_csat_pct", lang), fmt_pct(row.get("csat_pct"), lang))
    cols[1].metric(tr("kpi_nps", lang), fmt_num(row.get("nps"), lang, 1))
    cols[2].metric(
        tr("breach_cost_metric", lang),
        tr("points_suffix", lang, value=fmt_num(cost.get("cost_points"), lang, 1)),
        help=tr("breach_cost_help", lang),
    )
    cols[3].metric(
        tr("kpi_complaints_per_100", lang), fmt_num(crow.get("complaints_per_100"), lang, 1)
    )
    st.caption(f"{tr('responses', lang)}: {fmt_int(row.get('responses'), lang)}")


def partial_weeks(weekly: pd.DataFrame, f: MetricFilter) -> set[date]:
    """The weeks of a by-week summary that are partial (trends.is_partial_week)."""
    mondays = {pd.Timestamp(k).date() for k in weekly["group_key"].dropna()}
    return {m for m in mondays if is_partial_week(m, f)}


def by_week_and_stage(f: MetricFilter, order: list[str], lang: str) -> None:
    """CSAT% and NPS per ISO week, then per stage in chain order."""
    st.subheader(tr("sat_by_week", lang))
    weekly = common.metric(satisfaction.satisfaction_summary, f.with_(group_by="week"))
    partial = partial_weeks(weekly, f)
    st.plotly_chart(
        satisfaction_figure(weekly, lang, by_week=True, partial=partial),
        key="sat_week",
        config=CHART_CONFIG,
    )
    if partial:
        st.caption(tr("partial_weeks_note", lang))
    st.subheader(tr("sat_by_stage", lang))
    staged = common.metric(satisfaction.satisfaction_summary, f.with_(group_by="process"))
    st.plotly_chart(
        satisfaction_figure(staged, lang, by_week=False, order=order),
        key="sat_stage",
        config=CHART_CONFIG,
    )


def breach_cost_section(cost: dict, lang: str) -> None:
    """On time vs. root vs. propagated breach: CSAT% of each and the cost in points."""
    st.subheader(tr("breach_cost_title", lang))
    st.caption(tr("breach_cost_help", lang))
    by_status: pd.DataFrame = cost["by_status"]
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(breach_cost_figure(by_status, lang), key="breach_cost", config=CHART_CONFIG)
    with right:
        cols = st.columns(2)
        cols[0].metric(tr("csat_on_time", lang), fmt_pct(cost.get("csat_pct_on_time"), lang))
        cols[1].metric(tr("csat_breach", lang), fmt_pct(cost.get("csat_pct_breach"), lang))
        # the chart's n is the CSAT answers: the table shows them under the same words
        table = pd.DataFrame(
            {
                tr("col_status", lang): [tr(f"status_{s}", lang) for s in by_status["status"]],
                tr("responses", lang): [fmt_int(v, lang) for v in by_status["responses"]],
                tr("csat_answers", lang): [fmt_int(v, lang) for v in by_status["csat_responses"]],
                tr("kpi_csat_pct", lang): [fmt_pct(v, lang) for v in by_status["csat_pct"]],
                tr("nps_answers", lang): [fmt_int(v, lang) for v in by_status["nps_responses"]],
                tr("kpi_nps", lang): [fmt_num(v, lang, 1) for v in by_status["nps"]],
            }
        )
        st.dataframe(table, hide_index=True, width="stretch")


def complaints_section(f: MetricFilter, order: list[str], lang: str) -> None:
    """Complaints per 100 due and time to resolve, by week and by stage, against a target."""
    st.subheader(tr("complaints_title", lang))
    hours = st.columns([1, 3])[0].number_input(
        tr("target_hours", lang),
        min_value=MIN_HOURS,
        max_value=MAX_HOURS,
        step=12.0,
        format="%.0f",
        key=K_HOURS,
    )
    hours = float(hours if hours is not None else DEFAULT_TARGET_HOURS)
    _sync_param(HOURS_PARAM, None if hours == DEFAULT_TARGET_HOURS else f"{hours:g}")
    weekly = common.metric(
        complaints.complaints_summary, f.with_(group_by="week"), target_hours=hours
    )
    st.plotly_chart(
        complaints_figure(
            weekly, lang, by_week=True, target_hours=hours, partial=partial_weeks(weekly, f)
        ),
        key="complaints_week",
        config=CHART_CONFIG,
    )
    staged = common.metric(
        complaints.complaints_summary, f.with_(group_by="process"), target_hours=hours
    )
    staged = staged[staged["group_key"].notna()]
    if staged.empty:
        return
    staged = process_map.in_chain_order(staged, order)
    table = pd.DataFrame(
        {
            tr("col_process", lang): staged["group_key"].astype(str),
            tr("complaints", lang): [fmt_int(v, lang) for v in staged["complaints"]],
            tr("complaints_per_100", lang): [
                fmt_num(v, lang, 1) for v in staged["complaints_per_100"]
            ],
            tr("resolved", lang): [fmt_int(v, lang) for v in staged["resolved"]],
            tr("median_hours_to_resolve", lang): [
                fmt_num(v, lang, 1) for v in staged["median_hours_to_resolve"]
            ],
            tr("within_target", lang): [
                fmt_pct(v, lang) for v in staged["resolved_within_target_share"]
            ],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")


def comments_section(f: MetricFilter, lang: str) -> None:
    """Survey comments, newest first, filtered by a case-insensitive search text."""
    st.subheader(tr("comments_title", lang))
    search = st.text_input(tr("comments_search", lang), key=K_SEARCH, max_chars=MAX_SEARCH)
    search = (search or "").strip()
    _sync_param(SEARCH_PARAM, search or None)
    comments = common.metric(satisfaction.survey_comments, f, search=search or None)
    st.caption(tr("comments_count", lang, n=fmt_int(len(comments), lang)))
    if comments.empty:
        st.info(tr("no_comments", lang))
        return
    shown = comments.head(COMMENTS_SHOWN)
    # st.dataframe shows every cell as plain text: a comment is never Markdown or HTML
    table = pd.DataFrame(
        {
            tr("col_answered", lang): [fmt_datetime(v, lang) for v in shown["answered_at"]],
            tr("col_customer", lang): shown["customer"].astype(str),
            tr("col_commitment", lang): shown["commitment_id"].fillna("").astype(str),
            tr("col_process", lang): shown["process"].fillna("").astype(str),
            tr("col_csat", lang): [fmt_int(None if pd.isna(v) else v, lang) for v in shown["csat"]],
            tr("col_nps", lang): [fmt_int(None if pd.isna(v) else v, lang) for v in shown["nps"]],
            tr("col_comment", lang): shown["comment"].astype(str),
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="comments_table",
        column_config={tr("col_comment", lang): st.column_config.TextColumn(width="large")},
    )


def render() -> None:
    """The Satisfacción page."""
    view = common.current_view()
    lang = view.lang
    at = common.as_of()
    f = view.to_filter(at)
    _seed()
    common.page_header("satisfaccion_title", f, lang)
    order = common.stage_options(at)
    cost = common.metric(satisfaction.breach_cost, f)
    headline(f, cost, lang)
    by_week_and_stage(f, order, lang)
    breach_cost_section(cost, lang)
    complaints_section(f, order, lang)
    comments_section(f, lang)


def page() -> None:
    """The page as app.py registers it."""
    common.run_page(render)


if __name__ == "__main__":  # run on its own (Streamlit's pages/ folder): draw the whole app
    from dashboard.app import main

    main()
