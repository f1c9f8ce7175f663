"""Headline KPIs side by side, worked out by hand, on both backends."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import dataset_as_of, default_as_of, headline_kpis, kpi_reasons
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 10, 12, 0)


def d(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour)


def build_world(engine: sa.Engine) -> None:
    """A small chain with every headline KPI non-trivial (as of 2026-03-10 12:00).

    w1 Compras     due 03-02 delivered 03-04                 root breach, 2.0 d
    w2 Producción  due 03-03 delivered 03-06, needs w1       propagated breach, 3.0 d
    w3 Producción  due 03-04 delivered 03-04, needs w1       absorbed (on time)
    w4 Logística   due 03-05 delivered 03-05                 on time
    w5 Logística   due 03-20 open, needs w2                  pending, at risk
    w6 Compras     due 03-06 open                            root breach, 4.5 d
    w7 Ventas from_customer due 03-04 delivered 03-03        kept
    w8 Ventas from_customer due 03-05 open                   not kept
    Surveys: w3 5/10, w2 2/4, w4 4/9. Complaint on w2. Notices: w1 03-01 (before due:
    proactive), w2 03-05 (late).
    """
    insert_rows(
        engine,
        "commitments",
        [
            commitment("w1", d(2), d(4), process="Compras"),
            commitment("w2", d(3), d(6), process="Producción"),
            commitment("w3", d(4), d(4), process="Producción"),
            commitment("w4", d(5), d(5), process="Logística"),
            commitment("w5", d(20), process="Logística"),
            commitment("w6", d(6), process="Compras"),
            commitment("w7", d(4), d(3), direction="from_customer"),
            commitment("w8", d(5), direction="from_customer"),
        ],
    )
    insert_rows(
        engine,
        "dependencies",
        [
            {"commitment_id": "w2", "depends_on": "w1"},
            {"commitment_id": "w3", "depends_on": "w1"},
            {"commitment_id": "w5", "depends_on": "w2"},
        ],
    )
    insert_rows(
        engine,
        "satisfaction",
        [
            {"response_id": "s1", "commitment_id": "w3", "customer": "Cliente A",
             "answered_at": d(5), "csat": 5, "nps": 10},
            {"response_id": "s2", "commitment_id": "w2", "customer": "Cliente A",
             "answered_at": d(7), "csat": 2, "nps": 4},
            {"response_id": "s3", "commitment_id": "w4", "customer": "Cliente A",
             "answered_at": d(6), "csat": 4, "nps": 9},
        ],
    )  # fmt: skip
    insert_rows(
        engine,
        "complaints",
        [{"complaint_id": "q1", "commitment_id": "w2", "customer": "Cliente A",
          "opened_at": d(6), "resolved_at": d(7)}],
    )  # fmt: skip
    insert_rows(
        engine,
        "notices",
        [{"commitment_id": "w1", "sent_at": d(1)}, {"commitment_id": "w2", "sent_at": d(5)}],
    )


# due w1 w2 w3 w4 w6 = 5; on time w3 w4; breaches w1 w2 w6; pending w5 -> 2/5.
# delays 2.0, 3.0, 4.5 -> median 3.0; p90 rank 1.8 -> 3.0 + 0.8*1.5 = 4.2.
# roots w1 w6, propagated w2, absorbed w3; exposed w2 w3 -> 1/2; at risk w5.
# csat 5, 2, 4 -> 2/3 satisfied, mean 11/3; nps 10, 4, 9 -> (2 - 1)/3 * 100.
# 1 complaint / 5 due -> 20 per 100; proactive 1 of 3 breaches; customer kept 1/2.
WORLD_TOTALS: dict[str, object] = {
    "due": 5,
    "on_time": 2,
    "breaches": 3,
    "pending": 1,
    "on_time_rate": 0.4,
    "median_delay_days": 3.0,
    "p90_delay_days": 4.2,
    "root_breaches": 2,
    "propagated_breaches": 1,
    "absorbed": 1,
    "propagation_rate": 0.5,
    "at_risk": 1,
    "csat_pct": 2 / 3,
    "csat_mean": 11 / 3,
    "nps": 100 / 3,
    "complaints_per_100": 20.0,
    "proactive_notice_rate": 1 / 3,
    "customer_commitments_kept": 0.5,
    # no service standard in this world: its KPIs are empty
    "within_standard_rate": None,
    "median_business_delay_hours": None,
    "p90_business_delay_hours": None,
}

# Per stage. Compras: w1 w6 (delays 2.0, 4.5 -> median 3.25, p90 2 + 0.9*2.5 = 4.25),
# no exposed (rate None), proactive 1/2. Logística: w4 on time, w5 pending at risk,
# csat 4/9. Producción: w2 w3, csat 5 & 2 -> 0.5, nps (1-1)/2 = 0, 1 complaint / 2 due.
# Ventas: only the customer's own commitments (kept 1/2); everything else empty.
WORLD_BY_PROCESS: list[dict[str, object]] = [
    {"group_key": "Compras", "due": 2, "on_time": 0, "breaches": 2, "pending": 0,
     "on_time_rate": 0.0, "median_delay_days": 3.25, "p90_delay_days": 4.25,
     "root_breaches": 2, "propagated_breaches": 0, "absorbed": 0, "propagation_rate": None,
     "at_risk": 0, "csat_pct": None, "csat_mean": None, "nps": None,
     "complaints_per_100": 0.0, "proactive_notice_rate": 0.5,
     "customer_commitments_kept": None},
    {"group_key": "Logística", "due": 1, "on_time": 1, "breaches": 0, "pending": 1,
     "on_time_rate": 1.0, "median_delay_days": None, "p90_delay_days": None,
     "root_breaches": 0, "propagated_breaches": 0, "absorbed": 0, "propagation_rate": None,
     "at_risk": 1, "csat_pct": 1.0, "csat_mean": 4.0, "nps": 100.0,
     "complaints_per_100": 0.0, "proactive_notice_rate": None,
     "customer_commitments_kept": None},
    {"group_key": "Producción", "due": 2, "on_time": 1, "breaches": 1, "pending": 0,
     "on_time_rate": 0.5, "median_delay_days": 3.0, "p90_delay_days": 3.0,
     "root_breaches": 0, "propagated_breaches": 1, "absorbed": 1, "propagation_rate": 0.5,
     "at_risk": 0, "csat_pct": 0.5, "csat_mean": 3.5, "nps": 0.0,
     "complaints_per_100": 50.0, "proactive_notice_rate": 0.0,
     "customer_commitments_kept": None},
    {"group_key": "Ventas", "due": 0, "on_time": 0, "breaches": 0, "pending": 0,
     "on_time_rate": None, "median_delay_days": None, "p90_delay_days": None,
     "root_breaches": 0, "propagated_breaches": 0, "absorbed": 0, "propagation_rate": None,
     "at_risk": 0, "csat_pct": None, "csat_mean": None, "nps": None,
     "complaints_per_100": None, "proactive_notice_rate": None,
     "customer_commitments_kept": 0.5},
]  # fmt: skip
for _row in WORLD_BY_PROCESS:
    _row.update(dict.fromkeys(
        ("within_standard_rate", "median_business_delay_hours", "p90_business_delay_hours")
    ))  # fmt: skip


@pytest.fixture
def world(engine: sa.Engine) -> sa.Engine:
    build_world(engine)
    return engine


def test_headline_whole(world: sa.Engine) -> None:
    with world.connect() as conn:
        df = headline_kpis(conn, MetricFilter(as_of=AS_OF))
    assert list(df.columns) == ["group_key", *HEADLINE_KPIS]
    assert df.to_dict("records") == [{"group_key": None, **WORLD_TOTALS}]


def test_headline_by_process(world: sa.Engine) -> None:
    with world.connect() as conn:
        df = headline_kpis(conn, MetricFilter(as_of=AS_OF, group_by="process"))
    assert df.to_dict("records") == WORLD_BY_PROCESS


def test_headline_follows_the_filter_direction(world: sa.Engine) -> None:
    """The cards of a page filtered on customer commitments speak of them, like the
    page's subtitle and table: w7 kept (due 03-04, delivered 03-03), w8 open and past
    due at 03-10 (a breach, 5.5 days late); no surveys, complaints or notices on them."""
    f = MetricFilter(as_of=AS_OF, direction="from_customer")
    with world.connect() as conn:
        row = headline_kpis(conn, f).iloc[0].to_dict()
    assert (row["due"], row["on_time"], row["breaches"], row["pending"]) == (2, 1, 1, 0)
    assert row["on_time_rate"] == 0.5
    assert row["median_delay_days"] == 5.5
    assert row["customer_commitments_kept"] == 0.5  # the same commitments, by definition
    assert row["csat_pct"] is None and row["complaints_per_100"] == 0.0


def test_headline_empty_database(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        df = headline_kpis(conn, MetricFilter(as_of=AS_OF))
        grouped = headline_kpis(conn, MetricFilter(as_of=AS_OF, group_by="week"))
    row = df.iloc[0].to_dict()
    assert all(row[k] == 0 for k in ("due", "on_time", "breaches", "at_risk"))
    assert all(
        row[k] is None for k in ("on_time_rate", "nps", "csat_pct", "customer_commitments_kept")
    )
    assert grouped.empty


def test_no_data_is_not_zero(engine: sa.Engine) -> None:
    """Issue 14, item 6: with commitments only (one breach, one on time), the KPIs whose
    inputs were never loaded are None with a reason, not 0.0; once the input exists, a
    period without any of it is a real 0."""
    insert_rows(
        engine,
        "commitments",
        [commitment("A", d(2), d(3)), commitment("B", d(2), d(1))],
    )
    f = MetricFilter(as_of=AS_OF)
    with engine.connect() as conn:
        row = headline_kpis(conn, f).iloc[0].to_dict()
        reasons = kpi_reasons(conn)
    assert (row["breaches"], row["on_time_rate"]) == (1, 0.5)
    assert reasons == {
        "csat_pct": "no_surveys_loaded",
        "csat_mean": "no_surveys_loaded",
        "nps": "no_surveys_loaded",
        "complaints_per_100": "no_complaints_loaded",
        "proactive_notice_rate": "no_notices_loaded",
        "customer_commitments_kept": "no_customer_commitments_loaded",
    }
    assert all(row[k] is None for k in reasons)  # was 0.0 for complaints and notices
    # a complaint and a notice outside the period: the inputs exist, the period has none
    insert_rows(engine, "commitments", [commitment("OLD", datetime(2025, 1, 5))])
    insert_rows(
        engine,
        "complaints",
        [{"complaint_id": "Q", "customer": "Cliente A", "opened_at": datetime(2025, 1, 6)}],
    )
    insert_rows(engine, "notices", [{"commitment_id": "OLD", "sent_at": datetime(2025, 1, 1)}])
    period = f.with_(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    with engine.connect() as conn:
        row = headline_kpis(conn, period).iloc[0].to_dict()
        reasons = kpi_reasons(conn)
    assert (row["complaints_per_100"], row["proactive_notice_rate"]) == (0.0, 0.0)
    assert set(reasons.values()) == {"no_surveys_loaded", "no_customer_commitments_loaded"}


def test_default_as_of_from_dataset_meta(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert dataset_as_of(conn) is None
        before = datetime.now()
        now = default_as_of(conn)
    # "now" in ESLABON_TZ: within a day of the machine's clock whatever its zone
    assert abs((now - before).total_seconds()) < 86400 + 60
    with engine.connect() as conn:  # a given "now" stands in for the clock
        assert default_as_of(conn, datetime(2026, 12, 1, 9, 0)) == datetime(2026, 12, 1, 9, 0)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO dataset_meta (key, value) VALUES ('as_of', '2026-11-23T18:00:00')")
        )
    with engine.connect() as conn:
        assert default_as_of(conn) == datetime(2026, 11, 23, 18, 0)
        # the sample's own as_of wins over any "now"
        assert default_as_of(conn, datetime(2026, 12, 1, 9, 0)) == datetime(2026, 11, 23, 18, 0)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE dataset_meta SET value = '2026-11-23' WHERE key = 'as_of'"))
    with engine.connect() as conn:
        # a date alone is the end of that day, as everywhere in Eslabón
        assert default_as_of(conn) == datetime(2026, 11, 23, 23, 59, 59)
