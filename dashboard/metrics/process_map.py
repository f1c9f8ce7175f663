"""The process map: what the event log says about how cases move between stages.

Which events count: every event, on any date up to `as_of`, of the commitments the
filter selects (their process, performer, customer, customer type, direction, and due
date in the period; cancelled commitments never count). The period filters on the
commitment's due date, like every other metric, so a case is never cut in two: its
whole history up to `as_of` is on the map. Events after `as_of` are not known yet.

Order within a case: by `at`, and for two events at the same instant by the log's own
order (`log_order`: the sequence column the mapping names, else the event's row in its
file), as a process-mining tool keeps the order of the file for such ties; never by
stage name, which invents transitions that did not happen (issue 14: Active→New on a
minute-resolution incident log). Only events stored before `log_order` existed fall back
to the stage name, then `seq` (repeats of one identical event). Given the same file, a
process-mining tool's directly-follows graph has exactly these counts and medians.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter, RowScope
from dashboard.metrics.propagation import read_frame
from dashboard.metrics.status import commitment_status_sql
from etl.event_steps import PAIR_ORDER, event_steps_stored
from etl.schema import has_column

# Events of the filtered commitments up to as_of, each with the next event of its case
# by as_of: the pairs the load stores (etl/event_steps.py), a successor after as_of not
# known yet. No sort of the log at read time, so the map grows linearly with it.
_STORED_STEPS_CTES = """
steps AS (
    SELECT
        st.stage AS source,
        CASE WHEN st.next_at <= :as_of THEN st.next_stage END AS target,
        CASE WHEN st.next_at <= :as_of THEN EXTRACT(EPOCH FROM (st.next_at - st."at")) END
            AS secs
    FROM event_steps st
    JOIN commitments c ON c.commitment_id = st.commitment_id
    WHERE NOT c.cancelled AND st."at" <= :as_of AND {where}
)"""

# The same pairs made from the events as the map reads them: for a database made before
# the stored pairs (until `python -m etl init` or its next load stores them).
_SEQUENCE_CTES = """
ev AS (
    SELECT e.commitment_id, e.stage, e."at", e.seq, {log_order} AS log_order
    FROM events e
    JOIN commitments c ON c.commitment_id = e.commitment_id
    WHERE NOT c.cancelled AND e."at" <= :as_of AND {where}
),
steps AS (
    SELECT
        stage AS source,
        LEAD(stage) OVER w AS target,
        EXTRACT(EPOCH FROM (LEAD("at") OVER w - "at")) AS secs
    FROM ev
    WINDOW w AS ({order})
)"""

# The median of `secs` per group of {keys}, as percentile_cont(0.5) gives it, but computed
# over (group, secs, k) with k rows each: a window over a few thousand distinct
# durations instead of percentile_cont's sort of every step (at 10M commitments over the
# whole range, 32M steps in 16 pairs: 40-50 s and 7.1 GiB down to 11-12 s and 4.2 GiB,
# the same values; docs/benchmarks.md).
# Positions are 0-based: the rows of one secs value occupy [upto - k, upto); the median
# is the mean of the values at floor((n-1)/2) and floor(n/2). Rows with NULL secs (a
# case's last event) count as visits but not as measured.
_MEDIAN_CTES = """
d AS (
    SELECT {keys}, CAST(secs AS DOUBLE PRECISION) AS secs, count(*) AS k
    FROM steps {where}
    GROUP BY {keys}, secs
),
r AS (
    SELECT {keys}, secs, k,
        SUM(k) OVER (PARTITION BY {keys}) AS visits,
        SUM(CASE WHEN secs IS NOT NULL THEN k ELSE 0 END) OVER (PARTITION BY {keys}) AS n,
        SUM(k) OVER (PARTITION BY {keys} ORDER BY secs NULLS LAST ROWS UNBOUNDED PRECEDING)
            AS upto
    FROM d
),
m AS (
    SELECT {keys}, secs, visits, n, upto - k AS first_pos, upto,
        CAST(FLOOR((n - 1) / 2.0) AS BIGINT) AS lo,
        CAST(FLOOR(n / 2.0) AS BIGINT) AS hi
    FROM r
),
med AS (
    SELECT {keys},
        max(visits) AS visits,
        max(n) AS measured,
        min(CASE WHEN secs IS NOT NULL AND first_pos <= lo AND lo < upto THEN secs END) AS v_lo,
        min(CASE WHEN secs IS NOT NULL AND first_pos <= hi AND hi < upto THEN secs END) AS v_hi
    FROM m
    GROUP BY {keys}
)"""

_DF_SQL = """
WITH {ctes},{median}
SELECT
    source,
    target,
    visits AS n,
    CAST(v_lo + (v_hi - v_lo) * 0.5 AS DOUBLE PRECISION) AS median_secs
