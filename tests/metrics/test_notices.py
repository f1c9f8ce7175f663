"""Proactive notice rate worked out by hand, on both backends."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.notices import proactive_notice_summary
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 10, 12, 0)


def d(day: int) -> datetime:
    return datetime(2026, 3, day)


@pytest.fixture
def noticed(engine: sa.Engine) -> sa.Engine:
    """Three breaches, one on time, one pending, and their notices.

    b1 breach, notice 03-01 before due 03-02         -> proactive
    b2 breach, notices 03-03 (= due) and 03-04        -> late only (not strictly before)
    b3 breach (Compras), notice 03-11 after as_of     -> unknown at as_of: not noticed
    b4 on time, notice 03-01                          -> not a breach
    b5 pending, notice 03-09                          -> not a breach
    breaches 3, proactive 1 -> 1/3; late 1.
    """
    insert_rows(
        engine,
        "commitments",
        [
            commitment("b1", d(2), d(4)),
            commitment("b2", d(3)),
            commitment("b3", d(4), d(6), process="Compras"),
            commitment("b4", d(5), d(5)),
            commitment("b5", d(20)),
        ],
    )
    insert_rows(
        engine,
        "notices",
        [
            {"commitment_id": "b1", "sent_at": d(1)},
            {"commitment_id": "b2", "sent_at": d(3)},
            {"commitment_id": "b2", "sent_at": d(4)},
            {"commitment_id": "b3", "sent_at": d(11)},
            {"commitment_id": "b4", "sent_at": d(1)},
            {"commitment_id": "b5", "sent_at": d(9)},
        ],
    )
    return engine


def test_proactive_notice_rate(noticed: sa.Engine) -> None:
    with noticed.connect() as conn:
        whole = proactive_notice_summary(conn, MetricFilter(as_of=AS_OF))
        by_process = proactive_notice_summary(conn, MetricFilter(as_of=AS_OF, group_by="process"))
        later = proactive_notice_summary(conn, MetricFilter(as_of=datetime(2026, 3, 12)))
    assert whole.to_dict("records") == [
        {
            "group_key": None,
            "breaches": 3,
            "proactive": 1,
            "proactive_notice_rate": 1 / 3,
            "notified_late": 1,
        }
    ]
    # Compras: b3 (no notice). Ventas: b1 proactive, b2 late, b4/b5 not breaches.
    assert by_process.to_dict("records") == [
        {"group_key": "Compras", "breaches": 1, "proactive": 0, "proactive_notice_rate": 0.0,
         "notified_late": 0},
        {"group_key": "Ventas", "breaches": 2, "proactive": 1, "proactive_notice_rate": 0.5,
         "notified_late": 1},
    ]  # fmt: skip
    # by 03-12 b3's notice (03-11) is known, but it came after due: late, not proactive
    assert later.iloc[0][["proactive", "notified_late"]].tolist() == [1, 2]


def test_no_breach_gives_none(noticed: sa.Engine) -> None:
    with noticed.connect() as conn:
        df = proactive_notice_summary(conn, MetricFilter(as_of=AS_OF, date_from=date(2026, 3, 5)))
    # b4 on time and b5 pending: no breach -> the rate has no denominator
    assert df.iloc[0][["breaches", "proactive"]].tolist() == [0, 0]
    assert df.iloc[0]["proactive_notice_rate"] is None
