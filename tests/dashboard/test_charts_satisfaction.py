"""dashboard.charts.satisfaction on hand-made frames: weeks and stages in order, status
colours and the hatch that tells a propagated breach from a root one, the target line."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard.charts.satisfaction import (
    breach_cost_figure,
    complaints_figure,
    satisfaction_figure,
)
from dashboard.ui import theme
from dashboard.ui.texts import tr


def _summary(keys: list[object], csat: list[float | None], nps: list[float | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group_key": keys,
            "responses": [10] * len(keys),
            "csat_pct": csat,
            "nps": nps,
        }
    )


def test_weekly_satisfaction_in_week_order_with_language_formats() -> None:
    weekly = _summary([date(2026, 11, 9), date(2026, 11, 2)], [0.5, 0.875], [-20.0, 40.0])
    csat, nps = satisfaction_figure(weekly, "es", by_week=True).data
    assert list(csat.x) == ["02/11/2026", "09/11/2026"]
    assert list(csat.y) == [0.875, 0.5]
    assert list(csat.text) == ["88\u00a0%", "50\u00a0%"]
    assert list(nps.y) == [40.0, -20.0] and nps.xaxis == "x2"
    csat_en = satisfaction_figure(weekly, "en", by_week=True).data[0]
    assert list(csat_en.x) == ["2026-11-02", "2026-11-09"] and list(csat_en.text) == ["88%", "50%"]


def test_satisfaction_by_stage_follows_the_chain_and_skips_no_group() -> None:
    staged = _summary(["Compras", None, "Ventas"], [0.6, 0.1, 0.9], [10.0, 0.0, 50.0])
    csat = satisfaction_figure(staged, "en", by_week=False, order=["Ventas", "Compras"]).data[0]
    assert list(csat.x) == ["Ventas", "Compras"] and list(csat.y) == [0.9, 0.6]
    empty = satisfaction_figure(staged.iloc[0:0], "en", by_week=False)
    assert empty.layout.annotations[0].text == tr("no_responses", "en")


def test_breach_cost_bars_keep_the_status_colours() -> None:
    by_status = pd.DataFrame(
        {
            "status": ["on_time", "root_breach", "propagated_breach"],
            "responses": [465, 22, 38],
            "csat_responses": [448, 20, 35],
            "csat_pct": [0.841518, 0.55, None],
            "csat_mean": [4.2, 3.5, None],
            "nps_responses": [448, 22, 0],
            "nps": [33.7, -9.1, None],
        }
    )
    bar = breach_cost_figure(by_status, "es").data[0]
    assert list(bar.x) == [tr(f"status_{s}", "es") for s in by_status["status"]]
    assert list(bar.marker.color) == [theme.BLUISH_GREEN, theme.VERMILLION, theme.VERMILLION]
    assert list(bar.marker.pattern.shape) == ["", "", "/"]
    assert list(bar.text) == ["84,2\u00a0% (n = 448)", "55,0\u00a0% (n = 20)", "— (n = 35)"]
    assert list(bar.y) == [0.841518, 0.55, 0.0]


def test_complaints_chart_draws_the_target_hours() -> None:
    weekly = pd.DataFrame(
        {
            "group_key": [date(2026, 11, 2), date(2026, 11, 9)],
            "complaints": [3, 0],
            "due": [174, 192],
            "complaints_per_100": [1.724138, 0.0],
            "resolved": [3, 0],
            "median_hours_to_resolve": [80.08, None],
            "resolved_within_target_share": [1 / 3, None],
        }
    )
    fig = complaints_figure(weekly, "en", by_week=True, target_hours=48)
    per100, hours = fig.data
    assert list(per100.text) == ["1.7", "0.0"]
    assert list(hours.y) == [80.08, None]
    line = next(s for s in fig.layout.shapes if s.type == "line")
    assert line.y0 == line.y1 == 48.0
    assert any(a.text == "Target 48 h" for a in fig.layout.annotations)
    nothing = complaints_figure(weekly.assign(complaints=0), "en", by_week=True, target_hours=72)
    assert nothing.layout.annotations[0].text == tr("no_data_filter", "en")


def test_stage_names_are_escaped_for_plotly() -> None:
    staged = _summary(["<a href='x'>Ventas</a>"], [0.9], [50.0])
    csat = satisfaction_figure(staged, "en", by_week=False).data[0]
    assert list(csat.x) == ["&lt;a href='x'&gt;Ventas&lt;/a&gt;"]
