"""Propagation on random DAGs against a brute-force reference written from the definition.

The reference below never looks at the SQL: it decides each commitment's status from its
dates, then walks the graph in plain Python (depth-first, upstream) exactly as
docs/design.md words it. DuckDB only: the hand-worked tests cover PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.propagation import (
    breach_classification_sql,
    breach_roots,
    propagation_summary,
    root_impact,
)
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 10, 12, 0)
F = MetricFilter(as_of=AS_OF)

# kind -> (due, delivered, cancelled): the four fates a commitment can have at AS_OF
KINDS: dict[str, tuple[datetime, datetime | None, bool]] = {
    "on_time": (datetime(2026, 3, 5), datetime(2026, 3, 4), False),
    "late": (datetime(2026, 3, 5), datetime(2026, 3, 7), False),
    "open_overdue": (datetime(2026, 3, 5), None, False),
    "delivered_after_as_of": (datetime(2026, 3, 5), AS_OF + timedelta(days=1), False),
    "pending": (datetime(2026, 3, 20), None, False),
    "cancelled": (datetime(2026, 3, 5), datetime(2026, 3, 7), True),
}


@dataclass(frozen=True)
class Graph:
    kinds: tuple[str, ...]
    edges: frozenset[tuple[int, int]]  # (downstream, upstream), upstream < downstream


@st.composite
def dags(draw: st.DrawFn) -> Graph:
    """A random DAG: an edge always points from a lower index (upstream) to a higher one.

    Most edges join near neighbours, so long chains of breaches (roots several links
    up) are common; a few long edges make diamonds and shortcuts.
    """
    n = draw(st.integers(min_value=1, max_value=14))
    kinds = tuple(draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=n, max_size=n)))
    chosen: set[tuple[int, int]] = set()
    for d in range(1, n):
        near = list(range(max(0, d - 2), d))
        chosen.update((d, u) for u in draw(st.lists(st.sampled_from(near), max_size=2)))
    possible = [(d, u) for d in range(n) for u in range(d)]
    if possible:
        chosen.update(draw(st.lists(st.sampled_from(possible), max_size=4)))
    return Graph(kinds, frozenset(chosen))


def reference_status(kind: str) -> str | None:
    """Status at AS_OF by the contract's words; None for a cancelled commitment."""
    due, delivered, cancelled = KINDS[kind]
    if cancelled:
        return None
    if delivered is not None and delivered <= AS_OF:
        return "on_time" if delivered <= due else "breach"
    return "breach" if due < AS_OF else "pending"


def reference(g: Graph) -> dict:
    """Roots, propagated, absorbed, exposed and at-risk sets by brute force."""
    status = {i: reference_status(k) for i, k in enumerate(g.kinds)}
    ups: dict[int, set[int]] = {i: set() for i in status}
    for d, u in g.edges:
        ups[d].add(u)

    def breached_ups(i: int) -> set[int]:
        return {u for u in ups[i] if status[u] == "breach"}

    breaches = {i for i, s in status.items() if s == "breach"}
    roots = {i for i in breaches if not breached_ups(i)}
    propagated = breaches - roots
    due_pop = {i for i, s in status.items() if s in ("on_time", "breach")}
    exposed = {i for i in due_pop if breached_ups(i)}

    def roots_of(i: int) -> set[int]:
        """Depth-first upstream through breaches only, collecting the roots met."""
        found: set[int] = set()
        stack, seen = list(breached_ups(i)), set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if node in roots:
                found.add(node)
            stack.extend(breached_ups(node))
        return found

    return {
        "breaches": breaches,
        "roots": roots,
        "propagated": propagated,
        "exposed": exposed,
        "absorbed": {i for i in exposed if status[i] == "on_time"},
        "at_risk": {i for i, s in status.items() if s == "pending" and breached_ups(i)},
        "roots_of": {(f"c{i}", f"c{r}") for i in propagated for r in roots_of(i)},
    }