FROM med
ORDER BY n DESC, source, target
"""


def log_order_sql(conn: sa.Connection) -> str:
    """`e.log_order`, or NULL on a database made before the column existed (until
    `python -m etl init` adds it), so the map still draws, ties by stage name."""
    return "e.log_order" if has_column(conn, "events", "log_order") else "CAST(NULL AS BIGINT)"


def _sequence_ctes(conn: sa.Connection, f: MetricFilter) -> tuple[str, dict[str, Any]]:
    """The `steps` CTE for the filter (from the stored pairs where the database has them),
    and its parameters."""
    where, params = f.sql_where("c")
    # Only fixed SQL text (filters.py's conditions, a column name or NULL) is spliced in;
    # values are bound.
    if event_steps_stored(conn):
        ctes = _STORED_STEPS_CTES.format(where=where)
    else:
        ctes = _SEQUENCE_CTES.format(where=where, log_order=log_order_sql(conn), order=PAIR_ORDER)
    return ctes, {**params, "as_of": f.as_of}


def directly_follows(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """How often each stage is directly followed by another in the same case, and how fast.

    The directly-follows graph of process mining: for consecutive events (a, b) of one
    case, ordered by time and then by the log's own order, count the pair (a.stage,
    b.stage) and take the median of b.at - a.at (the middle value, or the mean of the two
    middle ones). Columns: source, target, count, median_hours. Sorted by count (desc),
    then source, target.
    """
    ctes, params = _sequence_ctes(conn, f)
    median = _MEDIAN_CTES.format(keys="source, target", where="WHERE target IS NOT NULL")
    df = read_frame(conn, _DF_SQL.format(ctes=ctes, median=median), params)
    df["count"] = df["n"].astype("int64")
    df["median_hours"] = df["median_secs"].astype("float64") / 3600.0
    return df[["source", "target", "count", "median_hours"]]


_STAGE_SQL = """
WITH {ctes},{median}
SELECT
    source AS stage,
    visits,
    measured,
    CAST(v_lo + (v_hi - v_lo) * 0.5 AS DOUBLE PRECISION) AS median_secs
FROM med
ORDER BY source
"""


def stage_durations(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """How long a case stays in each stage: from entering it to the case's next event.

    visits = times a case entered the stage; measured = those followed by another event
    (a case's last event has no end yet); median_hours over the measured visits (None
    when none is). Columns: stage, visits, measured, median_hours. Sorted by stage.
    """
    ctes, params = _sequence_ctes(conn, f)
    median = _MEDIAN_CTES.format(keys="source", where="")
    df = read_frame(conn, _STAGE_SQL.format(ctes=ctes, median=median), params)
    for col in ("visits", "measured"):
        df[col] = df[col].astype("int64")
    df["median_hours"] = pd.Series(
        [None if pd.isna(v) else float(v) / 3600.0 for v in df["median_secs"]],
        index=df.index,
        dtype=object,
    )
    return df[["stage", "visits", "measured", "median_hours"]]


_CHAIN_SQL = """
WITH s AS ({status_sql}),
per AS (
    SELECT
        s.process,
        count(*) FILTER (WHERE s.status IN ('on_time', 'breach')) AS due,
        count(*) FILTER (WHERE s.status = 'on_time') AS on_time,
        count(*) FILTER (WHERE s.status = 'breach') AS breaches
    FROM s
    GROUP BY s.process
),
known AS (
    SELECT p.process, p.stage_order, p.area FROM processes p WHERE {process_where}
)
SELECT
    COALESCE(per.process, known.process) AS process,
    known.stage_order,
    known.area,
    COALESCE(per.due, 0) AS due,
    COALESCE(per.on_time, 0) AS on_time,
    COALESCE(per.breaches, 0) AS breaches
