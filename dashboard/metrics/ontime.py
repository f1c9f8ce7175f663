"""On-time delivery: due population, on time, breaches, pending, delay, renegotiation.

Everything here is counted in SQL over `commitment_status_sql` (the status of each
commitment at `as_of`), so a page, the weekly report and the KPI export can never
disagree on what "on time" means. pandas only gives the result its final shape:
one row per group, counts as integers, empty rates as None (never 0 or NaN).

The small shaping helpers at the end are shared by the other metric modules of the
contract (satisfaction, complaints, notices, kpis).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.status import commitment_status_sql

# Days and hours are rounded to this many decimals (well under a second) so that the last
# bit of a floating-point interpolation can never make DuckDB and PostgreSQL disagree.
DURATION_DECIMALS = 6

ON_TIME_COLUMNS: tuple[str, ...] = (
    "group_key",
    "due",
    "on_time",
    "breaches",
    "pending",
    "on_time_rate",
    "median_delay_days",
    "p90_delay_days",
)

# The counts are a hash aggregate over every row; the delay percentiles sort only the
# breaches (`b`), the only rows with a delay. One percentile aggregate over all rows
# made PostgreSQL sort the whole due population by group first (460k rows at a million
# commitments, 8.5× DuckDB); `s` is scanned once into the narrow `b`.
_ON_TIME_SQL = """
WITH s AS ({status_sql}),
b AS NOT MATERIALIZED (SELECT group_key, status, delay_days FROM s),
counts AS (
    SELECT
        group_key,
        COUNT(CASE WHEN status <> 'pending' THEN 1 END) AS due,
        COUNT(CASE WHEN status = 'on_time' THEN 1 END) AS on_time,
        COUNT(CASE WHEN status = 'breach' THEN 1 END) AS breaches,
        COUNT(CASE WHEN status = 'pending' THEN 1 END) AS pending
    FROM b
    GROUP BY group_key
),
delays AS (
    SELECT
        group_key,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(delay_days AS DOUBLE PRECISION))
            AS median_delay_days,
        percentile_cont(0.9) WITHIN GROUP (ORDER BY CAST(delay_days AS DOUBLE PRECISION))
            AS p90_delay_days
    FROM b
    WHERE delay_days IS NOT NULL
    GROUP BY group_key
)
SELECT
    counts.group_key, due, on_time, breaches, pending,
    CAST(on_time AS DOUBLE PRECISION) / NULLIF(due, 0) AS on_time_rate,
    median_delay_days,
    p90_delay_days
FROM counts
LEFT JOIN delays ON delays.group_key IS NOT DISTINCT FROM counts.group_key
ORDER BY counts.group_key NULLS LAST
"""


def on_time_summary(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Due population, on time, breaches, pending, on-time rate and delay per group.

    The on-time rate is on time ÷ due population (pending commitments are in neither);
    the delay median and p90 are continuous percentiles (linear interpolation, as
    `percentile_cont` and spreadsheet PERCENTILE.INC do) over the breaches' delays in days.
    """
    status_sql, params = commitment_status_sql(f)
    sql = _ON_TIME_SQL.format(status_sql=status_sql)  # fixed SQL only; values are bound
    df = pd.read_sql(sa.text(sql), conn, params=params)
    return shape_groups(
        df,
        f,
        ON_TIME_COLUMNS,
        counts=("due", "on_time", "breaches", "pending"),
        durations=("median_delay_days", "p90_delay_days"),
    )


_RENEGOTIATION_SQL = """
WITH s AS ({status_sql}),
r AS (
    SELECT
        group_key,
        status,
        CASE WHEN delivered_at IS NOT NULL AND delivered_at <= original_due_at
            THEN 1 ELSE 0 END AS kept_original
    FROM s
    WHERE status <> 'pending'
      AND original_due_at IS NOT NULL
      AND original_due_at < due_at
)
SELECT
    group_key,
    COUNT(*) AS renegotiated,
    COUNT(CASE WHEN status = 'on_time' THEN 1 END) AS on_time_vs_due,
    CAST(COUNT(CASE WHEN status = 'on_time' THEN 1 END) AS DOUBLE PRECISION)
        / NULLIF(COUNT(*), 0) AS on_time_rate_vs_due,
    SUM(kept_original) AS on_time_vs_original,
    CAST(SUM(kept_original) AS DOUBLE PRECISION) / NULLIF(COUNT(*), 0)
        AS on_time_rate_vs_original
FROM r
GROUP BY group_key
ORDER BY group_key NULLS LAST
"""

