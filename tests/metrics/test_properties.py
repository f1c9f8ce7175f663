"""Invariants of the metric contract on random data (Hypothesis, DuckDB only).

The SQL is the same text on both backends (test_backends_agree checks that), so the
properties run on one DuckDB file reused across examples: each example empties the
tables and inserts its own rows, which keeps 30 examples to a few seconds.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import headline_kpis
from dashboard.metrics.ontime import on_time_summary
from dashboard.metrics.satisfaction import satisfaction_summary
from tests.factories import insert_rows

AS_OF = datetime(2026, 3, 10, 12, 0)
PROCESSES = ("Ventas", "Compras", "Producción")
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def db(module_duckdb_engine: sa.Engine) -> sa.Engine:
    return module_duckdb_engine


def _reset(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in ("dependencies", "satisfaction", "complaints", "notices", "commitments"):
            conn.execute(sa.text(f"DELETE FROM {table}"))


# One commitment: due within 20 days before to 10 days after as_of (to the hour),
# delivered never or between 3 days early and 5 days late (maybe after as_of).
_commitment = st.fixed_dictionaries(
    {
        "due_hours": st.integers(-20 * 24, 10 * 24),
        "delivery_hours": st.one_of(st.none(), st.integers(-3 * 24, 5 * 24)),
        "cancelled": st.sampled_from([False, False, False, True]),
        "direction": st.sampled_from(["to_customer"] * 4 + ["from_customer"]),
        "process": st.sampled_from(PROCESSES),
    }
)
_world = st.lists(_commitment, min_size=0, max_size=25).flatmap(
    lambda cs: st.tuples(
        st.just(cs),
        # dependencies i -> j with j < i: always a DAG
        st.lists(
            st.tuples(st.integers(1, max(len(cs) - 1, 1)), st.integers(0, max(len(cs) - 2, 0))),
            max_size=30,
        ),
        st.lists(
            st.tuples(
                st.integers(0, max(len(cs) - 1, 0)),
                st.one_of(st.none(), st.integers(1, 5)),
                st.one_of(st.none(), st.integers(0, 10)),
            ),
            max_size=20,
        ),
    )
)


def _rows(commitments: list[dict]) -> list[dict]:
    rows = []
    for i, c in enumerate(commitments):
        due = AS_OF + timedelta(hours=c["due_hours"])
        delivered = (
            None if c["delivery_hours"] is None else due + timedelta(hours=c["delivery_hours"])
        )
        rows.append(
            {
                "commitment_id": f"c{i:02d}",
                "due_at": due,
                "delivered_at": delivered,
                "cancelled": c["cancelled"],
                "direction": c["direction"],
                "process": c["process"],
            }
        )
    return rows


def _load(engine: sa.Engine, world: tuple) -> list[dict]:
    commitments, deps, responses = world
    _reset(engine)
    rows = _rows(commitments)
    insert_rows(engine, "commitments", rows)
    if rows:
        edges = {(f"c{i:02d}", f"c{j:02d}") for i, j in deps if j < i < len(rows)}
        insert_rows(
            engine, "dependencies", [{"commitment_id": a, "depends_on": b} for a, b in edges]
        )
        insert_rows(
            engine,
            "satisfaction",
            [
                {"response_id": f"r{k}", "commitment_id": f"c{i:02d}", "customer": "Cliente A",
                 "answered_at": AS_OF - timedelta(days=1), "csat": csat, "nps": nps}
                for k, (i, csat, nps) in enumerate(responses) if i < len(rows)
            ],
        )  # fmt: skip
    return rows


def _reference(rows: list[dict]) -> dict:
    """On-time figures by a direct reading of the contract, in plain Python."""
    due = on_time = pending = 0
    delays = []
    for r in rows:
        if r["cancelled"] or r["direction"] != "to_customer":
            continue
        delivered = r["delivered_at"] if r["delivered_at"] and r["delivered_at"] <= AS_OF else None
        if delivered is not None and delivered <= r["due_at"]:
            due, on_time = due + 1, on_time + 1
        elif delivered is not None:
            due += 1
            delays.append((delivered - r["due_at"]).total_seconds() / 86400)
        elif r["due_at"] < AS_OF:
            due += 1
            delays.append((AS_OF - r["due_at"]).total_seconds() / 86400)
        else:
            pending += 1
    p90 = None
    if len(delays) == 1:
        p90 = delays[0]
    elif delays:
        p90 = statistics.quantiles(delays, n=10, method="inclusive")[8]
    return {
        "due": due,
        "on_time": on_time,
        "breaches": due - on_time,
        "pending": pending,
        "on_time_rate": on_time / due if due else None,
        "median_delay_days": statistics.median(delays) if delays else None,
        "p90_delay_days": p90,
    }


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < 1e-5


@SETTINGS
@given(world=_world)
def test_on_time_matches_a_plain_python_reading(db: sa.Engine, world: tuple) -> None:
    rows = _load(db, world)
    expected = _reference(rows)
    with db.connect() as conn:
        got = on_time_summary(conn, MetricFilter(as_of=AS_OF)).iloc[0].to_dict()
        by_process = on_time_summary(conn, MetricFilter(as_of=AS_OF, group_by="process"))
    for key in ("due", "on_time", "breaches", "pending"):
        assert got[key] == expected[key], key
    for key in ("on_time_rate", "median_delay_days", "p90_delay_days"):
        assert _close(got[key], expected[key]), (key, got[key], expected[key])
    # on time + breaches = due, in every group, and the groups add up to the whole
    assert (by_process["on_time"] + by_process["breaches"] == by_process["due"]).all()
    assert by_process["due"].sum() == got["due"]
    assert by_process["pending"].sum() == got["pending"]


@SETTINGS
@given(world=_world)
def test_headline_invariants(db: sa.Engine, world: tuple) -> None:
    rows = _load(db, world)
    counted = {
        i for i, r in enumerate(rows) if not r["cancelled"] and r["direction"] == "to_customer"
    }
    scores = [nps for i, _, nps in world[2] if i in counted and nps is not None]
    expected_nps = (
        100 * (sum(n >= 9 for n in scores) - sum(n <= 6 for n in scores)) / len(scores)
        if scores
        else None
    )
    with db.connect() as conn:
        k = headline_kpis(conn, MetricFilter(as_of=AS_OF)).iloc[0].to_dict()
        sat = satisfaction_summary(conn, MetricFilter(as_of=AS_OF)).iloc[0].to_dict()
    assert k["on_time"] + k["breaches"] == k["due"]
    assert k["root_breaches"] + k["propagated_breaches"] == k["breaches"]
    assert k["nps"] is None or -100.0 <= k["nps"] <= 100.0
    assert k["csat_pct"] is None or 0.0 <= k["csat_pct"] <= 1.0
    assert k["csat_mean"] is None or 1.0 <= k["csat_mean"] <= 5.0
    for rate in ("on_time_rate", "propagation_rate", "proactive_notice_rate"):
        assert k[rate] is None or 0.0 <= k[rate] <= 1.0
    assert sat["promoters"] + sat["passives"] + sat["detractors"] == sat["nps_responses"]
    assert (k["nps"] is None) == (sat["nps_responses"] == 0)
    assert _close(k["nps"], expected_nps)


RATES = (
    "on_time_rate",
    "median_delay_days",
    "p90_delay_days",
    "propagation_rate",
    "csat_pct",
    "csat_mean",
    "nps",
    "complaints_per_100",
    "proactive_notice_rate",
    "customer_commitments_kept",
)


@SETTINGS
@given(world=_world, hours_ahead=st.integers(1, 30 * 24), process=st.sampled_from(PROCESSES))
def test_a_pending_commitment_changes_no_rate(
    db: sa.Engine, world: tuple, hours_ahead: int, process: str
) -> None:
    _load(db, world)
    f = MetricFilter(as_of=AS_OF)
    with db.connect() as conn:
        before = headline_kpis(conn, f).iloc[0].to_dict()
    insert_rows(
        db,
        "commitments",
        [{"commitment_id": "zz_new", "due_at": AS_OF + timedelta(hours=hours_ahead),
          "process": process}],
    )  # fmt: skip
    with db.connect() as conn:
        after = headline_kpis(conn, f).iloc[0].to_dict()
    assert after["pending"] == before["pending"] + 1
    assert after["due"] == before["due"]
    for key in RATES:
        assert after[key] == before[key], key
