"""Cumplimiento: on-time rate by process stage in chain order, drilling down to a stage's
performers and to a performer's commitments; delay distribution; renegotiations.

The drill level lives in two selectboxes (keyboard- and test-friendly) that a click on
a bar also sets, and in the URL (`stage`, `performer`), so a copied link reopens the
same level. Layout only: every number comes from dashboard.metrics.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pandas as pd
import streamlit as st

from dashboard.charts.ontime import (
    delay_distribution_figure,
    rate_by_group_figure,
    renegotiation_figure,
)
from dashboard.metrics import ontime, process_map, targets
from dashboard.metrics.filters import MetricFilter
from dashboard.ui.i18n import fmt_date, fmt_int, fmt_num, fmt_pct, t
from dashboard.ui.texts import md_escape
from dashboard.views import cache, dispatch, url_state

NONE = ""  # selectbox value for "no drill at this level"
CHART_STAGES, CHART_PERFORMERS = "chart_stages", "chart_performers"
TRACKING_LINK = "?page=seguimiento&commitment={id}"
# Status never by colour alone: a symbol a colour-blind reader and a projector keep.
STATUS_SYMBOL: dict[str, str] = {"on_time": "✓ ", "breach": "✗ ", "pending": "… "}


def _seed_drill(stages: list[str]) -> None:
    """Start the drill selectboxes from the URL once; drop values the data does not have."""
    seed = url_state.url_view()
    if not st.session_state.get("_drill_seeded"):
        st.session_state["_drill_seeded"] = True
        st.session_state[url_state.K_DRILL_STAGE] = seed.drill_stage or NONE
        st.session_state[url_state.K_DRILL_PERFORMER] = seed.drill_performer or NONE
    st.session_state.setdefault(url_state.K_DRILL_STAGE, NONE)
    if st.session_state[url_state.K_DRILL_STAGE] not in stages:
        st.session_state[url_state.K_DRILL_STAGE] = NONE
        st.session_state[url_state.K_DRILL_PERFORMER] = NONE


def _set_drill(stage: str, performer: str = NONE) -> None:
    """Callback: go to a drill level (used by clicks and the breadcrumb)."""
    st.session_state[url_state.K_DRILL_STAGE] = stage
    st.session_state[url_state.K_DRILL_PERFORMER] = performer


def _clicked(chart_key: str) -> str | None:
    """The group of the bar clicked in a chart (from its selection event), if any."""
    event = st.session_state.get(chart_key)
    points = ((event or {}).get("selection") or {}).get("points") or []
    if not points:
        return None
    point = points[0]
    value = point.get("customdata")
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        value = point.get("y") if isinstance(point.get("x"), int | float) else point.get("x")
    return None if value is None else str(value)


def _on_stage_click() -> None:
    """Callback of the stage chart: drill into the clicked stage."""
    stage = _clicked(CHART_STAGES)
    if stage:
        _set_drill(stage)


def _on_performer_click() -> None:
    """Callback of the performer chart: drill into the clicked performer."""
    performer = _clicked(CHART_PERFORMERS)
    if performer:
        _set_drill(st.session_state.get(url_state.K_DRILL_STAGE, NONE), performer)


def _clear_performer() -> None:
    """Callback: a new stage starts at its performers."""
    st.session_state[url_state.K_DRILL_PERFORMER] = NONE


def breadcrumb(stage: str, performer: str, lang: str) -> None:
    """All stages › stage › performer, each step a button back up."""
    row = st.container(horizontal=True, gap="small")
    row.button(
        t("breadcrumb_all", lang),
        key="crumb_all",
        on_click=_set_drill,
        args=(NONE,),
        disabled=not stage,
        icon=":material/home:",
    )
    if stage:
        row.button(
            f"› {md_escape(stage)}",
            key="crumb_stage",
            on_click=_set_drill,
            args=(stage,),
            disabled=not performer,
        )
    if performer:
        row.button(f"› {md_escape(performer)}", key="crumb_performer", disabled=True)


def status_colors(f: MetricFilter, summary: pd.DataFrame) -> dict[str, str | None]:
    """Each stage's on-time light against its own target (None without a target)."""
    rates = {
        str(stage): None if pd.isna(rate) else float(rate)
        for stage, rate in zip(summary["group_key"], summary["on_time_rate"], strict=True)
    }
    return cache.metric(targets.stage_target_status, f, "on_time_rate", rates)


