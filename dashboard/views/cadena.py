"""Cadena: where the chain breaks and how far a break travels.

The value-chain map (stages in chain order, links as wide as their dependencies and
coloured by contagion lift), the Sankey of propagated breaches between stages, the
Pareto of root breaches by impact, one root's downstream impact tree (the root chosen
is kept in the URL as `root`), the commitments at risk, and what the event log says:
the directly-follows pairs and the time spent in each step.

Layout only: every number comes from dashboard.metrics through cache.metric().
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pandas as pd
import streamlit as st

from dashboard.charts import number_or_none
from dashboard.charts.chain import (
    breach_sankey_figure,
    directly_follows_figure,
    impact_tree_figure,
    process_map_figure,
    root_pareto_figure,
    stage_durations_figure,
)
from dashboard.metrics import process_map, propagation
from dashboard.metrics.filters import MetricFilter
from dashboard.ui.i18n import fmt_date, fmt_int, fmt_num, fmt_pct
from dashboard.ui.texts import kpi_label, tr
from dashboard.views import cache, dispatch, url_state

TRACKING_LINK = "?page=seguimiento&commitment={id}"
ROOT_PARAM = "root"  # query key of the root whose impact tree is shown
K_ROOT, K_TOP_PAIRS = "w_cadena_root", "w_cadena_top_pairs"
_ROOT_SEEDED = "_cadena_root_seeded"
PARETO_TOP = 20  # bars in the Pareto
TREE_CHOICES = 20  # roots offered for the impact tree
CHART_CONFIG = {"displayModeBar": False}


def _tracking(ids: pd.Series) -> list[str]:
    """Deep links to the tracking page of each commitment (ids quoted: they are data)."""
    return [TRACKING_LINK.format(id=quote(str(c))) for c in ids]


def _link_column(lang: str) -> dict:
    """The column config that shows a tracking link as "open"."""
    return {
        tr("col_tracking", lang): st.column_config.LinkColumn(
            tr("col_tracking", lang), display_text=tr("open_tracking", lang)
        )
    }


def _date(value: Any, lang: str) -> str:  # a table cell
    """A table date in the language's format; blank when there is none."""
    return "" if value is None or pd.isna(value) else fmt_date(pd.Timestamp(value), lang)


def headline(roots: pd.DataFrame, at_risk: pd.DataFrame, lang: str) -> None:
    """Four numbers: root breaches, those with impact, total impact, the largest one."""
    totals = propagation.impact_totals(roots)
    cols = st.columns(4)
    cols[0].metric(kpi_label("root_breaches", lang), fmt_int(totals.roots, lang))
    cols[1].metric(tr("roots_with_impact", lang), fmt_int(totals.roots_with_impact, lang))
    cols[2].metric(tr("total_impact", lang), fmt_int(totals.total_impact, lang))
    cols[3].metric(tr("top_root_impact", lang), fmt_int(totals.largest_impact, lang))
    st.caption(f"{tr('at_risk_title', lang)}: {fmt_int(len(at_risk), lang)}")


def chain_map(f: MetricFilter, lang: str) -> None:
    """The value-chain map with its legend and, folded, the lift table behind the colours."""
    st.subheader(tr("chain_map_title", lang))
    st.caption(tr("chain_map_help", lang))
    chain = cache.metric(process_map.process_chain, f)
    flows = cache.metric(process_map.process_dependency_flows, f)
    lift = cache.metric(propagation.contagion_lift, f)
    st.plotly_chart(
        process_map_figure(chain, flows, lift, lang), key="chain_map", config=CHART_CONFIG
    )
    with st.expander(tr("lift_table", lang)):
        if lift.empty:
            st.info(tr("no_data_filter", lang))
            return
        table = pd.DataFrame(
            {
                tr("col_source", lang): lift["upstream_process"].astype(str),
                tr("col_target", lang): lift["downstream_process"].astype(str),
                tr("p_breach_given_breach", lang): [
                    fmt_pct(v, lang) for v in lift["p_breach_given_breach"]
                ],
                tr("p_breach_given_on_time", lang): [
                    fmt_pct(v, lang) for v in lift["p_breach_given_on_time"]
                ],
                tr("lift", lang): [
                    "—" if v is None or pd.isna(v) else "×" + fmt_num(v, lang, 1)
                    for v in lift["lift"]
                ],
            }
        )
        st.dataframe(table, hide_index=True, width="stretch")


