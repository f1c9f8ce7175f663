"""Each commitment's status at `as_of`: the building block of every metric.

A commitment is `on_time` (delivered no later than due), `breach` (delivered late, or
still undelivered after due) or `pending` (open and not yet due). Cancelled commitments
are never counted. A delivery recorded after `as_of` is not yet known at `as_of`, so
the commitment counts as undelivered then: evaluating an earlier `as_of` gives the
answer the dashboard would have given on that day.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import GROUP_EXPRESSIONS, MetricFilter

ON_TIME, BREACH, PENDING = "on_time", "breach", "pending"

_STATUS_SELECT = """
SELECT
    c.commitment_id, c.title, c.process, c.performer, c.customer, c.customer_type,
    c.direction, c.requested_at, c.promised_at, c.due_at, c.original_due_at,
    c.standard_due_at, c.policy_id, c.policy_version, c.source_on_time,
    CASE WHEN c.delivered_at <= :as_of THEN c.delivered_at END AS delivered_at,
    CASE
        WHEN c.delivered_at <= :as_of AND c.delivered_at <= c.due_at THEN 'on_time'
        WHEN c.delivered_at <= :as_of THEN 'breach'
        WHEN c.due_at < :as_of THEN 'breach'
        ELSE 'pending'
    END AS status,
    CASE
        WHEN c.delivered_at <= :as_of AND c.delivered_at > c.due_at
            THEN EXTRACT(EPOCH FROM (c.delivered_at - c.due_at)) / 86400.0
        WHEN (c.delivered_at IS NULL OR c.delivered_at > :as_of) AND c.due_at < :as_of
            THEN EXTRACT(EPOCH FROM (CAST(:as_of AS TIMESTAMP) - c.due_at)) / 86400.0
    END AS delay_days,
    {group_expr} AS group_key
FROM commitments c
WHERE NOT c.cancelled AND {where}
"""


def commitment_status_sql(
    f: MetricFilter, *, apply_filter: bool = True
) -> tuple[str, dict[str, Any]]:
    """A SELECT giving one row per non-cancelled commitment with its status at `f.as_of`.

    With `apply_filter=False` every commitment is returned whatever the filter says
    (only `as_of` and the user's row scope are used): propagation needs upstreams
    outside the filtered view, but never outside the rows the user may see.
    Columns: the commitment's own, `status`, `delay_days` (breaches only) and
    `group_key` (the filter's group-by value, NULL for "none").
    Use it as a CTE: `WITH s AS (<sql>) SELECT ... FROM s`.
    """
    if apply_filter:
        where, params = f.sql_where("c")
    else:
        where, params = f.scope_where("c")
    group_expr = GROUP_EXPRESSIONS.get(f.group_by, "CAST(NULL AS VARCHAR)")
    # Only fixed SQL from this module and filters.py is spliced in; values are bound.
    sql = _STATUS_SELECT.format(group_expr=group_expr, where=where)
    return sql, {**params, "as_of": f.as_of}


def commitment_status(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Every commitment in the filter with its status, due date, delivery and delay."""
    sql, params = commitment_status_sql(f)
    return pd.read_sql(sa.text(sql + " ORDER BY c.due_at, c.commitment_id"), conn, params=params)
