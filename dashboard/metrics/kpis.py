"""The headline KPIs: one row per group with every number the weekly review looks at.

Each value comes from the one metric function that owns it (on-time, propagation,
satisfaction, complaints, notices); this module only puts them side by side, so the
export, the trends and the pages can never disagree with the detailed views.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.complaints import complaints_summary
from dashboard.metrics.definitions import COUNT_KPIS, HEADLINE_KPIS
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.notices import proactive_notice_summary
from dashboard.metrics.ontime import (
    customer_commitments_kept,
    group_sort_key,
    on_time_summary,
    python_objects,
)
from dashboard.metrics.propagation import propagation_summary
from dashboard.metrics.satisfaction import satisfaction_summary
from dashboard.metrics.standards import (
    DEFAULT_AT_RISK_SHARE,
    standards_kpis,
)
from etl.parse import parse_datetimes
from etl.schema import dataset_meta
from etl.settings import load_settings

STANDARD_KPIS: tuple[str, ...] = (
    "within_standard_rate",
    "median_business_delay_hours",
    "p90_business_delay_hours",
)


# KPIs whose input is a record kind of its own, with the reason code they carry when that
# input was never loaded: "no data" is not "zero" (issue 14, item 6). The SQL asks only
# whether one such row exists, over the whole database, not the filter: within a filter
# zero complaints is a real zero once complaints are loaded at all.
_INPUTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("no_surveys_loaded", ("csat_pct", "csat_mean", "nps"), "SELECT 1 FROM satisfaction"),
    ("no_complaints_loaded", ("complaints_per_100",), "SELECT 1 FROM complaints"),
    ("no_notices_loaded", ("proactive_notice_rate",), "SELECT 1 FROM notices"),
    (
        "no_customer_commitments_loaded",
        ("customer_commitments_kept",),
        "SELECT 1 FROM commitments WHERE direction = 'from_customer'",
    ),
)


def kpi_reasons(conn: sa.Connection, f: MetricFilter | None = None) -> dict[str, str]:
    """KPI -> reason code for each headline KPI that is empty because its input was never
    loaded (no surveys, complaints, notices or customer commitments in the database).

    `f` is accepted so pages can cache this like any metric; the answer does not depend
    on it (see _INPUTS).
    """
    reasons: dict[str, str] = {}
    for code, kpis, sql in _INPUTS:
        # fixed SQL from this module; LIMIT 1 keeps it one index/scan probe
        if not conn.execute(sa.text(f"{sql} LIMIT 1")).fetchall():
            reasons.update(dict.fromkeys(kpis, code))
    return reasons


def _keyed(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Some columns of a grouped frame, renamed, with group keys as Python objects."""
    out = df[["group_key", *columns]].rename(columns=columns)
    out["group_key"] = python_objects(out["group_key"])
    return out


def has_standards(conn: sa.Connection) -> bool:
    """Whether any commitment is covered by a service standard (else its KPIs are None)."""
    if not sa.inspect(conn).has_table("policies"):
        return False
    row = conn.execute(
        sa.text("SELECT 1 FROM commitments WHERE policy_id IS NOT NULL LIMIT 1")
    ).fetchall()
    return bool(row)


