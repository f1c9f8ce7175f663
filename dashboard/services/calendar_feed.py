"""Due dates as an iCalendar (RFC 5545) feed, for a performer, a process stage or a customer.

Each commitment is one VEVENT whose UID is `<commitment_id>@eslabon`: importing a newer
file, or refreshing a subscription, updates the same event instead of adding a copy, and a
renegotiated due date moves it (SEQUENCE goes up). Commitments the customer made to us
(`from_customer`) carry VALARM reminders before their due date, so the follow-up the
source texts ask for ("remind them before Friday") happens in the calendar people use.

Times are the stored wall-clock times in ESLABON_TZ, written with that TZID and its
VTIMEZONE so every calendar program places them right. A due date stored as the end of a
day (a date without a time) becomes an all-day event on that day.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from icalendar import Alarm, Calendar, Event, vText

from dashboard.metrics.filters import EVERYTHING, MetricFilter, RowScope
from dashboard.metrics.status import commitment_status_sql
from etl.exports import single_line
from etl.settings import DEFAULT_TIMEZONE

UID_DOMAIN = "eslabon"
PRODID = "-//Eslabon//Eslabon commitments//ES"
# Reminders before a customer commitment falls due (the triggers of its VALARMs).
ALARM_OFFSETS: tuple[timedelta, ...] = (timedelta(days=2), timedelta(hours=2))
# A timed due date becomes a short event ending at the due moment.
EVENT_LENGTH = timedelta(minutes=30)
# Times at or after this are "end of day": the date-only due dates of the import files.
_END_OF_DAY = time(23, 59)

_ROWS_SQL = """
WITH s AS ({status_sql})
SELECT s.commitment_id, s.title, s.process, s.performer, s.customer, s.direction,
       s.due_at, s.original_due_at, s.delivered_at, s.status
FROM s
ORDER BY s.due_at, s.commitment_id
"""

_TEXT = {
    "es": {
        "due": "Vence",
        "promised": "Compromiso de {customer}",
        "delivered": "Entregado",
        "late": "Con retraso",
        "customer": "Cliente",
        "process": "Etapa",
        "performer": "Responsable",
        "status": "Estado",
        "reminder": "Recordatorio: {summary}",
        "calendar": "Eslabón: vencimientos",
        "on_time": "entregado a tiempo",
        "breach": "incumplido",
        "pending": "pendiente",
    },
    "en": {
        "due": "Due",
        "promised": "{customer} promised",
        "delivered": "Delivered",
        "late": "Late",
        "customer": "Customer",
        "process": "Stage",
        "performer": "Performer",
        "status": "Status",
        "reminder": "Reminder: {summary}",
        "calendar": "Eslabón: due dates",
        "on_time": "delivered on time",
        "breach": "breached",
        "pending": "pending",
    },
}


def event_uid(commitment_id: str) -> str:
    """The stable UID of a commitment's event: the same commitment, the same event."""
    return f"{commitment_id}@{UID_DOMAIN}"


