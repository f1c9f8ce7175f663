"""Service standards: within-standard rate, business delay and at risk by elapsed share.

The standard due of each commitment is derived at load (etl/standards.py) and stored, so
the within-standard rate is plain SQL over `commitment_status_sql`. Business time needs
the calendars: the rows come from SQL, then `etl.standards.business_between` measures
them all at once (one timeline per calendar, numpy searchsorted), never per commitment.
Percentiles are linear (PERCENTILE.INC, as `percentile_cont` in ontime.py), in pandas
over the same rows on DuckDB and PostgreSQL, so both give the same numbers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.ontime import DURATION_DECIMALS, python_objects, shape_groups
from dashboard.metrics.propagation import at_risk_commitments, read_frame
from dashboard.metrics.status import commitment_status_sql
from etl import business_time as bt
from etl.schema import has_column
from etl.standards import (
    OPEN,
    StoredStandards,
    business_between,
    ended_pauses,
    stored_pauses,
)

# At risk by elapsed share: an open commitment whose business time run has reached this
# share of its standard's target (DESIGN: 75 %, configurable per call).
DEFAULT_AT_RISK_SHARE = 0.75

STANDARD_COLUMNS: tuple[str, ...] = (
    "group_key",
    "covered_due",
    "within_standard",
    "within_standard_rate",
    "median_business_delay_hours",
    "p90_business_delay_hours",
)

# Reasons an open commitment is at risk (the list says which apply).
UPSTREAM_BREACH = "upstream_breach"
ELAPSED_SHARE = "elapsed_share"

_WITHIN_SQL = """
WITH s AS ({status_sql})
SELECT
    group_key,
    COUNT(CASE WHEN status <> 'pending' AND standard_due_at IS NOT NULL THEN 1 END)
        AS covered_due,
    COUNT(CASE WHEN status <> 'pending' AND standard_due_at IS NOT NULL
               AND delivered_at IS NOT NULL AND delivered_at <= standard_due_at THEN 1 END)
        AS within_standard
FROM s
GROUP BY group_key
"""

# Covered commitments of a status, each with its pauses stored at load
# (commitment_pauses): one row per pause, or one row with NULL pause columns when it has
# none. `{columns}`, `{where}` and `{order}` are fixed SQL of this module; values bound.
_WITH_PAUSES_SQL = """
WITH s AS ({status_sql}),
r AS (SELECT {columns} FROM s WHERE {where} AND policy_id IS NOT NULL)
SELECT r.*, p.paused_from AS pause_from, p.paused_until AS pause_until
FROM r
LEFT JOIN commitment_pauses p ON p.commitment_id = r.commitment_id
ORDER BY {order}, p.paused_from
"""

# The same rows without pauses (they are not stored yet: rebuilt from the events).
_WITHOUT_PAUSES_SQL = """
WITH s AS ({status_sql}),
r AS (SELECT {columns} FROM s WHERE {where} AND policy_id IS NOT NULL)
SELECT r.*, CAST(NULL AS TIMESTAMP) AS pause_from, CAST(NULL AS TIMESTAMP) AS pause_until
FROM r
ORDER BY {order}
"""

# A covered commitment whose pauses the standards refresh has not stored (a database
# from before they were, brought up to date by `etl init` or the next load).
_PAUSES_MISSING_SQL = """
SELECT 1 FROM commitments WHERE policy_id IS NOT NULL AND pause_count IS NULL LIMIT 1
"""


def pauses_stored(conn: sa.Connection) -> bool:
    """Whether every covered commitment's pauses are stored (commitment_pauses)."""
    if not has_column(conn, "commitments", "pause_count"):
        return False
    return not conn.execute(sa.text(_PAUSES_MISSING_SQL)).fetchall()


