"""Target history: what the quality team wants each KPI to reach, and since when.

Targets are append-only: a change is a new row with its own `valid_from`, so the history
always shows who set what and when, and a past week can be judged against the target that
was in force at its end (that judgement lives in `dashboard.metrics.targets`). This module
only writes, validates and moves targets in and out as CSV.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.filters import EVERYTHING, RowScope
from dashboard.records import RecordError, local_now, neutralised
from etl import parse
from etl.exports import csv_writer
from etl.read import read_table
from etl.reasons import Reason, render_stored
from etl.records import ROW, ReadError
from etl.schema import TARGET_DIRECTIONS, targets
from etl.settings import load_settings
from etl.validate import Collector, not_member

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
    """One thing wrong in an imported file, located for the person who has to fix it.

    `reason` is an `etl.reasons.Reason` (worded again in the reader's language by
    `text`) or, for a file that cannot be read at all, the reader's message, which names
    the file itself (then `path` is empty).
    """

    path: str
    row: int | None  # line in the file; the header is line 1
    column: str | None
    reason: str

    def text(self, lang: str = "en") -> str:
        """'file, row 3, column target_value: …' in English, or the same in Spanish."""
        words = ("row", "column") if lang == "en" else ("fila", "columna")
        where = [self.path] if self.path else []
        if self.row is not None:
            where.append(f"{words[0]} {self.row}")
        if self.column:
            where.append(f"{words[1]} {self.column}")
        reason = render_stored(self.reason, None, lang)
        return f"{', '.join(where)}: {reason}" if where else reason

    def __str__(self) -> str:
        return self.text("en")


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


def parsed_targets_csv(
    data: bytes | str, name: str = "targets.csv"
) -> tuple[list[TargetRow], list[CsvProblem]]:
    """Every row of a targets CSV checked: the good rows and every problem, located.

    Read, typed and checked by the loader's own steps (`etl.read`, `etl.parse`, the
    validator's `Collector`): the same encodings, delimiters, decimals and dates as any
    other file, and all rows checked so that one round of fixes is enough. A date
    without a time in `valid_from` is the start of that day; slashed dates are day first
    unless the column proves them month first.
    """
    source = data if isinstance(data, bytes) else data.encode("utf-8")
    try:
        raw = read_table(io.BytesIO(source), name=name)
    except ReadError as exc:
        return [], [CsvProblem("", None, None, str(exc))]
    frame = raw.frame.rename(columns=lambda c: c if c == ROW else c.strip().lower())
    header = [c for c in frame.columns if c != ROW]
    missing = [c for c in _REQUIRED if c not in header]
    problems = [CsvProblem(name, 1, c, Reason("missing_column", column=c)) for c in missing]
    problems += [
        CsvProblem(name, 1, c, Reason("unknown_column", column=c, have=list(CSV_COLUMNS)))
        for c in header
        if c not in CSV_COLUMNS and c not in _EXPORT_ONLY
    ]
    if missing:
        return [], problems  # no row can be read without them
    # A row of empty cells (",,,,,," under a spreadsheet's data) is no target.
    frame = frame[frame[header].notna().any(axis=1)].reset_index(drop=True)
    text = {
        c: parse.clean_text(frame[c]) if c in frame else pd.Series(pd.NA, index=frame.index)
        for c in CSV_COLUMNS
    }
    out = Collector(frame)

    def shown(column: str) -> Callable[[int], str]:
        return lambda p: repr(str(text[column].iat[p]))

    for column in _REQUIRED:
        out.add(
            text[column].isna(), column, lambda _p, c=column: Reason("required_empty", column=c)
        )
    numbers: dict[str, pd.Series] = {}
    for column in ("target_value", "amber_tolerance"):
        values, bad = parse.parse_decimals(text[column], cleaned=True)
        bad |= values.notna() & ~np.isfinite(values.fillna(0.0))
        out.add(
            bad, column, lambda p, c=column: Reason("not_a_number", column=c, value=shown(c)(p))
        )
        numbers[column] = values.where(~bad)
    out.add(
        (numbers["amber_tolerance"] < 0).fillna(False),
        "amber_tolerance",
        lambda p: Reason(
            "out_of_range", column="amber_tolerance", value=shown("amber_tolerance")(p), low=0
        ),
    )
    evidence = parse.date_order_evidence(text["valid_from"])
    order = evidence.order or (None if evidence.conflicting else parse.DAY_FIRST)
    valid_from, bad = parse.parse_datetimes(
        text["valid_from"],
        tz=load_settings().timezone,
        cleaned=True,
        order=order,
        date_only=parse.START_OF_DAY_DATES,
    )
    out.add(
        bad,
        "valid_from",
        lambda p: Reason(
            "not_a_date", column="valid_from", value=shown("valid_from")(p), hint="date_formats"
        ),
    )
    kpi = text["kpi"]
    direction = text["direction"].str.lower()
    for column, values, allowed in (
        ("kpi", kpi, HEADLINE_KPIS),
        ("direction", direction, DIRECTIONS),
    ):
        wrong = pd.Series(not_member(values, allowed), index=values.index)
        out.add(
            wrong,
            column,
            lambda p, c=column, a=allowed: Reason(
                "not_allowed", column=c, value=shown(c)(p), allowed=list(a)
            ),
        )
    problems += [CsvProblem(name, r.row_number, r.column, r.reason) for r in out.finished()]
    if problems:
        return [], problems

    def texts(column: pd.Series) -> list[str | None]:
        return [None if pd.isna(v) else str(v) for v in column.tolist()]

    rows = [
        validated_target(str(k), float(v), str(d), float(t), when, p, n)
        for k, v, d, t, when, p, n in zip(
            texts(kpi),
            numbers["target_value"].tolist(),
            texts(direction),
            numbers["amber_tolerance"].tolist(),
            list(valid_from.dt.to_pydatetime()),
            texts(text["process"]),
            texts(text["note"]),
            strict=True,
        )
    ]
    return rows, []


def import_targets_csv(
    conn: sa.Connection,
    data: bytes | str,
    set_by: str | None,
    *,
    set_at: datetime | None = None,
    name: str = "targets.csv",
) -> TargetImport:
    """Append every target of a CSV, or none: a file with any problem writes nothing.

    `name` is the file's name as the person knows it, for the problems to name it.
    """
    rows, problems = parsed_targets_csv(data, name)
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
