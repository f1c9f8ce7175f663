"""Subscriptions to the weekly review pack: who gets it, filtered how, in which formats, when.

Each recipient has their own filter (stages, customers, customer type: MetricFilter's own
fields), so the pack they receive holds only the rows that filter allows; the schedule is a
weekday and an hour of wall-clock time in ESLABON_TZ. `dashboard.delivery` sends what is
due; this module records and validates what a person asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from dashboard.records import RecordError, local_now
from dashboard.records.recipients import (
    EMAIL_PATTERN,
    RecipientScope,
    checked_lang,
    scope_columns,
    scope_fields,
)
from etl.schema import DELIVERY_TABLES, WEEKDAY_WORDS, metadata, subscriptions
from etl.schema import WEEKDAY_NAMES as WEEKDAYS

FORMATS: tuple[str, ...] = ("pdf", "xlsx")


class SubscriptionError(RecordError):
    """A subscription that cannot be recorded as asked; the message says why."""


@dataclass(frozen=True)
class Subscription(RecipientScope):
    """One recipient of the weekly pack."""

    subscription_id: int
    email: str
    processes: tuple[str, ...]
    customers: tuple[str, ...]
    customer_types: tuple[str, ...]
    lang: str
    weekday: int  # 0 = Monday
    hour: int
    formats: tuple[str, ...]
    active: bool
    created_by: str | None
    created_at: datetime

    def schedule(self) -> str:
        """`mon 08:00`: the schedule as the CLI takes it."""
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:00"

    def last_slot(self, now: datetime) -> datetime:
        """The most recent scheduled time at or before `now` (naive wall clock)."""
        day = now.date() - timedelta(days=(now.weekday() - self.weekday) % 7)
        slot = datetime(day.year, day.month, day.day, self.hour)
        return slot if slot <= now else slot - timedelta(days=7)

    def due_slot(self, now: datetime) -> datetime | None:
        """The slot to deliver at `now`, or None when active but nothing is scheduled yet
        (a subscription is never due for a slot that came before it was created: one made
        Monday 08:30 for Mondays 08:00 sends its first pack a week later)."""
        if not self.active:
            return None
        slot = self.last_slot(now)
        return slot if slot >= self.created_at else None


def parse_weekday(text: str) -> int:
    """0..6 from `mon`..`sun` (also `monday`, Spanish `lun`..`dom` / `lunes`, or 0..6)."""
    value = (text or "").strip().lower()
    if value in WEEKDAY_WORDS:
        return WEEKDAY_WORDS[value]
    if value.isdigit() and 0 <= int(value) <= 6:
        return int(value)
    raise SubscriptionError(f"weekday {text!r} is not one of {', '.join(WEEKDAYS)}")


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """`pdf,xlsx` → ("pdf", "xlsx") in a fixed order; "" means the HTML body alone."""
    items = text.split(",") if isinstance(text, str) else list(text)
    chosen = {item.strip().lower() for item in items if item.strip()}
    unknown = chosen - set(FORMATS)
    if unknown:
        raise SubscriptionError(
            f"format {', '.join(sorted(unknown))!r} is not one of {', '.join(FORMATS)}"
        )
    return tuple(f for f in FORMATS if f in chosen)


def _validated(
    email: str,
    processes: Sequence[str],
    customers: Sequence[str],
    customer_types: Sequence[str],
    lang: str,
    weekday: int,
    hour: int,
    formats: Sequence[str],
) -> dict[str, object]:
    email = (email or "").strip()
    if not EMAIL_PATTERN.match(email):
        raise SubscriptionError(f"e-mail {email!r} is not an address like name@example.com")
    checked_lang(lang, SubscriptionError)
    if not (isinstance(weekday, int) and 0 <= weekday <= 6):
        raise SubscriptionError(f"weekday {weekday!r} must be 0 (Monday) .. 6 (Sunday)")
    if not (isinstance(hour, int) and 0 <= hour <= 23):
        raise SubscriptionError(f"hour {hour!r} must be a whole hour 0..23")
    return {
        "email": email,
        **scope_columns(processes, customers, customer_types, SubscriptionError),
        "lang": lang,
        "weekday": weekday,
        "hour": hour,
        "formats": ",".join(parse_formats(formats)),
    }


def ensure_delivery_tables(conn: sa.Connection) -> None:
    """Create the subscription, alert and log tables if this database predates them
    (`etl init` creates them in a new one); a no-op otherwise."""
    metadata.create_all(conn, tables=list(DELIVERY_TABLES))


def add_subscription(
    conn: sa.Connection,
    email: str,
    *,
    weekday: int,
    hour: int,
    processes: Sequence[str] = (),
    customers: Sequence[str] = (),
    customer_types: Sequence[str] = (),
    lang: str = "es",
    formats: Sequence[str] = FORMATS,
    created_by: str | None = None,
    created_at: datetime | None = None,
) -> int:
    """Record a new active subscription and return its id."""
    values = _validated(email, processes, customers, customer_types, lang, weekday, hour, formats)
    ensure_delivery_tables(conn)
    next_id = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(subscriptions.c.subscription_id), 0) + 1)
    ).scalar_one()
    conn.execute(
        subscriptions.insert().values(
            subscription_id=int(next_id),
            active=True,
            created_by=created_by,
            created_at=created_at or local_now(),
            **values,
        )
    )
    return int(next_id)


def update_subscription(
    conn: sa.Connection,
    subscription_id: int,
    email: str,
    *,
    weekday: int,
    hour: int,
    processes: Sequence[str] = (),
    customers: Sequence[str] = (),
    customer_types: Sequence[str] = (),
    lang: str = "es",
    formats: Sequence[str] = FORMATS,
    active: bool = True,
) -> None:
    """Replace what a subscription says (its id, author and creation time stay)."""
    values = _validated(email, processes, customers, customer_types, lang, weekday, hour, formats)
    done = conn.execute(
        subscriptions.update()
        .where(subscriptions.c.subscription_id == subscription_id)
        .values(active=active, **values)
    )
    if done.rowcount == 0:
        raise SubscriptionError(f"no subscription with id {subscription_id}")


def remove_subscription(conn: sa.Connection, subscription_id: int) -> None:
    """Delete a subscription (its delivery log stays: what was sent remains on record)."""
    done = conn.execute(
        subscriptions.delete().where(subscriptions.c.subscription_id == subscription_id)
    )
    if done.rowcount == 0:
        raise SubscriptionError(f"no subscription with id {subscription_id}")


def _from_row(row: sa.Row[Any]) -> Subscription:
    return Subscription(
        subscription_id=int(row.subscription_id),
        email=row.email,
        **scope_fields(row),
        lang=row.lang,
        weekday=int(row.weekday),
        hour=int(row.hour),
        formats=parse_formats(row.formats),
        active=bool(row.active),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def list_subscriptions(conn: sa.Connection, *, active_only: bool = False) -> list[Subscription]:
    """Every subscription, oldest first (none in a database that predates them)."""
    if not sa.inspect(conn).has_table(subscriptions.name):
        return []
    query = sa.select(subscriptions).order_by(subscriptions.c.subscription_id)
    if active_only:
        query = query.where(subscriptions.c.active.is_(True))
    return [_from_row(row) for row in conn.execute(query).fetchall()]


def get_subscription(conn: sa.Connection, subscription_id: int) -> Subscription:
    """One subscription; SubscriptionError when there is none with that id."""
    row = conn.execute(
        sa.select(subscriptions).where(subscriptions.c.subscription_id == subscription_id)
    ).fetchall()
    if not row:
        raise SubscriptionError(f"no subscription with id {subscription_id}")
    return _from_row(row[0])
