"""Resumen: the headline KPIs of the period with their traffic light, each with the last
full week and its change beneath; the on-time trend of the same period's weeks against its
target; the five root breaches with the largest impact.

Layout only: every number comes from dashboard.metrics through cache.metric().
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import quote

import pandas as pd
import streamlit as st

from dashboard.charts import number_or_none
from dashboard.charts.kpi import weekly_rate_spec
from dashboard.metrics import kpis, propagation, targets, trends
from dashboard.metrics.definitions import KPIS
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.trends import full_weeks, last_week_change
from dashboard.ui.i18n import fmt_date, fmt_int, fmt_kpi, fmt_kpi_delta, fmt_num, t
from dashboard.ui.state import ViewState
from dashboard.ui.texts import tr
from dashboard.views import cache, dispatch, url_state

# The eight cards, in reading order (two rows of four on a projector).
CARD_KPIS: tuple[str, ...] = (
    "on_time_rate",
    "breaches",
    "propagation_rate",
    "csat_pct",
    "nps",
    "proactive_notice_rate",
    "complaints_per_100",
    "customer_commitments_kept",
)
STATUS_BADGE: dict[str | None, tuple[str, Literal["green", "orange", "red", "gray"]]] = {
    "green": ("status_green", "green"),
    "amber": ("status_amber", "orange"),
    "red": ("status_red", "red"),
    None: ("status_none", "gray"),
}
TOP_ROOTS = 5
# A week's change is coloured by what it means for its KPI (the registry's `better`).
TONE_COLORS: dict[str, str] = {"better": "green", "worse": "red", "same": "gray", "neutral": "gray"}


def headline_values(f: MetricFilter) -> dict[str, float | None]:
    """The card KPIs for the whole filter (one row of kpis.headline_kpis)."""
    head = cache.metric(kpis.headline_kpis, f.with_(group_by="none"))
    row = head.iloc[0].to_dict() if not head.empty else {}
    return {kpi: number_or_none(row.get(kpi)) for kpi in CARD_KPIS}


def target_statuses(f: MetricFilter, values: dict[str, float | None]) -> dict[str, str | None]:
    """Each card's traffic light against the target in force (None = no target)."""
    result = cache.metric(targets.kpi_target_status, f, values)
    return dict(result or {})


def weekly(f: MetricFilter) -> pd.DataFrame:
    """The period's weeks (trends.period_weekly_kpis): the same commitments as the cards."""
    return cache.metric(trends.period_weekly_kpis, f)


def on_time_target(f: MetricFilter) -> float | None:
    """The on-time target of the trend's line: the one the on-time card is judged against."""
    return cache.metric(targets.kpi_target_value, f, "on_time_rate")


def week_line(kpi: str, changes: pd.DataFrame | None, lang: str) -> str:
    """Markdown under a card: the last full week's value and its change, the change
    coloured by what it means for this KPI (▲/▼ say the direction without colour)."""
    if changes is None:
        return tr("card_no_week", lang)
    row = changes.loc[[kpi]].iloc[0]
    line = tr(
        "card_week",
        lang,
        week=fmt_date(pd.Timestamp(row["current_week"]).date(), lang),
        value=fmt_kpi(kpi, number_or_none(row["current"]), lang),
    )
    delta = number_or_none(row["delta"])
    if delta is None:
        return line
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "="
    change = tr("card_change", lang, arrow=arrow, delta=fmt_kpi_delta(kpi, delta, lang))
    return f"{line}  \n:{TONE_COLORS[KPIS[kpi].change_tone(delta)]}[{change}]"