def calendar_rows(
    conn: sa.Connection,
    as_of: datetime,
    *,
    performer: str | None = None,
    process: str | None = None,
    customer: str | None = None,
    scope: RowScope = EVERYTHING,
) -> pd.DataFrame:
    """The commitments (both directions, not cancelled) a feed holds, with their status.

    At most one of performer / process / customer is expected; none means every commitment
    (of the user's `scope`).
    """
    f = MetricFilter(
        as_of=as_of,
        performers=(performer,) if performer else (),
        processes=(process,) if process else (),
        customers=(customer,) if customer else (),
        direction="",
    ).within(scope)
    status_sql, params = commitment_status_sql(f)
    frame = pd.read_sql(sa.text(_ROWS_SQL.format(status_sql=status_sql)), conn, params=params)
    for column in ("due_at", "original_due_at", "delivered_at"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _text(value: object) -> str:
    """A stored name or title as calendar text: data on one line, never structure (a line
    break in a customer name used to break the feed, or forge a "Status:" line)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return single_line(value)


def _summary(row: pd.Series, words: dict[str, str]) -> str:
    label = _text(row["title"]) or _text(row["commitment_id"])
    if row["direction"] == "from_customer":
        head = words["promised"].format(customer=_text(row["customer"]))
    else:
        head = words["due"]
    summary = f"{head}: {label} ({_text(row['commitment_id'])})"
    if not pd.isna(row["delivered_at"]):
        summary = f"[{words['delivered']}] {summary}"
    elif row["status"] == "breach":
        summary = f"[{words['late']}] {summary}"
    return summary


def _description(row: pd.Series, words: dict[str, str], internal: bool) -> str:
    lines = [f"{words['customer']}: {_text(row['customer'])}"]
    lines.append(f"{words['process']}: {_text(row['process'])}")
    if internal and _text(row["performer"]):
        lines.append(f"{words['performer']}: {_text(row['performer'])}")
    lines.append(f"{words['status']}: {words.get(row['status'], _text(row['status']))}")
    return "\n".join(lines)


def _sequence(row: pd.Series) -> int:
    """0 for the first promise; 1 once the due date was renegotiated (the event moved)."""
    original = row["original_due_at"]
    return int(not pd.isna(original) and pd.Timestamp(original) != pd.Timestamp(row["due_at"]))


def calendar_file_name(kind: str, value: object) -> str:
    """The download name of one scope's calendar (`eslabon_customer_Acme_S_L_.ics`):
    ASCII letters, digits, `_` and `-` only, so no name can add a header line, a quote
    or a path to the Content-Disposition it travels in."""
    kind = _slug(kind) or "scope"
    return f"eslabon_{kind}_{_slug(value) or kind}.ics"


def _slug(value: object) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(value))[:40].strip("_")


def calendar_uid(scope: str) -> str:
    """A stable UID for the calendar itself, derived from what it holds."""
    digest = hashlib.sha256(scope.encode("utf-8")).hexdigest()[:16]
    return f"feed-{digest}@{UID_DOMAIN}"


def build_calendar(
    rows: pd.DataFrame,
    *,
    lang: str = "es",
    tz: str | None = None,
    stamp: datetime | None = None,
    name: str | None = None,
    internal: bool = True,
) -> bytes:
    """The RFC 5545 bytes of a calendar with one event per row of `calendar_rows`.

    `stamp` is the DTSTAMP of every event (default: now, UTC); pass a fixed one to get
    byte-identical output for identical data. `internal=False` leaves out performers, for
    a feed a customer may subscribe to.
    """
    words = _TEXT.get(lang, _TEXT["es"])
    zone = ZoneInfo(tz or os.environ.get("ESLABON_TZ") or DEFAULT_TIMEZONE)
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    title = single_line(name or words["calendar"])
    calendar = Calendar.new(
        prodid=PRODID, uid=calendar_uid(title), refresh_interval=timedelta(hours=1)
    )
    # As TEXT values (RFC 7986 NAME, and the X-WR-CALNAME most programs read): `;`, `,`
    # and `\` escaped, like every other text here.
    calendar.add("name", vText(title))
    calendar.add("x-wr-calname", vText(title))
    for _, row in rows.iterrows():
        due = pd.Timestamp(row["due_at"]).floor("s").to_pydatetime()
        if due.time() >= _END_OF_DAY:
            start: date | datetime = due.date()
            end: date | datetime = due.date() + timedelta(days=1)
        else:
            end = due.replace(tzinfo=zone)
            start = end - EVENT_LENGTH
        summary = _summary(row, words)
        event = Event.new(
            uid=event_uid(str(row["commitment_id"])),
            start=start,
            end=end,
            summary=summary,
            description=_description(row, words, internal),
            stamp=stamp,
            sequence=_sequence(row),
            categories=[_text(row["process"])] if _text(row["process"]) else (),
        )
        event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy
        if row["direction"] == "from_customer":
            for offset in ALARM_OFFSETS:
                alarm = Alarm.new(description=words["reminder"].format(summary=summary))
                alarm.add("action", "DISPLAY")
                alarm.add("trigger", -offset)
                event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    ics: bytes = calendar.to_ical()
    return ics


def calendar_feed(
    conn: sa.Connection,
    as_of: datetime,
    *,
    performer: str | None = None,
    process: str | None = None,
    customer: str | None = None,
    lang: str = "es",
    internal: bool = True,
    stamp: datetime | None = None,
    scope: RowScope = EVERYTHING,
) -> bytes:
    """The .ics bytes for one performer, one process stage, one customer, or everything
    (only rows of the user's `scope`)."""
    rows = calendar_rows(
        conn, as_of, performer=performer, process=process, customer=customer, scope=scope
    )
    feed_label = next(
        (
            f"{label}: {single_line(value)}"
            for label, value in (
                ("performer", performer),
                ("process", process),
                ("customer", customer),
            )
            if value
        ),
        None,
    )
    words = _TEXT.get(lang, _TEXT["es"])
    name = f"{words['calendar']} — {feed_label}" if feed_label else None
    return build_calendar(rows, lang=lang, stamp=stamp, name=name, internal=internal)


def subscription_feed(
    conn: sa.Connection, token: str | None, secret: str | None, as_of: datetime, lang: str = "es"
) -> bytes | None:
    """The calendar a customer subscribes to with their tracking token; None if refused.

    Only the token's customer, never internal details (`internal=False`). The token is
    checked by dashboard.services.tokens exactly as the customer view checks it.
    """
    from dashboard.services.tokens import CustomerAccess, read_token

    access = read_token(token, secret)
    if not isinstance(access, CustomerAccess):
        return None
    return calendar_feed(conn, as_of, customer=access.customer, lang=lang, internal=False)