def load_graph(engine: sa.Engine, g: Graph) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM dependencies"))
        conn.execute(sa.text("DELETE FROM commitments"))
    rows = []
    for i, kind in enumerate(g.kinds):
        due, delivered, cancelled = KINDS[kind]
        rows.append(commitment(f"c{i}", due, delivered, cancelled=cancelled))
    insert_rows(engine, "commitments", rows)
    insert_rows(
        engine,
        "dependencies",
        [{"commitment_id": f"c{d}", "depends_on": f"c{u}"} for d, u in sorted(g.edges)],
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(g=dags())
def test_sql_equals_brute_force_reference(duckdb_engine: sa.Engine, g: Graph) -> None:
    load_graph(duckdb_engine, g)
    ref = reference(g)
    with duckdb_engine.connect() as conn:
        roots = breach_roots(conn, F)
        s = propagation_summary(conn, F).iloc[0]
        impact = root_impact(conn, F)
        sql, params = breach_classification_sql(F)
        k = pd.read_sql(sa.text(sql), conn, params=params)

    assert set(zip(roots["commitment_id"], roots["root_id"], strict=True)) == ref["roots_of"]
    # every propagated breach has at least one root unless it sits on a cycle (never here)
    assert set(roots["commitment_id"]) == {f"c{i}" for i in ref["propagated"]}

    assert s["breaches"] == len(ref["breaches"])
    assert s["root_breaches"] == len(ref["roots"])
    assert s["propagated_breaches"] == len(ref["propagated"])
    assert s["exposed"] == len(ref["exposed"])
    assert s["absorbed"] == len(ref["absorbed"])
    assert s["at_risk"] == len(ref["at_risk"])

    # invariants of the contract
    assert s["root_breaches"] + s["propagated_breaches"] == s["breaches"]
    assert s["propagated_breaches"] <= s["exposed"]
    assert s["propagated_breaches"] + s["absorbed"] == s["exposed"]
    for rate in (s["propagation_rate"], s["absorption_rate"]):
        assert rate is None or 0.0 <= rate <= 1.0
    if s["exposed"]:
        assert abs(s["propagation_rate"] + s["absorption_rate"] - 1.0) < 1e-12
    else:
        assert s["propagation_rate"] is None

    # the classification feeding other metrics agrees with the summary
    assert int((k["breach_kind"] == "root").sum()) == s["root_breaches"]
    assert int(k["absorbed"].astype(bool).sum()) == s["absorbed"]

    # impact: one row per root, impact = number of propagated breaches it is a root of
    expected_impact = {f"c{r}": 0 for r in ref["roots"]}
    for _, root in ref["roots_of"]:
        expected_impact[root] += 1
    assert dict(zip(impact["root_id"], impact["impact"], strict=True)) == expected_impact
    assert list(impact["impact"]) == sorted(impact["impact"], reverse=True)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(g=dags(), data=st.data())
def test_adding_a_pending_commitment_changes_no_count_but_at_risk(
    duckdb_engine: sa.Engine, g: Graph, data: st.DataObject
) -> None:
    """A pending commitment is neither on time nor a breach: wherever it is wired in, it
    changes no breach, root, propagated, exposed or absorbed count and no rate."""
    load_graph(duckdb_engine, g)
    n = len(g.kinds)
    ups = data.draw(st.sets(st.integers(0, n - 1), max_size=3), label="its upstreams")
    downs = data.draw(st.sets(st.integers(0, n - 1), max_size=3), label="its downstreams")
    with duckdb_engine.connect() as conn:
        before = propagation_summary(conn, F).iloc[0].to_dict()
    due, delivered, _ = KINDS["pending"]
    insert_rows(duckdb_engine, "commitments", [commitment("new", due, delivered)])
    insert_rows(
        duckdb_engine,
        "dependencies",
        [{"commitment_id": "new", "depends_on": f"c{u}"} for u in sorted(ups)]
        + [{"commitment_id": f"c{d}", "depends_on": "new"} for d in sorted(downs)],
    )
    with duckdb_engine.connect() as conn:
        after = propagation_summary(conn, F).iloc[0].to_dict()
    breached_up = any(reference_status(g.kinds[u]) == "breach" for u in ups)
    assert after.pop("at_risk") == before.pop("at_risk") + int(breached_up)
    assert after == before