def kpi_cards(
    values: dict[str, float | None],
    statuses: dict[str, str | None],
    weeks: pd.DataFrame,
    lang: str,
    reasons: dict[str, str] | None = None,
) -> None:
    """Eight cards: the period's value with its traffic light (one signal: the target),
    the full weeks as a sparkline, and the last week's change in words beneath; an empty
    card whose input was never loaded says so in words (`reasons`: KPI -> code)."""
    changes = last_week_change(weeks)
    full = full_weeks(weeks)
    st.caption(tr("cards_note", lang))
    for start in range(0, len(CARD_KPIS), 4):
        cols = st.columns(4)
        for col, kpi in zip(cols, CARD_KPIS[start : start + 4], strict=True):
            with col.container(border=True):
                spark = None
                if not full.empty and kpi in full:
                    spark = [float(v) for v in full[kpi] if number_or_none(v) is not None] or None
                st.metric(
                    t(f"kpi_{kpi}", lang),
                    fmt_kpi(kpi, values.get(kpi), lang),
                    help=t(f"help_{kpi}", lang),
                    chart_data=spark,
                    chart_type="area" if kpi.endswith("rate") else "line",
                )
                text_key, color = STATUS_BADGE.get(statuses.get(kpi), STATUS_BADGE[None])
                st.badge(t(text_key, lang), color=color)
                reason = (reasons or {}).get(kpi)
                if reason is not None and values.get(kpi) is None:
                    # markdown, not a caption: a caption's faded text is below AA contrast
                    st.markdown(tr(f"reason_{reason}", lang))
                else:
                    st.markdown(week_line(kpi, changes, lang))


def root_table(roots: pd.DataFrame, lang: str) -> None:
    """The top root breaches as a table, each with a link to its tracking page."""
    if roots.empty:
        st.info(t("no_roots", lang))
        return
    table = pd.DataFrame(
        {
            t("col_root", lang): roots["root_id"].astype(str),
            t("col_process", lang): roots["process"],
            t("col_performer", lang): roots["performer"],
            t("col_customer", lang): roots["customer"],
            t("col_due", lang): [fmt_date(pd.Timestamp(v), lang) for v in roots["due_at"]],
            t("col_delay", lang): [fmt_num(v, lang, 1) for v in roots["delay_days"]],
            t("col_impact", lang): [fmt_int(v, lang) for v in roots["impact"]],
            t("col_external", lang): [fmt_int(v, lang) for v in roots["external_customers"]],
            t("col_tracking", lang): [
                f"?page=seguimiento&commitment={quote(str(c))}" for c in roots["root_id"]
            ],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            t("col_tracking", lang): st.column_config.LinkColumn(
                t("col_tracking", lang), display_text=t("open_tracking", lang)
            )
        },
    )


def render() -> None:
    """The Resumen page."""
    view = url_state.current_view()
    lang = view.lang
    at = cache.as_of()
    f = view.to_filter(at)
    dispatch.page_header("resumen_title", f, lang)
    values = headline_values(f)
    trend = weekly(f)
    reasons = cache.metric(kpis.kpi_reasons, f)
    kpi_cards(values, target_statuses(f, values), trend, lang, reasons)

    st.subheader(t("trend_title", lang))
    st.vega_lite_chart(
        spec=weekly_rate_spec(trend, lang, target=on_time_target(f)), key="trend", width="stretch"
    )
    if not trend.empty and trend["partial"].any():
        st.caption(t("trend_partial_note", lang))
    st.subheader(t("top_roots_title", lang))
    root_table(cache.metric(propagation.root_impact, f, limit=TOP_ROOTS), lang)


def warm(at: datetime) -> None:
    """Compute what the page shows for the default view into the shared caches.

    Called once in the background when the server starts (dashboard/serve.py), so the
    first visitor of a fresh server finds the numbers ready instead of waiting for them.
    The calls are render()'s own, with the view a first visit has (no filter in the
    URL), so the cache keys are the same.
    """
    view = ViewState()
    f = view.to_filter(at)
    values = headline_values(f)
    trend = weekly(f)
    cache.metric(kpis.kpi_reasons, f)
    target_statuses(f, values)
    weekly_rate_spec(trend, view.lang, target=on_time_target(f))
    cache.metric(propagation.root_impact, f, limit=TOP_ROOTS)


def page() -> None:
    """The page as registry.PAGES registers it."""
    dispatch.run_page(render)