FROM per
FULL OUTER JOIN known ON known.process = per.process
ORDER BY known.stage_order NULLS LAST, COALESCE(per.process, known.process)
"""


def chain_rank(order: Sequence[str]) -> Callable[[object], tuple[int, str]]:
    """A sort key for stage names: the stages of `order` (process_chain's, the chain
    order) first and in that order, any other after them by name."""
    rank = {name: i for i, name in enumerate(order)}
    return lambda name: (rank.get(str(name), len(rank)), str(name))


def in_chain_order(
    frame: pd.DataFrame, order: Sequence[str], column: str = "group_key"
) -> pd.DataFrame:
    """The rows of a frame grouped by stage (`column`) sorted by `chain_rank(order)`."""
    key = chain_rank(order)
    positions = sorted(range(len(frame)), key=lambda i: key(frame[column].iloc[i]))
    return frame.iloc[positions]


def process_chain(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """The value chain's stages in order, each with its due count and on-time rate.

    Stages come from the processes table (by stage_order) and from the filtered
    commitments; a stage with commitments but no processes row goes last (by name), a
    processes row with no commitment in the filter shows due 0 and on_time_rate None.
    With a process filter only those stages appear. Columns: process, stage_order,
    area, due, on_time_rate, breaches.
    """
    status_sql, params = commitment_status_sql(f)
    process_where = "TRUE"
    if f.processes:
        names = [f"f_process_{i}" for i in range(len(f.processes))]
        process_where = f"p.process IN ({', '.join(':' + n for n in names)})"
        params = {**params, **dict(zip(names, f.processes, strict=True))}
    if f.scope.stages is not None:  # stages outside the user's scope are not listed
        scope_sql, scope_params = RowScope(stages=f.scope.stages).sql("p")
        process_where = f"{process_where} AND {scope_sql}"
        params = {**params, **scope_params}
    # Only fixed SQL and generated parameter names are spliced in; values are bound.
    sql = _CHAIN_SQL.format(status_sql=status_sql, process_where=process_where)
    df = read_frame(conn, sql, params)
    for col in ("due", "on_time", "breaches"):
        df[col] = df[col].astype("int64")
    df["stage_order"] = df["stage_order"].astype("Int64")
    df["on_time_rate"] = pd.Series(
        [o / d if d else None for o, d in zip(df["on_time"], df["due"], strict=True)],
        index=df.index,
        dtype=object,
    )
    return df[["process", "stage_order", "area", "due", "on_time_rate", "breaches"]]


_DEP_FLOWS_SQL = """
WITH s AS ({status_sql}),
s_all AS ({all_sql})
SELECT u.process AS upstream_process, s.process AS downstream_process, count(*) AS dependencies
FROM dependencies d
JOIN s ON s.commitment_id = d.commitment_id
JOIN s_all u ON u.commitment_id = d.depends_on
GROUP BY u.process, s.process
ORDER BY dependencies DESC, u.process, s.process
"""


def process_dependency_flows(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """How many dependencies link each pair of stages: the chain's actual wiring.

    Counted over dependency edges whose downstream is a commitment of the filter (any
    status, pending included) and whose upstream is any non-cancelled commitment.
    Columns: upstream_process, downstream_process, dependencies.
    """
    status_sql, params = commitment_status_sql(f)
    all_sql, all_params = commitment_status_sql(f, apply_filter=False)
    sql = _DEP_FLOWS_SQL.format(status_sql=status_sql, all_sql=all_sql)
    df = read_frame(conn, sql, {**params, **all_params})
    df["dependencies"] = df["dependencies"].astype("int64")
    return df
