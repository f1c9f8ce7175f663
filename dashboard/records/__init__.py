"""What people record in the app (targets, action items, notices), and the small helpers
every writer and exporter of user-typed text shares.

Kept apart from `dashboard.metrics`: metrics only read; these modules write, validate what
a person typed, and say what was wrong in words a person can act on.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from etl.exports import spreadsheet_safe
from etl.settings import DEFAULT_TIMEZONE

neutralised = spreadsheet_safe  # the shared neutraliser, under the name writers use
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class RecordError(ValueError):
    """Something a person typed cannot be recorded; the message says what and where."""


def local_now(tz: str | None = None) -> datetime:
    """Now as naive wall-clock time in ESLABON_TZ, the way every timestamp is stored."""
    zone = ZoneInfo(tz or os.environ.get("ESLABON_TZ") or DEFAULT_TIMEZONE)
    return datetime.now(zone).replace(tzinfo=None)


def iso_week_monday(week: str) -> date:
    """The Monday of an ISO week written `2026-W47`; a clear RecordError otherwise."""
    match = _ISO_WEEK.match(week.strip()) if isinstance(week, str) else None
    if not match:
        raise RecordError(f"week {week!r} is not an ISO week like 2026-W47")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        return date.fromisocalendar(year, number, 1)
    except ValueError as exc:
        raise RecordError(f"week {week!r} does not exist ({exc})") from exc


def iso_week_label(day: date) -> str:
    """`2026-W47` for any day of that ISO week (zero-padded, so labels sort as weeks)."""
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"
