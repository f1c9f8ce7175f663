"""Weekly KPIs and week-over-week, worked out by hand, on both backends."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import headline_kpis
from dashboard.metrics.trends import (
    full_weeks,
    is_partial_week,
    last_full_week,
    last_week_change,
    period_weekly_kpis,
    week_over_week,
    week_over_week_from,
    weekly_kpis,
)
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 18, 12, 0)  # a Wednesday: last full week is Mon 03-09..Sun 03-15


def d(day: int) -> datetime:
    return datetime(2026, 3, day)


@pytest.fixture
def weeks(engine: sa.Engine) -> sa.Engine:
    """Week 03-02: x1 on time, x2 late (1/2). Week 03-09: x3 x4 on time, x5 late (2/3).
    Week 03-16 (not over): x6 open and late. Week 02-23: nothing."""
    insert_rows(
        engine,
        "commitments",
        [
            commitment("x1", d(3), d(3)),
            commitment("x2", d(4), d(5)),
            commitment("x3", d(10), d(9)),
            commitment("x4", d(11), d(11)),
            commitment("x5", d(12), d(13)),
            commitment("x6", d(16)),
        ],
    )
    return engine


def test_last_full_week() -> None:
    assert last_full_week(MetricFilter(as_of=AS_OF)) == date(2026, 3, 9)
    # a Monday midnight closes the week before it
    assert last_full_week(MetricFilter(as_of=datetime(2026, 3, 16))) == date(2026, 3, 9)
    assert last_full_week(MetricFilter(as_of=datetime(2026, 3, 15, 23, 59))) == date(2026, 3, 2)
    # a period ending on Sunday 03-08 makes the week of 03-02 the last full one
    f = MetricFilter(as_of=AS_OF, date_to=date(2026, 3, 8))
    assert last_full_week(f) == date(2026, 3, 2)


def test_weekly_kpis_has_every_week(weeks: sa.Engine) -> None:
    with weeks.connect() as conn:
        df = weekly_kpis(conn, MetricFilter(as_of=AS_OF, date_from=date(2026, 3, 9)), 3)
    assert list(df.columns) == ["week", *HEADLINE_KPIS]
    assert df["week"].tolist() == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)]
    assert df["due"].tolist() == [0, 2, 3]
    assert df["on_time_rate"].tolist() == [None, 0.5, 2 / 3]
    assert df["breaches"].tolist() == [0, 1, 1]


def test_week_over_week(weeks: sa.Engine) -> None:
    with weeks.connect() as conn:
        wow = week_over_week(conn, MetricFilter(as_of=AS_OF)).set_index("kpi")
        short = week_over_week(conn, MetricFilter(as_of=AS_OF, date_to=date(2026, 3, 8)))
    assert wow.index.tolist() == list(HEADLINE_KPIS)
    assert list(wow.loc["on_time_rate", ["current", "previous"]]) == [2 / 3, 0.5]
    assert wow.loc["on_time_rate", "delta"] == 2 / 3 - 0.5
    assert list(wow.loc["due", ["current", "previous", "delta"]]) == [3, 2, 1]
    assert isinstance(wow.loc["due", "current"], int)  # a count stays a whole number
    assert wow.loc["csat_pct", "delta"] is None  # no survey either week
    assert (wow.iloc[0]["current_week"], wow.iloc[0]["previous_week"]) == (
        date(2026, 3, 9),
        date(2026, 3, 2),
    )
    # a period ending 03-08: the week of 03-02 against the empty week of 02-23
    due = short.set_index("kpi").loc["due"]
    assert list(due[["current", "previous", "delta"]]) == [2, 0, 2]
    assert short.set_index("kpi").loc["on_time_rate", "delta"] is None


def test_week_over_week_from_the_trend(weeks: sa.Engine) -> None:
    """The change taken from a longer trend equals week_over_week's own: each week of
    weekly_kpis counts only its own due dates (linked survey answers and complaints go
    to their commitment's week, unlinked ones to their own), and the window ends with
    the last full week whatever its length."""
    insert_rows(
        weeks,
        "satisfaction",
        [  # x1 is due in week 03-02 although answered in week 03-09: it belongs to 03-02
            {"response_id": "s1", "commitment_id": "x1", "customer": "Cliente A",
             "answered_at": d(12), "csat": 5},
            {"response_id": "s2", "commitment_id": "x3", "customer": "Cliente A",
             "answered_at": d(11), "csat": 2},
            {"response_id": "s3", "commitment_id": None, "customer": "Cliente B",
             "answered_at": d(10), "csat": 4},
        ],
    )  # fmt: skip
    insert_rows(
        weeks,
        "complaints",
        [{"complaint_id": "q1", "commitment_id": "x2", "customer": "Cliente A",
          "opened_at": d(11)}],
    )  # fmt: skip
    f = MetricFilter(as_of=AS_OF)
    with weeks.connect() as conn:
        trend = weekly_kpis(conn, f, 13)
        direct = week_over_week(conn, f)
    derived = week_over_week_from(trend)
    pd.testing.assert_frame_equal(derived, direct)
    wow = derived.set_index("kpi")
    # week 03-09: x3's 2 and the unlinked 4 (1 of 2 satisfied); week 03-02: x1's 5 (1 of 1)
    assert list(wow.loc["csat_pct", ["current", "previous", "delta"]]) == [0.5, 1.0, -0.5]
    # q1 belongs to x2, due in week 03-02: 1 complaint per 2 due there, none in 03-09
    assert list(wow.loc["complaints_per_100", ["current", "previous"]]) == [0.0, 50.0]
    assert wow.loc["on_time_rate", "delta"] == 2 / 3 - 0.5
    assert (derived.iloc[0]["current_week"], derived.iloc[0]["previous_week"]) == (
        date(2026, 3, 9),
        date(2026, 3, 2),
    )


def test_week_over_week_from_needs_two_weeks(weeks: sa.Engine) -> None:
    with weeks.connect() as conn:
        one = weekly_kpis(conn, MetricFilter(as_of=AS_OF), 1)
    with pytest.raises(ValueError, match="two weeks"):
        week_over_week_from(one)


def test_period_weeks_add_up_to_the_period(weeks: sa.Engine) -> None:
    """Period 03-04..03-18 (as_of Wednesday 03-18): week 03-02 holds only x2 (x1 is due
    before the period), week 03-09 is whole (x3 x4 on time, x5 late), week 03-16 has not
    ended and holds x6, open past its due: the breach a card counts is in the chart too."""
    f = MetricFilter(as_of=AS_OF, date_from=date(2026, 3, 4), date_to=date(2026, 3, 18))
    with weeks.connect() as conn:
        df = period_weekly_kpis(conn, f)
        period = headline_kpis(conn, f).iloc[0]
    assert list(df.columns) == ["week", "partial", *HEADLINE_KPIS]
    assert df["week"].tolist() == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    assert df["partial"].tolist() == [True, False, True]
    assert df["due"].tolist() == [1, 3, 1]
    assert df["breaches"].tolist() == [1, 1, 1]
    assert df["on_time_rate"].tolist() == [0.0, 2 / 3, 0.0]
    for kpi in ("due", "on_time", "breaches", "pending"):
        assert df[kpi].sum() == period[kpi], kpi


def test_period_weeks_of_a_period_in_the_past(weeks: sa.Engine) -> None:
    """A period ending on Thursday 03-12: its last week is cut by the period, so partial,
    although it ended long before as_of."""
    f = MetricFilter(as_of=AS_OF, date_from=date(2026, 3, 2), date_to=date(2026, 3, 12))
    with weeks.connect() as conn:
        df = period_weekly_kpis(conn, f)
    assert df["partial"].tolist() == [False, True]
    assert df["due"].tolist() == [2, 3]


def test_is_partial_week() -> None:
    """A week is partial until its Sunday has ended, and when the period cuts it."""
    assert is_partial_week(date(2026, 3, 16), MetricFilter(as_of=AS_OF))  # running
    assert not is_partial_week(date(2026, 3, 9), MetricFilter(as_of=AS_OF))
    assert not is_partial_week(date(2026, 3, 9), MetricFilter(as_of=datetime(2026, 3, 16)))
    assert is_partial_week(date(2026, 3, 9), MetricFilter(as_of=datetime(2026, 3, 15, 23, 59)))
    cut = MetricFilter(as_of=AS_OF, date_from=date(2026, 3, 10))
    assert is_partial_week(date(2026, 3, 9), cut)
    assert is_partial_week(date(2026, 3, 2), MetricFilter(as_of=AS_OF, date_to=date(2026, 3, 7)))


def test_last_week_change_compares_full_weeks_only() -> None:
    """Weeks 03-02 (1/2), 03-09 (2/3), 03-16 partial (0/1): the change is 03-09 against
    03-02, 2/3 - 1/2 = 1/6, never the partial week against a whole one."""
    rows = [
        (date(2026, 3, 2), False, 0.5, 2),
        (date(2026, 3, 9), False, 2 / 3, 3),
        (date(2026, 3, 16), True, 0.0, 1),
    ]
    weekly = pd.DataFrame(
        [
            {"week": w, "partial": p, **dict.fromkeys(HEADLINE_KPIS), "on_time_rate": r, "due": n}
            for w, p, r, n in rows
        ]
    )
    full = full_weeks(weekly)
    assert full["week"].tolist() == [date(2026, 3, 2), date(2026, 3, 9)]
    assert "partial" not in full
    change = last_week_change(weekly)
    assert change is not None
    assert change.loc["on_time_rate", "delta"] == pytest.approx(1 / 6)
    assert change.loc["due", "delta"] == 1
    assert change.loc["on_time_rate", "current_week"] == date(2026, 3, 9)
    # one full week (the partial one does not count as a second): nothing to compare
    assert last_week_change(weekly.iloc[1:]) is None
    assert last_week_change(weekly.iloc[0:0]) is None
