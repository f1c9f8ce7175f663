"""Service tracking: where a commitment stands, for the team and for its customer.

The team's view (`commitment_tracking`) shows everything: cycle phases, the stage events
of the process log with their actors, the upstream commitments it depends on and their
status, and a predicted delivery when an upstream breach puts it at risk.

The customer's view (`customer_commitments`, `customer_tracking`) answers the same
question for one customer and is built so it cannot leak: every query is bound to the
customer named by the token, rows are checked again in Python, and nothing internal
travels (no performer, no actor, no upstream ids or other customers' names; an upstream
delay is told as "the Compras stage is late", which is what the customer needs to know).

Status, delay and the at-risk prediction come from `dashboard.metrics` (status.py and
propagation.at_risk_commitments), so this page never disagrees with the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import EVERYTHING, MetricFilter, RowScope
from dashboard.metrics.propagation import at_risk_commitments
from dashboard.metrics.status import commitment_status_sql
from etl.schema import has_column

CANCELLED = "cancelled"
# The four cycle phases of a commitment (need, promise, delivery, closure) and the
# column holding the moment each was reached.
PHASES: tuple[tuple[str, str], ...] = (
    ("need", "requested_at"),
    ("promise", "promised_at"),
    ("delivery", "delivered_at"),
    ("closure", "accepted_at"),
)

_RAW_SQL = """
SELECT c.commitment_id, c.title, c.process, c.performer, c.customer, c.customer_type,
       c.direction, c.requested_at, c.promised_at, c.due_at, c.original_due_at,
       c.delivered_at, c.accepted_at, c.cancelled
FROM commitments c
WHERE c.commitment_id = :cid
"""

_STATUS_OF_SQL = """
WITH s AS ({status_sql})
SELECT s.commitment_id, s.status, CAST(s.delay_days AS DOUBLE PRECISION) AS delay_days
FROM s
WHERE s.commitment_id = :cid
"""

_EVENTS_SQL = """
SELECT e.stage, e."at" AS at, e.actor
FROM events e
WHERE e.commitment_id = :cid AND e."at" <= :as_of
ORDER BY e."at", {log_order}e.stage, e.seq
"""

_UPSTREAMS_SQL = """
WITH s AS ({status_sql})
SELECT d.depends_on AS commitment_id, c.title, c.process, c.customer,
       COALESCE(s.status, 'cancelled') AS status, c.due_at, s.delivered_at,
       CAST(s.delay_days AS DOUBLE PRECISION) AS delay_days
FROM dependencies d
JOIN commitments c ON c.commitment_id = d.depends_on
LEFT JOIN s ON s.commitment_id = d.depends_on
WHERE d.commitment_id = :cid AND {scope_where}
ORDER BY c.due_at, d.depends_on
"""

_SEARCH_SQL = """
WITH s AS ({status_sql})
SELECT s.commitment_id, s.title, s.process, s.customer, s.direction, s.due_at, s.status
FROM s
WHERE lower(s.commitment_id) LIKE :pattern ESCAPE '\\'
   OR lower(s.customer) LIKE :pattern ESCAPE '\\'
ORDER BY CASE WHEN lower(s.commitment_id) = :exact THEN 0 ELSE 1 END, s.due_at DESC,
         s.commitment_id
LIMIT :limit
"""

# The customer view's list: bound to ONE customer in SQL (the filter's customers tuple)
# and re-checked in Python. Internal columns are never selected.
_CUSTOMER_SQL = """
WITH s AS ({status_sql})
SELECT s.commitment_id, s.customer, s.title, s.process, s.direction, s.due_at,
       s.delivered_at, s.status