def commitments_table(rows: pd.DataFrame, lang: str) -> None:
    """The drilled commitments: status, due, delivered, delay, upstreams, tracking link."""
    if rows.empty:
        st.info(t("no_data_filter", lang))
        return
    table = pd.DataFrame(
        {
            t("col_commitment", lang): rows["commitment_id"].astype(str),
            t("col_title", lang): rows["title"].fillna(""),
            t("col_customer", lang): rows["customer"],
            t("col_status", lang): [STATUS_SYMBOL[s] + t(f"st_{s}", lang) for s in rows["status"]],
            t("col_due", lang): [_date(v, lang) for v in rows["due_at"]],
            t("col_delivered", lang): [_date(v, lang) for v in rows["delivered_at"]],
            t("col_delay", lang): [_delay(v, lang) for v in rows["delay_days"]],
            t("col_original_due", lang): [_date(v, lang) for v in rows["original_due_at"]],
            t("col_upstreams", lang): rows["upstreams"].fillna(""),
            t("col_tracking", lang): [
                TRACKING_LINK.format(id=quote(str(c))) for c in rows["commitment_id"]
            ],
        }
    )
    if rows["policy_id"].notna().any():  # the standard behind each date, when there is one
        table.insert(
            5,
            t("col_standard", lang),
            [
                _standard(p, v, lang)
                for p, v in zip(rows["policy_id"], rows["policy_version"], strict=True)
            ],
        )
        table.insert(
            6, t("col_standard_due", lang), [_date(v, lang) for v in rows["standard_due_at"]]
        )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=min(36 * (len(table) + 1) + 4, 640),
        key="commitments_table",
        column_config={
            t("col_tracking", lang): st.column_config.LinkColumn(
                t("col_tracking", lang), display_text=t("open_tracking", lang)
            ),
        },
    )


def _date(value: Any, lang: str) -> str:  # a table cell
    """A table date in the language's format; blank when there is none."""
    return "" if value is None or pd.isna(value) else fmt_date(pd.Timestamp(value), lang)


def _standard(policy: Any, version: Any, lang: str) -> str:  # table cells
    """The policy and version behind a commitment's date (`support-high v2`); blank if none."""
    if policy is None or pd.isna(policy):
        return ""
    return t("standard_version", lang, policy=policy, version=int(version))


def _delay(value: Any, lang: str) -> str:  # a table cell
    """A table delay in days with one decimal; blank for commitments not breached."""
    return "" if value is None or pd.isna(value) else fmt_num(value, lang, 1)


def delay_section(f: MetricFilter, lang: str) -> None:
    """Breach delays of the current drill level: median, p90 and their distribution."""
    st.subheader(t("delay_title", lang))
    overall = cache.metric(ontime.on_time_summary, f.with_(group_by="none"))
    row = overall.iloc[0] if not overall.empty else {}
    cols = st.columns(4)
    cols[0].metric(t("kpi_due", lang), fmt_int(row.get("due"), lang))
    cols[1].metric(t("kpi_breaches", lang), fmt_int(row.get("breaches"), lang))
    cols[2].metric(
        t("median_delay", lang),
        t("days_suffix", lang, value=fmt_num(row.get("median_delay_days"), lang, 1)),
    )
    cols[3].metric(
        t("p90_delay", lang),
        t("days_suffix", lang, value=fmt_num(row.get("p90_delay_days"), lang, 1)),
    )
    delays = cache.metric(ontime.delay_distribution, f)
    st.plotly_chart(
        delay_distribution_figure(delays, lang), key="delays", config={"displayModeBar": False}
    )


