"""The weekly review: everything a weekly meeting goes through, for one ISO week.

One call assembles it from the metric functions (so the meeting sees the numbers the
dashboard shows): the headline KPIs of the week against the week before and against the
target in force at the week's end; the root breaches of the week with their impact
downstream; the commitments breached that week; the at-risk ones due next week; and the
action items raised that week or carried from earlier ones. The page and the report
(`dashboard.report.weekly`) both render this object.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.definitions import HEADLINE_KPIS, KPI_BETTER
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import headline_kpis, kpi_reasons
from dashboard.metrics.ontime import commitment_list, none_if_nan
from dashboard.metrics.propagation import at_risk_commitments, root_impact
from dashboard.metrics.targets import kpi_target_status, kpi_targets
from dashboard.metrics.trends import last_full_week, weekly_kpis
from dashboard.records import iso_week_label, iso_week_monday
from dashboard.records.actions import actions_for_week
from etl.schema import commitments

KPI_TABLE_COLUMNS: tuple[str, ...] = (
    "kpi",
    "current",
    "previous",
    "delta",
    "better",
    "target_value",
    "amber_tolerance",
    "status",
    "previous_status",
    "reason",  # why current is empty when its input was never loaded (kpis.kpi_reasons)
)
TREND_WEEKS = 8
CHART_ROOTS = 10  # roots the review's impact chart draws (the table lists them all)
WEEKS_OFFERED = 26  # weeks a review can be opened on: as_of's week and the 25 before


@dataclass(frozen=True)
class WeeklyReview:
    """What the Revisión page and the weekly report show for one ISO week."""

    week: str  # 2026-W47
    monday: date
    sunday: date
    as_of: datetime
    scope: MetricFilter  # the base filter without period: `scope.describe(lang)` in headers
    kpis: pd.DataFrame  # KPI_TABLE_COLUMNS
    trend: pd.DataFrame  # weekly_kpis of the TREND_WEEKS weeks ending with this one
    on_time_target: float | None  # organisation-wide on-time target at the week's end
    roots: pd.DataFrame  # root_impact of the week
    breached: pd.DataFrame  # commitment_list rows of the week with status breach
    at_risk_next_week: pd.DataFrame  # at_risk_commitments due next week
    actions: pd.DataFrame  # actions_for_week

    def chart_roots(self) -> pd.DataFrame:
        """The roots the impact chart draws: the CHART_ROOTS largest (roots is ranked)."""
        return self.roots.head(CHART_ROOTS)


def default_review_week(as_of: datetime) -> str:
    """The week a review opens on: the last ISO week that has ended at `as_of` (a meeting
    reviews a whole week; the sidebar's period does not move it)."""
    return iso_week_label(last_full_week(MetricFilter(as_of=as_of)))


def review_weeks(as_of: datetime) -> list[str]:
    """The ISO weeks a review may be opened on, newest first: as_of's own week (still
    running) and the WEEKS_OFFERED - 1 before it."""
    monday = as_of.date() - timedelta(days=as_of.weekday())
    return [iso_week_label(monday - timedelta(weeks=i)) for i in range(WEEKS_OFFERED)]


def week_filter(base: MetricFilter, week: str) -> MetricFilter:
    """The base filter narrowed to the due dates of one ISO week (Monday..Sunday)."""
    monday = iso_week_monday(week)
    return base.with_(date_from=monday, date_to=monday + timedelta(days=6), group_by="none")


def _kpi_values(conn: sa.Connection, f: MetricFilter) -> dict[str, float | None]:
    row = headline_kpis(conn, f).iloc[0]
    return {kpi: none_if_nan(row[kpi]) for kpi in HEADLINE_KPIS}


def kpi_table(conn: sa.Connection, f_week: MetricFilter, f_previous: MetricFilter) -> pd.DataFrame:
    """Each headline KPI this week and last week, the change, the target and the lights.

    Each week is judged against the target in force at its own end (metrics.targets).
    """
    current = _kpi_values(conn, f_week)
    previous = _kpi_values(conn, f_previous)
    targets = kpi_targets(conn, f_week, current)
    lights = kpi_target_status(conn, f_week, current)
    reasons = kpi_reasons(conn)
    previous_lights = kpi_target_status(conn, f_previous, previous)
    rows = []
    for kpi in HEADLINE_KPIS:
        cur, prev = current[kpi], previous[kpi]
        delta = None if cur is None or prev is None else float(cur) - float(prev)
        target = targets.get(kpi)
        rows.append(
            {
                "kpi": kpi,
                "current": cur,
                "previous": prev,
                "delta": delta,
                "better": KPI_BETTER.get(kpi, "neutral"),
                "target_value": None if target is None else float(target["target_value"]),
                "amber_tolerance": None if target is None else float(target["amber_tolerance"]),
                "status": lights.get(kpi),
                "previous_status": previous_lights.get(kpi),
                "reason": reasons.get(kpi) if cur is None else None,
            }
        )
    frame = pd.DataFrame(rows, columns=list(KPI_TABLE_COLUMNS))
    for column in KPI_TABLE_COLUMNS[1:]:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def week_and_previous(base: MetricFilter, week: str) -> tuple[MetricFilter, MetricFilter]:
    """`week_filter` of the week and of the week before it: what its KPIs are compared with."""
    monday = iso_week_monday(week)
    return week_filter(base, week), week_filter(base, iso_week_label(monday - timedelta(days=7)))


def weekly_review(
    conn: sa.Connection,
    week: str,
    as_of: datetime,
    base: MetricFilter | None = None,
) -> WeeklyReview:
    """Assemble the review of `week` as known at `as_of`.

    `base` carries the sidebar's stages/customers/direction (its period is replaced by the
    week). Raises dashboard.records.RecordError for a label that is not an ISO week.
    """
    base = (base or MetricFilter(as_of=as_of)).with_(as_of=as_of, group_by="none")
    monday = iso_week_monday(week)
    label = iso_week_label(monday)
    f_week, f_previous = week_and_previous(base, label)
    f_next = week_filter(base, iso_week_label(monday + timedelta(days=7)))
    kpis = kpi_table(conn, f_week, f_previous)
    trend = weekly_kpis(conn, f_week.with_(date_from=None), TREND_WEEKS)
    on_time_target = kpis.loc[kpis["kpi"] == "on_time_rate", "target_value"].iloc[0]
    breached = commitment_list(conn, f_week)
    breached = breached[breached["status"] == "breach"].reset_index(drop=True)
    return WeeklyReview(
        week=label,
        monday=monday,
        sunday=monday + timedelta(days=6),
        as_of=as_of,
        scope=base.with_(date_from=None, date_to=None),
        kpis=kpis,
        trend=trend,
        on_time_target=on_time_target,
        roots=root_impact(conn, f_week),
        breached=breached,
        at_risk_next_week=at_risk_commitments(conn, f_next).reset_index(drop=True),
        actions=actions_for_week(conn, label, base.scope),
    )


def _unrestricted(f: MetricFilter) -> bool:
    """No row condition at all (whatever fields MetricFilter grows, its SQL says)."""
    where, _ = f.with_(date_from=None, date_to=None).sql_where("c", with_direction=False)
    return where == "TRUE"


def commitment_ids_in_scope(conn: sa.Connection, f: MetricFilter, ids: list[str]) -> set[str]:
    """Which of `ids` are commitments the filter's stages/customers/types allow (any date)."""
    if not ids:
        return set()
    where, params = f.with_(date_from=None, date_to=None).sql_where("c", with_direction=False)
    c = commitments.alias("c")
    query = sa.select(c.c.commitment_id).where(
        sa.text(where).bindparams(**params), c.c.commitment_id.in_(ids)
    )
    rows = conn.execute(query)
    return {row[0] for row in rows.fetchall()}


def recipient_review(
    conn: sa.Connection, week: str, as_of: datetime, f: MetricFilter
) -> WeeklyReview:
    """The review as it may leave the building for a recipient limited to `f`.

    Every table of `weekly_review` already follows the filter except the action items,
    which belong to the meeting: a restricted recipient gets only the items linked to a
    commitment the filter allows (an unlinked item may speak of any stage or customer).
    """
    review = weekly_review(conn, week, as_of, f)
    if _unrestricted(f) or review.actions.empty:
        return review
    linked = [str(v) for v in review.actions["commitment_id"].dropna().unique()]
    allowed = commitment_ids_in_scope(conn, f, linked)
    keep = review.actions["commitment_id"].isin(allowed)
    return replace(review, actions=review.actions[keep].reset_index(drop=True))