_ORIGINAL_PROMISE_SQL = """
WITH s AS ({status_sql})
SELECT
    group_key,
    COUNT(*) AS due,
    COUNT(CASE WHEN delivered_at IS NOT NULL
               AND delivered_at <= COALESCE(original_due_at, due_at) THEN 1 END)
        AS on_time_vs_original_all,
    CAST(COUNT(CASE WHEN delivered_at IS NOT NULL
                    AND delivered_at <= COALESCE(original_due_at, due_at) THEN 1 END)
         AS DOUBLE PRECISION) / NULLIF(COUNT(*), 0) AS on_time_rate_vs_original_all
FROM s
WHERE status <> 'pending'
GROUP BY group_key
ORDER BY group_key NULLS LAST
"""

RENEGOTIATION_COLUMNS: tuple[str, ...] = (
    "group_key",
    "renegotiated",
    "on_time_vs_due",
    "on_time_rate_vs_due",
    "on_time_vs_original",
    "on_time_rate_vs_original",
    "due",
    "on_time_vs_original_all",
    "on_time_rate_vs_original_all",
)


def renegotiation_summary(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Renegotiated commitments of the due population, judged against both promises.

    A commitment is *renegotiated in time* when it has an `original_due_at` earlier than
    its `due_at` (the promise was moved later before it fell due; the contract judges it
    against the promise in force, `due_at`). `on_time_vs_original` counts those that would
    also have met the first promise. The last three columns judge the whole due population
    against the original promise (`original_due_at` when set, else `due_at`), which is the
    "what if nobody had renegotiated" on-time rate the page shows next to the real one.
    """
    status_sql, params = commitment_status_sql(f)
    reneg = pd.read_sql(
        sa.text(_RENEGOTIATION_SQL.format(status_sql=status_sql)), conn, params=params
    )
    overall = pd.read_sql(
        sa.text(_ORIGINAL_PROMISE_SQL.format(status_sql=status_sql)), conn, params=params
    )
    reneg["group_key"] = python_objects(reneg["group_key"])
    overall["group_key"] = python_objects(overall["group_key"])
    df = overall.merge(reneg, on="group_key", how="outer")
    return shape_groups(
        df,
        f,
        RENEGOTIATION_COLUMNS,
        counts=(
            "renegotiated",
            "on_time_vs_due",
            "on_time_vs_original",
            "due",
            "on_time_vs_original_all",
        ),
    )


_DELAY_SQL = """
WITH s AS ({status_sql})
SELECT commitment_id, process, performer, CAST(delay_days AS DOUBLE PRECISION) AS delay_days
FROM s
WHERE status = 'breach'
ORDER BY delay_days DESC, commitment_id
"""


def delay_distribution(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Every breach with its delay in days, longest first (for a histogram or box plot)."""
    status_sql, params = commitment_status_sql(f)
    df = pd.read_sql(sa.text(_DELAY_SQL.format(status_sql=status_sql)), conn, params=params)
    df["delay_days"] = df["delay_days"].astype(float).round(DURATION_DECIMALS)
    for col in ("commitment_id", "process", "performer"):
        df[col] = python_objects(df[col])
    return df[["commitment_id", "process", "performer", "delay_days"]]


_LIST_SQL = """
WITH s AS ({status_sql}),
everyone AS ({all_status_sql}),
ups AS (
    SELECT
        d.commitment_id,
        string_agg(d.depends_on, ', ' ORDER BY d.depends_on) AS upstreams,
        COUNT(CASE WHEN u.status = 'breach' THEN 1 END) AS upstream_breaches
    FROM dependencies d
    LEFT JOIN everyone u ON u.commitment_id = d.depends_on
    WHERE {upstream_where}
    GROUP BY d.commitment_id
)
SELECT
    s.commitment_id, s.title, s.process, s.performer, s.customer, s.customer_type,
    s.status, s.due_at, s.delivered_at, CAST(s.delay_days AS DOUBLE PRECISION) AS delay_days,
    s.original_due_at, ups.upstreams, COALESCE(ups.upstream_breaches, 0) AS upstream_breaches,
    s.policy_id, s.policy_version, s.standard_due_at
FROM s
LEFT JOIN ups ON ups.commitment_id = s.commitment_id
ORDER BY s.due_at, s.commitment_id
"""

# An upstream is named and counted only when the user's row scope allows it.
_SCOPED_UPSTREAMS = """d.depends_on IN (
    SELECT cu.commitment_id FROM commitments cu WHERE {scope_sql}
)"""

COMMITMENT_LIST_COLUMNS: tuple[str, ...] = (
    "commitment_id",
    "title",
    "process",
    "performer",
    "customer",
    "customer_type",
    "status",
    "due_at",
    "delivered_at",
    "delay_days",
    "original_due_at",
    "upstreams",
    "upstream_breaches",
    "policy_id",
    "policy_version",
    "standard_due_at",
)


def commitment_list(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Every commitment of the filter (due population and pending) for drill-down tables.

    `upstreams` lists the direct upstream ids (", "-joined, sorted) and
    `upstream_breaches` how many of them are breaches at `as_of`; upstreams are judged
    whatever the filter says, since a Compras breach hurts Producción even when only
    Producción is shown; but never past the user's row scope (an upstream outside it is
    neither listed nor counted). `delivered_at` is empty when the delivery is not known at `as_of`.
    `policy_id`, `policy_version` and `standard_due_at` name the service standard behind
    the date (empty when no policy covers the commitment), so a reader can check it.
    """
    status_sql, params = commitment_status_sql(f)
    all_sql, all_params = commitment_status_sql(f, apply_filter=False)
    upstream_where = "TRUE"
    if not f.scope.unrestricted:  # an upstream outside the user's rows is not named
        scope_sql, _ = f.scope_where("cu")
        upstream_where = _SCOPED_UPSTREAMS.format(scope_sql=scope_sql)
    sql = _LIST_SQL.format(
        status_sql=status_sql, all_status_sql=all_sql, upstream_where=upstream_where
    )
    df = pd.read_sql(sa.text(sql), conn, params={**params, **all_params})
    for col in ("due_at", "delivered_at", "original_due_at", "standard_due_at"):
        df[col] = pd.to_datetime(df[col])
    df["policy_version"] = df["policy_version"].astype("Int64")
    df["delay_days"] = df["delay_days"].astype(float).round(DURATION_DECIMALS)
    df["upstream_breaches"] = df["upstream_breaches"].astype("int64")
    for col in ("commitment_id", "title", "process", "performer", "customer"):
        df[col] = python_objects(df[col])
    for col in ("customer_type", "status", "upstreams", "policy_id"):
        df[col] = python_objects(df[col])
    return df[list(COMMITMENT_LIST_COLUMNS)]


CUSTOMER_KEPT_COLUMNS: tuple[str, ...] = ("group_key", "due", "kept", "kept_rate")


def customer_commitments_kept(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Customer commitments kept: the on-time rate of what customers promised us.

    Same rule as `on_time_summary`, applied to `direction = from_customer` whatever
    direction the filter carries (the rest of the filter applies as given).
    """
    summary = on_time_summary(conn, f.with_(direction="from_customer"))
    kept = summary.rename(columns={"on_time": "kept", "on_time_rate": "kept_rate"})
    return kept[list(CUSTOMER_KEPT_COLUMNS)]


# --- shaping helpers shared by the metric modules ------------------------------------


def python_objects(series: pd.Series) -> pd.Series:
    """The values as Python objects with None for missing (pandas 3 strings use NaN)."""
    values = series.astype(object)
    return values.where(series.notna(), None)


def group_sort_key(series: pd.Series) -> pd.Series:
    """Sort group keys of mixed Python types (dates, strings) by their natural order."""
    return series.map(lambda v: (1, "") if none_if_nan(v) is None else (0, v))


def none_if_nan(value: object) -> Any:
    """None for a missing number (NaN/NA/None), the plain Python value otherwise.

    Typed `Any`: a frame's cell is whatever its column holds (a number, mostly).
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar -> Python scalar
        return value.item()
    return value


def shape_groups(
    df: pd.DataFrame,
    f: MetricFilter,
    columns: Iterable[str],
    *,
    counts: Iterable[str] = (),
    durations: Iterable[str] = (),
    sort: bool = True,
) -> pd.DataFrame:
    """One row per group in the agreed columns: integer counts, rates/durations or None.

    With no group-by an empty result still gives its one row (counts 0, rates None), so
    a page or the export always has a row to show. Groups are sorted by key (None last)
    unless `sort` is False (the caller's row order is then kept). Columns that are neither
    counts nor the group key are numbers that may be missing: Python floats or None.
    """
    columns = list(columns)
    counts = tuple(counts)
    durations = tuple(durations)
    if df.empty and f.group_by == "none":
        df = pd.DataFrame([{c: (0 if c in counts else None) for c in columns}])
    if sort:  # Python's order, not the collation: DuckDB and PostgreSQL sort text differently
        df = df.sort_values("group_key", key=group_sort_key, kind="stable")
    df = df.reset_index(drop=True)
    for col in columns:
        if col not in df.columns:
            df[col] = None
    out = pd.DataFrame(index=df.index)
    out["group_key"] = python_objects(df["group_key"])
    for col in columns:
        if col == "group_key":
            continue
        if col in counts:
            out[col] = pd.to_numeric(df[col]).fillna(0).astype("int64")
        else:
            values = pd.to_numeric(df[col]).astype(float)
            if col in durations:
                values = values.round(DURATION_DECIMALS)
            out[col] = python_objects(values)
    return out[columns]