def renegotiation_section(f: MetricFilter, lang: str, order: list[str]) -> None:
    """Renegotiated commitments judged against the promise in force and the original one."""
    st.subheader(t("renegotiated_title", lang))
    reneg = cache.metric(ontime.renegotiation_summary, f)
    if reneg.empty or reneg["renegotiated"].fillna(0).sum() == 0:
        st.info(t("no_renegotiated", lang))
        return
    reneg = process_map.in_chain_order(reneg, order)
    st.plotly_chart(
        renegotiation_figure(reneg, lang, order=order),
        key="reneg",
        config={"displayModeBar": False},
    )
    table = pd.DataFrame(
        {
            t("drill_stage" if f.group_by == "process" else "drill_performer", lang): [
                str(k) for k in reneg["group_key"]
            ],
            t("renegotiated", lang): [fmt_int(v, lang) for v in reneg["renegotiated"]],
            t("vs_due", lang): [fmt_pct(v, lang) for v in reneg["on_time_rate_vs_due"]],
            t("vs_original", lang): [fmt_pct(v, lang) for v in reneg["on_time_rate_vs_original"]],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")


def render() -> None:
    """The Cumplimiento page."""
    view = url_state.current_view()
    lang = view.lang
    at = cache.as_of()
    f = view.to_filter(at)
    all_stages = cache.stage_options(at)
    stages = [s for s in all_stages if not view.stages or s in view.stages]
    _seed_drill(stages)
    by_stage = cache.metric(ontime.on_time_summary, f.with_(group_by="process"))
    present = [s for s in stages if s in set(by_stage["group_key"].astype(str))]

    stage = st.session_state[url_state.K_DRILL_STAGE]
    performers: list[str] = []
    by_performer = pd.DataFrame()
    if stage:
        by_performer = cache.metric(
            ontime.on_time_summary, f.with_(processes=(stage,), group_by="performer")
        )
        performers = sorted(str(p) for p in by_performer["group_key"].dropna())
        if st.session_state.get(url_state.K_DRILL_PERFORMER, NONE) not in [NONE, *performers]:
            st.session_state[url_state.K_DRILL_PERFORMER] = NONE
    performer = st.session_state.get(url_state.K_DRILL_PERFORMER, NONE) if stage else NONE
    drilled = view.with_(drill_stage=stage or None, drill_performer=performer or None)
    url_state.sync_url(drilled)
    fd = drilled.to_filter(at, drill=True)

    dispatch.page_header("cumplimiento_title", fd, lang)
    breadcrumb(stage, performer, lang)
    cols = st.columns(2)
    cols[0].selectbox(
        t("drill_stage", lang),
        options=[NONE, *stages],
        format_func=lambda s: s or t("drill_all", lang),
        key=url_state.K_DRILL_STAGE,
        on_change=_clear_performer,
    )
    if stage:
        cols[1].selectbox(
            t("drill_performer", lang),
            options=[NONE, *performers],
            format_func=lambda p: p or t("drill_all_performers", lang),
            key=url_state.K_DRILL_PERFORMER,
        )
    st.caption(t("click_hint", lang))

    if not stage:
        st.subheader(t("by_stage_title", lang))
        figure = rate_by_group_figure(
            by_stage, lang, order=present, statuses=status_colors(f, by_stage)
        )
        st.plotly_chart(
            figure,
            key=CHART_STAGES,
            on_select=_on_stage_click,
            selection_mode="points",
            config={"displayModeBar": False},
        )
    elif not performer:
        st.subheader(t("by_performer_title", lang, stage=md_escape(stage)))
        figure = rate_by_group_figure(
            by_performer.sort_values("on_time_rate", na_position="last"), lang, horizontal=True
        )
        st.plotly_chart(
            figure,
            key=CHART_PERFORMERS,
            on_select=_on_performer_click,
            selection_mode="points",
            config={"displayModeBar": False},
        )
    else:
        st.subheader(
            t(
                "commitments_title",
                lang,
                stage=md_escape(stage),
                performer=md_escape(performer),
            )
        )
        commitments_table(cache.metric(ontime.commitment_list, fd), lang)

    delay_section(fd, lang)
    renegotiation_section(
        fd.with_(group_by="performer" if stage else "process"),
        lang,
        performers if stage else present,
    )


def page() -> None:
    """The page as registry.PAGES registers it."""
    dispatch.run_page(render)
