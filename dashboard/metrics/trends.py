"""Week by week: the headline KPIs of each ISO week and the change from last week.

Weeks are ISO weeks (Monday to Sunday) of the due date, like the week group-by. Only
full weeks count: the current week is the last one that has ended by `as_of` (or by the
end of the filter's period, when that is earlier), so a Wednesday review compares last
week with the week before, never a half week with a whole one. Every week is evaluated
at the filter's `as_of`: what we know now about that week.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.definitions import COUNT_KPIS, HEADLINE_KPIS
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import headline_kpis
from dashboard.metrics.ontime import none_if_nan


def last_full_week(f: MetricFilter) -> date:
    """The Monday of the last ISO week that has ended by as_of and by the period's end."""
    end = f.as_of
    if f.date_to is not None:
        end = min(end, datetime.combine(f.date_to + timedelta(days=1), time.min))
    this_monday = end.date() - timedelta(days=end.weekday())
    return this_monday - timedelta(days=7)


def weekly_kpis(conn: sa.Connection, f: MetricFilter, weeks: int) -> pd.DataFrame:
    """The headline KPIs of the last `weeks` full ISO weeks, oldest first.

    Columns: week (the Monday, a date) and every key of `HEADLINE_KPIS`. A week with no
    commitment still has its row (counts 0, rates None), so a chart has no holes. The
    filter's own period start is not used: the trend always shows `weeks` weeks; the
    rest of the filter (stages, performers, customers...) applies.
    """
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    last = last_full_week(f)
    first = last - timedelta(days=7 * (weeks - 1))
    scoped = f.with_(date_from=first, date_to=last + timedelta(days=6), group_by="week")
    mondays = [first + timedelta(days=7 * i) for i in range(weeks)]
    return _week_rows(headline_kpis(conn, scoped), mondays)


def _week_rows(
    by_week: pd.DataFrame, mondays: list[date], partial: list[bool] | None = None
) -> pd.DataFrame:
    """One row per Monday from headline_kpis grouped by week: week, `partial` when given,
    every headline KPI. A week without commitments still has its row (counts 0, rates
    None), so a chart has no holes; counts stay whole, missing rates stay None."""
    found = {row["group_key"]: row for row in by_week.to_dict("records")}
    rows = []
    for i, monday in enumerate(mondays):
        week = found.get(monday)
        row: dict[str, object] = {"week": monday}
        if partial is not None:
            row["partial"] = partial[i]
        for kpi in HEADLINE_KPIS:
            if week is not None:
                row[kpi] = none_if_nan(week[kpi])
            else:
                row[kpi] = 0 if kpi in COUNT_KPIS else None
        rows.append(row)
    flags = ["partial"] if partial is not None else []
    out = pd.DataFrame(rows, columns=["week", *flags, *HEADLINE_KPIS])
    if partial is not None:
        out["partial"] = out["partial"].astype(bool)
    for kpi in HEADLINE_KPIS:
        if kpi in COUNT_KPIS:
            out[kpi] = out[kpi].astype("int64")
        else:
            out[kpi] = out[kpi].astype(object).where(out[kpi].notna(), None)
    return out


def is_partial_week(monday: date, f: MetricFilter) -> bool:
    """True when the ISO week starting `monday` has not ended at `f.as_of`, or the
    filter's period cuts it (starts after its Monday or ends before its Sunday): its
    numbers are of part of a week and may still change, so charts draw it apart."""
    sunday = monday + timedelta(days=6)
    ended = datetime.combine(sunday + timedelta(days=1), time.min) <= f.as_of
    cut = (f.date_from is not None and f.date_from > monday) or (
        f.date_to is not None and f.date_to < sunday
    )
    return cut or not ended


_FIRST_DUE = "SELECT MIN(c.due_at) FROM commitments c WHERE {where}"


def period_weekly_kpis(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """The headline KPIs of every ISO week of the filter's period, oldest first, each
    counting only its due dates inside the period, with `partial` = the week is not all
    in the period or has not ended at `as_of`.

    The weeks add up to exactly the period's commitments, so a page's cards (the period,
    `headline_kpis(f)`) and its weekly chart (these rows) always speak of the same
    commitments: a breach due this Tuesday is in both, its week marked partial. Columns:
    week (the Monday), partial, and every key of `HEADLINE_KPIS`. A period without a
    start or an end is bounded by the earliest due date or by `as_of`.
    """
    start, end = f.date_from, f.date_to or f.as_of.date()
    if start is None:
        where, params = f.sql_where("c")
        # Only filters.py's fixed SQL is spliced in; values are bound.
        first_due = conn.execute(sa.text(_FIRST_DUE.format(where=where)), params).scalar()
        start = pd.Timestamp(first_due).date() if first_due is not None else end
    start = min(start, end)
    df = headline_kpis(conn, f.with_(group_by="week", date_from=start, date_to=end))
    first = start - timedelta(days=start.weekday())
    mondays = [first + timedelta(days=7 * i) for i in range((end - first).days // 7 + 1)]
    bounded = f.with_(date_from=start, date_to=end)
    return _week_rows(df, mondays, [is_partial_week(monday, bounded) for monday in mondays])


WOW_COLUMNS: tuple[str, ...] = (
    "kpi",
    "current",
    "previous",
    "delta",
    "current_week",
    "previous_week",
)


def week_over_week(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """Each headline KPI in the last full week, the week before, and the change.

    `delta` = current − previous (None when either is None). `current_week` and
    `previous_week` are the two Mondays, so a caption can say which weeks they are.
    """
    return week_over_week_from(weekly_kpis(conn, f, 2))


def week_over_week_from(weekly: pd.DataFrame) -> pd.DataFrame:
    """week_over_week from a `weekly_kpis` frame of the same filter (any `weeks` >= 2).

    Every week of weekly_kpis is computed on its own due dates only (the window's other
    weeks never enter it) and the window always ends with the last full week, so its last
    two rows are exactly `weekly_kpis(conn, f, 2)`. A page that already holds the trend
    takes the change from it instead of running the headline KPIs a second time.
    """
    if len(weekly) < 2:
        raise ValueError("week_over_week needs the weekly KPIs of at least two weeks")
    previous, current = weekly.iloc[-2], weekly.iloc[-1]
    rows = []
    for kpi in HEADLINE_KPIS:
        cur, prev = none_if_nan(current[kpi]), none_if_nan(previous[kpi])
        delta = None if cur is None or prev is None else cur - prev
        rows.append(
            {
                "kpi": kpi,
                "current": cur,
                "previous": prev,
                "delta": delta,
                "current_week": current["week"],
                "previous_week": previous["week"],
            }
        )
    # object columns: counts stay Python ints (192, not 192.0) next to rates, None stays None
    return pd.DataFrame(
        {col: pd.Series([r[col] for r in rows], dtype=object) for col in WOW_COLUMNS}
    )


def full_weeks(weekly: pd.DataFrame) -> pd.DataFrame:
    """The whole weeks of a `period_weekly_kpis` frame (its `partial` ones left out): the
    weeks a sparkline draws and a week-on-week change compares, never a half week."""
    if weekly.empty:
        return weekly.drop(columns="partial", errors="ignore")
    return weekly[~weekly["partial"].astype(bool)].drop(columns="partial").reset_index(drop=True)


def last_week_change(weekly: pd.DataFrame) -> pd.DataFrame | None:
    """The period's last full week against the full week before it, per KPI (the
    `week_over_week_from` frame indexed by kpi), or None with fewer than two full weeks."""
    full = full_weeks(weekly)
    if len(full) < 2:
        return None
    return week_over_week_from(full).set_index("kpi")
