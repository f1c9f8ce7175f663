"""Breach propagation over the dependency graph: roots, propagated, absorbed, impact, lift.

An edge of the graph is a row of `dependencies`: the downstream commitment D
(`commitment_id`) needs the upstream commitment U (`depends_on`). Every function here
follows one rule, so the numbers add up across pages:

*The filter picks the rows; the graph is followed wherever it goes.* The filter chooses
which commitments are counted or listed (their process, performer, customer, type,
direction and due period); the statuses of their upstreams (for roots, exposure, at risk,
lift) and of their downstreams (for impact) are taken from every non-cancelled commitment
at `as_of`, whatever the filter says. An upstream in another stage or period is still the
reason a downstream breach is propagated.

The graph work is set-based SQL: recursive CTEs over the breach-to-breach edges only,
with UNION (never UNION ALL) so that even a malformed cycle ends (the loader rejects
cycles, but a metric must never loop). The same text runs on DuckDB and PostgreSQL.
See docs/metrics-chain.md for the definitions in plain words and worked examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.status import commitment_status_sql

ROOT, PROPAGATED = "root", "propagated"


_STATUS_CTES = """
s_all AS NOT MATERIALIZED ({all_sql}),
s AS ({flt_sql}),
bu AS (
    SELECT DISTINCT d.commitment_id
    FROM dependencies d
    JOIN s_all u ON u.commitment_id = d.depends_on
    WHERE u.status = 'breach'
)"""


def _status_ctes(f: MetricFilter) -> tuple[str, dict[str, Any]]:
    """The CTEs every query here starts from, and their parameters.

    `s_all`: every non-cancelled commitment with its status at as_of (the graph).
    `s`: the commitments of the filter with their status and group key (the rows).
    `bu`: the ids of commitments with at least one breached direct upstream.
    """
    all_sql, all_params = commitment_status_sql(f, apply_filter=False)
    flt_sql, flt_params = commitment_status_sql(f, apply_filter=True)
    # Only fixed SQL from status.py and filters.py is spliced in; values are bound.
    ctes = _STATUS_CTES.format(all_sql=all_sql, flt_sql=flt_sql)
    return ctes, {**all_params, **flt_params}


# Breaches and the breach-to-breach edges, for the recursive queries. Each breach gets
# an integer surrogate key `k` (row_number over its id) so that the recursion joins
# integers, not strings (about twice as fast on DuckDB at a million commitments).
# `be` holds the edges whose two ends are breaches; a root is a breach that is the
# downstream end of no such edge. `walk(node, root_k)` pairs every breach reachable
# downstream from a root through breaches with that root (the root itself included, at
# node = root_k). UNION, not UNION ALL: each pair is produced once and a cycle ends.
# `in_filter` evaluates the filter on the breach's own row, so the final selection needs
# no second string join against the filtered view.
_WALK_CTES = """
br AS (
    SELECT x.commitment_id, x.process, x.performer, x.customer, x.customer_type, x.due_at,
        x.delay_days, ({in_filter}) AS in_filter,
        CAST(row_number() OVER (ORDER BY x.commitment_id) AS INTEGER) AS k
    FROM s_all x
    WHERE x.status = 'breach'
),
be AS (
    SELECT bu_.k AS up, bd_.k AS down
    FROM dependencies d
    JOIN br bu_ ON bu_.commitment_id = d.depends_on
    JOIN br bd_ ON bd_.commitment_id = d.commitment_id
),
roots AS (
    SELECT br.k FROM br
    WHERE NOT EXISTS (SELECT 1 FROM be WHERE be.down = br.k)
),
walk(node, root_k) AS (
    SELECT k, k FROM roots
    UNION
    SELECT be.down, w.root_k FROM walk w JOIN be ON be.up = w.node
)"""


def _walk_ctes(f: MetricFilter) -> str:
    """The recursive CTEs with the filter's condition on the breach rows spliced in."""
    in_filter, _ = f.sql_where("x")  # same parameter names and values as `s`
    return _WALK_CTES.format(in_filter=in_filter)


