"""A new version of a service standard (policy) typed on the Estándares page, and the
standards files an editor imports there.

A policy is never rewritten: a change is a new row with a later `valid_from` for the same
policy_id (DESIGN.md, "Service standards"). The checks are the ETL's own
(`etl.standards.checked_policies`: positive target, known calendar, customer type, no
two equally specific policies), and after the row is stored every commitment's policy,
version and standard due are recomputed by `etl.standards.refresh_standards`, exactly as
after a load. An imported file goes through `etl.load.load_files`, the load itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import BinaryIO

import pandas as pd
import sqlalchemy as sa

from dashboard.records import RecordError
from dashboard.ui.texts import tr
from etl.load import BatchReport, load_files, standards_as_of
from etl.read import ReadLimits
from etl.records import ROW
from etl.schema import policies
from etl.settings import load_settings
from etl.standards import (
    US,
    StandardsSeen,
    checked_policies,
    refresh_standards,
    stored,
)
from etl.validate import ValidationResult

# The record kinds an editor may import on the Estándares page (file names start so).
STANDARD_KINDS: tuple[str, ...] = ("calendars", "holidays", "policies")
_OTHER_POLICY = re.compile(r"policy '([^']*)' \(")


class StandardError(RecordError):
    """A policy version that cannot be recorded as typed; the message is in the page's
    language."""


@dataclass(frozen=True)
class SavedVersion:
    """What saving a version did: its number and how many commitments changed."""

    policy_id: str
    version: int
    refreshed: int


def _blank(text: str | None) -> str | None:
    return None if text is None or not str(text).strip() else str(text).strip()


def _refusal(column: str | None, reason: str, row: dict[str, object], lang: str) -> str:
    """The ETL's reason for refusing the row, said in the page's language."""
    if column == "target_hours":
        return tr("std_err_target", lang, hours=row["target_hours"])
    if column == "calendar":
        return tr("std_err_calendar", lang, calendar=row["calendar"])
    if column == "customer_type":
        return tr("std_err_customer_type", lang, value=row["customer_type"])
    if column == "policy_id":
        other = _OTHER_POLICY.search(reason)
        return tr("std_err_same_scope", lang, other=other.group(1) if other else "?")
    return reason


def save_policy_version(
    conn: sa.Connection,
    policy_id: str,
    target_hours: float,
    valid_from: date | datetime,
    set_by: str | None,
    *,
    calendar: str | None = None,
    process: str | None = None,
    customer_type: str | None = None,
    priority: str | None = None,
    category: str | None = None,
    pause_stages: Sequence[str] = (),
    lang: str = "en",
    tz: str | None = None,
) -> SavedVersion:
    """Append a version of `policy_id` (a new id starts at version 1) and recompute every
    commitment's standard due; raises StandardError with the reason when the ETL's checks
    refuse it or when `valid_from` is not after the policy's latest version."""
    pid = _blank(policy_id)
    if pid is None:
        raise StandardError(tr("std_err_policy_id", lang))
    if isinstance(target_hours, bool) or not isinstance(target_hours, int | float):
        raise StandardError(tr("std_err_target", lang, hours=target_hours))
    day = valid_from.date() if isinstance(valid_from, datetime) else valid_from
    start = datetime.combine(day, time.min)
    row: dict[str, object] = {
        "policy_id": pid,
        "target_hours": float(target_hours),
        "calendar": _blank(calendar),
        "process": _blank(process),
        "customer_type": _blank(customer_type),
        "priority": _blank(priority),
        "category": _blank(category),
        "pause_stages": "|".join(s.strip() for s in pause_stages if s.strip()) or None,
        "valid_from": start,
        "set_by": _blank(set_by),
    }
    frame = pd.DataFrame([{**row, ROW: 1}], dtype=object)
    frame["valid_from"] = pd.to_datetime(frame["valid_from"]).astype(US)
    result = ValidationResult(
        kind="policies",
        path="form",
        sha256="",
        rows_read=1,
        valid=frame,
        columns=tuple(row),
    )
    checked_policies(result, StandardsSeen.for_connection(conn))
    if result.rejects:
        first = result.rejects[0]
        raise StandardError(_refusal(first.column, first.reason, row, lang))
    checked = result.valid.iloc[0]
    history = stored(conn, "policies")
    mine = history[history["policy_id"] == pid]
    if not mine.empty and mine["valid_from"].max() >= pd.Timestamp(start):
        latest = pd.Timestamp(mine["valid_from"].max()).date().isoformat()
        raise StandardError(tr("std_err_not_later", lang, policy=pid, latest=latest))
    conn.execute(
        policies.insert().values(
            **{
                **row,
                "customer_type": None
                if pd.isna(checked["customer_type"])
                else checked["customer_type"],
                "pause_stages": checked["pause_stages"]
                if isinstance(checked["pause_stages"], str)
                else None,
                "batch_id": None,
            }
        )
    )
    refreshed = refresh_standards(conn, standards_as_of(conn, tz or load_settings().timezone))
    return SavedVersion(pid, len(mine) + 1, refreshed)


def standards_kind(name: str) -> str | None:
    """The standards record kind a file name carries (`policies-2026.csv` → policies)."""
    stem = PurePath(name).name.lower()
    return next((k for k in STANDARD_KINDS if stem.startswith(k)), None)


def import_standards_files(
    engine: sa.Engine,
    files: Sequence[tuple[str, BinaryIO]],
    loaded_by: str | None,
    *,
    lang: str = "en",
    read_limits: ReadLimits | None = None,
) -> BatchReport:
    """Load calendars / holidays / policies files as one batch, through the load itself
    (same checks, counts, rejects and refreshed standard dues as `python -m etl load`).
    A file of any other kind is refused before anything is read; `read_limits` bounds
    uploaded files as on the Datos page."""
    other = [name for name, _ in files if standards_kind(name) is None]
    if other:
        raise StandardError(tr("std_err_kind", lang, files=", ".join(sorted(other))))
    return load_files(
        engine, list(files), loaded_by=loaded_by or "dashboard", read_limits=read_limits
    )
