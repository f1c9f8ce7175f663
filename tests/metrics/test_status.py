"""Commitment status at as_of, worked by hand, on both backends."""

from datetime import date, datetime

import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.status import commitment_status
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 10, 12, 0)


def test_status_on_time_breach_pending_and_as_of(engine: sa.Engine) -> None:
    insert_rows(
        engine,
        "commitments",
        [
            commitment("ok", datetime(2026, 3, 5), datetime(2026, 3, 5)),  # on the due instant
            commitment("late", datetime(2026, 3, 5), datetime(2026, 3, 7, 12)),  # 2.5 days late
            commitment("open_overdue", datetime(2026, 3, 8, 12)),  # 2 days late at as_of
            commitment("open_future", datetime(2026, 3, 20)),  # pending
            commitment("early_future", datetime(2026, 3, 20), datetime(2026, 3, 1)),  # on time
            # delivered after as_of: not known yet, so still an open breach at as_of
            commitment("later", datetime(2026, 3, 9, 12), datetime(2026, 3, 11)),
            commitment("gone", datetime(2026, 3, 5), cancelled=True),
            commitment("theirs", datetime(2026, 3, 5), direction="from_customer"),
        ],
    )
    with engine.connect() as conn:
        df = commitment_status(conn, MetricFilter(as_of=AS_OF)).set_index("commitment_id")
    assert df["status"].to_dict() == {
        "ok": "on_time",
        "late": "breach",
        "open_overdue": "breach",
        "open_future": "pending",
        "early_future": "on_time",
        "later": "breach",
    }
    assert df.loc["late", "delay_days"] == 2.5
    assert df.loc["open_overdue", "delay_days"] == 2.0
    assert df.loc["later", "delay_days"] == 1.0
    assert df["delivered_at"].isna()["later"]


def test_filter_binds_values_and_period(engine: sa.Engine) -> None:
    insert_rows(
        engine,
        "commitments",
        [
            commitment("a", datetime(2026, 3, 1, 23, 59), process="Compras"),
            commitment("b", datetime(2026, 3, 2), process="x'; DROP TABLE commitments; --"),
            commitment("c", datetime(2026, 2, 28), process="Compras"),
        ],
    )
    f = MetricFilter(
        as_of=AS_OF,
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 2),
        processes=("Compras", "x'; DROP TABLE commitments; --"),
        group_by="process",
    )
    with engine.connect() as conn:
        df = commitment_status(conn, f)
        total = conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar()
    assert sorted(df["commitment_id"]) == ["a", "b"]
    assert total == 3
    assert set(df["group_key"]) == {"Compras", "x'; DROP TABLE commitments; --"}
    assert "Compras" in f.describe("en") and "etapas" in f.describe("es")


def test_describe_speaks_each_language_date_format() -> None:
    f = MetricFilter(as_of=AS_OF, date_from=date(2026, 3, 1), date_to=date(2026, 3, 2))
    assert f.describe("en") == "due 2026-03-01 – 2026-03-02; as of 2026-03-10 12:00"
    assert f.describe("es") == "vencimiento 01/03/2026 – 02/03/2026; al 10/03/2026 12:00"
