"""Breach propagation (roots, propagated, absorbed, impact): Eslabón vs networkx.

- eslabon: `propagation_summary`, `breach_roots` and `root_impact` of
  dashboard.metrics.propagation on the loaded database (SQL, a recursive CTE);
- networkx: the same definitions (docs/design.md) on a `DiGraph` built from the dependency
  edges and each commitment's status at as_of. The two input frames are read once before
  timing (generous to the peer); building the graphs and every traversal is timed.

The results must be equal (asserted): the three counts, every (propagated breach, root)
pair, and every root's impact and external customers. Memory: Python heap peak
(tracemalloc) of one untimed call each. Run: `.venv/bin/python -m bench.propagation`.
"""

from __future__ import annotations

import argparse
from typing import Any

import networkx as nx
import pandas as pd
import sqlalchemy as sa

from bench.common import alternate_calls, print_table, raw_connection, sample_connection, size_arg
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.propagation import breach_roots, propagation_summary, root_impact

# Every non-cancelled commitment's status at as_of: 1 on time, 2 breach, 0 pending.
STATUS_SQL = """
SELECT commitment_id, direction, customer, customer_type,
    CASE WHEN delivered_at <= $as_of AND delivered_at <= due_at THEN 1
         WHEN delivered_at <= $as_of OR due_at < $as_of THEN 2
         ELSE 0 END AS st
FROM commitments WHERE NOT cancelled
"""


def eslabon_propagation(conn: sa.Connection, f: MetricFilter) -> dict[str, Any]:
    """The product's answer, in the comparable shape."""
    summary = propagation_summary(conn, f).iloc[0]
    roots = breach_roots(conn, f)
    impact = root_impact(conn, f)
    return {
        "counts": (
            int(summary["root_breaches"]),
            int(summary["propagated_breaches"]),
            int(summary["absorbed"]),
        ),
        "pairs": set(zip(roots["commitment_id"], roots["root_id"], strict=True)),
        "impact": {
            r: (int(i), int(e))
            for r, i, e in zip(
                impact["root_id"], impact["impact"], impact["external_customers"], strict=True
            )
        },
    }


def graph_inputs(conn: sa.Connection, f: MetricFilter) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The statuses and the dependency edges, read once for the peer."""
    raw = raw_connection(conn)
    status = raw.execute(STATUS_SQL, {"as_of": f.as_of}).df()
    edges = raw.execute("SELECT commitment_id, depends_on FROM dependencies").df()
    return status, edges


def networkx_propagation(status: pd.DataFrame, edges: pd.DataFrame) -> dict[str, Any]:
    """The same definitions on networkx graphs."""
    st = dict(zip(status["commitment_id"], status["st"], strict=True))
    graph = nx.DiGraph()
    graph.add_nodes_from(st)
    graph.add_edges_from(
        (u, d)
        for d, u in zip(edges["commitment_id"], edges["depends_on"], strict=True)
        if u in st and d in st
    )
    in_filter = set(status.loc[status["direction"] == "to_customer", "commitment_id"])
    external = {
        c: cust
        for c, cust, kind in zip(
            status["commitment_id"], status["customer"], status["customer_type"], strict=True
        )
        if kind == "external"
    }
    breach = {c for c, s in st.items() if s == 2}
    exposed = {d for u, d in graph.edges if st[u] == 2}
    mine = [c for c in in_filter if st[c] > 0]
    counts = (
        sum(1 for c in mine if st[c] == 2 and c not in exposed),
        sum(1 for c in mine if st[c] == 2 and c in exposed),
        sum(1 for c in mine if st[c] == 1 and c in exposed),
    )
    # a real graph of the breach-to-breach edges (a subgraph view filters every neighbour
    # lookup and makes the traversals ~100x slower: not what an expert would write)
    chain = nx.DiGraph()
    chain.add_nodes_from(breach)
    chain.add_edges_from((u, d) for u, d in graph.edges if u in breach and d in breach)
    roots = [c for c in breach if chain.in_degree(c) == 0]
    pairs: set[tuple[str, str]] = set()
    impact: dict[str, tuple[int, int]] = {}
    for root in roots:
        below = nx.descendants(chain, root)
        pairs.update((c, root) for c in below if c in in_filter)
        if root in in_filter:
            customers = {external[c] for c in below if c in external}
            impact[root] = (len(below), len(customers))
    return {"counts": counts, "pairs": pairs, "impact": impact}


def main(argv: list[str] | None = None) -> None:
    """Check both agree, then time them alternately and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size_arg(parser)
    args = parser.parse_args(argv)
    with sample_connection(args.size) as (conn, f):
        status, edges = graph_inputs(conn, f)
        mine = eslabon_propagation(conn, f)
        peer = networkx_propagation(status, edges)
        assert mine["counts"] == peer["counts"], (mine["counts"], peer["counts"])
        assert mine["pairs"] == peer["pairs"], "breach_roots differs from networkx"
        assert mine["impact"] == peer["impact"], "root_impact differs from networkx"
        print(
            f"propagation ({args.size}) agrees with networkx: roots/propagated/absorbed "
            f"{mine['counts']}, {len(mine['pairs']):,} (breach, root) pairs, "
            f"{len(mine['impact']):,} roots ranked",
            flush=True,
        )
        results = alternate_calls(
            {
                "eslabon": lambda: eslabon_propagation(conn, f),
                "networkx": lambda: networkx_propagation(status, edges),
            },
            args.reps or 5,
        )
    print_table(f"Breach propagation ({args.size})", results, versus=["networkx"])


if __name__ == "__main__":
    main()
