"""Service tracking: the team's timeline and the customer-scoped view, on the hand-worked chain."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.services.tracking import (
    CANCELLED,
    commitment_tracking,
    customer_commitments,
    customer_tracking,
    search_commitments,
)
from tests.dashboard.world import ACME_IDS, AS_OF, load_chain_world


def test_timeline_of_an_at_risk_commitment(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.connect() as conn:
        t = commitment_tracking(conn, "D1", AS_OF)
    assert t is not None
    assert t.status == "pending" and t.delay_days is None
    # phases: need and promise reached, delivery and closure not yet
    assert list(t.phases["phase"]) == ["need", "promise", "delivery", "closure"]
    assert list(t.phases["at"].iloc[:2]) == [datetime(2026, 11, 2, 9), datetime(2026, 11, 3, 9)]
    assert t.phases["at"].iloc[2:].isna().all()
    # the event of 21 Nov is after as_of: not shown
    assert list(t.events["stage"]) == ["Producción", "Calidad"]
    assert list(t.events["actor"]) == ["ana", "luis"]
    # upstream U1 delivered 2 days late
    up = t.upstreams.set_index("commitment_id")
    assert list(up.index) == ["U1"]
    assert up.loc["U1", "status"] == "breach"
    assert up.loc["U1", "delay_days"] == 2.0
    # due Wed 25 18:00 + 2.0 days of upstream delay
    assert t.at_risk and t.predicted_delivery == datetime(2026, 11, 27, 18)


def test_breach_and_cancelled_and_unknown(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.connect() as conn:
        d2 = commitment_tracking(conn, "D2", AS_OF)
        x1 = commitment_tracking(conn, "X1", AS_OF)
        u1_before = commitment_tracking(conn, "U1", datetime(2026, 11, 17))
        assert commitment_tracking(conn, "nope", AS_OF) is None
    assert d2 is not None and d2.status == "breach" and d2.delay_days == 1.0
    assert not d2.at_risk  # already past due: overdue, not "at risk"
    assert d2.upstreams.iloc[0]["commitment_id"] == "U2"
    assert d2.upstreams.iloc[0]["status"] == "breach"
    assert x1 is not None and x1.status == CANCELLED
    # at 17 Nov 00:00 the delivery of 18 Nov is not known yet: open, 14 h past due (16 Nov 10:00)
    assert u1_before is not None and u1_before.status == "breach"
    assert u1_before.commitment["delivered_at"] is None
    assert u1_before.delay_days is not None and abs(u1_before.delay_days - 14 / 24) < 1e-9


def test_search_by_id_or_customer(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.connect() as conn:
        by_customer = search_commitments(conn, "acm", AS_OF)
        exact = search_commitments(conn, "d1", AS_OF)
        wildcard = search_commitments(conn, "%", AS_OF)
    # cancelled X1 is not a live commitment
    assert set(by_customer["commitment_id"]) == {"D1", "D2", "F1", "P1"}
    assert exact.iloc[0]["commitment_id"] == "D1"
    assert wildcard.empty  # LIKE wildcards are taken literally


def test_customer_list_holds_only_that_customer(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.connect() as conn:
        acme = customer_commitments(conn, "Acme", AS_OF)
        nobody = customer_commitments(conn, "Acme' OR '1'='1", AS_OF)
    assert set(acme["commitment_id"]) == ACME_IDS | {"P1"}
    assert "customer" not in acme.columns and "performer" not in acme.columns
    rows = acme.set_index("commitment_id")
    assert rows.loc["D1", "predicted_delivery"] == pd.Timestamp(2026, 11, 27, 18)
    assert pd.isna(rows["predicted_delivery"]["D2"])
    assert rows.loc["F1", "direction"] == "from_customer"
    assert nobody.empty


def test_customer_tracking_refuses_other_customers_and_hides_internals(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.connect() as conn:
        mine = customer_tracking(conn, "Acme", "D2", AS_OF)
        theirs = customer_tracking(conn, "Acme", "G1", AS_OF)
        cancelled = customer_tracking(conn, "Acme", "X1", AS_OF)
    assert theirs is None and cancelled is None
    assert mine is not None and mine.status == "breach"
    assert mine.late_upstream_stages == ("Compras",)
    text = repr(mine)
    for secret in ("U2", "Planta", "Ruth", "Luis", "Globex"):
        assert secret not in text
    assert list(mine.stages.columns) == ["stage", "at"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(["Acme", "Globex", "Planta"]))
def test_customer_rows_property(duckdb_engine: sa.Engine, customer: str) -> None:
    """Whatever customer asks, every id returned has that customer in the database."""
    with duckdb_engine.connect() as conn:
        if not conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar():
            conn.commit()
            load_chain_world(duckdb_engine)
    with duckdb_engine.connect() as conn:
        ids = set(customer_commitments(conn, customer, AS_OF)["commitment_id"])
        owners: dict[str, str] = dict(
            conn.execute(sa.text("SELECT commitment_id, customer FROM commitments")).fetchall()
        )
    assert ids and all(owners[i] == customer for i in ids)


def test_timeline_lists_each_moment_once() -> None:
    """An event at the very instant of a phase is that phase (one row); a phase with no
    event stays alone; the due date is its own row; all in time order."""
    from dashboard.services.tracking import timeline

    t0 = pd.Timestamp("2026-05-11 13:16")
    phases = pd.DataFrame(
        {
            "phase": ["need", "promise", "delivery", "closure"],
            "at": [t0, t0 + pd.Timedelta(hours=5), t0 + pd.Timedelta(days=9), pd.NaT],
        }
    )
    events = pd.DataFrame(
        {
            "stage": ["Solicitud", "Ejecución", "Entrega"],
            "at": [t0, t0 + pd.Timedelta(days=3), t0 + pd.Timedelta(days=9)],
            "actor": ["Ana", None, "Luis"],
        }
    )
    rows = timeline(phases, events, t0 + pd.Timedelta(days=8))
    assert rows[["stage", "phase", "actor", "is_due"]].astype(object).where(
        rows[["stage", "phase", "actor", "is_due"]].notna(), None
    ).values.tolist() == [
        ["Solicitud", "need", "Ana", False],
        [None, "promise", None, False],
        ["Ejecución", None, None, False],
        [None, None, None, True],
        ["Entrega", "delivery", "Luis", False],
    ]
    assert rows["at"].is_monotonic_increasing