_CLOCK_COLUMNS = (
    "commitment_id, group_key, status, requested_at, due_at, delivered_at, policy_id,"
    " policy_version"
)
# What the elapsed-share list shows besides (the KPI export counts without them: long
# texts of every open commitment cost more to fetch than the clock to compute).
_LIST_COLUMNS = ", title, process, performer, customer, standard_due_at"
# The two clocks of the KPI export, read together: covered breaches (business delay)
# and covered open ones (elapsed share).
_BREACH, _PENDING, _BOTH = "status = 'breach'", "status = 'pending'", "status <> 'on_time'"

# The covered commitments of a status, as a subquery (fixed SQL; values bound).
_IDS_SQL = """
SELECT commitment_id FROM ({status_sql}) AS s_ids
WHERE {where} AND policy_id IS NOT NULL
"""

_PENDING_SQL = """
WITH s AS ({status_sql})
SELECT commitment_id, title, process, performer, customer, group_key, due_at
FROM s
WHERE status = 'pending'
"""


def _years(f: MetricFilter, *columns: pd.Series) -> range:
    """Years whose public holidays may matter: those of the rows and of as_of."""
    stamps = [pd.to_datetime(c).dropna() for c in columns]
    low = min([s.min().year for s in stamps if not s.empty] + [f.as_of.year])
    high = max([s.max().year for s in stamps if not s.empty] + [f.as_of.year])
    return range(low - 1, high + 2)


def _covered_with_pauses(
    conn: sa.Connection, f: MetricFilter, columns: str, where: str, order: str
) -> tuple[pd.DataFrame, bt.Pauses | None]:
    """The covered commitments of a status (one row each, in `order`) and their stored
    pauses (owner = row position, open ones end `OPEN`): one query, no event read.

    The pauses are None when they are not stored yet (`pauses_stored`): the caller
    rebuilds them from the events.
    """
    stored = pauses_stored(conn)
    status_sql, params = commitment_status_sql(f)
    template = _WITH_PAUSES_SQL if stored else _WITHOUT_PAUSES_SQL
    sql = template.format(status_sql=status_sql, columns=columns, where=where, order=order)
    joined = read_frame(conn, sql, params)
    pause_from = joined.pop("pause_from")
    pause_until = joined.pop("pause_until")
    if not stored:
        return joined, None
    if joined.empty:
        return joined, bt.Pauses.none()
    ids = joined["commitment_id"].to_numpy()
    first = np.concatenate([[True], ids[1:] != ids[:-1]])
    owner = np.cumsum(first) - 1
    rows = joined[first].reset_index(drop=True)
    has = pause_from.notna().to_numpy()
    if not has.any():
        return rows, bt.Pauses.none()
    until = _us(pause_until[has])
    until = np.where(until == np.iinfo(np.int64).min, OPEN, until)
    return rows, bt.Pauses(owner[has], _us(pause_from[has]), until)


def _clocks(
    conn: sa.Connection, f: MetricFilter, where: str, order: str, extra: str = ""
) -> pd.DataFrame:
    """Covered breaches and open commitments (`where`, in `order`) with their standard's
    business clock at as_of, measured all at once: `run_hours` is a breach's business
    delay (due_at to delivery or as_of) or an open one's elapsed business time (request
    to as_of), clock paused in its pause stages; `target_hours` its standard's target.

    Columns: those of `_CLOCK_COLUMNS` and `extra`, target_hours, run_hours (NaN: not
    measurable).
    """
    rows, kept = _covered_with_pauses(conn, f, _CLOCK_COLUMNS + extra, where, order)
    if rows.empty:
        return rows.assign(target_hours=pd.Series(dtype=float), run_hours=pd.Series(dtype=float))
    as_of = pd.Timestamp(f.as_of)
    breach = (rows["status"] == "breach").to_numpy()
    delivered = pd.to_datetime(rows["delivered_at"]).astype("datetime64[us]")
    end = delivered.fillna(as_of).where(breach, as_of)
    start = pd.to_datetime(rows["due_at"]).astype("datetime64[us]")
    start = start.where(breach, pd.to_datetime(rows["requested_at"]).astype("datetime64[us]"))
    std = StoredStandards.read(conn, _years(f, start, end))
    policy = std.of(rows["policy_id"], rows["policy_version"])
    open_until = _us(end)
    if kept is None:
        status_sql, params = commitment_status_sql(f)
        ids = _IDS_SQL.format(status_sql=status_sql, where=where)
        pauses = stored_pauses(
            conn, rows["commitment_id"], policy["pause_stages"], open_until, ids, params
        )
    else:
        pauses = ended_pauses(kept, open_until)
    run = business_between(start, end, policy["calendar"], std.calendars, pauses)
    return rows.assign(
        target_hours=policy["target_hours"].astype(float).to_numpy(),
        run_hours=np.where(run < 0, np.nan, run / bt.US_PER_HOUR),
    )


