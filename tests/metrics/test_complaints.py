"""Complaint metrics worked out by hand, on both backends."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from dashboard.metrics.complaints import complaints_summary
from dashboard.metrics.filters import MetricFilter
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 10, 12, 0)


def d(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour)


@pytest.fixture
def complained(engine: sa.Engine) -> sa.Engine:
    """Three due commitments, one pending, seven complaints (target 72 h).

    k1 on time, k2 breach (Ventas); k3 on time (Compras); k4 pending (Ventas).
      q1 k2 opened 03-04 resolved 03-05          24 h, within
      q2 k2 opened 03-04 resolved 03-08 12:00    108 h, late
      q3 k1 opened 03-09 open                    36 h open at as_of: no verdict yet
      q4 k3 opened 03-05 open                    132 h open: judged, not within
      q5 k4 opened 03-06 resolved 03-06 06:00    6 h, within (pending commitment counts)
      q6 -  opened 03-03 resolved 03-11 > as_of  open 180 h at as_of: judged, not within
      q7 k1 opened 03-11                         after as_of: ignored
    """
    insert_rows(
        engine,
        "commitments",
        [
            commitment("k1", d(2), d(1)),
            commitment("k2", d(3)),
            commitment("k3", d(4), d(4), process="Compras"),
            commitment("k4", d(20)),
        ],
    )

    def q(qid: str, cid: str | None, opened: datetime, resolved: datetime | None) -> dict:
        return {"complaint_id": qid, "commitment_id": cid, "customer": "Cliente A",
                "opened_at": opened, "resolved_at": resolved}  # fmt: skip

    insert_rows(
        engine,
        "complaints",
        [
            q("q1", "k2", d(4), d(5)),
            q("q2", "k2", d(4), d(8, 12)),
            q("q3", "k1", d(9), None),
            q("q4", "k3", d(5), None),
            q("q5", "k4", d(6), d(6, 6)),
            q("q6", None, d(3), d(11)),
            q("q7", "k1", d(11), None),
        ],
    )
    return engine


def test_complaints_whole(complained: sa.Engine) -> None:
    with complained.connect() as conn:
        df = complaints_summary(conn, MetricFilter(as_of=AS_OF))
        wide = complaints_summary(conn, MetricFilter(as_of=AS_OF), target_hours=200)
    # 6 complaints / 3 due -> 200 per 100; resolved 24, 108, 6 h -> median 24;
    # within 72 h: q1, q5 of judged q1 q2 q5 q4 q6 -> 2/5.
    assert df.to_dict("records") == [
        {
            "group_key": None,
            "complaints": 6,
            "due": 3,
            "complaints_per_100": 200.0,
            "resolved": 3,
            "median_hours_to_resolve": 24.0,
            "resolved_within_target_share": 0.4,
            "resolved_within_target": 2,
            "judged_against_target": 5,
            "open": 3,
        }
    ]
    # 200 h: all three resolved are within; q4 (132 h) and q6 (180 h) not judged yet -> 3/3
    assert wide.iloc[0][["resolved_within_target", "judged_against_target"]].tolist() == [3, 3]
    assert wide.iloc[0]["resolved_within_target_share"] == 1.0


def test_complaints_by_process(complained: sa.Engine) -> None:
    with complained.connect() as conn:
        df = complaints_summary(conn, MetricFilter(as_of=AS_OF, group_by="process"))
    # Compras: q4 over k3. Ventas: q1 q2 q3 q5 over k1 k2 (k4 pending). None: q6, no due.
    assert df["group_key"].tolist() == ["Compras", "Ventas", None]
    assert df["complaints"].tolist() == [1, 4, 1]
    assert df["due"].tolist() == [1, 2, 0]
    assert df["complaints_per_100"].tolist() == [100.0, 200.0, None]
    assert df["median_hours_to_resolve"].tolist() == [None, 24.0, None]
    assert df["resolved_within_target_share"].tolist() == [0.0, 2 / 3, 0.0]
    assert df["open"].tolist() == [1, 1, 1]


def test_complaints_empty_and_due_without_complaints(complained: sa.Engine) -> None:
    with complained.connect() as conn:
        empty = complaints_summary(
            conn, MetricFilter(as_of=AS_OF, date_from=date(2025, 1, 1), date_to=date(2025, 2, 1))
        )
        quiet = complaints_summary(conn, MetricFilter(as_of=AS_OF, date_to=date(2026, 3, 2)))
    assert empty.iloc[0]["complaints_per_100"] is None
    assert empty.iloc[0]["resolved_within_target_share"] is None
    assert empty.iloc[0]["complaints"] == 0
    # due by 03-02: k1 only; its complaint q3 -> 1 per 1 due = 100; q6 (03-03) is outside
    assert quiet.iloc[0][["complaints", "due", "complaints_per_100"]].tolist() == [1, 1, 100.0]
    assert quiet.iloc[0]["resolved_within_target_share"] is None  # q3 not judged yet
