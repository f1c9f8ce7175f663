"""Charts of satisfaction and complaints (Satisfacción page): CSAT% and NPS by week or
stage, CSAT% on time vs. root and propagated breaches, complaints and resolution time.

Pure `DataFrame → Figure` builders fed by dashboard.metrics.satisfaction and
dashboard.metrics.complaints. Status colours keep their meaning: bluish green = on time,
vermillion = breach; a propagated breach is vermillion with a hatch, so the two breach
kinds differ without relying on colour.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.charts import empty_figure, number_or_none, percent_axis, plotly_safe, styled
from dashboard.metrics.process_map import in_chain_order
from dashboard.ui import theme
from dashboard.ui.i18n import fmt_date, fmt_int, fmt_num, fmt_pct
from dashboard.ui.texts import tr

BREACH_STATUS_STYLE: dict[str, tuple[str, str]] = {
    "on_time": (theme.BLUISH_GREEN, ""),
    "root_breach": (theme.VERMILLION, ""),
    "propagated_breach": (theme.VERMILLION, "/"),
}


def _labels(
    keys: Sequence[Any], by_week: bool, lang: str, partial: Collection[date] = ()
) -> list[str]:
    """Group keys as axis labels: a week's Monday in the language's format (a partial
    week says so), else the name."""
    if by_week:
        labels = []
        for k in keys:
            day = pd.Timestamp(k).date()
            label = fmt_date(day, lang)
            labels.append(tr("partial_suffix", lang, label=label) if day in partial else label)
        return labels
    return [plotly_safe(k) for k in keys]


def _is_partial(keys: Sequence[Any], by_week: bool, partial: Collection[date]) -> list[bool]:
    """Which groups are partial weeks (never a stage)."""
    return [by_week and pd.Timestamp(k).date() in partial for k in keys]


def _ordered(summary: pd.DataFrame, order: Sequence[str] | None) -> pd.DataFrame:
    """Rows with a group key, in `order` (chain order) when given, else by key."""
    return in_chain_order(summary[summary["group_key"].notna()], order or ())


def satisfaction_figure(
    summary: pd.DataFrame,
    lang: str,
    *,
    by_week: bool,
    order: Sequence[str] | None = None,
    title: str | None = None,
    partial: Collection[date] = (),
) -> go.Figure:
    """CSAT% (top, 0–100 %) and NPS (bottom, −100..100) per group of satisfaction_summary,
    one panel each so neither scale squashes the other; weeks as lines, stages as bars.
    Weeks in `partial` (trends.is_partial_week) are labelled so and drawn hollow.
    """
    data = _ordered(summary, order) if not summary.empty else summary
    if data.empty or data["responses"].fillna(0).sum() == 0:
        return empty_figure(tr("no_responses", lang), lang)
    keys = _labels(list(data["group_key"]), by_week, lang, partial)
    hollow = _is_partial(list(data["group_key"]), by_week, partial)
    csat = [number_or_none(v) for v in data["csat_pct"]]
    nps = [number_or_none(v) for v in data["nps"]]
    counts = [int(v) for v in data["responses"].fillna(0)]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=(tr("kpi_csat_pct", lang), tr("kpi_nps", lang)),
    )
    csat_text = [fmt_pct(v, lang, 0) for v in csat]
    nps_text = [fmt_num(v, lang, 0) for v in nps]
    hover = [
        f"{k}<br>{tr('kpi_csat_pct', lang)}: {c}<br>{tr('kpi_nps', lang)}: {n}"
        f"<br>{tr('responses', lang)}: {fmt_int(r, lang)}"
        for k, c, n, r in zip(keys, csat_text, nps_text, counts, strict=True)
    ]
    panels = ((csat, csat_text, theme.BLUE), (nps, nps_text, theme.REDDISH_PURPLE))
    for row, (values, text, color) in enumerate(panels, start=1):
        if by_week:
            trace: go.Scatter | go.Bar = go.Scatter(
                mode="lines+markers+text",
                textposition="top center",
                line={"color": color, "width": 3},
                marker={
                    "size": [11 if h else 8 for h in hollow],
                    "symbol": ["circle-open" if h else "circle" for h in hollow],
                    "line": {"width": 2, "color": color},
                },
            )
        else:
            trace = go.Bar(marker_color=color, textposition="outside", cliponaxis=False)
        trace.update(x=keys, y=values, text=text, hovertext=hover, hoverinfo="text")
        fig.add_trace(trace, row=row, col=1)
    axis = percent_axis(lang)
    fig.update_yaxes(**{**axis, "range": [0, 1.15]}, row=1, col=1)
    fig.update_yaxes(range=[-100, 115], zeroline=True, zerolinecolor=theme.GREY, row=2, col=1)
    fig.update_xaxes(type="category")
    return styled(fig, lang, height=520, title=title)


def breach_cost_figure(
    by_status: pd.DataFrame, lang: str, *, title: str | None = None
) -> go.Figure:
    """CSAT% of responses on on-time commitments, root breaches and propagated breaches
    (breach_cost()["by_status"]), each bar labelled with its CSAT% and its answers.
    """
    data = by_status
    if data.empty or data["csat_responses"].fillna(0).sum() == 0:
        return empty_figure(tr("no_responses", lang), lang)
    statuses = [str(s) for s in data["status"]]
    names = [tr(f"status_{s}", lang) for s in statuses]
    values = [number_or_none(v) for v in data["csat_pct"]]
    answers = [int(v) for v in data["csat_responses"].fillna(0)]
    colors = [BREACH_STATUS_STYLE.get(s, (theme.GREY, ""))[0] for s in statuses]
    patterns = [BREACH_STATUS_STYLE.get(s, (theme.GREY, ""))[1] for s in statuses]
    texts = [
        f"{fmt_pct(v, lang)} (n = {fmt_int(n, lang)})" for v, n in zip(values, answers, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=[v if v is not None else 0.0 for v in values],
            marker={"color": colors, "pattern": {"shape": patterns, "fgcolor": "#FFFFFF"}},
            text=texts,
            textposition="outside",
            cliponaxis=False,
            hovertext=[f"{n}: {t}" for n, t in zip(names, texts, strict=True)],
            hoverinfo="text",
        )
    )
    fig.update_yaxes(**{**percent_axis(lang), "range": [0, 1.15]}, title=tr("kpi_csat_pct", lang))
    fig.update_xaxes(title=tr("breach_cost_n", lang), title_font={"size": 12})
    return styled(fig, lang, height=360, title=title)


def complaints_figure(
    summary: pd.DataFrame,
    lang: str,
    *,
    by_week: bool,
    target_hours: float,
    order: Sequence[str] | None = None,
    title: str | None = None,
    partial: Collection[date] = (),
) -> go.Figure:
    """Complaints per 100 due commitments (top, bars) and median hours to resolve (bottom)
    per group of complaints_summary, with the resolution target as a dashed line. Weeks
    in `partial` are labelled so and drawn faded and hatched.
    """
    data = _ordered(summary, order) if not summary.empty else summary
    if data.empty or data["complaints"].fillna(0).sum() == 0:
        return empty_figure(tr("no_data_filter", lang), lang)
    keys = _labels(list(data["group_key"]), by_week, lang, partial)
    hollow = _is_partial(list(data["group_key"]), by_week, partial)
    opacity = [0.45 if h else 1.0 for h in hollow]
    hatch = {"shape": ["/" if h else "" for h in hollow]}
    per100 = [number_or_none(v) for v in data["complaints_per_100"]]
    hours = [number_or_none(v) for v in data["median_hours_to_resolve"]]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=(tr("complaints_per_100", lang), tr("median_hours_to_resolve", lang)),
    )
    fig.add_trace(
        go.Bar(
            x=keys,
            y=per100,
            marker={"color": theme.ORANGE, "opacity": opacity, "pattern": hatch},
            text=[fmt_num(v, lang, 1) for v in per100],
            textposition="outside",
            cliponaxis=False,
            hovertext=[
                f"{k}<br>{tr('complaints', lang)}: {fmt_int(c, lang)}"
                f"<br>{tr('due', lang)}: {fmt_int(d, lang)}"
                for k, c, d in zip(keys, data["complaints"], data["due"], strict=True)
            ],
            hoverinfo="text",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=keys,
            y=hours,
            marker={"color": theme.BLUE, "opacity": opacity, "pattern": hatch},
            text=[fmt_num(v, lang, 0) for v in hours],
            textposition="outside",
            cliponaxis=False,
            hovertext=[
                f"{k}<br>{tr('median_hours_to_resolve', lang)}: {fmt_num(h, lang, 1)}"
                f"<br>{tr('within_target', lang)}: {fmt_pct(s, lang)}"
                for k, h, s in zip(keys, hours, data["resolved_within_target_share"], strict=True)
            ],
            hoverinfo="text",
        ),
        row=2,
        col=1,
    )
    fig.add_hline(
        y=float(target_hours),
        line={"color": theme.TARGET_LINE_COLOR, "dash": "dash", "width": 2},
        annotation_text=f"{tr('target', lang)} {fmt_num(target_hours, lang, 0)} h",
        annotation_position="top left",
        row=2,
        col=1,
    )
    top_hours = max([h for h in hours if h is not None] + [float(target_hours)])
    fig.update_yaxes(range=[0, top_hours * 1.25], row=2, col=1)
    top_rate = max([v for v in per100 if v is not None] + [1.0])
    fig.update_yaxes(range=[0, top_rate * 1.25], row=1, col=1)
    fig.update_xaxes(type="category")
    return styled(fig, lang, height=520, title=title)
