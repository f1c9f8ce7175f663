"""Charts of on-time delivery: rate by stage or performer, breach delay, renegotiations."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.charts import empty_figure, percent_axis, plotly_safe, styled
from dashboard.metrics.process_map import in_chain_order
from dashboard.ui import theme
from dashboard.ui.i18n import fmt_int, fmt_num, fmt_pct, t


def rate_by_group_figure(
    summary: pd.DataFrame,
    lang: str,
    *,
    order: Sequence[str] | None = None,
    statuses: Mapping[str, str | None] | None = None,
    horizontal: bool = False,
    title: str | None = None,
) -> go.Figure:
    """On-time rate per group (on_time_summary grouped by process or performer) as bars.

    Bars follow `order` (chain order for stages); groups not in it go last. Each bar
    carries its group in `customdata` so a click (Streamlit selection event) tells the
    page which group was chosen. Bars are coloured by their target status when known.
    """
    if summary.empty:
        return empty_figure(t("no_data_filter", lang), lang)
    data = summary.copy()
    data["group_key"] = data["group_key"].astype(str)
    if order is not None:
        data = in_chain_order(data, order)
    rates = [float(v) if pd.notna(v) else 0.0 for v in data["on_time_rate"]]
    texts = [fmt_pct(v if pd.notna(v) else None, lang) for v in data["on_time_rate"]]
    # Never colour alone: a bar judged against a target also carries its symbol.
    labels = [
        f"{theme.STATUS_SYMBOLS[status]} {text}"
        if (status := (statuses or {}).get(k)) in theme.STATUS_SYMBOLS
        else text
        for k, text in zip(data["group_key"], texts, strict=True)
    ]
    # A bar with a target takes its light's colour; without one it stays neutral blue.
    colors = [
        theme.status_color(status) if (status := (statuses or {}).get(k)) else theme.BLUE
        for k in data["group_key"]
    ]
    hover = [
        f"{plotly_safe(k)}<br>{t('on_time_rate', lang)}: {txt}"
        f"<br>{t('due', lang)}: {fmt_int(d, lang)}"
        f"<br>{t('kpi_breaches', lang)}: {fmt_int(b, lang)}"
        for k, txt, d, b in zip(
            data["group_key"], texts, data["due"], data["breaches"], strict=True
        )
    ]
    keys = list(data["group_key"])
    bar = go.Bar(
        x=rates if horizontal else keys,
        y=keys if horizontal else rates,
        orientation="h" if horizontal else "v",
        marker_color=colors,
        text=labels,
        textposition="auto",
        customdata=keys,
        hovertext=hover,
        hoverinfo="text",
    )
    fig = go.Figure(bar)
    axis = {**percent_axis(lang), "title": t("kpi_on_time_rate", lang)}
    names = {"tickvals": keys, "ticktext": [plotly_safe(k) for k in keys]}
    if horizontal:
        fig.update_xaxes(**axis)
        fig.update_yaxes(autorange="reversed", **names)
        height = max(240, 60 + 36 * len(keys))
    else:
        fig.update_yaxes(**axis)
        fig.update_xaxes(**names)
        height = 380
    fig.update_layout(clickmode="event+select", dragmode=False)
    return styled(fig, lang, height=height, title=title)


def delay_distribution_figure(
    delays: pd.DataFrame, lang: str, *, title: str | None = None
) -> go.Figure:
    """Breach delays in days (delay_distribution): a histogram with a box plot above it,
    so the median and the long tail (p90) are visible together.
    """
    values = (
        delays["delay_days"].dropna().astype(float)
        if "delay_days" in delays
        else pd.Series(dtype=float)
    )
    if len(values) == 0:
        return empty_figure(t("no_data_filter", lang), lang)
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.25, 0.75], vertical_spacing=0.03
    )
    fig.add_trace(
        go.Box(x=values, marker_color=theme.VERMILLION, boxpoints=False, name=""), row=1, col=1
    )
    counts, edges = np.histogram(np.asarray(values, dtype=float), bins=_bins(len(values)))
    hover = [
        f"{fmt_num(lo, lang, 1)} – {fmt_num(hi, lang, 1)}: {fmt_int(n, lang)}"
        for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True)
    ]
    fig.add_trace(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=counts,
            width=np.diff(edges),
            marker_color=theme.VERMILLION,
            opacity=0.85,
            hovertext=hover,
            hoverinfo="text",
        ),
        row=2,
        col=1,
    )
    # counts are whole numbers: never a tick at 0,2 breaches
    fig.update_yaxes(dtick=max(1, math.ceil(int(counts.max()) / 5)), row=2, col=1)
    fig.update_yaxes(visible=False, row=1, col=1)
    fig.update_xaxes(title=t("delay_days", lang), rangemode="tozero", row=2, col=1)
    fig.update_yaxes(title=t("kpi_breaches", lang), row=2, col=1)
    return styled(fig, lang, height=360, title=title)


def _bins(n: int) -> int:
    """Histogram bins: enough to show a shape, never more than the breaches themselves."""
    return max(1, min(30, n, round(2 * math.cbrt(n))))


def renegotiation_figure(
    reneg: pd.DataFrame,
    lang: str,
    *,
    order: Sequence[str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """On-time rate of renegotiated commitments against the promise in force and against
    the original promise, per group: the gap is what renegotiation hides.
    """
    data = reneg[reneg["renegotiated"].fillna(0) > 0] if not reneg.empty else reneg
    if order is not None and not data.empty:
        data = in_chain_order(data, order)
    if data.empty:
        return empty_figure(t("no_renegotiated", lang), lang)
    keys = [
        plotly_safe(k) if k is not None and pd.notna(k) else t("renegotiated", lang)
        for k in data["group_key"]
    ]
    fig = go.Figure()
    for column, label, color in (
        ("on_time_rate_vs_due", t("vs_due", lang), theme.BLUE),
        ("on_time_rate_vs_original", t("vs_original", lang), theme.ORANGE),
    ):
        values = [float(v) if pd.notna(v) else 0.0 for v in data[column]]
        fig.add_trace(
            go.Bar(
                x=keys,
                y=values,
                name=label,
                marker_color=color,
                text=[fmt_pct(v if pd.notna(v) else None, lang) for v in data[column]],
                textposition="outside",
                textangle=0,
                cliponaxis=False,
            )
        )
    fig.update_yaxes(**percent_axis(lang), title=t("kpi_on_time_rate", lang))
    fig.update_yaxes(range=[0, 1.15])  # room for the labels above full bars
    styled(fig, lang, height=340, title=title)
    fig.update_layout(barmode="group", showlegend=True, legend={"orientation": "h", "y": -0.15})
    return fig
