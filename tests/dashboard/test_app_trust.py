"""Pages that must not contradict themselves (issue 14, items 8-17), page by page in
AppTest; the browser-only faults (glyph boxes, contrast, mixed languages) are in
test_browser.py."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.i18n import fmt_kpi, t
from dashboard.metrics.ontime import on_time_summary
from dashboard.state import parse_view
from tests.dashboard.conftest import make_app

AS_OF = datetime(2026, 11, 20, 17, 0)  # the sample's own as_of


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_language_switch_sends_the_sidebar_choices_in_the_new_labels(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    """The browser keeps a selectbox choice as its label: unless the server re-sends the
    value on a switch, the old label matches no option and the period falls back to the
    first one (a second switch turned ?period=26w into four weeks)."""
    at = _run(make_app(monkeypatch, sample_db_url, period="26w", dir="from_customer"))
    for lang in ("en", "es", "en"):
        at.segmented_control(key="w_lang").set_value(lang)
        _run(at)
        period = at.selectbox(key="w_period")
        assert period.proto.set_value and period.proto.raw_value == t("period_26w", lang)
        direction = at.radio(key="w_dir")
        assert direction.proto.set_value
        assert direction.proto.raw_value == t("direction_from_customer", lang)
        assert at.query_params.get("period") == "26w"
    # a run without a switch sends nothing (the browser's own value stands)
    _run(at)
    assert not at.selectbox(key="w_period").proto.set_value


def _trend_points(at: AppTest) -> list[dict]:
    """The weekly points of Resumen's trend chart (its Vega-Lite data)."""
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    return spec["layer"][0]["data"]["values"]


def _card(at: AppTest, kpi: str, lang: str = "es") -> str:
    return next(m.value for m in at.metric if m.label == t(f"kpi_{kpi}", lang))


def test_resumen_cards_and_trend_follow_the_direction_filter(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    """"Compromisos del cliente con nosotros" changes the subtitle and the table, and
    the cards and the trend with them: the on-time card is then the on-time rate of
    customer commitments, and each trend point that of its week."""
    at = _run(make_app(monkeypatch, sample_db_url, dir="from_customer"))
    f = parse_view({"dir": "from_customer"}).to_filter(AS_OF)
    with sample_engine.connect() as conn:
        whole = on_time_summary(conn, f).iloc[0]
        ours = on_time_summary(conn, f.with_(direction="to_customer")).iloc[0]
        by_week = on_time_summary(conn, f.with_(group_by="week"))
    assert whole["on_time_rate"] != ours["on_time_rate"]
    assert _card(at, "on_time_rate") == fmt_kpi("on_time_rate", whole["on_time_rate"], "es")
    assert _card(at, "breaches") == fmt_kpi("breaches", whole["breaches"], "es")
    rates = {str(r["group_key"]): r["on_time_rate"] for _, r in by_week.iterrows()}
    points = [p for p in _trend_points(at) if p["rate"] is not None]
    assert points and all(p["rate"] == pytest.approx(rates[p["week"]]) for p in points)


def test_resumen_cards_and_trend_speak_of_the_same_commitments(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    """A period of only the running week (as_of is Friday 20/11): the cards count its
    due commitments, and the trend shows that same week, marked partial, with the
    card's rate (it used to show only full weeks: "no commitments" beside "1 breach")."""
    query = {"period": "custom", "from": "2026-11-16", "to": "2026-11-20"}
    at = _run(make_app(monkeypatch, sample_db_url, **query))
    f = parse_view(query).to_filter(AS_OF)
    with sample_engine.connect() as conn:
        whole = on_time_summary(conn, f).iloc[0]
    assert whole["due"] > 0
    assert _card(at, "breaches") == fmt_kpi("breaches", whole["breaches"], "es")
    (point,) = _trend_points(at)
    assert (point["week"], point["partial"]) == ("2026-11-16", True)
    assert point["rate_label"] == _card(at, "on_time_rate")
