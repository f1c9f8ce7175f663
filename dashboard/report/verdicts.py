"""`python -m dashboard.report verdicts`: the source system's SLA verdict beside Eslabón's.

For commitments loaded with `source_on_time` (e.g. a service desk's made_sla): JSON with
the agreement table (both on time, both breached, and the two disagreements) and the
list of disagreements; `--format csv` prints the disagreements only (spreadsheet-safe).
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from dashboard.metrics.standards import verdict_agreement, verdict_disagreements
from dashboard.report import add_user_argument
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

COMMAND = "verdicts"
HELP = "The source system's own SLA verdict against Eslabón's: agreement and disagreements."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `verdicts` options (see the module docstring)."""
    add_db_argument(parser)
    add_user_argument(parser)
    add_as_of_argument(parser)
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first due date")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="last due date")
    parser.add_argument("--process", action="append", default=[], metavar="P",
                        help="only this process stage (repeat for several)")  # fmt: skip
    parser.add_argument("--format", choices=("json", "csv"), default="json", dest="fmt",
                        help="json: table and list; csv: the disagreements")  # fmt: skip


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the agreement; exit status 0."""
    out = out or sys.stdout
    check_dates(args)
    engine = open_report_engine(args.db)
    try:
        with engine.connect() as conn:
            f = build_filter(args, conn)
            table = verdict_agreement(conn, f)
            odd = verdict_disagreements(conn, f)
    finally:
        engine.dispose()
    listed = [{str(c): _json_value(v) for c, v in row.items()} for row in odd.to_dict("records")]
    if args.fmt == "csv":
        write_csv(listed, list(odd.columns), out)
        return 0
    agreement = [{c: _json_value(v) for c, v in row.items()} for row in table.to_dict("records")]
    write_json([{"agreement": agreement, "disagreements": listed}], False, out)
    return 0
