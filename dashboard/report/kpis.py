"""`python -m dashboard.report kpis`: the headline KPIs as JSON or CSV, for other tools.

Without `--by`: one JSON object with exactly the keys of `HEADLINE_KPIS`. With `--by`: a
list with one object per group, the group's key first under the dimension's name
("process": "Compras"; "week": "2026-03-02", the Monday of the ISO week of the due date).
A rate with an empty denominator is null, never 0 or NaN. Dates are ISO strings. Every
object ends with `reasons`: KPI -> reason code for the KPIs that are null because their
input was never loaded (`no_surveys_loaded`, `no_complaints_loaded`, `no_notices_loaded`,
`no_customer_commitments_loaded`), so "no data" is never read as 0; in CSV the column
`reasons` holds them as `kpi=code` pairs separated by `;`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.filters import GROUP_BY_OPTIONS, MetricFilter
from dashboard.metrics.kpis import default_as_of, headline_kpis, kpi_reasons
from dashboard.metrics.ontime import none_if_nan
from dashboard.report import ReportError, add_user_argument, user_scope
from etl.db import create_db_engine, describe_url, normalise_url
from etl.exports import csv_writer, spreadsheet_safe
from etl.parse import DAY_FIRST, parse_datetimes
from etl.settings import load_settings

COMMAND = "kpis"
HELP = "Headline KPIs (JSON or CSV), for the whole view or per week/stage/performer/customer."

# The user's word for a dimension -> the filter's. "stage" is what the help and the pages
# call a link of the chain; the database column is `process`. Both are accepted.
BY_ALIASES: dict[str, str] = {"stage": "process"}
BY_OPTIONS: tuple[str, ...] = (
    *(o for o in GROUP_BY_OPTIONS if o != "none"),
    *BY_ALIASES,
)


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """--db, shared by every report command."""
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL or .duckdb path (default: ESLABON_DB_URL or data/eslabon.duckdb)",
    )


def add_as_of_argument(parser: argparse.ArgumentParser, what: str = "evaluation instant") -> None:
    """--as-of, shared by every report command; defaults to the data's own as_of."""
    parser.add_argument(
        "--as-of",
        dest="as_of",
        metavar="TIMESTAMP",
        help=f"{what} (default: the sample's as_of, else now)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `kpis` options (see the module docstring)."""
    add_db_argument(parser)
    parser.add_argument(
        "--from",
        dest="date_from",
        metavar="DATE",
        help="first due date (inclusive), e.g. 2026-03-01",
    )
    parser.add_argument(
        "--to", dest="date_to", metavar="DATE", help="last due date (inclusive), e.g. 2026-03-31"
    )
    add_as_of_argument(parser)
    parser.add_argument(
        "--by",
        choices=BY_OPTIONS,
        help="one object per group of this dimension (stage and process are the same)",
    )
    parser.add_argument(
        "--process",
        "--stage",
        dest="process",
        action="append",
        default=[],
        metavar="P",
        help="only this process stage (repeat for several)",
    )
    parser.add_argument(
        "--format",
        choices=("json", "csv"),
        default="json",
        dest="fmt",
        help="output format (default json)",
    )
    add_user_argument(parser)


def parse_instant(text: str, option: str) -> datetime:
    """A timestamp typed by a person, read by the same rules as the import files.

    ISO or dd/mm/yyyy; a date alone is the end of that day; an offset is converted to
    ESLABON_TZ wall-clock time.
    """
    # One value says nothing about its order: an option is documented as dd/mm/yyyy.
    values, bad = parse_datetimes(pd.Series([text]), tz=load_settings().timezone, order=DAY_FIRST)
    if bad.iloc[0] or pd.isna(values.iloc[0]):
        raise ReportError(f"{option} {text!r} is not a date (use YYYY-MM-DD or dd/mm/yyyy)")
    stamp: pd.Timestamp = values.iloc[0]
    return stamp.to_pydatetime()


def _check_database(url: str) -> None:
    """Refuse a DuckDB path that does not exist (opening it would create an empty one)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("duckdb"):
        database = parsed.database or ":memory:"
        if database != ":memory:" and not Path(database).is_file():
            raise ReportError(f"no database file at {database}")


def open_report_engine(url: str | None) -> sa.Engine:
    """A read-only engine on the database, checked to hold Eslabón's tables."""
    try:
        full = normalise_url(url or load_settings().db_url)
        _check_database(full)
        engine = create_db_engine(full, read_only=True)
    except ReportError:
        raise
    except Exception as exc:  # a malformed URL, a missing driver
        raise ReportError(f"cannot open database {url!r}: {exc}") from exc
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT COUNT(*) FROM commitments")).fetchall()
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ReportError(f"cannot use the database at {describe_url(engine)}: {reason}") from exc
    return engine


def _json_value(value: object) -> object:
    """A value JSON can carry: None for missing, ISO text for dates, plain numbers."""
    value = none_if_nan(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def kpi_records(
    conn: sa.Connection, f: MetricFilter, key_name: str | None = None
) -> list[dict[str, object]]:
    """The export's rows: the group key under the dimension's name (or `key_name`, the
    word the user asked for), then every KPI."""
    df = headline_kpis(conn, f)
    reasons = kpi_reasons(conn)
    records = []
    for row in df.to_dict("records"):
        record: dict[str, object] = {}
        if f.group_by != "none":
            record[key_name or f.group_by] = _json_value(row["group_key"])
        record.update({kpi: _json_value(row[kpi]) for kpi in HEADLINE_KPIS})
        record["reasons"] = {kpi: code for kpi, code in reasons.items() if record[kpi] is None}
        records.append(record)
    return records


def write_json(records: list[dict[str, object]], grouped: bool, out: TextIO) -> None:
    """One object (no --by) or a list of objects; NaN can never be written."""
    payload: object = records if grouped else records[0]
    out.write(json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False))
    out.write("\n")


def write_csv(records: list[dict[str, object]], columns: list[str], out: TextIO) -> None:
    """A header and one line per record; an empty cell for null; formula-like text made inert."""
    writer = csv_writer(out)
    writer.writerow(columns)
    for record in records:
        cells = {**record, "reasons": _reasons_text(record.get("reasons"))}
        writer.writerow(["" if cells[c] is None else spreadsheet_safe(cells[c]) for c in columns])


def _reasons_text(reasons: object) -> str:
    """`{kpi: code}` as one CSV cell: `kpi=code;kpi=code` (empty when none)."""
    if not isinstance(reasons, dict):
        return ""
    return ";".join(f"{kpi}={code}" for kpi, code in reasons.items())


def _check_period(args: argparse.Namespace) -> None:
    """--from after --to is a typo worth one clear line, not an empty report."""
    if args.date_from and args.date_to:
        date_from = parse_instant(args.date_from, "--from").date()
        date_to = parse_instant(args.date_to, "--to").date()
        if date_from > date_to:
            raise ReportError(f"--from {date_from} is after --to {date_to}")


def check_dates(args: argparse.Namespace) -> None:
    """--from, --to and --as-of checked before touching the database (a typo should not
    need one), and the period's order."""
    for option, value in (
        ("--from", args.date_from),
        ("--to", args.date_to),
        ("--as-of", args.as_of),
    ):
        if value:
            parse_instant(value, option)
    _check_period(args)


def build_filter(args: argparse.Namespace, conn: sa.Connection) -> MetricFilter:
    """The MetricFilter the options describe (`--from/--to/--process`, `--by` where the
    command has it), within `--as-user`'s rows; --as-of defaults to the data's own."""
    date_from = parse_instant(args.date_from, "--from").date() if args.date_from else None
    date_to = parse_instant(args.date_to, "--to").date() if args.date_to else None
    as_of = parse_instant(args.as_of, "--as-of") if args.as_of else default_as_of(conn)
    return MetricFilter(
        as_of=as_of,
        date_from=date_from,
        date_to=date_to,
        processes=tuple(args.process),
        group_by=BY_ALIASES.get(args.by, args.by) if getattr(args, "by", None) else "none",
    ).within(user_scope(getattr(args, "as_user", None)))


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Compute the KPIs and print them; exit status 0."""
    out = out or sys.stdout
    check_dates(args)
    engine = open_report_engine(args.db)
    try:
        with engine.connect() as conn:
            f = build_filter(args, conn)
            records = kpi_records(conn, f, args.by)
    finally:
        engine.dispose()
    if args.fmt == "csv":
        columns = ([args.by] if args.by else []) + list(HEADLINE_KPIS) + ["reasons"]
        write_csv(records, columns, out)
    else:
        write_json(records, f.group_by != "none", out)
    return 0
