"""Chart builders: data in, figure out; order, colours, labels and formats checked."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard.charts import percent_axis, separators
from dashboard.charts.kpi import root_impact_figure, weekly_rate_figure, weekly_rate_spec
from dashboard.charts.ontime import (
    delay_distribution_figure,
    rate_by_group_figure,
    renegotiation_figure,
)
from dashboard.ui import theme
from dashboard.ui.i18n import t


def _summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group_key": ["Compras", "Ventas", "Logística"],
            "due": [10, 4, 0],
            "on_time": [5, 4, 0],
            "breaches": [5, 0, 0],
            "pending": [1, 0, 2],
            "on_time_rate": [0.5, 1.0, None],
        }
    )


def test_stage_bars_follow_chain_order_and_carry_their_stage() -> None:
    fig = rate_by_group_figure(_summary(), "es", order=["Ventas", "Compras", "Logística"])
    bar = fig.data[0]
    assert list(bar.x) == ["Ventas", "Compras", "Logística"]
    assert list(bar.y) == [1.0, 0.5, 0.0]
    assert list(bar.customdata) == ["Ventas", "Compras", "Logística"]
    assert list(bar.text) == ["100,0\u00a0%", "50,0\u00a0%", "—"]
    assert fig.layout.separators == ",."


def test_bars_take_the_status_colour_of_their_target() -> None:
    statuses = {"Compras": "red", "Ventas": "green", "Logística": None}
    fig = rate_by_group_figure(_summary(), "en", order=["Ventas", "Compras"], statuses=statuses)
    assert list(fig.data[0].marker.color) == [
        theme.BLUISH_GREEN,
        theme.VERMILLION,
        theme.BLUE,  # no target: neutral, not a status colour
    ]
    assert list(fig.data[0].text) == ["✓ 100.0%", "✗ 50.0%", "—"]


def test_performer_bars_are_horizontal() -> None:
    fig = rate_by_group_figure(_summary(), "en", horizontal=True)
    assert fig.data[0].orientation == "h"
    assert list(fig.data[0].y) == ["Compras", "Ventas", "Logística"]


def test_empty_summary_gives_a_message_not_an_error() -> None:
    fig = rate_by_group_figure(_summary().iloc[0:0], "en")
    assert len(fig.data) == 0
    assert "No commitments" in fig.layout.annotations[0].text


def test_weekly_trend_with_target_line() -> None:
    weekly = pd.DataFrame(
        {"week": [date(2026, 11, 9), date(2026, 11, 2)], "on_time_rate": [0.8, None]}
    )
    fig = weekly_rate_figure(weekly, "es", target=0.85)
    line = fig.data[0]
    assert [pd.Timestamp(x).date() for x in line.x] == [date(2026, 11, 2), date(2026, 11, 9)]
    assert [c[1] for c in line.customdata] == ["—", "80,0\u00a0%"]
    shapes = [s for s in fig.layout.shapes if s.y0 == 0.85 and s.y1 == 0.85]
    assert len(shapes) == 1
    assert "85,0\u00a0%" in fig.layout.annotations[0].text
    assert list(fig.layout.yaxis.ticktext) == [
        "0\u00a0%",
        "20\u00a0%",
        "40\u00a0%",
        "60\u00a0%",
        "80\u00a0%",
        "100\u00a0%",
    ]


def test_weekly_trend_spec_draws_what_the_figure_draws() -> None:
    """The Vega-Lite trend (Resumen) has the figure's points, labels and target line."""
    weekly = pd.DataFrame(
        {"week": [date(2026, 11, 9), date(2026, 11, 2)], "on_time_rate": [0.8, None]}
    )
    spec = weekly_rate_spec(weekly, "es", target=0.85)
    line, rule, label = spec["layer"]
    assert line["data"]["values"] == [
        {"week": "2026-11-02", "rate": None, "partial": False, "week_label": "02/11/2026",
         "rate_label": "—"},
        {"week": "2026-11-09", "rate": 0.8, "partial": False, "week_label": "09/11/2026",
         "rate_label": "80,0\u00a0%"},
    ]  # fmt: skip
    assert rule["mark"]["type"] == "rule" and rule["mark"]["strokeDash"]
    assert rule["data"]["values"] == [{"target": 0.85, "label": "Meta 85,0\u00a0%"}]
    assert label["encoding"]["text"] == {"field": "label"}
    ticks = line["encoding"]["x"]["axis"]["values"]  # each week's Monday, at UTC midnight
    assert ticks == [
        {"year": 2026, "month": 11, "date": 2, "utc": True},
        {"year": 2026, "month": 11, "date": 9, "utc": True},
    ]
    axis = line["encoding"]["y"]["axis"]
    assert axis["values"] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert axis["labelExpr"].endswith("+ '\u00a0%'")  # `80\u00a0%` in Spanish, as the cards
    english = weekly_rate_spec(weekly, "en")
    assert len(english["layer"]) == 1  # no target, no line for it
    assert english["layer"][0]["encoding"]["y"]["axis"]["labelExpr"].endswith("+ '%'")
    assert english["layer"][0]["data"]["values"][1]["rate_label"] == "80.0%"


