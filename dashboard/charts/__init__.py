"""Pure `DataFrame → plotly Figure` builders shared by pages and reports (no streamlit).

One exception, `kpi.weekly_rate_spec`: Resumen's trend as a Vega-Lite spec (a dict), the
renderer the page's KPI sparklines load anyway, so the landing page needs no Plotly.

Every builder takes the language so axis titles, tick separators and labels match the
rest of the page, and uses the palette in dashboard.ui.theme.
"""

from __future__ import annotations

import html
import math
from typing import Any, SupportsFloat, SupportsIndex

import plotly.graph_objects as go

from dashboard.ui import theme
from dashboard.ui.i18n import fmt_pct, norm_lang


def number_or_none(value: object) -> float | None:
    """A float, or None for None/NaN/NA/non-numbers: metric frames mix them, and plotly
    and the cache want plain floats."""
    if not isinstance(value, SupportsFloat | SupportsIndex | str | bytes):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def separators(lang: str) -> str:
    """Plotly's decimal and thousands separators for a language ("," and "." in Spanish)."""
    return ",." if norm_lang(lang) == "es" else ".,"


def plotly_safe(value: object) -> str:
    """User text for Plotly labels: Plotly renders a subset of HTML (<b>, <a href>) in
    ticks, hovers and annotations, so `<`, `>` and `&` become entities and show as typed.
    """
    return html.escape(str(value), quote=False)


def styled(fig: go.Figure, lang: str, *, height: int = 360, title: str | None = None) -> go.Figure:
    """Apply the common look: palette font, separators, tight margins, no mode bar clutter."""
    fig.update_layout(
        height=height,
        separators=separators(lang),
        font={"family": theme.FONT_FAMILY, "size": theme.FONT_SIZE, "color": "#111111"},
        colorway=list(theme.PALETTE),
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
        plot_bgcolor="#FFFFFF",
        paper_bgcolor="#FFFFFF",
        showlegend=False,
        title={"text": title} if title else None,
    )
    fig.update_xaxes(showgrid=False, linecolor=theme.LIGHT_GREY)
    fig.update_yaxes(gridcolor=theme.LIGHT_GREY, zeroline=False)
    return fig


def print_ready(fig: go.Figure, *, width: int = 1000) -> go.Figure:
    """The figure laid out for a document rather than a page column: a fixed width, and
    margins that grow to fit tick labels and axis titles (`styled` keeps them tight for
    the dashboard), so a static pack never cuts "80 %" to "%" or a bar's label to one
    letter, and an axis title never sits on its ticks. Returns a new figure."""
    out = go.Figure(fig)
    out.update_layout(
        width=width,
        autosize=False,
        margin={"l": 80, "r": 40, "t": out.layout.margin.t or 20, "b": 70, "pad": 4},
    )
    out.update_xaxes(automargin=True, title_standoff=14)
    out.update_yaxes(automargin=True, title_standoff=14)
    out.update_traces(cliponaxis=False, selector={"type": "bar"})
    out.update_traces(textposition="outside", selector={"type": "bar"})
    return out


def empty_figure(message: str, lang: str, *, height: int = 240) -> go.Figure:
    """A blank chart that says why it is blank (no data in the filter)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 16, "color": theme.GREY})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return styled(fig, lang, height=height)


def percent_axis(lang: str) -> dict[str, Any]:
    """A 0..1 axis labelled as percentages in the language's format (`80 %` / `80%`)."""
    ticks = [i / 5 for i in range(6)]
    return {
        "range": [0, 1.05],
        "tickvals": ticks,
        "ticktext": [fmt_pct(v, lang, 0) for v in ticks],
    }
