"""`python -m dashboard.report commitments`: one row per commitment, with its standard.

Each row: who and what, the promise in force (due_at), the service standard's date
(standard_due_at) and which policy version gave or checked it, the delivery, the status
at --as-of (on_time | breach | pending | cancelled), the delay in days and in business
hours, and the at-risk reason of an open one. JSON (a list) or CSV (spreadsheet-safe).
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from dashboard.metrics.standards import (
    COMMITMENT_EXPORT_COLUMNS,
    DEFAULT_AT_RISK_SHARE,
    commitments_with_standards,
)
from dashboard.report import ReportError, add_user_argument
from dashboard.report.kpis import (
    _json_value,
    add_as_of_argument,
    add_db_argument,
    build_filter,
    check_dates,
    open_report_engine,
    write_csv,
    write_json,
)

COMMAND = "commitments"
HELP = "Every commitment with its due date, standard, status and delay (JSON or CSV)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `commitments` options (see the module docstring)."""
    add_db_argument(parser)
    add_user_argument(parser)
    add_as_of_argument(parser)
    parser.add_argument("--from", dest="date_from", metavar="DATE",
                        help="first due date (inclusive)")  # fmt: skip
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="last due date (inclusive)")
    parser.add_argument("--process", action="append", default=[], metavar="P",
                        help="only this process stage (repeat for several)")  # fmt: skip
    parser.add_argument(
        "--at-risk-share",
        dest="share",
        type=float,
        default=DEFAULT_AT_RISK_SHARE,
        metavar="S",
        help="share of a standard's target that puts an open commitment at risk (default 0.75)",
    )
    parser.add_argument("--format", choices=("json", "csv"), default="json", dest="fmt",
                        help="output format (default json)")  # fmt: skip


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the list; exit status 0."""
    out = out or sys.stdout
    check_dates(args)
    if not 0 < args.share <= 1:
        raise ReportError(f"--at-risk-share {args.share} must be more than 0 and at most 1")
    engine = open_report_engine(args.db)
    try:
        with engine.connect() as conn:
            f = build_filter(args, conn)
            frame = commitments_with_standards(conn, f, args.share)
    finally:
        engine.dispose()
    columns = list(COMMITMENT_EXPORT_COLUMNS)
    records = [{c: _json_value(row[c]) for c in columns} for row in frame.to_dict("records")]
    if args.fmt == "csv":
        write_csv(records, columns, out)
    else:
        write_json(records, True, out)
    return 0