def test_weekly_trend_spec_marks_a_partial_week() -> None:
    """A week still running (or cut by the period) is reached by the dashed line only,
    drawn hollow, and says so in its tooltip; full weeks are on the solid line."""
    weekly = pd.DataFrame(
        {
            "week": [date(2026, 11, 9), date(2026, 11, 16)],
            "partial": [False, True],
            "on_time_rate": [0.8, 0.5],
        }
    )
    (line,) = weekly_rate_spec(weekly, "es")["layer"]
    values = line["data"]["values"]
    assert [v["partial"] for v in values] == [False, True]
    assert values[1]["week_label"] == "16/11/2026 (semana parcial)"
    dashed, solid, full_points, partial_points = line["layer"]
    assert dashed["mark"]["strokeDash"] and "transform" not in dashed
    assert solid["transform"] == [{"filter": "!datum.partial"}]
    assert full_points["mark"]["filled"] is True
    assert partial_points["transform"] == [{"filter": "datum.partial"}]
    assert partial_points["mark"]["fill"] == "white"


def test_weekly_trend_spec_without_data_says_so() -> None:
    spec = weekly_rate_spec(pd.DataFrame(), "en")
    assert spec["mark"]["type"] == "text"
    assert spec["data"]["values"] == [{"message": t("no_data_filter", "en")}]


def test_weekly_trend_without_data_or_target() -> None:
    assert len(weekly_rate_figure(pd.DataFrame(), "en").data) == 0
    weekly = pd.DataFrame({"week": [date(2026, 11, 9)], "on_time_rate": [0.5]})
    assert len(weekly_rate_figure(weekly, "en").layout.shapes) == 0


def test_delay_distribution_histogram_and_box_hold_every_breach() -> None:
    delays = pd.DataFrame({"delay_days": [1.0, 2.5, 2.5, 10.0, None]})
    fig = delay_distribution_figure(delays, "en")
    box = next(trace for trace in fig.data if trace.type == "box")
    bars = next(trace for trace in fig.data if trace.type == "bar")
    assert list(box.x) == [1.0, 2.5, 2.5, 10.0]
    assert sum(bars.y) == 4  # every breach in one bin
    # bins cover 1..10 without gaps
    lefts = [x - w / 2 for x, w in zip(bars.x, bars.width, strict=True)]
    assert lefts[0] == 1.0 and sum(bars.width) == 9.0
    assert fig.layout.yaxis2.dtick == 1


def test_renegotiation_compares_both_promises() -> None:
    reneg = pd.DataFrame(
        {
            "group_key": ["Compras", "Ventas"],
            "renegotiated": [4, 0],
            "on_time_vs_due": [3, 0],
            "on_time_rate_vs_due": [0.75, None],
            "on_time_vs_original": [1, 0],
            "on_time_rate_vs_original": [0.25, None],
        }
    )
    fig = renegotiation_figure(reneg, "es")
    assert [list(trace.y) for trace in fig.data] == [[0.75], [0.25]]
    assert [list(trace.text) for trace in fig.data] == [["75,0\u00a0%"], ["25,0\u00a0%"]]
    assert len(renegotiation_figure(reneg.iloc[1:], "es").data) == 0


def test_root_impact_bars_largest_on_top() -> None:
    roots = pd.DataFrame(
        {"root_id": ["R1", "R2"], "process": ["Compras", "Ventas"], "impact": [2, 7]}
    )
    fig = root_impact_figure(roots, "en")
    assert list(fig.data[0].x) == [2, 7]  # plotly draws the last bar on top


def test_language_separators_and_percent_axis() -> None:
    assert separators("es") == ",." and separators("en") == ".,"
    assert percent_axis("en")["ticktext"][-1] == "100%"


def test_names_in_charts_are_text_not_html() -> None:
    summary = _summary().assign(group_key=["<b>Compras</b>", "Ventas & Co", "Logística"])
    fig = rate_by_group_figure(summary, "en")
    assert list(fig.data[0].x) == ["<b>Compras</b>", "Ventas & Co", "Logística"]  # clicks
    assert list(fig.layout.xaxis.ticktext) == [
        "&lt;b&gt;Compras&lt;/b&gt;",
        "Ventas &amp; Co",
        "Logística",
    ]
    assert all("<b>" not in h for h in fig.data[0].hovertext)
