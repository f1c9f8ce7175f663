"""Customer satisfaction: CSAT%, mean CSAT, NPS, breach cost, and the survey comments.

Which responses a filter sees (the same rule serves complaints, see `customer_records_sql`):

* Only what is known at `as_of` counts: a response answered after `as_of` is not there yet.
* A response tied to a commitment belongs to that commitment: it counts when the
  commitment is in the filter (not cancelled; its due date in the period; its stage,
  performer, customer and type), and it is grouped like the commitment (the week of its
  due date, its stage...). So "CSAT of Compras in week 47" is the satisfaction with what
  Compras promised for week 47, next to its on-time rate for the same commitments.
* A response without a commitment still speaks about the company: it counts when the
  filter restricts nothing it cannot know (no stage, performer or customer type
  restriction; direction to_customer). Its period and week come from `answered_at`, its
  customer from the response; grouped by stage, performer or customer type it falls in
  the group without a key (None).
* A user's row scope (MetricFilter.scope) applies to both: a record counts only when its
  commitment is in scope and its own customer is one of the scope's customers; a record
  without a commitment never counts for a user scoped to stages (it has no stage).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter, RowScope
from dashboard.metrics.ontime import python_objects, shape_groups
from dashboard.metrics.propagation import breach_classification_sql
from dashboard.metrics.status import commitment_status_sql

# Tables of customer records tied (optionally) to a commitment, and their time column.
# Only these fixed names are ever spliced into SQL.
_RECORD_TABLES: dict[str, tuple[str, str]] = {
    "satisfaction": ("response_id", "answered_at"),
    "complaints": ("complaint_id", "opened_at"),
}

_RECORDS_SQL = """
s AS NOT MATERIALIZED ({status_sql}),
recs AS (
    SELECT r.*, s.process, s.status, s.group_key
    FROM {table} r
    JOIN s ON s.commitment_id = r.commitment_id
    WHERE r.{at_column} <= :as_of AND {linked_where}
    UNION ALL
    SELECT r.*, CAST(NULL AS VARCHAR) AS process, CAST(NULL AS VARCHAR) AS status,
        {unlinked_group} AS group_key
    FROM {table} r
    WHERE r.commitment_id IS NULL AND r.{at_column} <= :as_of AND {unlinked_where}
)"""


def _unlinked_where(f: MetricFilter, at_column: str) -> tuple[str, dict[str, Any]]:
    """The condition on records without a commitment: period by their own time, customer.

    A filter on stage, performer, customer type or direction from_customer cannot be
    checked on them, so it excludes them (FALSE).
    """
    if f.processes or f.performers or f.customer_types or f.direction != "to_customer":
        return "FALSE", {}
    if f.scope.stages is not None:  # a user scoped to stages sees no unattributed record
        return "FALSE", {}
    clauses: list[str] = []
    params: dict[str, object] = {}
    if f.scope.customers is not None:
        scope_sql, scope_params = RowScope(customers=f.scope.customers).sql("r")
        clauses.append(scope_sql)
        params.update(scope_params)
    if f.date_from:
        clauses.append(f"r.{at_column} >= :u_date_from")
        params["u_date_from"] = datetime.combine(f.date_from, time.min)
    if f.date_to:
        clauses.append(f"r.{at_column} < :u_date_to")
        params["u_date_to"] = datetime.combine(f.date_to + timedelta(days=1), time.min)
    if f.customers:
        names = [f"u_customer_{i}" for i in range(len(f.customers))]
        clauses.append(f"r.customer IN ({', '.join(':' + n for n in names)})")
        params.update(zip(names, f.customers, strict=True))
    return (" AND ".join(clauses) or "TRUE"), params


def _record_customer_where(f: MetricFilter, alias: str) -> str:
    """A record's own customer must be in the user's customer scope too (a response
    filed under another customer than its commitment's is not theirs to see). Its
    parameters are the scope's, already bound by the status query."""
    if f.scope.customers is None:
        return "TRUE"
    return RowScope(customers=f.scope.customers).sql(alias)[0]


def _unlinked_group(f: MetricFilter, at_column: str) -> str:
    """Group key of a record without a commitment: its own week or customer, else NULL."""
    if f.group_by == "week":
        return f"CAST(date_trunc('week', r.{at_column}) AS DATE)"
    if f.group_by == "customer":
        return "r.customer"
    return "CAST(NULL AS VARCHAR)"


def customer_records_sql(f: MetricFilter, table: str) -> tuple[str, dict[str, Any]]:
    """CTEs `s` (the filter's commitments) and `recs` (the records of `table` it sees).

    `recs` has the table's columns plus process, status (of the linked commitment, NULL
    without one) and group_key. Start a query with `WITH <sql> SELECT ... FROM recs`.
    """
    if table not in _RECORD_TABLES:
        raise ValueError(f"no customer records table {table!r}")
    _, at_column = _RECORD_TABLES[table]
    status_sql, params = commitment_status_sql(f)
    where, where_params = _unlinked_where(f, at_column)
    linked_where = _record_customer_where(f, "r")
    # Only fixed SQL (whitelisted table/column names, filters.py fragments) is spliced.
    sql = _RECORDS_SQL.format(
        status_sql=status_sql,
        table=table,
        at_column=at_column,
        unlinked_group=_unlinked_group(f, at_column),
        unlinked_where=where,
        linked_where=linked_where,
    )
    return sql, {**params, **where_params}


SATISFACTION_COLUMNS: tuple[str, ...] = (
    "group_key",
    "responses",
    "csat_responses",
    "csat_satisfied",
    "csat_pct",
    "csat_mean",
    "nps_responses",
    "promoters",
    "passives",
    "detractors",
    "nps",
)
_SATISFACTION_COUNTS = (
    "responses",
    "csat_responses",
    "csat_satisfied",
    "nps_responses",
    "promoters",
    "passives",
    "detractors",
)

# The score aggregates, over a relation `recs` with csat and nps columns. Sums and counts
# of integers divided once in double precision: exactly the same bits on both backends.
_SCORES = """
    COUNT(*) AS responses,
    COUNT(csat) AS csat_responses,
    COUNT(CASE WHEN csat >= 4 THEN 1 END) AS csat_satisfied,
    CAST(COUNT(CASE WHEN csat >= 4 THEN 1 END) AS DOUBLE PRECISION)
        / NULLIF(COUNT(csat), 0) AS csat_pct,
    CAST(SUM(csat) AS DOUBLE PRECISION) / NULLIF(COUNT(csat), 0) AS csat_mean,
    COUNT(nps) AS nps_responses,
    COUNT(CASE WHEN nps >= 9 THEN 1 END) AS promoters,
    COUNT(CASE WHEN nps BETWEEN 7 AND 8 THEN 1 END) AS passives,
    COUNT(CASE WHEN nps <= 6 THEN 1 END) AS detractors,
    CAST(100 * (COUNT(CASE WHEN nps >= 9 THEN 1 END) - COUNT(CASE WHEN nps <= 6 THEN 1 END))
         AS DOUBLE PRECISION) / NULLIF(COUNT(nps), 0) AS nps"""

_SUMMARY_SQL = """
WITH {records}
SELECT group_key, {scores}
FROM recs
GROUP BY group_key
ORDER BY group_key NULLS LAST
"""


def satisfaction_summary(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """CSAT%, mean CSAT and NPS with their counts, per group.

    CSAT% = responses scoring 4 or 5 ÷ responses with a CSAT score; NPS = % promoters
    (9–10) − % detractors (0–6) among responses with an NPS score, −100..100. A response
    may carry one score and not the other; each figure counts only its own answers.
    """
    records, params = customer_records_sql(f, "satisfaction")
    sql = _SUMMARY_SQL.format(records=records, scores=_SCORES)
    df = pd.read_sql(sa.text(sql), conn, params=params)
    return shape_groups(df, f, SATISFACTION_COLUMNS, counts=_SATISFACTION_COUNTS)


BREACH_STATUSES: tuple[str, ...] = ("on_time", "root_breach", "propagated_breach")
BREACH_COST_COLUMNS: tuple[str, ...] = (
    "status",
    "responses",
    "csat_responses",
    "csat_pct",
    "csat_mean",
    "nps_responses",
    "nps",
)

_BREACH_COST_SQL = """
WITH k AS ({classification_sql})
SELECT
    CASE
        WHEN k.status = 'on_time' THEN 'on_time'
        WHEN k.breach_kind = 'propagated' THEN 'propagated_breach'
        ELSE 'root_breach'
    END AS status,
    {scores}
FROM satisfaction recs
JOIN k ON k.commitment_id = recs.commitment_id
WHERE recs.answered_at <= :as_of AND {linked_where}
GROUP BY 1
"""


def breach_cost(conn: sa.Connection, f: MetricFilter) -> dict[str, Any]:
    """What breaches cost in satisfaction: CSAT% on time minus CSAT% on breaches.

    Only responses tied to a commitment of the due population count (pending ones have
    no verdict yet). Returns `csat_pct_on_time`, `csat_pct_breach` (root and propagated
    together), `cost_points` (the difference in percentage points, e.g. 0.9 − 0.4 → 50.0;
    None when either side has no CSAT answer) and `by_status`, one row per status
    ('on_time', 'root_breach', 'propagated_breach', always in that order) with responses,
    csat_responses, csat_pct, csat_mean, nps_responses and nps. The filter's group-by is
    not used: this is one comparison for the whole view.
    """
    classification_sql, params = breach_classification_sql(f)
    sql = _BREACH_COST_SQL.format(
        classification_sql=classification_sql,
        scores=_SCORES,
        linked_where=_record_customer_where(f, "recs"),
    )
    df = pd.read_sql(sa.text(sql), conn, params={**params, "as_of": f.as_of})
    by_status = (
        pd.DataFrame({"status": list(BREACH_STATUSES)}).merge(df, on="status", how="left")
    ).rename(columns={"status": "group_key"})
    by_status = shape_groups(
        by_status,
        f.with_(group_by="process"),  # several rows: never the single "none" row
        SATISFACTION_COLUMNS,
        counts=_SATISFACTION_COUNTS,
        sort=False,
    ).rename(columns={"group_key": "status"})
    on_time = by_status.iloc[0]
    breach_satisfied = int(by_status["csat_satisfied"].iloc[1:].sum())
    breach_answers = int(by_status["csat_responses"].iloc[1:].sum())
    pct_on_time = on_time["csat_pct"]
    pct_breach = breach_satisfied / breach_answers if breach_answers else None
    cost = None
    if pct_on_time is not None and pct_breach is not None:
        cost = round(100.0 * (pct_on_time - pct_breach), 6)
    return {
        "csat_pct_on_time": pct_on_time,
        "csat_pct_breach": pct_breach,
        "cost_points": cost,
        "by_status": by_status[list(BREACH_COST_COLUMNS)],
    }


_COMMENTS_SQL = """
WITH {records}
SELECT response_id, answered_at, customer, commitment_id, process, csat, nps, comment
FROM recs
WHERE comment IS NOT NULL AND TRIM(comment) <> '' {search}
ORDER BY answered_at DESC, response_id
"""

COMMENT_COLUMNS: tuple[str, ...] = (
    "response_id",
    "answered_at",
    "customer",
    "commitment_id",
    "process",
    "csat",
    "nps",
    "comment",
)


def _like_pattern(search: str) -> str:
    """A LIKE pattern matching `search` literally anywhere (%, _ and \\ escaped)."""
    escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def survey_comments(
    conn: sa.Connection, f: MetricFilter, search: str | None = None
) -> pd.DataFrame:
    """The responses of the filter that carry a comment, newest first.

    `search` keeps comments containing it, ignoring case (a literal substring: % and _
    are not wildcards). Scores are nullable integers (a response may skip one).
    """
    records, params = customer_records_sql(f, "satisfaction")
    search_sql = ""
    if search:
        search_sql = "AND LOWER(comment) LIKE :search ESCAPE '\\'"
        params = {**params, "search": _like_pattern(search)}
    sql = _COMMENTS_SQL.format(records=records, search=search_sql)
    df = pd.read_sql(sa.text(sql), conn, params=params)
    df["answered_at"] = pd.to_datetime(df["answered_at"])
    for col in ("csat", "nps"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    for col in ("response_id", "customer", "commitment_id", "process", "comment"):
        df[col] = python_objects(df[col])
    return df[list(COMMENT_COLUMNS)]
