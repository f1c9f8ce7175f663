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

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.status import commitment_status_sql

ROOT, PROPAGATED = "root", "propagated"


_STATUS_CTES = """
s_all AS ({all_sql}),
s AS ({flt_sql}),
bu AS (
    SELECT DISTINCT d.commitment_id
    FROM dependencies d
    JOIN s_all u ON u.commitment_id = d.depends_on
    WHERE u.status = 'breach'
)"""


def _status_ctes(f: MetricFilter) -> tuple[str, dict]:
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


# Breaches and the breach-to-breach edges, for the recursive queries. `be` holds the
# edges whose two ends are breaches; a root is a breach that is the downstream end of
# no such edge. `walk(node, root_id)` pairs every breach reachable downstream from a
# root through breaches with that root (the root itself included, at node = root_id).
_WALK_CTES = """
br AS (SELECT commitment_id FROM s_all WHERE status = 'breach'),
be AS (
    SELECT d.depends_on AS up, d.commitment_id AS down
    FROM dependencies d
    JOIN br bu_ ON bu_.commitment_id = d.depends_on
    JOIN br bd_ ON bd_.commitment_id = d.commitment_id
),
roots AS (
    SELECT br.commitment_id FROM br
    WHERE NOT EXISTS (SELECT 1 FROM be WHERE be.down = br.commitment_id)
),
walk(node, root_id) AS (
    SELECT commitment_id, commitment_id FROM roots
    UNION
    SELECT be.down, w.root_id FROM walk w JOIN be ON be.up = w.node
)"""


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


def breach_classification_sql(f: MetricFilter) -> tuple[str, dict]:
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
    df = pd.read_sql(sa.text(_SUMMARY_SQL.format(ctes=ctes)), conn, params=params)
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
