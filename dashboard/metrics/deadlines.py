"""Commitments running out of time: open, not yet due, with most of their window gone.

The second early warning beside `propagation.at_risk_commitments` (a breached supplier):
a commitment requested ten days before its due date and still open after eight has used
80 % of its window, whatever its suppliers did. Alerts use it to warn before the breach.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from etl.schema import commitments

ELAPSED_COLUMNS: tuple[str, ...] = (
    "commitment_id",
    "title",
    "process",
    "performer",
    "customer",
    "requested_at",
    "due_at",
    "elapsed_share",
)


def elapsed_share_at_risk(conn: sa.Connection, f: MetricFilter, share: float) -> pd.DataFrame:
    """Open commitments of the filter (any due date after `f.as_of`) with at least `share`
    (0..1) of their requested→due window elapsed at `as_of`; the most urgent first.

    Open = not cancelled and not delivered by `as_of` (a delivery recorded later is not
    known yet). A window of zero length counts as fully elapsed.
    """
    if not 0 < share <= 1:
        raise ValueError(f"elapsed share must be in (0, 1], not {share!r}")
    where, params = f.with_(date_from=None, date_to=None).sql_where("c")
    c = commitments.alias("c")
    as_of = f.as_of
    query = sa.select(
        c.c.commitment_id,
        c.c.title,
        c.c.process,
        c.c.performer,
        c.c.customer,
        c.c.requested_at,
        c.c.due_at,
    ).where(
        sa.text(where).bindparams(**params),
        c.c.cancelled.is_not(True),
        c.c.due_at > as_of,
        c.c.requested_at <= as_of,
        sa.or_(c.c.delivered_at.is_(None), c.c.delivered_at > as_of),
    )
    frame = pd.DataFrame(conn.execute(query).fetchall(), columns=list(ELAPSED_COLUMNS[:-1]))
    if frame.empty:
        return pd.DataFrame(columns=list(ELAPSED_COLUMNS))
    requested = pd.to_datetime(frame["requested_at"])
    due = pd.to_datetime(frame["due_at"])
    window = (due - requested).dt.total_seconds()
    used = (pd.Timestamp(as_of) - requested).dt.total_seconds()
    frame["elapsed_share"] = (used / window.where(window > 0)).fillna(1.0).clip(upper=1.0)
    out = frame[frame["elapsed_share"] >= share - 1e-9]
    return out.sort_values(["due_at", "commitment_id"]).reset_index(drop=True)