def read_frame(conn: sa.Connection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run a bound-parameter SELECT and return its rows as a DataFrame.

    On DuckDB the result is handed over column-wise by the driver (`cursor.df()`), about
    five times faster than `pd.read_sql`'s row-by-row fetch for 100k+ rows (roots, impact,
    lists at a million commitments); elsewhere `pd.read_sql`. Both fetch the result to
    its end, and the caller casts the columns it returns, so both give the same frame
    (the cross-backend test on the sample checks it).
    """
    if conn.dialect.name != "duckdb":
        return pd.read_sql(sa.text(sql), conn, params=params)
    cursor = conn.execute(sa.text(sql), params).cursor
    dates = [d[0] for d in cursor.description if str(d[1]) == "DATE"]
    df: pd.DataFrame = cursor.df()
    for col in dates:  # the driver widens DATE to a timestamp; keep dates as dates
        df[col] = pd.Series(
            [None if pd.isna(v) else v.date() for v in df[col]], index=df.index, dtype=object
        )
    return df


def _rate(numerator: int, denominator: int) -> float | None:
    """A fraction 0..1, or None when nothing is in the denominator (never NaN)."""
    return float(numerator) / float(denominator) if denominator else None


def _none_for_nan(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Object columns holding float or None, so an empty rate is None, never NaN."""
    for col in columns:
        df[col] = pd.Series(
            [None if pd.isna(v) else float(v) for v in df[col]], index=df.index, dtype=object
        )
    return df


_CLASSIFICATION_SQL = """
WITH {ctes}
SELECT
    s.commitment_id,
    s.status,
    CASE
        WHEN s.status = 'breach' AND bu.commitment_id IS NOT NULL THEN 'propagated'
        WHEN s.status = 'breach' THEN 'root'
    END AS breach_kind,
    bu.commitment_id IS NOT NULL AS has_breached_upstream,
    (bu.commitment_id IS NOT NULL AND s.status = 'on_time') AS absorbed,
    s.group_key, s.process, s.customer, s.customer_type, s.due_at, s.delay_days
FROM s
LEFT JOIN bu ON bu.commitment_id = s.commitment_id
WHERE s.status IN ('on_time', 'breach')
"""


def breach_classification_sql(f: MetricFilter) -> tuple[str, dict[str, Any]]:
    """A SELECT with one row per commitment of the filter's due population, classified.

    Columns: commitment_id, status ('on_time' | 'breach'), breach_kind ('root' |
    'propagated' | NULL for on time), has_breached_upstream (bool), absorbed (bool: on
    time although a direct upstream is a breach), group_key, process, customer,
    customer_type, due_at, delay_days. Other metrics (satisfaction split, KPI export)
    join it so that every page classifies a breach the same way.
    Use it as a CTE: `WITH k AS (<sql>) SELECT ... FROM k`.
    """
    ctes, params = _status_ctes(f)
    return _CLASSIFICATION_SQL.format(ctes=ctes), params


_SUMMARY_SQL = """
WITH {ctes}
SELECT
    s.group_key,
    count(*) FILTER (WHERE s.status = 'breach') AS breaches,
    count(*) FILTER (WHERE s.status = 'breach' AND bu.commitment_id IS NULL) AS root_breaches,
    count(*) FILTER (WHERE s.status = 'breach' AND bu.commitment_id IS NOT NULL)
        AS propagated_breaches,
    count(*) FILTER (WHERE s.status IN ('on_time', 'breach') AND bu.commitment_id IS NOT NULL)
        AS exposed,
    count(*) FILTER (WHERE s.status = 'on_time' AND bu.commitment_id IS NOT NULL) AS absorbed,
    count(*) FILTER (WHERE s.status = 'pending' AND bu.commitment_id IS NOT NULL) AS at_risk
FROM s
LEFT JOIN bu ON bu.commitment_id = s.commitment_id
GROUP BY s.group_key
ORDER BY s.group_key NULLS LAST
"""