def headline_kpis(
    conn: sa.Connection, f: MetricFilter, *, at_risk_share: float = DEFAULT_AT_RISK_SHARE
) -> pd.DataFrame:
    """Every headline KPI (`HEADLINE_KPIS`) per group of the filter, group_key first.

    A group appears when any of the underlying metrics has it (e.g. the group of survey
    responses without a commitment when grouping by stage) and at least one KPI of it is
    not empty (a count above 0 or a value). Counts are integers (0 when
    the group has none); rates and values are floats or None (no denominator, or an input
    never loaded: `kpi_reasons` says which and why, so "no data" is never 0.0).
    Every KPI counts the filter's own direction (`to_customer` unless it says
    otherwise), like every other number of a page with that filter; only
    `customer_commitments_kept` is by definition the kept rate of `from_customer`
    commitments in the same filter. With service standards loaded, `at_risk` also
    counts open commitments whose standard's clock has run `at_risk_share` of its target
    (each commitment once).
    """
    standards = has_standards(conn)
    parts = [
        _keyed(on_time_summary(conn, f), {c: c for c in HEADLINE_KPIS[:7]}),
        _keyed(
            propagation_summary(conn, f),
            {
                "root_breaches": "root_breaches",
                "propagated_breaches": "propagated_breaches",
                "absorbed": "absorbed",
                "propagation_rate": "propagation_rate",
                "at_risk": "at_risk",
            },
        ),
        _keyed(
            satisfaction_summary(conn, f),
            {"csat_pct": "csat_pct", "csat_mean": "csat_mean", "nps": "nps"},
        ),
        _keyed(complaints_summary(conn, f), {"complaints_per_100": "complaints_per_100"}),
        _keyed(
            proactive_notice_summary(conn, f),
            {"proactive_notice_rate": "proactive_notice_rate"},
        ),
        _keyed(customer_commitments_kept(conn, f), {"kept_rate": "customer_commitments_kept"}),
    ]
    if standards:
        summary, extra = standards_kpis(conn, f, at_risk_share)
        parts.append(_keyed(summary, {k: k for k in STANDARD_KPIS}))
        parts.append(_keyed(extra, {"at_risk": "at_risk_elapsed_only"}))
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part, on="group_key", how="outer")
    if f.group_by == "none":
        # every part has exactly one row keyed None: the merge kept exactly one
        merged = merged.head(1)
    merged = merged.sort_values("group_key", key=group_sort_key, kind="stable").reset_index(
        drop=True
    )
    if standards:  # either reason, each commitment once: upstream breach + elapsed alone
        merged["at_risk"] = pd.to_numeric(merged["at_risk"]).fillna(0) + pd.to_numeric(
            merged["at_risk_elapsed_only"]
        ).fillna(0)
    for kpi in STANDARD_KPIS:
        if kpi not in merged:
            merged[kpi] = None
    out = pd.DataFrame(index=merged.index)
    out["group_key"] = python_objects(merged["group_key"])
    unloaded = kpi_reasons(conn)
    for kpi in HEADLINE_KPIS:
        if kpi in COUNT_KPIS:
            out[kpi] = pd.to_numeric(merged[kpi]).fillna(0).astype("int64")
        elif kpi in unloaded:
            out[kpi] = pd.Series([None] * len(out), index=out.index, dtype=object)
        else:
            out[kpi] = python_objects(pd.to_numeric(merged[kpi]).astype(float))
    if f.group_by != "none":
        # e.g. complaints without a commitment make a keyless group whose only figure,
        # complaints per 100 due, has no denominator: a row of zeros and nulls says nothing
        counts = [k for k in HEADLINE_KPIS if k in COUNT_KPIS]
        values = [k for k in HEADLINE_KPIS if k not in COUNT_KPIS]
        says_something = out[counts].ne(0).any(axis=1) | out[values].notna().any(axis=1)
        out = out[says_something].reset_index(drop=True)
    return out


def dataset_as_of(conn: sa.Connection) -> datetime | None:
    """The `as_of` the loaded sample data ships with (dataset_meta), or None."""
    value = conn.execute(
        sa.select(dataset_meta.c.value).where(dataset_meta.c.key == "as_of")
    ).scalar()
    if not value:
        return None
    parsed, bad = parse_datetimes(pd.Series([value]), tz=load_settings().timezone)
    if bad.iloc[0] or pd.isna(parsed.iloc[0]):
        return None
    stamp: pd.Timestamp = parsed.iloc[0]
    return stamp.to_pydatetime()


def now_wall_clock(timezone: str | None = None) -> datetime:
    """The current naive wall-clock time in ESLABON_TZ (how every timestamp is stored)."""
    tz = ZoneInfo(timezone or load_settings().timezone)
    return datetime.now(tz).replace(tzinfo=None, microsecond=0)


def start_of_minute(at: datetime) -> datetime:
    """The first instant of the minute holding `at`: live data is judged at it for the
    whole minute, so the dashboard's cache keys and the server's keep-warm agree."""
    return at.replace(second=0, microsecond=0)


def default_as_of(conn: sa.Connection, now: datetime | None = None) -> datetime:
    """The evaluation instant to use when the user gives none.

    A database holding the sample data is evaluated at the sample's own `as_of`
    (dataset_meta), so its story reads the same any day; otherwise `now` (the wall
    clock when not given).
    """
    return dataset_as_of(conn) or now or now_wall_clock()