FROM s
ORDER BY s.due_at, s.commitment_id
"""

CUSTOMER_COLUMNS: tuple[str, ...] = (
    "commitment_id",
    "title",
    "process",
    "direction",
    "due_at",
    "delivered_at",
    "status",
    "predicted_delivery",
)


@dataclass(frozen=True)
class Tracking:
    """A commitment as the team follows it (internal: actors, upstream ids, customers)."""

    commitment: dict[str, Any]
    status: str  # on_time / breach / pending / cancelled
    delay_days: float | None
    phases: pd.DataFrame  # phase, at (NaT when not reached by as_of)
    events: pd.DataFrame  # stage, at, actor
    upstreams: pd.DataFrame  # commitment_id, title, process, customer, status, due_at, ...
    predicted_delivery: datetime | None  # only when at risk

    @property
    def at_risk(self) -> bool:
        return self.predicted_delivery is not None


@dataclass(frozen=True)
class CustomerTracking:
    """One commitment as its customer may see it: nothing internal, nothing of others."""

    commitment_id: str
    title: str | None
    process: str
    direction: str
    due_at: datetime
    status: str
    delivered_at: datetime | None
    predicted_delivery: datetime | None
    phases: pd.DataFrame  # phase, at
    stages: pd.DataFrame  # stage, at (no actor)
    late_upstream_stages: tuple[str, ...]  # process stages upstream that are late


def _known(value: Any, as_of: datetime) -> datetime | None:  # a table cell
    """A recorded moment, if it is known at `as_of` (later records are the future)."""
    if value is None or pd.isna(value):
        return None
    moment = pd.Timestamp(value).floor("s").to_pydatetime()
    return moment if moment <= as_of else None


def _phases(raw: dict[str, Any], as_of: datetime) -> pd.DataFrame:
    rows = [{"phase": phase, "at": _known(raw.get(column), as_of)} for phase, column in PHASES]
    frame = pd.DataFrame(rows, columns=["phase", "at"])
    frame["at"] = pd.to_datetime(frame["at"])
    return frame


def _status_filter(as_of: datetime, scope: RowScope = EVERYTHING) -> MetricFilter:
    """A filter that selects nothing out (both directions, every process, at `as_of`)
    but the rows outside the user's scope."""
    return MetricFilter(as_of=as_of, direction="").within(scope)


def _predicted_delivery(
    conn: sa.Connection,
    as_of: datetime,
    commitment_id: str,
    customer: str,
    process: str,
    scope: RowScope = EVERYTHING,
) -> datetime | None:
    """The at-risk prediction of the metrics module for this one commitment, if at risk."""
    f = MetricFilter(as_of=as_of, customers=(customer,), processes=(process,), direction="")
    f = f.within(scope)
    risk = at_risk_commitments(conn, f)
    match = risk.loc[risk["commitment_id"] == commitment_id, "predicted_delivery"]
    if match.empty or pd.isna(match.iloc[0]):
        return None
    return pd.Timestamp(match.iloc[0]).floor("s").to_pydatetime()


def commitment_tracking(
    conn: sa.Connection, commitment_id: str, as_of: datetime, scope: RowScope = EVERYTHING
) -> Tracking | None:
    """Everything the team knows about one commitment at `as_of`; None if the id is
    unknown or outside the user's `scope` (the two answers look the same). Upstreams
    outside the scope are not listed."""
    raw_rows = conn.execute(sa.text(_RAW_SQL), {"cid": commitment_id}).mappings().fetchall()
    if not raw_rows:
        return None
    raw = dict(raw_rows[0])
    if not scope.allows(raw["process"], raw["customer"]):
        return None
    f = _status_filter(as_of, scope)
    status_sql, params = commitment_status_sql(f, apply_filter=False)
    status_rows = conn.execute(
        sa.text(_STATUS_OF_SQL.format(status_sql=status_sql)), {**params, "cid": commitment_id}
    ).fetchall()
    if raw["cancelled"] or not status_rows:
        status, delay = CANCELLED, None
    else:
        status = status_rows[0][1]
        delay = None if status_rows[0][2] is None else float(status_rows[0][2])
    # fixed SQL spliced in (older databases lack log_order: ties by stage); values bound
    tie = "e.log_order NULLS LAST, " if has_column(conn, "events", "log_order") else ""
    events_sql = _EVENTS_SQL.format(log_order=tie)
    events = pd.read_sql(sa.text(events_sql), conn, params={"cid": commitment_id, "as_of": as_of})
    events["at"] = pd.to_datetime(events["at"])
    scope_where, _ = f.scope_where("c")  # its parameters are the status query's
    upstreams = pd.read_sql(
        sa.text(_UPSTREAMS_SQL.format(status_sql=status_sql, scope_where=scope_where)),
        conn,
        params={**params, "cid": commitment_id},
    )
    for column in ("due_at", "delivered_at"):
        upstreams[column] = pd.to_datetime(upstreams[column])
    predicted = None
    if status == "pending":
        predicted = _predicted_delivery(
            conn, as_of, commitment_id, raw["customer"], raw["process"], scope
        )
    raw["delivered_at"] = _known(raw["delivered_at"], as_of)
    raw["accepted_at"] = _known(raw["accepted_at"], as_of)
    return Tracking(
        commitment=raw,
        status=status,
        delay_days=delay,
        phases=_phases(raw, as_of),
        events=events,
        upstreams=upstreams,
        predicted_delivery=predicted,
    )


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_commitments(
    conn: sa.Connection, text: str, as_of: datetime, limit: int = 50, scope: RowScope = EVERYTHING
) -> pd.DataFrame:
    """Commitments whose id or customer contains `text` (any case); an exact id first.
    Only rows of the user's `scope` are searched."""
    f = _status_filter(as_of, scope)
    status_sql, params = commitment_status_sql(f, apply_filter=False)
    cleaned = (text or "").strip()
    frame = pd.read_sql(
        sa.text(_SEARCH_SQL.format(status_sql=status_sql)),
        conn,
        params={**params, "pattern": _like(cleaned), "exact": cleaned.lower(), "limit": limit},
    )
    frame["due_at"] = pd.to_datetime(frame["due_at"])
    return frame


