"""`python -m dashboard.report process-map`: the directly-follows graph as JSON or CSV.

One row per pair of stages: source, target, count, median_hours — the numbers of the
Cadena page's process map (`dashboard.metrics.process_map.directly_follows`), for a
process-mining tool or a spreadsheet to check. CSV cells are made inert for spreadsheets
(etl.exports), like every other export.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import TextIO

import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.ontime import none_if_nan
from dashboard.metrics.process_map import directly_follows
from dashboard.report import add_user_argument
from dashboard.report.kpis import (
    add_as_of_argument,
    add_db_argument,
    build_filter,
    check_dates,
    open_report_engine,
)
from etl.exports import spreadsheet_safe

COMMAND = "process-map"
HELP = "The process map (directly-follows pairs with count and median hours) as JSON or CSV."
COLUMNS: tuple[str, ...] = ("source", "target", "count", "median_hours")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `process-map` options: database, as-of, period and stages, format."""
    add_db_argument(parser)
    add_user_argument(parser)
    add_as_of_argument(parser)
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first due date")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="last due date")
    parser.add_argument(
        "--stage",
        "--process",
        dest="process",
        action="append",
        default=[],
        metavar="P",
        help="only the cases of this stage (repeat for several)",
    )
    parser.add_argument(
        "--format",
        choices=("json", "csv"),
        default="json",
        dest="fmt",
        help="output format (default json)",
    )


def process_map_records(conn: sa.Connection, f: MetricFilter) -> list[dict[str, object]]:
    """The pairs as plain records: count an int, median_hours a float (None if unknown)."""
    df = directly_follows(conn, f)
    return [
        {
            "source": str(row["source"]),
            "target": str(row["target"]),
            "count": int(row["count"]),
            "median_hours": none_if_nan(float(row["median_hours"])),
        }
        for row in df.to_dict("records")
    ]


def write_csv(records: list[dict[str, object]], out: TextIO) -> None:
    """A header and one line per pair; stage names neutralised against formulas."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(["" if record[c] is None else spreadsheet_safe(record[c]) for c in COLUMNS])


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Compute the map and print it; exit status 0."""
    out = out or sys.stdout
    check_dates(args)
    engine = open_report_engine(args.db)
    try:
        with engine.connect() as conn:
            f = build_filter(args, conn)
            records = process_map_records(conn, f)
    finally:
        engine.dispose()
    if args.fmt == "csv":
        write_csv(records, out)
    else:
        out.write(json.dumps(records, ensure_ascii=False, indent=2, allow_nan=False))
        out.write("\n")
    return 0
