"""Recording that a customer was warned: the "mark as notified" of the Avisos page.

Each notice is a row of the same `notices` table the imports fill, so the proactive
notice rate (dashboard.metrics.notices) counts a notice recorded in the app exactly like
one imported from a CRM: sent strictly before the due date = proactive.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard.records import RecordError, local_now
from etl.schema import NOTICE_CHANNELS, commitments, notices
from etl.schema import NOTICE_KINDS as KINDS

CHANNELS = NOTICE_CHANNELS  # under the name its callers use

_COLUMNS = ("commitment_id", "sent_at", "channel", "kind", "recorded_by", "recorded_at")


class NoticeError(RecordError):
    """A notice that cannot be recorded as given."""


def record_notice(
    conn: sa.Connection,
    commitment_id: str,
    kind: str,
    channel: str,
    recorded_by: str | None,
    *,
    sent_at: datetime | None = None,
    recorded_at: datetime | None = None,
) -> datetime:
    """Record that the customer of `commitment_id` was told; returns the `sent_at` stored.

    `sent_at` defaults to now (the person marks it right after telling the customer).
    Two notices for one commitment in the same second would collide on the table key, so
    a clash moves the later one forward by a second: both are kept, none is lost.
    """
    if kind not in KINDS:
        raise NoticeError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if channel not in CHANNELS:
        raise NoticeError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    exists = conn.execute(
        sa.select(sa.func.count())
        .select_from(commitments)
        .where(commitments.c.commitment_id == commitment_id)
    ).scalar()
    if not exists:
        raise NoticeError(f"there is no commitment {commitment_id!r}")
    recorded_at = recorded_at or local_now()
    sent = (sent_at or recorded_at).replace(microsecond=0)
    taken = {
        row[0]
        for row in conn.execute(
            sa.select(notices.c.sent_at).where(notices.c.commitment_id == commitment_id)
        ).fetchall()
    }
    while sent in taken:
        sent += timedelta(seconds=1)
    conn.execute(
        notices.insert().values(
            commitment_id=commitment_id,
            sent_at=sent,
            channel=channel,
            kind=kind,
            recorded_by=recorded_by,
            recorded_at=recorded_at,
            batch_id=None,
        )
    )
    return sent


# The brief's name for it: the button says "mark as notified".
mark_notified = record_notice


def notice_history(conn: sa.Connection, commitment_id: str | None = None) -> pd.DataFrame:
    """Notices sent, newest first; for one commitment when `commitment_id` is given."""
    query = sa.select(*(notices.c[name] for name in _COLUMNS))
    if commitment_id is not None:
        query = query.where(notices.c.commitment_id == commitment_id)
    query = query.order_by(notices.c.sent_at.desc(), notices.c.commitment_id)
    return pd.DataFrame(conn.execute(query).fetchall(), columns=list(_COLUMNS))