_SUMMARY_COUNTS = (
    "breaches",
    "root_breaches",
    "propagated_breaches",
    "exposed",
    "absorbed",
    "at_risk",
)


def propagation_summary(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Root, propagated and absorbed breaches and the propagation rate, per group.

    Columns: group_key, breaches, root_breaches, propagated_breaches, exposed (due
    commitments with at least one breached direct upstream), absorbed, propagation_rate
    (propagated / exposed), absorption_rate (absorbed / exposed = 1 - propagation_rate),
    at_risk (pending commitments with a breached direct upstream). One row per group that
    has any commitment in the filter (pending ones included, as on the on-time summary);
    with group_by "none", always exactly one row.
    """
    ctes, params = _status_ctes(f)
    df = read_frame(conn, _SUMMARY_SQL.format(ctes=ctes), params)
    if df.empty and f.group_by == "none":
        df = pd.DataFrame([{"group_key": None, **dict.fromkeys(_SUMMARY_COUNTS, 0)}])
    for col in _SUMMARY_COUNTS:
        df[col] = df[col].astype("int64")
    df["propagation_rate"] = [
        _rate(p, e) for p, e in zip(df["propagated_breaches"], df["exposed"], strict=True)
    ]
    df["absorption_rate"] = [
        _rate(a, e) for a, e in zip(df["absorbed"], df["exposed"], strict=True)
    ]
    df = _none_for_nan(df, ["propagation_rate", "absorption_rate"])
    if f.group_by == "none":
        df["group_key"] = None
    return df[
        [
            "group_key",
            "breaches",
            "root_breaches",
            "propagated_breaches",
            "exposed",
            "absorbed",
            "propagation_rate",
            "absorption_rate",
            "at_risk",
        ]
    ].reset_index(drop=True)


_ROOTS_SQL = """
WITH RECURSIVE {ctes},{walk}
SELECT a.commitment_id, r.commitment_id AS root_id
FROM walk w
JOIN br a ON a.k = w.node
JOIN br r ON r.k = w.root_k
WHERE w.node <> w.root_k AND a.in_filter
ORDER BY a.commitment_id, r.commitment_id
"""


def breach_roots(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """The roots of each propagated breach of the filter: one row per (breach, root).

    A root is a breach with no breached direct upstream; the roots of a propagated
    breach are the roots reachable upstream through a path made only of breaches, so a
    breach can have several roots (a diamond) and roots may lie outside the filter.
    Columns: commitment_id (the propagated breach), root_id.
    """
    ctes, params = _status_ctes(f)
    sql = _ROOTS_SQL.format(ctes=ctes, walk=_walk_ctes(f))
    return read_frame(conn, sql, params)


_IMPACT_SQL = """
WITH RECURSIVE {ctes},{walk},
agg AS MATERIALIZED (
    SELECT
        w.root_k,
        count(*) AS impact,
        count(DISTINCT CASE WHEN a.customer_type = 'external' THEN a.customer END)
            AS external_customers,
        string_agg(
            DISTINCT CASE WHEN a.customer_type = 'external' THEN a.customer END, ', '
            ORDER BY CASE WHEN a.customer_type = 'external' THEN a.customer END
        ) AS external_customer_names
    FROM walk w
    JOIN br a ON a.k = w.node
    WHERE w.node <> w.root_k
    GROUP BY w.root_k
)
SELECT
    r.commitment_id AS root_id, r.process, r.performer, r.customer, r.due_at, r.delay_days,
    COALESCE(agg.impact, 0) AS impact,
    COALESCE(agg.external_customers, 0) AS external_customers,
    COALESCE(agg.external_customer_names, '') AS external_customer_names
FROM roots
JOIN br r ON r.k = roots.k
LEFT JOIN agg ON agg.root_k = r.k
WHERE r.in_filter
ORDER BY impact DESC, root_id
{limit}
"""


def root_impact(conn: sa.Connection, f: MetricFilter, limit: int | None = None) -> pd.DataFrame:
    """Every root breach of the filter ranked by the harm that travelled down from it.

    impact = the number of propagated breaches it is a root of (anywhere downstream,
    inside the filter or not: the harm belongs to the root); external_customers = the
    distinct external customers of those propagated breaches (the root's own customer
    counts only if one of them also serves it: the column measures knock-on harm).
    Roots with no propagated breach are listed too, with impact 0, so the row count is
    the filter's root_breaches. Columns: root_id, process, performer, customer, due_at,
    delay_days, impact, external_customers, external_customer_names (comma-joined,
    sorted). Sorted by impact (desc), then root_id; `limit` keeps the first rows.
    """
    # `agg` is MATERIALIZED (DuckDB and PostgreSQL 12+): without it DuckDB's top-N plan
    # for LIMIT re-plans the walk and runs twice as slow as the full ranking.
    ctes, params = _status_ctes(f)
    limit_sql = ""
    if limit is not None:
        limit_sql = "LIMIT :limit"
        params = {**params, "limit": int(limit)}
    sql = _IMPACT_SQL.format(ctes=ctes, walk=_walk_ctes(f), limit=limit_sql)
    df = read_frame(conn, sql, params)
    for col in ("impact", "external_customers"):
        df[col] = df[col].astype("int64")
    return df


@dataclass(frozen=True)
class ImpactTotals:
    """What a `root_impact` frame adds up to (the Cadena headline)."""

    roots: int  # root breaches of the filter (= root_breaches)
    roots_with_impact: int  # those with at least one propagated breach downstream
    total_impact: int  # their impacts summed (a propagated breach with two roots counts twice)
    largest_impact: int | None  # the largest one; None without roots


def impact_totals(roots: pd.DataFrame) -> ImpactTotals:
    """The headline numbers of a `root_impact` frame (every root, impact 0 included)."""
    impacts = [int(v) for v in roots["impact"]]
    harmful = [v for v in impacts if v > 0]
    return ImpactTotals(
        roots=len(impacts),
        roots_with_impact=len(harmful),
        total_impact=sum(harmful),
        largest_impact=max(impacts) if impacts else None,
    )


def impact_pareto(roots: pd.DataFrame, top: int) -> pd.DataFrame:
    """The `top` roots with impact of a `root_impact` frame, largest first (ties by
    root_id), with each one's `share` and the `cumulative_share` of the total impact of
    every root with impact (not only of the `top` shown)."""
    data = roots[roots["impact"] > 0].sort_values(["impact", "root_id"], ascending=[False, True])
    total = int(data["impact"].sum())
    data = data.head(top).copy()
    data["share"] = data["impact"] / total if total else 0.0
    data["cumulative_share"] = data["share"].cumsum()
    return data.reset_index(drop=True)


_TREE_SQL = """
WITH RECURSIVE {ctes},
br AS (SELECT commitment_id FROM s_all WHERE status = 'breach'),
be AS (
    SELECT d.depends_on AS up, d.commitment_id AS down
    FROM dependencies d
    JOIN br bu_ ON bu_.commitment_id = d.depends_on
    JOIN br bd_ ON bd_.commitment_id = d.commitment_id
),
reach(node) AS (
    SELECT commitment_id FROM br WHERE commitment_id = :root_id
    UNION
    SELECT be.down FROM reach r JOIN be ON be.up = r.node
),
nodes_n AS (SELECT count(*) AS n FROM reach),
dist(node, depth) AS (
    SELECT CAST(:root_id AS VARCHAR), 0
    UNION
    SELECT be.down, d.depth + 1
    FROM dist d
    JOIN be ON be.up = d.node
    WHERE d.depth < (SELECT n FROM nodes_n)
),
depth AS (SELECT node, min(depth) AS depth FROM dist GROUP BY node)
SELECT be.down AS commitment_id, be.up AS depends_on, s_all.process, s_all.status,
    depth.depth
FROM be
JOIN reach r_up ON r_up.node = be.up
JOIN depth ON depth.node = be.down
JOIN s_all ON s_all.commitment_id = be.down
ORDER BY depth.depth, be.down, be.up
"""


def impact_tree(conn: sa.Connection, f: MetricFilter, root_id: str) -> pd.DataFrame:
    """The breach edges reachable downstream from one breach, for drawing its tree.

    One row per edge (commitment_id = the downstream breach, depends_on = its breached
    upstream on the path) with the downstream's process and status and its depth: the
    fewest links between it and the root (1 = a direct dependant). The whole graph is
    followed (only `as_of` is used): the tree is the root's, not the view's. Empty when
    `root_id` is not a breach at as_of.
    """
    # The tree ignores the filter's rows but keeps its as_of; the filter CTEs are reused
    # for the statuses.
    ctes, params = _status_ctes(f)
    sql = _TREE_SQL.format(ctes=ctes)
    df = read_frame(conn, sql, {**params, "root_id": root_id})
    df["depth"] = df["depth"].astype("int64")
    return df


_EDGES_SQL = """
WITH {ctes}
SELECT
    u.process AS upstream_process,
    dn.process AS downstream_process,
    count(*) FILTER (WHERE u.status = 'breach') AS pairs_upstream_breach,
    count(*) FILTER (WHERE u.status = 'breach' AND dn.status = 'breach')
        AS downstream_breach_given_upstream_breach,
    count(*) FILTER (WHERE u.status = 'on_time') AS pairs_upstream_on_time,
    count(*) FILTER (WHERE u.status = 'on_time' AND dn.status = 'breach')
        AS downstream_breach_given_upstream_on_time
FROM dependencies d
JOIN s dn ON dn.commitment_id = d.commitment_id
JOIN s_all u ON u.commitment_id = d.depends_on
WHERE dn.status IN ('on_time', 'breach') AND u.status IN ('on_time', 'breach')
GROUP BY u.process, dn.process
ORDER BY u.process, dn.process
"""

_EDGE_COUNTS = (
    "pairs_upstream_breach",
    "downstream_breach_given_upstream_breach",
    "pairs_upstream_on_time",
    "downstream_breach_given_upstream_on_time",
)


def _edge_counts(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Dependency edges by (upstream process, downstream process) and the two statuses.

    Only edges whose downstream is in the filter's due population and whose upstream is
    decided (on time or breach) count: a pending upstream says nothing yet.
    """
    ctes, params = _status_ctes(f)
    df = read_frame(conn, _EDGES_SQL.format(ctes=ctes), params)
    for col in _EDGE_COUNTS:
        df[col] = df[col].astype("int64")
    return df


def contagion_lift(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """How much more likely a breach in B is when its upstream in A breached (edge level).

    Counted over dependency edges (D depends on U, U in process A, D in process B, D in
    the filter's due population, U on time or breach): p_breach_given_breach =
    downstream breaches / edges with a breached upstream; p_breach_given_on_time the
    same over edges with an on-time upstream; lift = their ratio. A rate with no edge is
    None; the lift is None when either rate is None or the on-time rate is 0.
    Columns: upstream_process, downstream_process, the four counts, the two rates, lift.
    """
    df = _edge_counts(conn, f)
    df["p_breach_given_breach"] = [
        _rate(n, d)
        for n, d in zip(
            df["downstream_breach_given_upstream_breach"], df["pairs_upstream_breach"], strict=True
        )
    ]
    df["p_breach_given_on_time"] = [
        _rate(n, d)
        for n, d in zip(
            df["downstream_breach_given_upstream_on_time"],
            df["pairs_upstream_on_time"],
            strict=True,
        )
    ]
    df["lift"] = [
        p1 / p0 if p1 is not None and p0 else None
        for p1, p0 in zip(df["p_breach_given_breach"], df["p_breach_given_on_time"], strict=True)
    ]
    df = _none_for_nan(df, ["p_breach_given_breach", "p_breach_given_on_time", "lift"])
    return df[
        [
            "upstream_process",
            "downstream_process",
            "pairs_upstream_breach",
            "downstream_breach_given_upstream_breach",
            "pairs_upstream_on_time",
            "downstream_breach_given_upstream_on_time",
            "p_breach_given_breach",
            "p_breach_given_on_time",
            "lift",
        ]
    ]


# Contagion-lift bands, by lower bound: under 2× a breached upstream barely changes the
# odds; from 10× a breach upstream all but decides the downstream one.
LIFT_BANDS: tuple[tuple[str, float], ...] = (("low", 0.0), ("mid", 2.0), ("high", 10.0))


def lift_band(lift: object) -> str | None:
    """The band of a contagion lift ('low', 'mid', 'high'; see LIFT_BANDS), or None when
    the lift is unknown (no edge with an on-time upstream breached downstream)."""
    try:
        value = float(lift)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(value):
        return None
    band = LIFT_BANDS[0][0]
    for name, lower in LIFT_BANDS:
        if value >= lower:
            band = name
    return band


_FLOWS_SQL = """
WITH {ctes}
SELECT
    u.process AS upstream_process,
    dn.process AS downstream_process,
    count(DISTINCT dn.commitment_id) AS breaches,
    count(*) AS edges
FROM dependencies d
JOIN s dn ON dn.commitment_id = d.commitment_id
JOIN s_all u ON u.commitment_id = d.depends_on
WHERE dn.status = 'breach' AND u.status = 'breach'
GROUP BY u.process, dn.process
ORDER BY u.process, dn.process
"""


def breach_flows(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Propagated breaches by (upstream process, downstream process), for a Sankey.

    breaches = distinct propagated breaches of the filter in the downstream process with
    a breached direct upstream in the upstream process; edges = breach-to-breach edges
    behind them. A breach with breached upstreams in two processes shows in both pairs,
    so the flows can add up to more than propagated_breaches. Pairs with no propagated
    breach are left out. Columns: upstream_process, downstream_process, breaches, edges.
    """
    ctes, params = _status_ctes(f)
    df = read_frame(conn, _FLOWS_SQL.format(ctes=ctes), params)
    for col in ("breaches", "edges"):
        df[col] = df[col].astype("int64")
    return df


_AT_RISK_SQL = """
WITH {ctes}
SELECT
    s.commitment_id, s.title, s.process, s.performer, s.customer, s.due_at,
    string_agg(u.commitment_id, ', ' ORDER BY u.commitment_id) AS breached_upstreams,
    max(u.delay_days) AS max_upstream_delay_days
FROM s
JOIN dependencies d ON d.commitment_id = s.commitment_id
JOIN s_all u ON u.commitment_id = d.depends_on
WHERE s.status = 'pending' AND u.status = 'breach'
GROUP BY s.commitment_id, s.title, s.process, s.performer, s.customer, s.due_at
ORDER BY s.due_at, s.commitment_id
"""


def at_risk_scope(f: MetricFilter) -> MetricFilter:
    """`f` without its period: the chain's at-risk list covers every open commitment,
    whose due dates lie ahead of whatever past weeks the page shows."""
    return f.with_(date_from=None, date_to=None)


def at_risk_commitments(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Open, not yet due commitments with a breached direct upstream: expected breaches.

    predicted_delivery = due_at + the largest delay among its breached upstreams (at
    as_of: final for a late delivery, so far for one still open, so a lower bound), the
    rule "a link slips by as much as its latest supplier". Columns: commitment_id, title,
    process, performer, customer, due_at, breached_upstreams (comma-joined, sorted),
    max_upstream_delay_days, predicted_delivery. Sorted by due date.
    """
    ctes, params = _status_ctes(f)
    df = read_frame(conn, _AT_RISK_SQL.format(ctes=ctes), params)
    df["max_upstream_delay_days"] = df["max_upstream_delay_days"].astype("float64")
    df["predicted_delivery"] = pd.to_datetime(df["due_at"]) + pd.to_timedelta(
        df["max_upstream_delay_days"], unit="D"
    )
    return df
