"""Target history: what the quality team wants each KPI to reach, and since when.

Targets are append-only: a change is a new row with its own `valid_from`, so the history
always shows who set what and when, and a past week can be judged against the target that
was in force at its end (that judgement lives in `dashboard.metrics.targets`). This module
only writes, validates and moves targets in and out as CSV.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.filters import EVERYTHING, RowScope
from dashboard.records import RecordError, local_now, neutralised
from etl.exports import csv_writer
from etl.schema import TARGET_DIRECTIONS, targets

DIRECTIONS = TARGET_DIRECTIONS  # under the name its callers use

# Columns of the CSV exchanged with the quality team (import and export agree).
CSV_COLUMNS: tuple[str, ...] = (
    "kpi",
    "process",
    "target_value",
    "direction",
    "amber_tolerance",
    "valid_from",
    "note",
)
# Written by the export for the audit trail; an import ignores them (the importer sets them).
_EXPORT_ONLY = ("set_by", "set_at")
_REQUIRED = ("kpi", "target_value", "direction", "amber_tolerance", "valid_from")
_HISTORY_COLUMNS = (
    "target_id",
    "kpi",
    "process",
    "target_value",
    "direction",
    "amber_tolerance",
    "valid_from",
    "set_by",
    "set_at",
    "note",
)


class TargetError(RecordError):
    """A target that cannot be recorded as given."""


@dataclass(frozen=True)
class TargetRow:
    """One validated target, ready to be appended."""

    kpi: str
    target_value: float
    direction: str
    amber_tolerance: float
    valid_from: datetime
    process: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class CsvProblem:
    """One thing wrong in an imported file, located for the person who has to fix it."""

    row: int  # line in the file; the header is line 1
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class TargetImport:
    """What an import did: rows appended, or every problem found (then nothing is written)."""

    imported: int
    problems: tuple[CsvProblem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


def validated_target(
    kpi: str,
    value: float,
    direction: str,
    amber_tolerance: float,
    valid_from: datetime | date,
    process: str | None = None,
    note: str | None = None,
) -> TargetRow:
    """The target as a TargetRow, or a TargetError naming the first field that is wrong.

    A bare date for `valid_from` means the start of that day: a target applies to the
    whole day it is set for.
    """
    if kpi not in HEADLINE_KPIS:
        raise TargetError(f"unknown KPI {kpi!r}; expected one of {', '.join(HEADLINE_KPIS)}")
    if direction not in DIRECTIONS:
        raise TargetError(f"direction must be 'higher' or 'lower', not {direction!r}")
    for name, number in (("target_value", value), ("amber_tolerance", amber_tolerance)):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise TargetError(f"{name} must be a number, not {number!r}")
        if not math.isfinite(number):
            raise TargetError(f"{name} must be a finite number")
    if amber_tolerance < 0:
        raise TargetError("amber_tolerance cannot be negative")
    if not isinstance(valid_from, datetime):
        if not isinstance(valid_from, date):
            raise TargetError(f"valid_from must be a date, not {valid_from!r}")
        valid_from = datetime.combine(valid_from, time.min)
    process = (process or "").strip() or None
    note = (note or "").strip() or None
    return TargetRow(
        kpi, float(value), direction, float(amber_tolerance), valid_from, process, note
    )


def _append(
    conn: sa.Connection, rows: list[TargetRow], set_by: str | None, set_at: datetime
) -> None:
    """Append rows with consecutive ids after the current maximum (ids are never reused)."""
    start = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(targets.c.target_id), 0))
    ).scalar_one()
    conn.execute(
        targets.insert(),
        [
            {
                "target_id": int(start) + i + 1,
                "kpi": r.kpi,
                "process": r.process,
                "target_value": r.target_value,
                "direction": r.direction,
                "amber_tolerance": r.amber_tolerance,
                "valid_from": r.valid_from,
                "set_by": set_by,
                "set_at": set_at,
                "note": r.note,
            }
            for i, r in enumerate(rows)
        ],
    )


def set_target(
    conn: sa.Connection,
    kpi: str,
    value: float,
    direction: str,
    amber_tolerance: float,
    valid_from: datetime | date,
    set_by: str | None,
    process: str | None = None,
    note: str | None = None,
    *,
    set_at: datetime | None = None,
) -> int:
    """Append a target and return its id; earlier targets stay in the history untouched.

    The caller owns the transaction (`engine.begin()`), so a page can record a target and
    something else atomically. Raises TargetError for a value that cannot be a target.
    """
    row = validated_target(kpi, value, direction, amber_tolerance, valid_from, process, note)
    _append(conn, [row], set_by, set_at or local_now())
    return int(conn.execute(sa.select(sa.func.max(targets.c.target_id))).scalar_one())


def target_history(
    conn: sa.Connection,
    kpi: str | None = None,
    process: str | None = None,
    *,
    scope: RowScope = EVERYTHING,
) -> pd.DataFrame:
    """Every target ever set, newest first: the audit trail the Metas page shows.

    A user scoped to stages sees the organisation-wide targets and their stages' only.
    """
    query = sa.select(*(targets.c[name] for name in _HISTORY_COLUMNS))
    if scope.stages is not None:
        query = query.where(
            sa.or_(targets.c.process.is_(None), targets.c.process.in_(scope.stages))
        )
    if kpi is not None:
        query = query.where(targets.c.kpi == kpi)
    if process is not None:
        query = query.where(targets.c.process == process)
    query = query.order_by(targets.c.set_at.desc(), targets.c.target_id.desc())
    rows = conn.execute(query).fetchall()
    return pd.DataFrame(rows, columns=list(_HISTORY_COLUMNS))


# --- CSV ------------------------------------------------------------------------------


def _parse_number(text: str) -> float:
    """A number as people type it: `0.95`, `0,95`, ` 95 `; ValueError otherwise."""
    cleaned = text.strip().replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    number = float(cleaned)
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number


def _parse_moment(text: str) -> datetime:
    """ISO (`2026-11-16`, `2026-11-16 08:00`) or day-first (`16/11/2026`) dates."""
    cleaned = text.strip()
    for fmt in ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d-%m-%Y"):
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            pass
    return datetime.fromisoformat(cleaned)


def _read_csv_rows(data: bytes | str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a small CSV in UTF-8 (with or without BOM) or Windows-1252."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
    else:
        text = data.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        return [], []
    header = [h.strip().lower() for h in rows[0]]
    return header, rows[1:]


def parsed_targets_csv(data: bytes | str) -> tuple[list[TargetRow], list[CsvProblem]]:
    """Every row of a targets CSV validated: the good rows and every problem, located.

    All rows are checked (not just up to the first error) so one round of fixes is enough.
    """
    header, body = _read_csv_rows(data)
    problems: list[CsvProblem] = []
    if not header:
        return [], [CsvProblem(1, None, "the file is empty")]
    missing = [c for c in _REQUIRED if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS and c not in _EXPORT_ONLY]
    for column in missing:
        problems.append(CsvProblem(1, column, "required column is missing"))
    for column in unknown:
        problems.append(CsvProblem(1, column, "unknown column"))
    if missing:
        return [], problems
    rows: list[TargetRow] = []
    for line, values in enumerate(body, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(
                CsvProblem(line, None, f"{len(values)} values for {len(header)} columns")
            )
            continue
        cells = dict(zip(header, values, strict=True))
        row_problems: list[CsvProblem] = []
        for column in _REQUIRED:
            if not cells[column].strip():
                row_problems.append(CsvProblem(line, column, "value is required"))
        parsed: dict[str, Any] = {}  # column -> its parsed value (a number or a moment)
        for column in ("target_value", "amber_tolerance"):
            if cells[column].strip():
                try:
                    parsed[column] = _parse_number(cells[column])
                except ValueError:
                    row_problems.append(
                        CsvProblem(line, column, f"{cells[column]!r} is not a number")
                    )
        if cells["valid_from"].strip():
            try:
                parsed["valid_from"] = _parse_moment(cells["valid_from"])
            except ValueError:
                row_problems.append(
                    CsvProblem(line, "valid_from", f"{cells['valid_from']!r} is not a date")
                )
        if row_problems:
            problems.extend(row_problems)
            continue
        allowed = {
            "kpi": cells["kpi"].strip() in HEADLINE_KPIS,
            "direction": cells["direction"].strip().lower() in DIRECTIONS,
        }
        bad = [name for name, ok in allowed.items() if not ok]
        for name in bad:
            problems.append(CsvProblem(line, name, f"{cells[name].strip()!r} is not allowed"))
        if bad:
            continue
        try:
            rows.append(
                validated_target(
                    cells["kpi"].strip(),
                    parsed["target_value"],
                    cells["direction"].strip().lower(),
                    parsed["amber_tolerance"],
                    parsed["valid_from"],
                    cells.get("process"),
                    cells.get("note"),
                )
            )
        except TargetError as exc:
            problems.append(CsvProblem(line, "amber_tolerance", str(exc)))
    return rows, problems


def import_targets_csv(
    conn: sa.Connection,
    data: bytes | str,
    set_by: str | None,
    *,
    set_at: datetime | None = None,
) -> TargetImport:
    """Append every target of a CSV, or none: a file with any problem writes nothing."""
    rows, problems = parsed_targets_csv(data)
    if problems:
        return TargetImport(0, tuple(problems))
    if rows:
        _append(conn, rows, set_by, set_at or local_now())
    return TargetImport(len(rows))


def targets_csv(conn: sa.Connection, *, scope: RowScope = EVERYTHING) -> str:
    """The whole target history as CSV, safe to open in a spreadsheet.

    The import columns come first, so an exported file can be edited and imported back;
    who set each target and when follow for the audit trail. Text that a spreadsheet would
    run as a formula is neutralised.
    """
    history = target_history(conn, scope=scope).sort_values("target_id")
    columns = [*CSV_COLUMNS, "set_by", "set_at"]
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(columns)
    for record in history[columns].itertuples(index=False):
        cells: list[object] = []
        for name, value in zip(columns, record, strict=True):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                cells.append("")
            elif name in ("valid_from", "set_at"):
                cells.append(pd.Timestamp(value).isoformat(sep=" "))
            elif name in ("target_value", "amber_tolerance"):
                cells.append(repr(float(value)))
            else:
                cells.append(neutralised(str(value)))
        writer.writerow(cells)
    return out.getvalue()
