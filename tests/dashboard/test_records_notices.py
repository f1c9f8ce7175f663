"""Mark as notified: a notice row that the proactive notice rate then counts."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.notices import proactive_notice_summary
from dashboard.records.notices import NoticeError, mark_notified, notice_history
from tests.dashboard.world import AS_OF, load_chain_world


def test_marking_records_who_when_and_feeds_the_rate(engine: sa.Engine) -> None:
    load_chain_world(engine)
    f = MetricFilter(as_of=AS_OF)
    with engine.connect() as conn:
        before = proactive_notice_summary(conn, f).iloc[0]
    # breaches at as_of: U1, U2, D2 (hand-worked in world.py); none notified yet
    assert (before["breaches"], before["proactive"]) == (3, 0)
    with engine.begin() as conn:
        # before U2's due date (Tue 17 12:00): proactive
        sent = mark_notified(
            conn, "U2", "at_risk", "email", "quality@x",
            sent_at=datetime(2026, 11, 17, 9), recorded_at=datetime(2026, 11, 20, 8),
        )  # fmt: skip
        # after D2's due date: a notice, but not proactive
        late = datetime(2026, 11, 19, 15)
        mark_notified(conn, "D2", "overdue", "phone", "quality@x", sent_at=late)
    assert sent == datetime(2026, 11, 17, 9)
    with engine.connect() as conn:
        after = proactive_notice_summary(conn, f).iloc[0]
        history = notice_history(conn)
    assert (after["breaches"], after["proactive"]) == (3, 1)
    assert after["proactive_notice_rate"] == pytest.approx(1 / 3)
    assert list(history["commitment_id"]) == ["D2", "U2"]
    u2 = history[history["commitment_id"] == "U2"].iloc[0]
    assert (u2["kind"], u2["channel"], u2["recorded_by"]) == ("at_risk", "email", "quality@x")
    assert u2["recorded_at"] == datetime(2026, 11, 20, 8)


def test_same_second_twice_keeps_both_and_bad_input_is_refused(engine: sa.Engine) -> None:
    load_chain_world(engine)
    moment = datetime(2026, 11, 18, 10, 0, 0)
    with engine.begin() as conn:
        first = mark_notified(conn, "D1", "at_risk", "email", "a", sent_at=moment)
        second = mark_notified(conn, "D1", "at_risk", "phone", "b", sent_at=moment)
    assert (first, second) == (moment, datetime(2026, 11, 18, 10, 0, 1))
    with engine.connect() as conn:
        assert len(notice_history(conn, "D1")) == 2
    with engine.begin() as conn:
        with pytest.raises(NoticeError, match="no commitment"):
            mark_notified(conn, "NOPE", "at_risk", "email", "a")
        with pytest.raises(NoticeError, match="kind"):
            mark_notified(conn, "D1", "spam", "email", "a")
        with pytest.raises(NoticeError, match="channel"):
            mark_notified(conn, "D1", "at_risk", "pigeon", "a")
