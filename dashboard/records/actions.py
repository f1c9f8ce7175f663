"""Action items of the weekly review: raised in a meeting, carried until someone closes them.

An item belongs to the ISO week it was raised in; the review of any later week shows it
again while it is open, so nothing agreed in a meeting silently disappears.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import EVERYTHING, RowScope
from dashboard.records import RecordError, iso_week_label, iso_week_monday, local_now
from etl.schema import ACTION_STATUSES as STATUSES
from etl.schema import action_items, commitments

_COLUMNS = (
    "action_id",
    "week",
    "what",
    "owner",
    "due_date",
    "status",
    "commitment_id",
    "created_by",
    "created_at",
    "closed_at",
)


class ActionError(RecordError):
    """An action item that cannot be created or changed as asked."""


def create_action(
    conn: sa.Connection,
    week: str,
    what: str,
    owner: str | None = None,
    due_date: date | None = None,
    commitment_id: str | None = None,
    created_by: str | None = None,
    *,
    created_at: datetime | None = None,
) -> int:
    """Record a new open action item raised in `week` and return its id."""
    monday = iso_week_monday(week)  # validates the label
    what = (what or "").strip()
    if not what:
        raise ActionError("an action item needs a description (what)")
    if due_date is not None and isinstance(due_date, datetime):
        due_date = due_date.date()
    next_id = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(action_items.c.action_id), 0) + 1)
    ).scalar_one()
    conn.execute(
        action_items.insert().values(
            action_id=int(next_id),
            week=iso_week_label(monday),
            what=what,
            owner=(owner or "").strip() or None,
            due_date=due_date,
            status="open",
            commitment_id=(commitment_id or "").strip() or None,
            created_by=created_by,
            created_at=created_at or local_now(),
            closed_at=None,
        )
    )
    return int(next_id)


def update_action_status(
    conn: sa.Connection, action_id: int, status: str, *, at: datetime | None = None
) -> None:
    """Close (`done`, `dropped`) or reopen (`open`) an item; closing stamps when it happened."""
    if status not in STATUSES:
        raise ActionError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    closed_at = None if status == "open" else (at or local_now())
    result = conn.execute(
        action_items.update()
        .where(action_items.c.action_id == action_id)
        .values(status=status, closed_at=closed_at)
    )
    if result.rowcount == 0:
        raise ActionError(f"there is no action item {action_id}")


def actions_for_week(conn: sa.Connection, week: str, scope: RowScope = EVERYTHING) -> pd.DataFrame:
    """The items a review of `week` goes through: raised that week, or carried from earlier.

    Carried = raised in an earlier week and still open at the start of `week` (open now,
    or closed on or after that Monday, so the meeting sees what was closed since last time).
    Items raised after `week` never show. Column `carried` tells the two apart.
    """
    monday = iso_week_monday(week)
    label = iso_week_label(monday)
    start = datetime.combine(monday, time.min)
    c = action_items.c
    query = (
        sa.select(*(c[name] for name in _COLUMNS))
        .where(
            sa.or_(
                c.week == label,
                sa.and_(
                    c.week < label,
                    sa.or_(c.status == "open", c.closed_at >= start),
                ),
            )
        )
        .order_by(c.week, c.action_id)
    )
    if not scope.unrestricted:  # a scoped user sees items about their commitments only
        query = query.where(c.commitment_id.in_(_scoped_ids(scope)))
    rows = conn.execute(query).fetchall()
    frame = pd.DataFrame(rows, columns=list(_COLUMNS))
    frame["carried"] = frame["week"] < label
    return frame


def _scoped_ids(scope: RowScope) -> sa.Select[tuple[str]]:
    """The ids of the commitments a scope allows, as a subquery (bound parameters)."""
    cm = commitments.c
    query = sa.select(cm.commitment_id)
    if scope.stages is not None:
        query = query.where(cm.process.in_(scope.stages))
    if scope.customers is not None:
        query = query.where(cm.customer.in_(scope.customers))
    return query


def open_actions(conn: sa.Connection) -> pd.DataFrame:
    """Every item still open, oldest first, whatever week it was raised in."""
    c = action_items.c
    rows = conn.execute(
        sa.select(*(c[name] for name in _COLUMNS))
        .where(c.status == "open")
        .order_by(c.week, c.action_id)
    ).fetchall()
    return pd.DataFrame(rows, columns=list(_COLUMNS))


def overdue(frame: pd.DataFrame, today: date) -> pd.Series:
    """True for open items whose due date has passed (for highlighting in a table)."""
    due = pd.to_datetime(frame["due_date"])
    return (frame["status"] == "open") & due.notna() & (due < pd.Timestamp(today))


__all__ = [
    "STATUSES",
    "ActionError",
    "actions_for_week",
    "create_action",
    "open_actions",
    "overdue",
    "update_action_status",
]
