"""The delivery log: what an attempt is, how it is recorded, and what has gone out.

Shared by subscriptions (`dashboard.delivery.run`) and alerts (`dashboard.delivery.alerts`):
a (kind, ref_id, occurrence, recipient) with a `sent` row is never sent again; every
attempt, sent or failed, is one row, written in its own short transaction right after
the attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import pandas as pd
import sqlalchemy as sa

from etl.publish import published_transaction
from etl.schema import (
    DELIVERY_CHANNELS,
    DELIVERY_KINDS,
    DELIVERY_RESULTS,
    delivery_log,
    subscriptions,
)

# The words of delivery_log's kind, channel and result columns, named (etl.schema lists them).
SUBSCRIPTION, ALERT, TEST = DELIVERY_KINDS
EMAIL, WEBHOOK = DELIVERY_CHANNELS
SENT, FAILED = DELIVERY_RESULTS
# How long recording an attempt waits for a running load of a DuckDB file.
RECORD_WAIT = 120.0


@dataclass(frozen=True)
class Outgoing:
    """One message ready to leave: what it serves (kind, ref_id, occurrence) and to whom."""

    kind: str
    ref_id: int
    occurrence: str
    channel: str
    recipient: str
    subject: str
    message: EmailMessage | None = None
    payload: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Outcome:
    """What happened to one attempt; what `delivery_log` records."""

    outgoing: Outgoing
    result: str  # sent / failed
    detail: str
    attempted_at: datetime


def occurrence_key(slot: datetime) -> str:
    """The slot as stored in the log: `2026-11-23T08:00`."""
    return slot.isoformat(timespec="minutes")


def delivery_tables_exist(conn: sa.Connection) -> bool:
    """False on a database created before delivery existed (nothing can be due there)."""
    inspector = sa.inspect(conn)
    return inspector.has_table(subscriptions.name) and inspector.has_table(delivery_log.name)


def sent_keys(conn: sa.Connection, kind: str) -> set[tuple[int, str, str]]:
    """(ref_id, occurrence, recipient) of every successful send of `kind`."""
    c = delivery_log.c
    rows = conn.execute(
        sa.select(c.ref_id, c.occurrence, c.recipient).where(c.kind == kind, c.result == SENT)
    ).fetchall()
    return {(int(r[0]), r[1], r[2]) for r in rows}


def record_attempt(conn: sa.Connection, outcome: Outcome) -> int:
    """Append one attempt to the delivery log; returns its id."""
    out = outcome.outgoing
    next_id = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(delivery_log.c.attempt_id), 0) + 1)
    ).scalar_one()
    conn.execute(
        delivery_log.insert().values(
            attempt_id=int(next_id),
            kind=out.kind,
            ref_id=out.ref_id,
            occurrence=out.occurrence,
            channel=out.channel,
            recipient=out.recipient,
            subject=out.subject[:500],
            attempted_at=outcome.attempted_at,
            result=outcome.result,
            detail=outcome.detail[:2000],
        )
    )
    return int(next_id)


def delivery_history(conn: sa.Connection, limit: int = 500) -> pd.DataFrame:
    """The latest attempts, newest first: what, to whom, when, result (for the page)."""
    if not sa.inspect(conn).has_table(delivery_log.name):
        return pd.DataFrame(columns=[col.name for col in delivery_log.columns])
    c = delivery_log.c
    query = (
        sa.select(delivery_log).order_by(c.attempted_at.desc(), c.attempt_id.desc()).limit(limit)
    )
    rows = conn.execute(query).fetchall()
    return pd.DataFrame(rows, columns=[col.name for col in delivery_log.columns])


def failed_outcome(outgoing: Outgoing, exc: BaseException, at: datetime) -> Outcome:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Outcome(outgoing, FAILED, f"{type(exc).__name__}: {reason}"[:2000], at)


Sender = Callable[[Outgoing], str]


def send_and_record(
    url: str | None,
    outgoing: Sequence[Outgoing],
    send: Sender,
    now: datetime,
    *,
    record: bool = True,
    already: Sequence[Outcome] = (),
) -> list[Outcome]:
    """Send each message and record each attempt in its own short transaction."""
    outcomes: list[Outcome] = list(already)
    if record:
        for outcome in already:
            with published_transaction(url, wait=RECORD_WAIT) as conn:
                record_attempt(conn, outcome)
    for item in outgoing:
        try:
            outcome = Outcome(item, SENT, send(item), now)
        except Exception as exc:  # a refused message, a server down: logged, tried again
            outcome = failed_outcome(item, exc, now)
        if record:
            with published_transaction(url, wait=RECORD_WAIT) as conn:
                record_attempt(conn, outcome)
        outcomes.append(outcome)
    return outcomes
