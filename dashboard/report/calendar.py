"""`python -m dashboard.report calendar`: due dates as an .ics file a calendar app imports.

One scope at a time (a performer, a process stage or a customer) or everything; UIDs are
stable, so importing a newer file updates the events instead of duplicating them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dashboard.metrics.kpis import default_as_of
from dashboard.report import ReportError, add_user_argument, user_scope
from dashboard.report.kpis import (
    add_as_of_argument,
    add_db_argument,
    open_report_engine,
    parse_instant,
)
from dashboard.services.calendar_feed import calendar_feed

COMMAND = "calendar"
HELP = "Due dates of a performer, a process stage or a customer as an iCalendar (.ics) file."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `calendar` options: at most one scope."""
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--performer", metavar="P", help="only this performer's commitments")
    scope.add_argument("--process", metavar="P", help="only this process stage")
    scope.add_argument("--customer", metavar="C", help="only this customer's commitments")
    add_db_argument(parser)
    add_as_of_argument(parser, "evaluation instant for the status shown")
    parser.add_argument("--out", required=True, metavar="FILE.ics", help="output file")
    parser.add_argument("--lang", choices=("es", "en"), default="es", help="language (default es)")
    parser.add_argument(
        "--external",
        action="store_true",
        help="leave out internal details (performers), for a file sent to a customer",
    )
    add_user_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Write the .ics file and print its path. Exit status 0."""
    out = Path(args.out)
    if out.suffix.lower() != ".ics":
        raise ReportError(f"--out {args.out!r} must end in .ics")
    if not out.parent.is_dir():
        raise ReportError(f"--out: folder {out.parent} does not exist")
    as_of_arg = parse_instant(args.as_of, "--as-of") if args.as_of else None
    scope = user_scope(args.as_user)
    engine = open_report_engine(args.db)
    try:
        with engine.connect() as conn:
            data = calendar_feed(
                conn,
                as_of_arg or default_as_of(conn),
                performer=args.performer,
                process=args.process,
                customer=args.customer,
                lang=args.lang,
                internal=not args.external,
                scope=scope,
            )
    finally:
        engine.dispose()
    out.write_bytes(data)
    print(out)
    return 0
