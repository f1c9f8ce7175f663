"""On-time metrics worked out by hand, on both backends."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.ontime import (
    commitment_list,
    customer_commitments_kept,
    delay_distribution,
    on_time_summary,
    renegotiation_summary,
)
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 10, 12, 0)


def d(day: int, month: int = 3, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour)


@pytest.fixture
def chain(engine: sa.Engine) -> sa.Engine:
    """Seven due to_customer commitments, one pending, one cancelled, two of the customer's.

    to_customer, at as_of 2026-03-10 12:00:
      c1 due 03-02 delivered 03-01            on time   (renegotiated: original 02-28)
      c2 due 03-02 delivered 03-02 (instant)  on time   (original = due: not renegotiated)
      c3 due 03-03 delivered 03-04            breach 1.0 d (renegotiated: original 03-01)
      c4 due 03-04 open                       breach 6.5 d (03-10 12:00 - 03-04)
      c5 due 03-05 delivered 03-08            breach 3.0 d
      c6 due 03-06 delivered 03-06, Compras   on time   (original 03-07 is later: not reneg.)
      c7 due 03-20 open                       pending   (original 03-15; pending is excluded)
      c8 due 03-09 delivered 03-11 > as_of    breach 1.5 d (delivery not known yet)
      c9 cancelled                            ignored
    from_customer: c10 kept, c11 breach.
    due 7, on time 3, breaches 4, pending 1 -> rate 3/7.
    delays sorted 1.0, 1.5, 3.0, 6.5 -> median (1.5+3.0)/2 = 2.25;
    p90 rank 0.9*3 = 2.7 -> 3.0 + 0.7*(6.5-3.0) = 5.45.
    """
    insert_rows(
        engine,
        "commitments",
        [
            commitment("c1", d(2), d(1), original_due_at=d(28, 2)),
            commitment("c2", d(2), d(2), original_due_at=d(2)),
            commitment("c3", d(3), d(4), original_due_at=d(1)),
            commitment("c4", d(4)),
            commitment("c5", d(5), d(8)),
            commitment("c6", d(6), d(6), process="Compras", original_due_at=d(7)),
            commitment("c7", d(20), original_due_at=d(15)),
            commitment("c8", d(9), d(11)),
            commitment("c9", d(3), cancelled=True),
            commitment("c10", d(3), d(2), direction="from_customer"),
            commitment("c11", d(4), direction="from_customer"),
        ],
    )
    insert_rows(
        engine,
        "dependencies",
        [
            {"commitment_id": "c5", "depends_on": "c3"},
            {"commitment_id": "c5", "depends_on": "c1"},
            {"commitment_id": "c6", "depends_on": "c4"},
            {"commitment_id": "c8", "depends_on": "c9"},
        ],
    )
    return engine


def test_on_time_summary_whole(chain: sa.Engine) -> None:
    with chain.connect() as conn:
        df = on_time_summary(conn, MetricFilter(as_of=AS_OF))
    assert df.to_dict("records") == [
        {
            "group_key": None,
            "due": 7,
            "on_time": 3,
            "breaches": 4,
            "pending": 1,
            "on_time_rate": 3 / 7,
            "median_delay_days": 2.25,
            "p90_delay_days": 5.45,
        }
    ]


def test_on_time_summary_by_process_and_week(chain: sa.Engine) -> None:
    with chain.connect() as conn:
        by_process = on_time_summary(conn, MetricFilter(as_of=AS_OF, group_by="process"))
        by_week = on_time_summary(conn, MetricFilter(as_of=AS_OF, group_by="week"))
    # Compras: c6 only. Ventas: c1..c5, c7, c8 -> due 6, on time 2, breaches 4, pending 1.
    assert by_process[["group_key", "due", "on_time", "breaches", "pending"]].to_dict(
        "records"
    ) == [
        {"group_key": "Compras", "due": 1, "on_time": 1, "breaches": 0, "pending": 0},
        {"group_key": "Ventas", "due": 6, "on_time": 2, "breaches": 4, "pending": 1},
    ]
    assert by_process["on_time_rate"].tolist() == [1.0, 2 / 6]
    assert by_process["median_delay_days"].tolist() == [None, 2.25]
    # Week of Mon 03-02: c1..c6 -> due 6, on time 3, delays 1, 3, 6.5 -> median 3,
    #   p90 rank 1.8 -> 3 + 0.8*3.5 = 5.8. Week 03-09: c8 (1.5 d). Week 03-16: c7 pending.
    assert by_week["group_key"].tolist() == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    assert by_week["due"].tolist() == [6, 1, 0]
    assert by_week["pending"].tolist() == [0, 0, 1]
    assert by_week["on_time_rate"].tolist() == [0.5, 0.0, None]
    assert by_week["median_delay_days"].tolist() == [3.0, 1.5, None]
    assert by_week["p90_delay_days"].tolist() == [5.8, 1.5, None]


def test_empty_period_gives_one_row_with_none_rates(chain: sa.Engine) -> None:
    f = MetricFilter(as_of=AS_OF, date_from=date(2025, 1, 1), date_to=date(2025, 1, 31))
    with chain.connect() as conn:
        df = on_time_summary(conn, f)
        grouped = on_time_summary(conn, f.with_(group_by="process"))
    assert df.to_dict("records") == [
        {
            "group_key": None,
            "due": 0,
            "on_time": 0,
            "breaches": 0,
            "pending": 0,
            "on_time_rate": None,
            "median_delay_days": None,
            "p90_delay_days": None,
        }
    ]
    assert grouped.empty
    assert list(grouped.columns) == list(df.columns)


def test_renegotiation(chain: sa.Engine) -> None:
    with chain.connect() as conn:
        df = renegotiation_summary(conn, MetricFilter(as_of=AS_OF))
    # renegotiated in the due population: c1 (on time vs due, late vs 02-28) and c3 (late).
    # Whole due population against the original promise: c2 (03-02 <= 03-02) and c6
    # (03-06 <= 03-07) kept it; c1 did not -> 2/7.
    assert df.to_dict("records") == [
        {
            "group_key": None,
            "renegotiated": 2,
            "on_time_vs_due": 1,
            "on_time_rate_vs_due": 0.5,
            "on_time_vs_original": 0,
            "on_time_rate_vs_original": 0.0,
            "due": 7,
            "on_time_vs_original_all": 2,
            "on_time_rate_vs_original_all": 2 / 7,
        }
    ]


def test_renegotiation_none_when_nothing_renegotiated(chain: sa.Engine) -> None:
    with chain.connect() as conn:
        df = renegotiation_summary(conn, MetricFilter(as_of=AS_OF, processes=("Compras",)))
    row = df.iloc[0]
    assert (row["renegotiated"], row["on_time_rate_vs_due"], row["due"]) == (0, None, 1)
    assert row["on_time_rate_vs_original_all"] == 1.0


def test_delay_distribution_and_list(chain: sa.Engine) -> None:
    with chain.connect() as conn:
        delays = delay_distribution(conn, MetricFilter(as_of=AS_OF))
        listed = commitment_list(conn, MetricFilter(as_of=AS_OF))
        drill = commitment_list(conn, MetricFilter(as_of=AS_OF, processes=("Compras",)))
    assert delays[["commitment_id", "delay_days"]].values.tolist() == [
        ["c4", 6.5],
        ["c5", 3.0],
        ["c8", 1.5],
        ["c3", 1.0],
    ]
    assert listed["commitment_id"].tolist() == ["c1", "c2", "c3", "c4", "c5", "c6", "c8", "c7"]
    by_id = listed.set_index("commitment_id")
    assert by_id.loc["c5", "upstreams"] == "c1, c3"
    assert by_id.loc["c5", "upstream_breaches"] == 1
    assert by_id.loc["c6", "upstreams"] == "c4"
    assert by_id.loc["c6", "upstream_breaches"] == 1
    assert by_id.loc["c8", "upstream_breaches"] == 0  # c9 is cancelled: not a breach
    assert by_id.loc["c1", "upstreams"] is None
    assert by_id.loc["c7", "status"] == "pending"
    assert pd.isna(by_id["delivered_at"]["c8"])  # 03-11 is after as_of
    assert by_id.loc["c3", "delivered_at"] == pd.Timestamp(2026, 3, 4)
    # drilling to Compras still judges its upstream c4 (a Ventas breach)
    assert drill[["commitment_id", "upstream_breaches"]].values.tolist() == [["c6", 1]]


def test_customer_commitments_kept(chain: sa.Engine) -> None:
    with chain.connect() as conn:
        df = customer_commitments_kept(conn, MetricFilter(as_of=AS_OF))
    # c10 delivered before due (kept), c11 still open after due -> 1/2
    assert df.to_dict("records") == [{"group_key": None, "due": 2, "kept": 1, "kept_rate": 0.5}]


def test_seven_of_nine(engine: sa.Engine) -> None:
    """docs/metrics.md: 10 due this week, 7 on time, 2 breaches, 1 pending -> 7/9."""
    on_time = [commitment(f"ok{i}", d(9 + i % 2), d(9)) for i in range(7)]
    late = [commitment("late1", d(9), d(10)), commitment("late2", d(9))]
    pending = [commitment("open", d(13))]
    insert_rows(engine, "commitments", on_time + late + pending)
    f = MetricFilter(as_of=AS_OF, date_from=date(2026, 3, 9), date_to=date(2026, 3, 15))
    with engine.connect() as conn:
        row = on_time_summary(conn, f).iloc[0]
    assert (row["due"], row["on_time"], row["breaches"], row["pending"]) == (9, 7, 2, 1)
    assert row["on_time_rate"] == 7 / 9
