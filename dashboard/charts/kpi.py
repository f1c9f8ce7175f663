"""Charts of the headline KPIs: the weekly trend against its target, root-breach impact."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts import empty_figure, percent_axis, plotly_safe, styled
from dashboard.ui import theme
from dashboard.ui.i18n import fmt_date, fmt_pct, norm_lang, t


def weekly_rate_figure(
    weekly: pd.DataFrame,
    lang: str,
    *,
    kpi: str = "on_time_rate",
    target: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """A 0..1 KPI by ISO week (columns `week`, `<kpi>`) as a line, with the target as a
    dashed line so a meeting sees at once which weeks fell short.
    """
    if weekly.empty or kpi not in weekly or weekly[kpi].isna().all():
        return empty_figure(t("no_data_filter", lang), lang)
    data = weekly.sort_values("week")
    values = data[kpi].astype("float")
    labels = [fmt_pct(v if pd.notna(v) else None, lang) for v in values]
    weeks = [fmt_date(pd.Timestamp(w).date(), lang) for w in data["week"]]
    fig = go.Figure(
        go.Scatter(
            x=pd.to_datetime(data["week"]),
            y=values,
            mode="lines+markers",
            line={"color": theme.BLUE, "width": 3},
            marker={"size": 8},
            name=t(f"kpi_{kpi}", lang),
            customdata=list(zip(weeks, labels, strict=True)),
            hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>",
        )
    )
    if target is not None:
        fig.add_hline(
            y=target,
            line={"color": theme.TARGET_LINE_COLOR, "dash": "dash", "width": 2},
            annotation_text=f"{t('target', lang)} {fmt_pct(target, lang)}",
            annotation_position="top left",
        )
    fig.update_yaxes(**percent_axis(lang))
    fig.update_xaxes(title=t("week", lang), tickformat="%d/%m" if lang == "es" else "%m-%d")
    return styled(fig, lang, title=title)


def weekly_rate_spec(
    weekly: pd.DataFrame, lang: str, *, kpi: str = "on_time_rate", target: float | None = None
) -> dict[str, Any]:
    """`weekly_rate_figure` as a Vega-Lite spec: the same points, target and labels.

    For the landing page (Resumen): its KPI cards draw their sparklines with Streamlit's
    Vega-Lite renderer anyway, so this chart adds no code to the page, where one Plotly
    chart made the browser load and run Plotly's 4.7 MB bundle first (about 1 s of a
    cold first render in headless Chromium; docs/benchmarks.md).
    """
    if weekly.empty or kpi not in weekly or weekly[kpi].isna().all():
        return {
            "height": 240,
            "data": {"values": [{"message": t("no_data_filter", lang)}]},
            "mark": {
                "type": "text",
                "font": theme.FONT_FAMILY,
                "fontSize": 16,
                "color": theme.GREY,
            },
            "encoding": {"text": {"field": "message"}},
            "config": {"view": {"stroke": None}},
        }
    data = weekly.sort_values("week")
    partial_flags = data["partial"] if "partial" in data else pd.Series(False, index=data.index)
    partial_word = t("week_partial", lang)
    points = []
    ticks = []  # a tick on each week's Monday, as a Vega-Lite DateTime at UTC midnight
    for week, value, partial in zip(
        data["week"], data[kpi].astype("float"), partial_flags, strict=True
    ):
        day = pd.Timestamp(week)
        rate = None if pd.isna(value) else float(value)
        ticks.append({"year": day.year, "month": day.month, "date": day.day, "utc": True})
        label = fmt_date(day.date(), lang)
        points.append(
            {
                "week": day.strftime("%Y-%m-%d"),
                "rate": rate,
                "partial": bool(partial),
                "week_label": f"{label} ({partial_word})" if partial else label,
                "rate_label": fmt_pct(rate, lang),
            }
        )
    spanish = norm_lang(lang) == "es"
    suffix = fmt_pct(0, lang, 0).removeprefix("0")  # the cards' percent form: "\u00a0%" / "%"
    x_axis = {
        "field": "week",
        "type": "temporal",
        "scale": {"type": "utc"},  # dates as written, whatever the browser's zone
        "title": t("week", lang),
        "axis": {
            "format": "%d/%m" if spanish else "%m-%d",
            "grid": False,
            "values": ticks,  # not Vega's own every-few-days ticks
        },
    }
    y_axis = {
        "field": "rate",
        "type": "quantitative",
        "scale": {"domain": [0, 1.05]},
        "title": None,
        "axis": {
            "values": [i / 5 for i in range(6)],
            "labelExpr": f"format(datum.value * 100, '.0f') + '{suffix}'",
        },
    }
    tooltip = [
        {"field": "week_label", "title": t("week", lang)},
        {"field": "rate_label", "title": t(f"kpi_{kpi}", lang)},
    ]
    full_only = {"filter": "!datum.partial"}
    partial_only = {"filter": "datum.partial"}
    # A partial week (still running, or cut by the period) is drawn apart: reached by a
    # dashed segment, its point hollow, its tooltip saying so; full weeks are solid.
    line = {
        "data": {"values": points},
        "encoding": {"x": x_axis, "y": y_axis},
        "layer": [
            {
                "mark": {
                    "type": "line",
                    "color": theme.BLUE,
                    "strokeWidth": 2,
                    "strokeDash": [5, 4],
                },
            },
            {
                "transform": [full_only],
                "mark": {"type": "line", "color": theme.BLUE, "strokeWidth": 3},
            },
            {
                "transform": [full_only],
                "mark": {"type": "point", "size": 64, "filled": True, "color": theme.BLUE},
                "encoding": {"tooltip": tooltip},
            },
            {
                "transform": [partial_only],
                "mark": {
                    "type": "point",
                    "size": 90,
                    "filled": True,
                    "fill": "white",
                    "stroke": theme.BLUE,
                    "strokeWidth": 2,
                },
                "encoding": {"tooltip": tooltip},
            },
        ],
    }
    layers: list[dict[str, Any]] = [line]
    if target is not None:
        label = f"{t('target', lang)} {fmt_pct(target, lang)}"
        target_data = {"values": [{"target": target, "label": label}]}
        layers.append(
            {
                "data": target_data,
                "mark": {
                    "type": "rule",
                    "color": theme.TARGET_LINE_COLOR,
                    "strokeDash": [6, 4],
                    "strokeWidth": 2,
                },
                "encoding": {"y": {"field": "target", "type": "quantitative"}},
            }
        )
        layers.append(
            {
                "data": target_data,
                "mark": {
                    "type": "text",
                    "align": "left",
                    "dy": -10,
                    "x": 4,
                    "font": theme.FONT_FAMILY,
                    "fontSize": theme.FONT_SIZE,
                },
                "encoding": {
                    "y": {"field": "target", "type": "quantitative"},
                    "text": {"field": "label"},
                },
            }
        )
    axis_font = {
        "labelFont": theme.FONT_FAMILY,
        "labelFontSize": theme.FONT_SIZE,
        "titleFont": theme.FONT_FAMILY,
        "titleFontSize": theme.FONT_SIZE,
    }
    return {"height": 360, "layer": layers, "config": {"axis": axis_font}}


def root_impact_figure(roots: pd.DataFrame, lang: str, *, title: str | None = None) -> go.Figure:
    """Root breaches (columns root_id, process, impact) as horizontal bars, largest on top."""
    if roots.empty:
        return empty_figure(t("no_roots", lang), lang)
    data = roots.sort_values(["impact", "root_id"], ascending=[True, False])
    fig = go.Figure(
        go.Bar(
            x=data["impact"],
            y=[
                plotly_safe(f"{r} · {p}")
                for r, p in zip(data["root_id"], data["process"], strict=True)
            ],
            orientation="h",
            marker_color=theme.VERMILLION,
            text=data["impact"],
            textposition="auto",
        )
    )
    fig.update_xaxes(title=t("col_impact", lang))
    return styled(fig, lang, height=80 + 40 * len(data), title=title)
