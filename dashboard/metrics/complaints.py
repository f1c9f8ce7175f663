"""Complaints: how many per 100 due commitments, how fast they are resolved.

Complaints are seen through the same rule as survey responses (see
`satisfaction.customer_records_sql`): only those opened by `as_of`; one tied to a
commitment belongs to it (its due period, stage, performer, group); one without a
commitment counts by its own `opened_at` and customer when the filter allows.
A resolution recorded after `as_of` is not known yet: the complaint is still open then.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.ontime import shape_groups
from dashboard.metrics.satisfaction import customer_records_sql

DEFAULT_TARGET_HOURS = 72.0

COMPLAINT_COLUMNS: tuple[str, ...] = (
    "group_key",
    "complaints",
    "due",
    "complaints_per_100",
    "resolved",
    "median_hours_to_resolve",
    "resolved_within_target_share",
    "resolved_within_target",
    "judged_against_target",
    "open",
)
_COUNTS = (
    "complaints",
    "due",
    "resolved",
    "resolved_within_target",
    "judged_against_target",
    "open",
)

_COMPLAINTS_SQL = """
WITH {records},
dp AS (
    SELECT group_key, COUNT(*) AS due
    FROM s
    WHERE status <> 'pending'
    GROUP BY group_key
),
timed AS (
    SELECT
        group_key,
        CASE WHEN resolved_at <= :as_of
            THEN CAST(EXTRACT(EPOCH FROM (resolved_at - opened_at)) AS DOUBLE PRECISION)
        END AS seconds_to_resolve,
        CAST(EXTRACT(EPOCH FROM (CAST(:as_of AS TIMESTAMP) - opened_at)) AS DOUBLE PRECISION)
            AS seconds_open
    FROM recs
),
cs AS (
    SELECT
        group_key,
        COUNT(*) AS complaints,
        COUNT(seconds_to_resolve) AS resolved,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_to_resolve / 3600.0)
            AS median_hours_to_resolve,
        COUNT(CASE WHEN seconds_to_resolve <= :target_seconds THEN 1 END)
            AS resolved_within_target,
        COUNT(CASE WHEN seconds_to_resolve IS NOT NULL OR seconds_open > :target_seconds
            THEN 1 END) AS judged_against_target,
        COUNT(CASE WHEN seconds_to_resolve IS NULL THEN 1 END) AS open
    FROM timed
    GROUP BY group_key
),
keys AS (SELECT group_key FROM cs UNION SELECT group_key FROM dp)
SELECT
    keys.group_key,
    COALESCE(cs.complaints, 0) AS complaints,
    COALESCE(dp.due, 0) AS due,
    CAST(100 * COALESCE(cs.complaints, 0) AS DOUBLE PRECISION) / NULLIF(dp.due, 0)
        AS complaints_per_100,
    cs.resolved,
    cs.median_hours_to_resolve,
    CAST(cs.resolved_within_target AS DOUBLE PRECISION) / NULLIF(cs.judged_against_target, 0)
        AS resolved_within_target_share,
    cs.resolved_within_target,
    cs.judged_against_target,
    cs.open
FROM keys
LEFT JOIN cs ON cs.group_key IS NOT DISTINCT FROM keys.group_key
LEFT JOIN dp ON dp.group_key IS NOT DISTINCT FROM keys.group_key
ORDER BY keys.group_key NULLS LAST
"""


def complaints_summary(
    conn: sa.Connection, f: MetricFilter, target_hours: float = DEFAULT_TARGET_HOURS
) -> pd.DataFrame:
    """Complaints per 100 due commitments, median hours to resolve, share within target.

    * `complaints_per_100` = 100 × complaints ÷ the due population of the same filter and
      group (None when nothing fell due); complaints on pending commitments count too.
    * `median_hours_to_resolve`: continuous median over the complaints resolved by as_of.
    * `resolved_within_target_share` = resolved within `target_hours` of opening ÷ the
      complaints whose verdict is known (`judged_against_target`: resolved, or still open
      longer than the target). A complaint opened an hour ago is not yet a failure.
    """
    records, params = customer_records_sql(f, "complaints")
    sql = _COMPLAINTS_SQL.format(records=records)
    params = {**params, "target_seconds": float(target_hours) * 3600.0}
    df = pd.read_sql(sa.text(sql), conn, params=params)
    return shape_groups(
        df, f, COMPLAINT_COLUMNS, counts=_COUNTS, durations=("median_hours_to_resolve",)
    )