def flows_and_pareto(f: MetricFilter, roots: pd.DataFrame, order: list[str], lang: str) -> None:
    """The Sankey of breaches between stages, then the Pareto of root breaches (each full
    width: eight stage names and twenty root ids need the room on a projector)."""
    st.subheader(tr("sankey_title", lang))
    st.caption(tr("sankey_help", lang))
    flows = cache.metric(propagation.breach_flows, f)
    st.plotly_chart(
        breach_sankey_figure(flows, lang, order=order), key="sankey", config=CHART_CONFIG
    )
    st.subheader(tr("pareto_title", lang))
    total = propagation.impact_totals(roots).roots_with_impact
    shown = len(propagation.impact_pareto(roots, PARETO_TOP))
    st.caption(tr("pareto_help", lang, n=fmt_int(shown, lang), total=fmt_int(total, lang)))
    st.plotly_chart(
        root_pareto_figure(roots, lang, top=PARETO_TOP), key="pareto", config=CHART_CONFIG
    )


def _root_options(roots: pd.DataFrame) -> list[str]:
    """The roots offered for the tree: the largest impacts, plus a root the URL names."""
    ranked = roots[roots["impact"] > 0]
    options = [str(r) for r in ranked["root_id"].head(TREE_CHOICES)]
    wanted = st.query_params.get(ROOT_PARAM)
    known = set(ranked["root_id"].astype(str))
    if wanted is not None and wanted in known and wanted not in options:
        options.append(wanted)
    return options


def _seed_root(options: list[str]) -> None:
    """Start the root selectbox from the URL once; fall back to the largest root."""
    if not st.session_state.get(_ROOT_SEEDED):
        st.session_state[_ROOT_SEEDED] = True
        wanted = st.query_params.get(ROOT_PARAM)
        st.session_state[K_ROOT] = wanted if wanted in options else None
    if st.session_state.get(K_ROOT) not in options:
        st.session_state[K_ROOT] = options[0] if options else None


