"""Targets and the traffic light: is a KPI green, amber or red?

A target belongs to a KPI and optionally to one process stage; a new row with a later
`valid_from` replaces the previous one from that instant on (the history stays). A
period is judged against the targets in force at its end, as the contract asks, but
never against a target that `as_of` does not know yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import EVERYTHING, MetricFilter, RowScope
from dashboard.metrics.ontime import none_if_nan, python_objects

GREEN, AMBER, RED = "green", "amber", "red"

# A value within this distance of a boundary is on the boundary: 0.9 - 0.05 is
# 0.8500000000000001 in binary floating point, and 0.85 must still be amber.
_EPSILON = 1e-9

TARGET_COLUMNS: tuple[str, ...] = (
    "kpi",
    "process",
    "target_value",
    "direction",
    "amber_tolerance",
    "valid_from",
    "set_by",
    "target_id",
)

_IN_FORCE_SQL = """
WITH ranked AS (
    SELECT
        t.*,
        ROW_NUMBER() OVER (
            PARTITION BY t.kpi, t.process
            ORDER BY t.valid_from DESC, t.set_at DESC, t.target_id DESC
        ) AS rn
    FROM targets t
    WHERE t.valid_from <= :at
)
SELECT kpi, process, target_value, direction, amber_tolerance, valid_from, set_by, target_id
FROM ranked
WHERE rn = 1
ORDER BY kpi, process NULLS FIRST
"""


def targets_in_force(
    conn: sa.Connection, at: datetime, scope: RowScope = EVERYTHING
) -> pd.DataFrame:
    """The target of each (KPI, process) in force at `at`: the latest `valid_from <= at`.

    Ties on valid_from go to the row set last (set_at, then target_id). `process` None
    is the organisation-wide target. A stage outside the user's `scope` is left out.
    """
    df = pd.read_sql(sa.text(_IN_FORCE_SQL), conn, params={"at": at})
    if scope.stages is not None:
        keep = df["process"].isna() | df["process"].isin(list(scope.stages))
        df = df.loc[keep].reset_index(drop=True)
    for col in ("kpi", "process", "direction", "set_by"):
        df[col] = python_objects(df[col])
    df["valid_from"] = pd.to_datetime(df["valid_from"])
    return df[list(TARGET_COLUMNS)]


def target_status(
    value: float | None, target_row: Mapping[str, Any] | pd.Series | None
) -> str | None:
    """'green' (meets the target), 'amber' (misses it by at most the tolerance) or 'red'.

    `direction` 'higher' means higher is better (on-time rate), 'lower' the opposite
    (delay). The tolerance is in the KPI's own unit (0.05 on a rate = 5 points). None
    when there is no value or no target: no light rather than a wrong one.
    """
    value = none_if_nan(value)
    if value is None or target_row is None:
        return None
    target = float(target_row["target_value"])
    tolerance = float(none_if_nan(target_row["amber_tolerance"]) or 0.0)
    direction = str(target_row["direction"]).lower()
    if direction not in ("higher", "lower"):
        raise ValueError(f"target direction must be 'higher' or 'lower', not {direction!r}")
    shortfall = target - float(value) if direction == "higher" else float(value) - target
    if shortfall <= _EPSILON:
        return GREEN
    if shortfall <= tolerance + _EPSILON:
        return AMBER
    return RED


def judgement_instant(f: MetricFilter) -> datetime:
    """When a filter's period is judged: the end of its last day, or as_of if earlier."""
    if f.date_to is None:
        return f.as_of
    return min(f.as_of, datetime.combine(f.date_to, time.max))


def kpi_targets(
    conn: sa.Connection, f: MetricFilter, kpis: Iterable[str], process: str | None = None
) -> dict[str, dict[str, Any] | None]:
    """The target row (as a dict) each KPI is judged against, or None without one.

    A stage's own target wins over the organisation-wide one. The stage is `process`, or
    the filter's only stage when it selects exactly one.
    """
    if process is None and len(f.processes) == 1:
        process = f.processes[0]
    in_force = targets_in_force(conn, judgement_instant(f), f.scope)
    return {kpi: _pick(in_force, kpi, process) for kpi in kpis}


def _pick(in_force: pd.DataFrame, kpi: str, process: str | None) -> dict[str, Any] | None:
    """The stage's own row of `kpi` among the targets in force, else the organisation's."""
    rows = in_force[in_force["kpi"] == kpi]
    own = rows[rows["process"] == process] if process is not None else rows.iloc[0:0]
    pick = own if not own.empty else rows[rows["process"].isna()]
    return {str(k): v for k, v in pick.iloc[0].items()} if not pick.empty else None


def kpi_target_value(
    conn: sa.Connection, f: MetricFilter, kpi: str, process: str | None = None
) -> float | None:
    """The target value `kpi` is judged against under `f` (None without one).

    The same pick as the lights (`kpi_targets`: the end of the period, a stage's own
    target first), so a chart's target line never shows another target than the card.
    """
    row = kpi_targets(conn, f, (kpi,), process)[kpi]
    return None if row is None else float(row["target_value"])


def stage_target_status(
    conn: sa.Connection, f: MetricFilter, kpi: str, values: Mapping[str, float | None]
) -> dict[str, str | None]:
    """Each stage's light for one KPI (`values`: stage -> value), each against the
    stage's own target or else the organisation's (`kpi_targets`)."""
    in_force = targets_in_force(conn, judgement_instant(f), f.scope)
    return {
        stage: target_status(value, _pick(in_force, kpi, stage)) for stage, value in values.items()
    }


def kpi_target_status(
    conn: sa.Connection,
    f: MetricFilter,
    kpis: Mapping[str, float | None],
    process: str | None = None,
) -> dict[str, str | None]:
    """Green/amber/red (or None) for each KPI value, against the targets in force.

    Targets are those in force at the end of the filter's period (`judgement_instant`);
    a stage's own target wins over the organisation-wide one (see `kpi_targets`).
    """
    targets = kpi_targets(conn, f, kpis, process)
    return {kpi: target_status(value, targets[kpi]) for kpi, value in kpis.items()}
