"""The weekly review of 2026-W47 on the hand-worked chain (tests/dashboard/world.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.records import RecordError
from dashboard.records.actions import create_action
from dashboard.records.targets import set_target
from dashboard.services.review import (
    default_review_week,
    review_weeks,
    week_and_previous,
    weekly_review,
)
from tests.dashboard.world import AS_OF, WEEK, load_chain_world


def _seed(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.begin() as conn:
        set_target(conn, "on_time_rate", 0.9, "higher", 0.05, date(2026, 1, 1), "Marta")
        set_target(conn, "breaches", 1, "lower", 1, date(2026, 1, 1), "Marta")
        # valid only after the review's as_of: never used for this review
        set_target(conn, "on_time_rate", 0.2, "higher", 0.0, datetime(2026, 11, 21), "Luis")
        create_action(conn, "2026-W46", "Llamar a Compras", "Ruth", date(2026, 11, 18))
        create_action(conn, "2026-W47", "Plan B tornillos", "Ana")


def test_review_numbers_worked_by_hand(engine: sa.Engine) -> None:
    _seed(engine)
    with engine.connect() as conn:
        review = weekly_review(conn, WEEK, AS_OF)
    assert (review.monday, review.sunday) == (date(2026, 11, 16), date(2026, 11, 22))
    kpis = review.kpis.set_index("kpi")
    # W47 due population: U1, U2, D2 breached; G2 on time. W46: P1 on time.
    assert kpis.loc["due", "current"] == 4 and kpis.loc["due", "previous"] == 1
    assert kpis.loc["on_time_rate", "current"] == pytest.approx(0.25)
    assert kpis.loc["on_time_rate", "previous"] == pytest.approx(1.0)
    assert kpis.loc["on_time_rate", "delta"] == pytest.approx(-0.75)
    assert kpis.loc["on_time_rate", "target_value"] == pytest.approx(0.9)
    assert kpis.loc["on_time_rate", "status"] == "red"
    assert kpis.loc["on_time_rate", "previous_status"] == "green"
    # breaches: 3 against a target of 1 with tolerance 1 -> 2 over: red; W46 had 0: green
    assert kpis.loc["breaches", "current"] == 3
    assert (kpis.loc["breaches", "status"], kpis.loc["breaches", "previous_status"]) == (
        "red",
        "green",
    )
    assert kpis.loc["nps", "status"] is None  # no target, no light
    assert review.on_time_target == pytest.approx(0.9)
    # roots: U1 (nothing propagated from it yet) and U2 (D2 propagated, customer Acme)
    roots = review.roots.set_index("root_id")
    assert sorted(roots.index) == ["U1", "U2"]
    assert roots.loc["U2", "impact"] == 1 and roots.loc["U2", "external_customer_names"] == "Acme"
    assert roots.loc["U1", "impact"] == 0
    assert list(review.breached["commitment_id"]) == ["U1", "U2", "D2"]
    # next week (W48): G1 due Tue 24, D1 due Wed 25, both behind a breached upstream
    assert list(review.at_risk_next_week["commitment_id"]) == ["G1", "D1"]
    assert list(review.actions["what"]) == ["Llamar a Compras", "Plan B tornillos"]
    assert list(review.actions["carried"]) == [True, False]
    # W47 has not ended at as_of (Friday): the trend's last full week is W46
    assert review.trend["week"].iloc[-1] == date(2026, 11, 9)
    assert len(review.trend) == 8


def test_review_respects_the_base_filter_and_refuses_bad_weeks(engine: sa.Engine) -> None:
    _seed(engine)
    base = MetricFilter(as_of=AS_OF, processes=("Entrega",))
    with engine.connect() as conn:
        review = weekly_review(conn, WEEK, AS_OF, base)
        with pytest.raises(RecordError):
            weekly_review(conn, "2026-47", AS_OF)
    kpis = review.kpis.set_index("kpi")
    # Entrega in W47: D2 breach, G2 on time
    assert kpis.loc["due", "current"] == 2
    assert kpis.loc["on_time_rate", "current"] == pytest.approx(0.5)
    assert list(review.breached["commitment_id"]) == ["D2"]
    assert list(review.roots["root_id"]) == []  # D2 is propagated, not a root
    assert "Entrega" in review.scope.describe("en")


def test_the_week_a_review_opens_on() -> None:
    """Wednesday 2026-11-25 (W48): the last whole week is W47; a Sunday evening's last whole
    week is the one before its own (W47 still runs on 11-22 23:00); Monday 00:00 ends W47."""
    assert default_review_week(datetime(2026, 11, 25, 9)) == "2026-W47"
    assert default_review_week(datetime(2026, 11, 22, 23)) == "2026-W46"
    assert default_review_week(datetime(2026, 11, 23, 0)) == "2026-W47"
    # ISO years: Monday 2026-01-05 is in 2026-W02, so the last whole week is 2026-W01
    assert default_review_week(datetime(2026, 1, 5, 12)) == "2026-W01"
    offered = review_weeks(datetime(2026, 11, 25, 9))
    assert offered[:3] == ["2026-W48", "2026-W47", "2026-W46"]
    assert len(offered) == 26 and offered[-1] == "2026-W23"


def test_the_review_chart_draws_the_ten_largest_roots(engine: sa.Engine) -> None:
    """The page, the HTML and the PDF draw the same roots: the ten first of the ranking."""
    _seed(engine)
    with engine.connect() as conn:
        review = weekly_review(conn, WEEK, AS_OF)
    ranked = pd.DataFrame({"root_id": [f"r{i:02d}" for i in range(12)], "impact": range(12, 0, -1)})
    drawn = replace(review, roots=ranked).chart_roots()
    assert drawn["root_id"].tolist() == [f"r{i:02d}" for i in range(10)]


def test_a_week_and_the_week_before_it() -> None:
    """2026-W01 starts Monday 2025-12-29; the week before is 2025-W52 (12-22..12-28)."""
    base = MetricFilter(as_of=AS_OF, processes=("Compras",))
    week, previous = week_and_previous(base, "2026-W01")
    assert (week.date_from, week.date_to) == (date(2025, 12, 29), date(2026, 1, 4))
    assert (previous.date_from, previous.date_to) == (date(2025, 12, 22), date(2025, 12, 28))
    assert week.processes == previous.processes == ("Compras",)