def impact_tree_section(f: MetricFilter, roots: pd.DataFrame, lang: str) -> None:
    """A root breach picked from the largest ones, and the breaches downstream of it."""
    st.subheader(tr("tree_title", lang))
    options = _root_options(roots)
    if not options:
        st.info(tr("no_roots", lang))
        return
    _seed_root(options)
    info = roots.set_index(roots["root_id"].astype(str))
    root = st.selectbox(
        tr("tree_pick", lang),
        options=options,
        key=url_state.translated_key(K_ROOT),
        format_func=lambda r: (
            f"{r} · {info.at[r, 'process']!s} · {tr('col_impact', lang)} "
            f"{fmt_int(number_or_none(info.at[r, 'impact']), lang)}"
        ),
    )
    if root is None:
        return
    # the URL names the root only when it is not the default (the largest), so links stay
    # short and a link without `root` always means "the largest root of this view"
    if root == options[0]:
        if ROOT_PARAM in st.query_params:
            del st.query_params[ROOT_PARAM]
    elif st.query_params.get(ROOT_PARAM) != root:
        st.query_params[ROOT_PARAM] = root
    st.caption(tr("tree_help", lang))
    tree = cache.metric(propagation.impact_tree, f, root)
    st.plotly_chart(
        impact_tree_figure(tree, root, lang, root_process=str(info.at[root, "process"])),
        key="impact_tree",
        config=CHART_CONFIG,
    )
    if tree.empty:
        return
    table = pd.DataFrame(
        {
            tr("col_depth", lang): [int(d) for d in tree["depth"]],
            tr("col_commitment", lang): [
                "\u00a0" * (3 * (int(d) - 1)) + "› " + str(c)  # glyphs of the page font
                for c, d in zip(tree["commitment_id"], tree["depth"], strict=True)
            ],
            tr("col_depends_on", lang): tree["depends_on"].astype(str),
            tr("col_process", lang): tree["process"].astype(str),
            tr("col_tracking", lang): _tracking(tree["commitment_id"]),
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", column_config=_link_column(lang))


def at_risk_section(at_risk: pd.DataFrame, lang: str) -> None:
    """Open commitments with a breached direct upstream, each with a tracking link."""
    st.subheader(tr("at_risk_title", lang))
    st.caption(tr("at_risk_help", lang))
    if at_risk.empty:
        st.info(tr("no_at_risk", lang))
        return
    table = pd.DataFrame(
        {
            tr("col_commitment", lang): at_risk["commitment_id"].astype(str),
            tr("col_title", lang): at_risk["title"].fillna("").astype(str),
            tr("col_process", lang): at_risk["process"].astype(str),
            tr("col_performer", lang): at_risk["performer"].fillna("").astype(str),
            tr("col_customer", lang): at_risk["customer"].astype(str),
            tr("col_due", lang): [_date(v, lang) for v in at_risk["due_at"]],
            tr("col_breached_upstreams", lang): at_risk["breached_upstreams"].astype(str),
            tr("col_max_upstream_delay", lang): [
                fmt_num(v, lang, 1) for v in at_risk["max_upstream_delay_days"]
            ],
            tr("col_predicted", lang): [_date(v, lang) for v in at_risk["predicted_delivery"]],
            tr("col_tracking", lang): _tracking(at_risk["commitment_id"]),
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", column_config=_link_column(lang))


def event_map_section(f: MetricFilter, lang: str) -> None:
    """The event log's directly-follows pairs (top N) beside the time spent in each step."""
    pairs = cache.metric(process_map.directly_follows, f)
    durations = cache.metric(process_map.stage_durations, f)
    most = max(6, min(40, len(pairs)))  # the slider never offers more pairs than there are
    st.session_state[K_TOP_PAIRS] = min(st.session_state.get(K_TOP_PAIRS, 15), most)
    left, right = st.columns([3, 2])
    with left:
        st.subheader(tr("df_title", lang))
        top = st.slider(tr("df_top", lang), min_value=5, max_value=most, step=1, key=K_TOP_PAIRS)
        st.caption(tr("df_help", lang, n=fmt_int(min(top, len(pairs)), lang)))
        st.plotly_chart(
            directly_follows_figure(pairs, lang, top=top), key="df_map", config=CHART_CONFIG
        )
    with right:
        st.subheader(tr("durations_title", lang))
        st.plotly_chart(
            stage_durations_figure(durations, lang), key="durations", config=CHART_CONFIG
        )
    if not pairs.empty:
        with st.expander(tr("df_title", lang)):
            table = pd.DataFrame(
                {
                    tr("col_source", lang): pairs["source"].astype(str),
                    tr("col_target", lang): pairs["target"].astype(str),
                    tr("col_count", lang): [fmt_int(v, lang) for v in pairs["count"]],
                    tr("col_median_hours", lang): [
                        fmt_num(v, lang, 1) for v in pairs["median_hours"]
                    ],
                }
            )
            st.dataframe(table, hide_index=True, width="stretch")


def render() -> None:
    """The Cadena page."""
    view = url_state.current_view()
    lang = view.lang
    at = cache.as_of()
    f = view.to_filter(at)
    dispatch.page_header("cadena_title", f, lang)
    order = cache.stage_options(at)
    roots = cache.metric(propagation.root_impact, f)
    # at risk = not yet due: the period (past due dates) would hide them, so it is lifted;
    # stages, customers and direction still apply
    at_risk = cache.metric(propagation.at_risk_commitments, propagation.at_risk_scope(f))
    headline(roots, at_risk, lang)
    chain_map(f, lang)
    flows_and_pareto(f, roots, order, lang)
    impact_tree_section(f, roots, lang)
    at_risk_section(at_risk, lang)
    event_map_section(f, lang)


def page() -> None:
    """The page as registry.PAGES registers it."""
    dispatch.run_page(render)
