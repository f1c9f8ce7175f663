"""Charts of the headline KPIs: the weekly trend against its target, root-breach impact."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme
from dashboard.charts import empty_figure, percent_axis, plotly_safe, styled
from dashboard.i18n import fmt_date, fmt_pct, t


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
