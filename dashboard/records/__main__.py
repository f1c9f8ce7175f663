"""`python -m dashboard.records`: targets from and to CSV, for scripts and the sample setup.

The Metas page does the same interactively; this is for `make db` (the sample's targets)
and for a quality team that keeps its targets in a spreadsheet under version control.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from dashboard.records.targets import import_targets_csv, targets_csv
from etl.db import create_db_engine
from etl.publish import published_transaction


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 1 when the CSV has problems, 2 on other errors."""
    parser = argparse.ArgumentParser(prog="python -m dashboard.records", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import-targets", help="append every target of a CSV (all or none)")
    imp.add_argument("path", type=Path)
    imp.add_argument("--db", help="database URL (default: ESLABON_DB_URL or data/eslabon.duckdb)")
    imp.add_argument("--set-by", default=None, help="recorded author (default: the OS user)")
    exp = sub.add_parser("export-targets", help="the whole target history as CSV on stdout")
    exp.add_argument("--db", help="database URL (default: ESLABON_DB_URL or data/eslabon.duckdb)")
    args = parser.parse_args(argv)
    try:
        if args.command == "import-targets":
            return _import(args)
        engine = create_db_engine(args.db, read_only=True)
        with engine.connect() as conn:
            sys.stdout.write(targets_csv(conn))
        return 0
    except Exception as exc:  # one clear line, never a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _import(args: argparse.Namespace) -> int:
    data = args.path.read_bytes()
    with published_transaction(args.db) as conn:
        result = import_targets_csv(conn, data, args.set_by or getpass.getuser())
    if not result.ok:
        for problem in result.problems:
            print(f"{args.path}: {problem}", file=sys.stderr)
        return 1
    print(f"{result.imported} targets imported from {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
