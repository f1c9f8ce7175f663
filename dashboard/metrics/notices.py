"""Proactive notice: did we warn the customer before we failed them?

Seed 004's third error is telling the customer too late. A breach is *noticed
proactively* when at least one notice for it was sent strictly before its `due_at` (the
moment the promise broke); a notice at or after `due_at` is a late apology, not a
warning. Only notices sent by `as_of` are known.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.ontime import shape_groups
from dashboard.metrics.status import commitment_status_sql

NOTICE_COLUMNS: tuple[str, ...] = (
    "group_key",
    "breaches",
    "proactive",
    "proactive_notice_rate",
    "notified_late",
)

_NOTICE_SQL = """
WITH s AS ({status_sql}),
pn AS (
    SELECT
        n.commitment_id,
        MAX(CASE WHEN n.sent_at < c.due_at THEN 1 ELSE 0 END) AS before_due,
        MAX(CASE WHEN n.sent_at >= c.due_at THEN 1 ELSE 0 END) AS after_due
    FROM notices n
    JOIN commitments c ON c.commitment_id = n.commitment_id
    WHERE n.sent_at <= :as_of
    GROUP BY n.commitment_id
)
SELECT
    s.group_key,
    COUNT(CASE WHEN s.status = 'breach' THEN 1 END) AS breaches,
    COUNT(CASE WHEN s.status = 'breach' AND pn.before_due = 1 THEN 1 END) AS proactive,
    CAST(COUNT(CASE WHEN s.status = 'breach' AND pn.before_due = 1 THEN 1 END)
         AS DOUBLE PRECISION) / NULLIF(COUNT(CASE WHEN s.status = 'breach' THEN 1 END), 0)
        AS proactive_notice_rate,
    COUNT(CASE WHEN s.status = 'breach' AND pn.before_due = 0 AND pn.after_due = 1 THEN 1 END)
        AS notified_late
FROM s
LEFT JOIN pn ON pn.commitment_id = s.commitment_id
GROUP BY s.group_key
ORDER BY s.group_key NULLS LAST
"""


def proactive_notice_summary(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Breaches, those warned before due, the proactive notice rate, and late-only notices.

    `proactive_notice_rate` = proactive ÷ breaches (None without breaches);
    `notified_late` counts breaches whose only notices came at or after due.
    One row per group holding any commitment of the filter, like the on-time summary.
    """
    status_sql, params = commitment_status_sql(f)
    df = pd.read_sql(sa.text(_NOTICE_SQL.format(status_sql=status_sql)), conn, params=params)
    return shape_groups(df, f, NOTICE_COLUMNS, counts=("breaches", "proactive", "notified_late"))