def business_delays(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Business delay (hours) of each covered breach: business time under its standard's
    calendar, clock paused in its pause stages, from due_at to delivery (or as_of).

    Columns: commitment_id, group_key, business_delay_hours.
    """
    return _delays(_clocks(conn, f, _BREACH, "r.commitment_id"))


def _delays(clocks: pd.DataFrame) -> pd.DataFrame:
    rows = clocks[(clocks["status"] == "breach").to_numpy()]
    return pd.DataFrame(
        {
            "commitment_id": python_objects(rows["commitment_id"]),
            "group_key": python_objects(rows["group_key"]),
            "business_delay_hours": np.round(
                rows["run_hours"].to_numpy(dtype=float), DURATION_DECIMALS
            ),
        }
    )


def _us(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).astype("datetime64[us]").to_numpy().view(np.int64)


def standards_summary(
    conn: sa.Connection, f: MetricFilter, delays: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Within-standard rate and business delay (median, p90 in hours) per group.

    covered_due: due-population commitments a standard covers; within_standard: those
    delivered by their standard due; the rate is their ratio (None without any covered).
    `delays`: `business_delays` of the same filter when the caller has them already.
    """
    status_sql, params = commitment_status_sql(f)
    within = read_frame(conn, _WITHIN_SQL.format(status_sql=status_sql), params)
    within["within_standard_rate"] = [
        (w / c) if c else None
        for w, c in zip(within["within_standard"], within["covered_due"], strict=True)
    ]
    if delays is None:
        delays = business_delays(conn, f)
    delays = delays.dropna(subset=["business_delay_hours"])
    if not delays.empty:
        key = delays["group_key"].astype(object).where(delays["group_key"].notna(), "\x1e")
        grouped = delays.groupby(key.to_numpy(), dropna=False)["business_delay_hours"]
        stats = pd.DataFrame(
            {
                "median_business_delay_hours": grouped.quantile(0.5),
                "p90_business_delay_hours": grouped.quantile(0.9),
            }
        )
        stats.index = [None if k == "\x1e" else k for k in stats.index]
        wkey = within["group_key"].astype(object).where(within["group_key"].notna(), None)
        within["median_business_delay_hours"] = [
            stats["median_business_delay_hours"].get(k) if k in stats.index else None for k in wkey
        ]
        within["p90_business_delay_hours"] = [
            stats["p90_business_delay_hours"].get(k) if k in stats.index else None for k in wkey
        ]
    return shape_groups(
        within,
        f,
        STANDARD_COLUMNS,
        counts=("covered_due", "within_standard"),
        durations=("median_business_delay_hours", "p90_business_delay_hours"),
    )


_ELAPSED_COLUMNS = [
    "commitment_id", "title", "process", "performer", "customer", "group_key", "due_at",
    "standard_due_at", "policy_id", "policy_version", "target_hours", "elapsed_hours",
    "remaining_hours", "elapsed_share",
]  # fmt: skip


def elapsed_share(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Open, not yet due, covered commitments with their standard's clock at as_of.

    Columns: commitment_id, title, process, performer, customer, group_key, due_at,
    standard_due_at, policy_id, policy_version, target_hours, elapsed_hours,
    remaining_hours (business hours left, 0 when the target is spent), elapsed_share.
    """
    clocks = _clocks(conn, f, _PENDING, "r.due_at, r.commitment_id", _LIST_COLUMNS)
    return _elapsed(clocks, _ELAPSED_COLUMNS)


def _elapsed(clocks: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    rows = clocks[(clocks["status"] == "pending").to_numpy()]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    target = rows["target_hours"].to_numpy(dtype=float)
    elapsed = rows["run_hours"].to_numpy(dtype=float)
    out = rows.assign(
        elapsed_hours=np.round(elapsed, DURATION_DECIMALS),
        remaining_hours=np.round(np.maximum(target - elapsed, 0), DURATION_DECIMALS),
        elapsed_share=np.round(elapsed / target, DURATION_DECIMALS),
    )
    return out[columns].reset_index(drop=True)


def standards_kpis(
    conn: sa.Connection, f: MetricFilter, share: float = DEFAULT_AT_RISK_SHARE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the KPI export adds with standards: `standards_summary` and
    `elapsed_only_at_risk`, from one read of the covered breaches and open commitments
    with their stored pauses and one business-time pass over both."""
    clocks = _clocks(conn, f, _BOTH, "r.commitment_id")
    return (
        standards_summary(conn, f, _delays(clocks)),
        elapsed_only_at_risk(
            conn, f, share, _elapsed(clocks, ["commitment_id", "group_key", "elapsed_share"])
        ),
    )


def at_risk_with_reasons(
    conn: sa.Connection, f: MetricFilter, share: float = DEFAULT_AT_RISK_SHARE
) -> pd.DataFrame:
    """Every at-risk commitment once, with the reasons that apply.

    `upstream_breach`: a direct upstream is a breach (propagation.at_risk_commitments);
    `elapsed_share`: its standard's business clock has run `share` of the target.
    Columns: commitment_id, title, process, performer, customer, group_key, due_at,
    reason ('upstream_breach', 'elapsed_share' or both joined by '+'), elapsed_share,
    remaining_hours. Sorted by due date.
    """
    status_sql, params = commitment_status_sql(f)
    pending = read_frame(conn, _PENDING_SQL.format(status_sql=status_sql), params)
    upstream = set(at_risk_commitments(conn, f)["commitment_id"].astype(str))
    clock = elapsed_share(conn, f)
    late = clock[clock["elapsed_share"].astype(float) >= share]
    elapsed_ids = set(late["commitment_id"].astype(str))
    ids = pending["commitment_id"].astype(str)
    keep = ids.isin(upstream | elapsed_ids)
    out = pending[keep.to_numpy()].copy()
    up = out["commitment_id"].astype(str).isin(upstream).to_numpy()
    el = out["commitment_id"].astype(str).isin(elapsed_ids).to_numpy()
    out["reason"] = np.where(
        up & el,
        f"{UPSTREAM_BREACH}+{ELAPSED_SHARE}",
        np.where(up, UPSTREAM_BREACH, ELAPSED_SHARE),
    )
    by_id = clock.set_index(clock["commitment_id"].astype(str))
    for col in ("elapsed_share", "remaining_hours"):
        out[col] = out["commitment_id"].astype(str).map(by_id[col]) if not by_id.empty else None
    out = out.sort_values(["due_at", "commitment_id"], kind="stable").reset_index(drop=True)
    for col in ("commitment_id", "title", "process", "performer", "customer", "group_key"):
        out[col] = python_objects(out[col])
    return out


COMMITMENT_EXPORT_COLUMNS: tuple[str, ...] = (
    "commitment_id",
    "process",
    "performer",
    "customer",
    "requested_at",
    "due_at",
    "standard_due_at",
    "policy_id",
    "policy_version",
    "delivered_at",
    "status",
    "delay_days",
    "business_delay_hours",
    "at_risk_reason",
)

_EXPORT_SQL = """
WITH s AS ({status_sql})
SELECT commitment_id, process, performer, customer, requested_at, due_at, standard_due_at,
       policy_id, policy_version, delivered_at, status, delay_days
FROM s
UNION ALL
SELECT c.commitment_id, c.process, c.performer, c.customer, c.requested_at, c.due_at,
       c.standard_due_at, c.policy_id, c.policy_version,
       CASE WHEN c.delivered_at <= :as_of THEN c.delivered_at END, 'cancelled',
       CAST(NULL AS DOUBLE PRECISION)
FROM commitments c
WHERE c.cancelled AND {where}
"""


def commitments_with_standards(
    conn: sa.Connection, f: MetricFilter, share: float = DEFAULT_AT_RISK_SHARE
) -> pd.DataFrame:
    """One row per commitment of the filter (cancelled ones too) with its standard and
    verdict at as_of: the columns of `COMMITMENT_EXPORT_COLUMNS`, sorted by due date.

    status: on_time | breach | pending | cancelled (status.py's rule); delay_days for
    breaches; business_delay_hours for covered breaches; at_risk_reason for open ones
    at risk (see `at_risk_with_reasons`), else None.
    """
    status_sql, params = commitment_status_sql(f.with_(group_by="none"))
    where, where_params = f.sql_where("c")
    sql = _EXPORT_SQL.format(status_sql=status_sql, where=where)
    rows = read_frame(conn, sql, {**params, **where_params})
    rows = rows.sort_values(["due_at", "commitment_id"], kind="stable").reset_index(drop=True)
    delays = business_delays(conn, f.with_(group_by="none"))
    risk = at_risk_with_reasons(conn, f.with_(group_by="none"), share)
    ids = rows["commitment_id"].astype(str)
    by_delay = pd.Series(
        delays["business_delay_hours"].to_numpy(), index=delays["commitment_id"].astype(str)
    )
    by_risk = pd.Series(risk["reason"].to_numpy(), index=risk["commitment_id"].astype(str))
    rows["business_delay_hours"] = ids.map(by_delay).astype(float).to_numpy()
    rows["at_risk_reason"] = python_objects(ids.map(by_risk))
    rows["delay_days"] = pd.to_numeric(rows["delay_days"]).astype(float).round(DURATION_DECIMALS)
    rows["policy_version"] = rows["policy_version"].astype("Int64").array
    for col in ("commitment_id", "process", "performer", "customer", "policy_id", "status"):
        rows[col] = python_objects(rows[col])
    return rows[list(COMMITMENT_EXPORT_COLUMNS)]


# --- the source system's verdict beside Eslabón's -------------------------------------

_VERDICT_SQL = """
WITH s AS ({status_sql})
SELECT commitment_id, process, customer, due_at, standard_due_at, policy_id, delivered_at,
       status, source_on_time
FROM s
WHERE status <> 'pending' AND source_on_time IS NOT NULL
ORDER BY due_at, commitment_id
"""

AGREEMENT_CELLS: tuple[tuple[str, str], ...] = (
    ("on_time", "on_time"),
    ("breach", "breach"),
    ("on_time", "breach"),
    ("breach", "on_time"),
)


def _verdicts(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    status_sql, params = commitment_status_sql(f.with_(group_by="none"))
    rows = read_frame(conn, _VERDICT_SQL.format(status_sql=status_sql), params)
    rows["source_status"] = np.where(rows["source_on_time"].astype(bool), "on_time", "breach")
    return rows


def verdict_agreement(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """How often the source system's own verdict (e.g. made_sla) and Eslabón's agree.

    Over due-population commitments that carry a source verdict: one row per cell
    (source_status, eslabon_status, commitments), the two agreeing cells first, so a
    quality team sees at a glance whether the SLA numbers can be trusted.
    """
    rows = _verdicts(conn, f)
    counts = rows.groupby(["source_status", "status"]).size().to_dict()
    return pd.DataFrame(
        [
            {
                "source_status": src,
                "eslabon_status": own,
                "commitments": int(counts.get((src, own), 0)),
            }
            for src, own in AGREEMENT_CELLS
        ]
    )


def verdict_disagreements(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """The commitments where the source's verdict and Eslabón's differ, by due date.

    Columns: commitment_id, process, customer, due_at, standard_due_at, policy_id,
    delivered_at, source_status, eslabon_status.
    """
    rows = _verdicts(conn, f)
    rows = rows[rows["source_status"] != rows["status"]].rename(
        columns={"status": "eslabon_status"}
    )
    columns = ["commitment_id", "process", "customer", "due_at", "standard_due_at", "policy_id",
               "delivered_at", "source_status", "eslabon_status"]  # fmt: skip
    return rows[columns].reset_index(drop=True)


_UPSTREAM_BREACHED_SQL = """
WITH s AS ({status_sql})
SELECT DISTINCT d.commitment_id
FROM dependencies d
JOIN s ON s.commitment_id = d.depends_on
WHERE s.status = 'breach' AND d.commitment_id IN :ids
"""


def elapsed_only_at_risk(
    conn: sa.Connection,
    f: MetricFilter,
    share: float = DEFAULT_AT_RISK_SHARE,
    clock: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per group, open commitments at risk by elapsed share alone (no breached direct
    upstream): what the elapsed-share reason adds to propagation's at-risk count, so the
    KPI export counts each at-risk commitment once without listing them all again.
    `clock`: `elapsed_share` of the same filter when the caller has it already."""
    if clock is None:
        clock = elapsed_share(conn, f)
    late = clock[clock["elapsed_share"].astype(float) >= share]
    if late.empty:
        counts = pd.DataFrame(columns=["group_key", "at_risk"])
        return shape_groups(counts, f, ("group_key", "at_risk"), counts=("at_risk",))
    status_sql, params = commitment_status_sql(f, apply_filter=False)
    statement = sa.text(_UPSTREAM_BREACHED_SQL.format(status_sql=status_sql)).bindparams(
        sa.bindparam("ids", expanding=True)
    )
    ids = [str(i) for i in late["commitment_id"]]
    upstream = {r[0] for r in conn.execute(statement, {**params, "ids": ids}).fetchall()}
    alone = late[~late["commitment_id"].astype(str).isin(upstream)]
    key = alone["group_key"].astype(object).where(alone["group_key"].notna(), "\x1e")
    sizes = alone.groupby(key.to_numpy()).size()
    counts = pd.DataFrame(
        {"group_key": [None if k == "\x1e" else k for k in sizes.index], "at_risk": sizes.values}
    )
    return shape_groups(counts, f, ("group_key", "at_risk"), counts=("at_risk",))


# --- the Estándares page: standards in force, calendars, what-if ---------------------


def policy_versions(conn: sa.Connection, as_of: date) -> pd.DataFrame:
    """Every policy version, numbered, with `in_force` True for the latest version of each
    policy whose valid_from is on or before `as_of`'s day. Sorted by policy, version."""
    std = StoredStandards.read(conn, range(0))
    v = std.versions
    columns = [
        *("policy_id", "version", "valid_from", "target_hours", "calendar", "process"),
        *("customer_type", "priority", "category", "pause_stages", "set_by", "in_force"),
    ]
    if v.empty:
        return pd.DataFrame(columns=columns)
    day = pd.Timestamp(as_of).floor("D")
    started = v[pd.to_datetime(v["valid_from"]) <= day]
    latest = started.groupby("policy_id")["version"].max()
    v = v.assign(
        in_force=[latest.get(p) == n for p, n in zip(v["policy_id"], v["version"], strict=True)]
    )
    return v.sort_values(["policy_id", "version"]).reset_index(drop=True)[columns]


def calendar_weeks(conn: sa.Connection) -> pd.DataFrame:
    """Every calendar's working windows (calendar, weekday 1–7, start, end, country,
    subdivision), sorted: the week a person reads."""
    if not sa.inspect(conn).has_table("calendars"):
        return pd.DataFrame(
            columns=["calendar", "weekday", "start", "end", "country", "subdivision"]
        )
    from etl.standards import stored

    frame = stored(conn, "calendars")
    return frame.sort_values(["calendar", "weekday", "start"]).reset_index(drop=True)


def calendar_days_off(conn: sa.Connection, calendar: str, year: int) -> pd.DataFrame:
    """A calendar's non-working days of a year: its own holidays and its country's."""
    std = StoredStandards.read(conn, range(year, year + 1))
    cal = std.calendars.get(calendar)
    if cal is None:
        return pd.DataFrame(columns=["day"])
    days = sorted(d for d in cal.holidays if d.year == year)
    return pd.DataFrame({"day": days})


_WHAT_IF_SQL = """
WITH s AS ({status_sql})
SELECT commitment_id, process, customer, requested_at, delivered_at, standard_due_at,
       policy_id, policy_version
FROM s
WHERE policy_id = :wi_policy AND standard_due_at > :wi_start
  AND standard_due_at <= :as_of
ORDER BY standard_due_at, commitment_id
"""

WHAT_IF_FLIP_COLUMNS: tuple[str, ...] = (
    "commitment_id", "process", "customer", "requested_at", "delivered_at",
    "standard_due_in_force", "standard_due_proposed", "in_force", "proposed",
)  # fmt: skip


WHAT_IF_WEEKS = 13  # a quarter of past weeks: what a proposed target is tried on


def target_what_if(
    conn: sa.Connection,
    f: MetricFilter,
    policy_id: str,
    target_hours: float,
    weeks: int = WHAT_IF_WEEKS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a proposed target for one policy would have given over the last `weeks`
    weeks up to as_of, beside the targets in force; nothing is saved.

    Looks at the policy's commitments with a standard due in those weeks that are
    delivered or past it at as_of (the due population of the standard). Returns
    (summary: one row of covered, within_in_force, rate_in_force, within_proposed,
    rate_proposed; flips: the commitments whose verdict changes, `WHAT_IF_FLIP_COLUMNS`,
    verdicts 'within' | 'outside').
    """
    start = pd.Timestamp(f.as_of) - pd.Timedelta(weeks=weeks)
    status_sql, params = commitment_status_sql(f.with_(group_by="none", date_from=None,
                                                       date_to=None))  # fmt: skip
    sql = _WHAT_IF_SQL.format(status_sql=status_sql)  # fixed SQL; values are bound
    params = {**params, "wi_policy": policy_id, "wi_start": start.to_pydatetime()}
    rows = read_frame(conn, sql, params)
    summary_cols = ["covered", "within_in_force", "rate_in_force", "within_proposed",
                    "rate_proposed"]  # fmt: skip
    if rows.empty:
        empty = pd.DataFrame([{"covered": 0, "within_in_force": 0, "rate_in_force": None,
                               "within_proposed": 0, "rate_proposed": None}])  # fmt: skip
        return empty[summary_cols], pd.DataFrame(columns=list(WHAT_IF_FLIP_COLUMNS))
    std = StoredStandards.read(conn, _years(f, rows["requested_at"]))
    policy = std.of(rows["policy_id"], rows["policy_version"])
    delivered = pd.to_datetime(rows["delivered_at"])
    open_until = _us(delivered.fillna(pd.Timestamp(f.as_of)))
    ids = """
    SELECT commitment_id FROM commitments WHERE policy_id = :wi_policy
    """
    pauses = stored_pauses(conn, rows["commitment_id"], policy["pause_stages"], open_until,
                           ids, {"wi_policy": policy_id})  # fmt: skip
    from etl.standards import Matches, standard_dues

    n = len(rows)
    proposed_match = Matches(
        policy_id=rows["policy_id"].astype(object).reset_index(drop=True),
        version=rows["policy_version"].astype("Int64").reset_index(drop=True),
        target_hours=pd.Series(np.full(n, float(target_hours))),
        calendar=policy["calendar"].astype(object).reset_index(drop=True),
        pause_stages=policy["pause_stages"].astype(object).reset_index(drop=True),
        conflict=pd.Series([None] * n, dtype=object),
    )
    proposed = standard_dues(rows["requested_at"].reset_index(drop=True), proposed_match,
                             std.calendars, pauses)  # fmt: skip
    in_force_due = pd.to_datetime(rows["standard_due_at"]).reset_index(drop=True)
    delivered = delivered.reset_index(drop=True)
    within_now = (delivered.notna() & (delivered <= in_force_due)).to_numpy()
    within_new = (delivered.notna() & (delivered <= proposed)).to_numpy()
    summary = pd.DataFrame(
        [
            {
                "covered": n,
                "within_in_force": int(within_now.sum()),
                "rate_in_force": float(within_now.mean()),
                "within_proposed": int(within_new.sum()),
                "rate_proposed": float(within_new.mean()),
            }
        ]
    )
    flip = within_now != within_new
    flips = pd.DataFrame(
        {
            "commitment_id": python_objects(rows["commitment_id"]).to_numpy()[flip],
            "process": python_objects(rows["process"]).to_numpy()[flip],
            "customer": python_objects(rows["customer"]).to_numpy()[flip],
            "requested_at": pd.to_datetime(rows["requested_at"]).to_numpy()[flip],
            "delivered_at": delivered.to_numpy()[flip],
            "standard_due_in_force": in_force_due.to_numpy()[flip],
            "standard_due_proposed": proposed.to_numpy()[flip],
            "in_force": np.where(within_now[flip], "within", "outside"),
            "proposed": np.where(within_new[flip], "within", "outside"),
        }
    )
    return summary[summary_cols], flips


_ONE_SQL = """
SELECT commitment_id, requested_at, delivered_at, due_at, standard_due_at, policy_id,
       policy_version, due_from_standard, cancelled
FROM commitments
WHERE commitment_id = :cid
"""


def commitment_standard(
    conn: sa.Connection, commitment_id: str, as_of: date
) -> dict[str, object] | None:
    """The standard behind one commitment's date, and its business-time countdown.

    None when no standard covers it. Keys: policy_id, version, target_hours, calendar,
    standard_due_at, due_from_standard (the due_at came from the standard),
    remaining_hours (business hours left at as_of for an open one, else None; 0 when
    spent), paused (its clock is paused at as_of).
    """
    rows = read_frame(conn, _ONE_SQL, {"cid": commitment_id})
    if rows.empty or rows["policy_id"].isna().iat[0]:
        return None
    at = pd.Timestamp(as_of)
    std = StoredStandards.read(conn, range(at.year - 2, at.year + 2))
    policy = std.of(rows["policy_id"], rows["policy_version"]).iloc[0]
    # cells of one row: typed by their columns, which the stubs cannot know
    delivered: Any = pd.to_datetime(rows["delivered_at"]).iat[0]
    version: Any = rows["policy_version"].iat[0]
    standard_due: Any = rows["standard_due_at"].iat[0]
    is_open = not bool(rows["cancelled"].iat[0]) and (pd.isna(delivered) or delivered > at)
    remaining, paused = None, False
    if is_open:
        now = pd.Series([at])
        pauses = stored_pauses(
            # open pauses end just after as_of, so "paused now" reads off the interval
            conn, rows["commitment_id"], pd.Series([policy["pause_stages"]]),
            _us(now) + 1, "SELECT CAST(:cid AS VARCHAR)", {"cid": commitment_id},
        )  # fmt: skip
        run = business_between(
            rows["requested_at"], now, pd.Series([policy["calendar"]]), std.calendars, pauses
        )[0]
        if run >= 0:
            target = float(policy["target_hours"])
            remaining = round(max(target - run / bt.US_PER_HOUR, 0.0), DURATION_DECIMALS)
        at_us = _us(now)[0]
        paused = bool(((pauses.start <= at_us) & (at_us < pauses.end)).any())
    return {
        "policy_id": str(rows["policy_id"].iat[0]),
        "version": int(version),
        "target_hours": float(policy["target_hours"]),
        "calendar": None if pd.isna(policy["calendar"]) else str(policy["calendar"]),
        "standard_due_at": pd.Timestamp(standard_due).to_pydatetime(),
        "due_from_standard": bool(rows["due_from_standard"].iat[0]),
        "remaining_hours": remaining,
        "paused": paused,
    }