# --- the customer's view ----------------------------------------------------------------


def customer_commitments(conn: sa.Connection, customer: str, as_of: datetime) -> pd.DataFrame:
    """The customer's own commitments (both directions) with status and, when at risk, the
    predicted delivery. Can only return rows of `customer`.
    """
    f = MetricFilter(as_of=as_of, customers=(customer,), direction="")
    status_sql, params = commitment_status_sql(f)
    frame = pd.read_sql(sa.text(_CUSTOMER_SQL.format(status_sql=status_sql)), conn, params=params)
    # Defence in depth: the SQL is bound to the customer; never trust that alone.
    frame = frame[frame["customer"] == customer].drop(columns=["customer"])
    risk = at_risk_commitments(conn, f)
    risk = risk[risk["customer"] == customer][["commitment_id", "predicted_delivery"]]
    frame = frame.merge(risk, on="commitment_id", how="left")
    for column in ("due_at", "delivered_at", "predicted_delivery"):
        frame[column] = pd.to_datetime(frame[column])
    return frame[list(CUSTOMER_COLUMNS)].reset_index(drop=True)


def customer_tracking(
    conn: sa.Connection, customer: str, commitment_id: str, as_of: datetime
) -> CustomerTracking | None:
    """One commitment for its customer; None unless it exists AND belongs to `customer`.

    None for "not yours" and "does not exist" alike, so a customer cannot even learn
    whether another customer's id exists.
    """
    full = commitment_tracking(conn, commitment_id, as_of)
    if full is None or full.commitment["customer"] != customer or full.status == CANCELLED:
        return None
    late = full.upstreams[full.upstreams["status"] == "breach"]["process"]
    return CustomerTracking(
        commitment_id=full.commitment["commitment_id"],
        title=full.commitment["title"],
        process=full.commitment["process"],
        direction=full.commitment["direction"],
        due_at=pd.Timestamp(full.commitment["due_at"]).floor("s").to_pydatetime(),
        status=full.status,
        delivered_at=full.commitment["delivered_at"],
        predicted_delivery=full.predicted_delivery,
        phases=full.phases,
        stages=full.events[["stage", "at"]].copy(),
        late_upstream_stages=tuple(sorted(set(late.dropna()))),
    )


# --- one commitment's timeline ------------------------------------------------------------

TIMELINE_COLUMNS: tuple[str, ...] = ("at", "stage", "phase", "actor", "is_due")


def timeline(phases: pd.DataFrame, events: pd.DataFrame, due_at: Any) -> pd.DataFrame:
    """Cycle phases, process events and the due date as one list in time order.

    A phase reached at the very instant of an event is that event (the sample's
    'Entrega' event *is* the delivery phase): one row carries both the stage and the
    phase, instead of the same moment listed twice. A phase with no event at its instant
    stays a row of its own; the due date is a row with `is_due`. Columns: at, stage
    (None for a phase alone), phase (None for an event alone), actor, is_due.
    """
    rows: list[dict[str, Any]] = []
    reached = phases.dropna(subset=["at"])
    phase_at: dict[pd.Timestamp, list[str]] = {}
    for _, p in reached.iterrows():
        phase_at.setdefault(pd.Timestamp(p["at"]), []).append(str(p["phase"]))
    for _, e in events.iterrows():
        when = pd.Timestamp(e["at"])
        matched = phase_at.pop(when, [])
        actor = None if pd.isna(e["actor"]) else str(e["actor"])
        rows.append(
            {"at": when, "stage": str(e["stage"]), "phase": matched[0] if matched else None,
             "actor": actor, "is_due": False}
        )  # fmt: skip
        rows += [
            {"at": when, "stage": None, "phase": extra, "actor": None, "is_due": False}
            for extra in matched[1:]
        ]
    for when, names in phase_at.items():
        rows += [
            {"at": when, "stage": None, "phase": n, "actor": None, "is_due": False} for n in names
        ]
    if due_at is not None and not pd.isna(due_at):
        rows.append(
            {"at": pd.Timestamp(due_at), "stage": None, "phase": None, "actor": None,
             "is_due": True}
        )  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(TIMELINE_COLUMNS))
    return frame.sort_values("at", kind="stable").reset_index(drop=True)
