"""Targets in force and the traffic light, worked out by hand."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.targets import (
    judgement_instant,
    kpi_target_status,
    kpi_target_value,
    stage_target_status,
    target_status,
    targets_in_force,
)
from etl.schema import targets

AS_OF = datetime(2026, 3, 10, 12, 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.95, "green"),
        (0.92, "green"),
        (0.9, "green"),
        (0.87, "amber"),
        (0.85, "amber"),  # 0.9 - 0.05 is 0.8500000000000001 in floats: still amber
        (0.8499, "red"),
        (0.84, "red"),
        (None, None),
        (math.nan, None),
    ],
)
def test_higher_is_better(value: float | None, expected: str | None) -> None:
    row = {"target_value": 0.9, "direction": "higher", "amber_tolerance": 0.05}
    assert target_status(value, row) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(1.5, "green"), (2.0, "green"), (3.0, "amber"), (3.01, "red")]
)
def test_lower_is_better(value: float, expected: str) -> None:
    row = {"target_value": 2.0, "direction": "lower", "amber_tolerance": 1.0}
    assert target_status(value, row) == expected


def test_no_target_no_light() -> None:
    assert target_status(0.5, None) is None
    # no tolerance: anything short of the target is red
    assert target_status(0.89, {"target_value": 0.9, "direction": "higher",
                                "amber_tolerance": None}) == "red"  # fmt: skip
    with pytest.raises(ValueError, match="direction"):
        target_status(1.0, {"target_value": 1, "direction": "up", "amber_tolerance": 0})


def _target(tid: int, kpi: str, value: float, direction: str, tol: float, valid: datetime,
            process: str | None = None, set_at: datetime | None = None) -> dict:  # fmt: skip
    return {"target_id": tid, "kpi": kpi, "process": process, "target_value": value,
            "direction": direction, "amber_tolerance": tol, "valid_from": valid,
            "set_by": "calidad", "set_at": set_at or valid}  # fmt: skip


@pytest.fixture
def targeted(engine: sa.Engine) -> sa.Engine:
    """on_time_rate org: 0.9±0.05 from 01-01; from 03-05 two rows, the one set later (0.85)
    wins the tie; Compras: 0.5±0.1. median_delay_days org: 2 (lower) ±1. nps from 04-01."""
    with engine.begin() as conn:
        conn.execute(targets.insert(), [
            _target(1, "on_time_rate", 0.9, "higher", 0.05, datetime(2026, 1, 1)),
            _target(2, "on_time_rate", 0.8, "higher", 0.1, datetime(2026, 3, 5),
                    set_at=datetime(2026, 3, 1)),
            _target(6, "on_time_rate", 0.85, "higher", 0.05, datetime(2026, 3, 5),
                    set_at=datetime(2026, 3, 2)),
            _target(3, "on_time_rate", 0.5, "higher", 0.1, datetime(2026, 1, 1), "Compras"),
            _target(4, "median_delay_days", 2.0, "lower", 1.0, datetime(2026, 1, 1)),
            _target(5, "nps", 30, "higher", 10, datetime(2026, 4, 1)),
        ])  # fmt: skip
    return engine


def test_targets_in_force(targeted: sa.Engine) -> None:
    with targeted.connect() as conn:
        early = targets_in_force(conn, datetime(2026, 3, 4, 23, 59))
        later = targets_in_force(conn, AS_OF)
    assert early[["kpi", "process", "target_id"]].values.tolist() == [
        ["median_delay_days", None, 4],
        ["on_time_rate", None, 1],
        ["on_time_rate", "Compras", 3],
    ]
    assert later["target_id"].tolist() == [4, 6, 3]
    assert later.iloc[1]["target_value"] == 0.85


def test_kpi_target_status_period_end_and_precedence(targeted: sa.Engine) -> None:
    kpis = {"on_time_rate": 0.82, "median_delay_days": 2.5, "nps": 10.0, "csat_pct": 0.9}
    week = MetricFilter(as_of=AS_OF, date_from=date(2026, 3, 2), date_to=date(2026, 3, 4))
    with targeted.connect() as conn:
        # period ends 03-04: 0.9±0.05 in force -> 0.82 is red; delay 2.5 within 2+1: amber
        at_end = kpi_target_status(conn, week, kpis)
        # no period end: judged at as_of against 0.85±0.05 -> amber
        now = kpi_target_status(conn, MetricFilter(as_of=AS_OF), kpis)
        # Compras has its own target (0.5): green; explicit or from a one-stage filter
        compras = kpi_target_status(conn, MetricFilter(as_of=AS_OF), kpis, process="Compras")
        one_stage = kpi_target_status(conn, MetricFilter(as_of=AS_OF, processes=("Compras",)), kpis)
        # a stage without its own target falls back to the organisation's
        other = kpi_target_status(conn, MetricFilter(as_of=AS_OF), kpis, process="Logística")
    assert at_end == {"on_time_rate": "red", "median_delay_days": "amber", "nps": None,
                      "csat_pct": None}  # fmt: skip
    assert now["on_time_rate"] == "amber"
    assert compras["on_time_rate"] == one_stage["on_time_rate"] == "green"
    assert compras["median_delay_days"] == "amber"
    assert other["on_time_rate"] == "amber"


def test_judgement_instant_never_after_as_of() -> None:
    assert judgement_instant(MetricFilter(as_of=AS_OF, date_to=date(2026, 3, 4))) == datetime(
        2026, 3, 4, 23, 59, 59, 999999
    )
    assert judgement_instant(MetricFilter(as_of=AS_OF, date_to=date(2026, 12, 31))) == AS_OF


def test_target_line_is_the_lights_target(targeted: sa.Engine) -> None:
    """The trend's line and the card speak of one target: the one in force at the period's
    end (not at as_of), the selected stage's own before the organisation's."""
    week = MetricFilter(as_of=AS_OF, date_from=date(2026, 3, 2), date_to=date(2026, 3, 4))
    with targeted.connect() as conn:
        # period ends 03-04: 0.9 (0.85 only from 03-05, although in force at as_of)
        assert kpi_target_value(conn, week, "on_time_rate") == pytest.approx(0.9)
        assert kpi_target_value(conn, MetricFilter(as_of=AS_OF), "on_time_rate") == 0.85
        # one stage selected: its own 0.5
        compras = MetricFilter(as_of=AS_OF, processes=("Compras",))
        assert kpi_target_value(conn, compras, "on_time_rate") == pytest.approx(0.5)
        # nps from 04-01: nothing at 03-10; csat never had one
        assert kpi_target_value(conn, week, "nps") is None
        assert kpi_target_value(conn, week, "csat_pct") is None
        # 0.86 against the line's 0.9 ± 0.05 is amber, and so is the card
        assert kpi_target_status(conn, week, {"on_time_rate": 0.86})["on_time_rate"] == "amber"


def test_stage_target_status(targeted: sa.Engine) -> None:
    """Compras: own 0.5 ± 0.1, so 0.45 is amber; Logística has none: the organisation's
    0.85 ± 0.05 at as_of, so 0.82 amber and 0.7 red; a stage without a value: no light."""
    rates = {"Compras": 0.45, "Logística": 0.82, "Ventas": 0.7, "Entrega": None}
    with targeted.connect() as conn:
        lights = stage_target_status(conn, MetricFilter(as_of=AS_OF), "on_time_rate", rates)
        # judged at the period's end (03-04) the organisation's 0.9 ± 0.05 makes 0.82 red
        week = MetricFilter(as_of=AS_OF, date_to=date(2026, 3, 4))
        earlier = stage_target_status(conn, week, "on_time_rate", {"Logística": 0.82})
    assert lights == {"Compras": "amber", "Logística": "amber", "Ventas": "red", "Entrega": None}
    assert earlier == {"Logística": "red"}
