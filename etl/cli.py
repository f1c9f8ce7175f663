"""`python -m etl`: create a database, load files as batches, make sample data, read the log.

Exit codes: 0 done; 1 a `--strict` load refused because rows were rejected; 2 the command
could not run (unreadable file, unknown path, bad mapping, unreachable database); 3 a load
in which some file had rows and every one of them was rejected (the batch and its log are
written, so the rejects can be listed; nothing of that file was loaded). Errors are one
line on stderr, never a traceback (set ESLABON_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from etl.db import DatabaseError, create_db_engine, describe_url, duckdb_path
from etl.exports import FORMULA_STARTS, csv_writer, spreadsheet_safe
from etl.load import BatchReport, batch_summaries, rejected_rows_frame
from etl.mapping import shipped_mappings
from etl.publish import LOAD_WAIT, load_published, publishing
from etl.reasons import CSV_HEADERS, render_stored
from etl.records import EtlError, MappingError
from etl.schema import create_schema
from etl.settings import load_settings
from etl.standards import store_missing_pauses

EXIT_OK, EXIT_REJECTED, EXIT_ERROR, EXIT_NOTHING_LOADED = 0, 1, 2, 3
_SHOWN_REJECTS = 10
_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (its help texts are the CLI's documentation)."""
    parser = argparse.ArgumentParser(
        prog="python -m etl",
        description="Eslabón ETL: load commitment records into the database, in batches.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = "database URL (default: $ESLABON_DB_URL, else data/eslabon.duckdb)"

    init = sub.add_parser("init", help="create the database tables if missing")
    init.add_argument("--db", help=db_help)

    load = sub.add_parser("load", help="load files or folders as one all-or-nothing batch")
    load.add_argument("paths", nargs="+", metavar="PATH", help="files, or folders of them")
    load.add_argument(
        "--mapping",
        metavar="FILE",
        help="TOML mapping for a foreign layout (a path, or the name of a shipped one: "
        + ", ".join(shipped_mappings())
        + ")",
    )
    load.add_argument("--db", help=db_help)
    load.add_argument("--json", action="store_true", help="print the counts as JSON")
    load.add_argument(
        "--strict", action="store_true", help="refuse the whole batch if any row is rejected"
    )
    load.add_argument(
        "--wait",
        type=float,
        default=LOAD_WAIT,
        metavar="SECONDS",
        help=f"how long to wait for another running load (default {LOAD_WAIT:.0f})",
    )

    sample = sub.add_parser("sample", help="write the deterministic sample data set")
    sample.add_argument("out_dir", metavar="OUT_DIR", type=Path)
    sample.add_argument("--commitments", type=int, default=5000, metavar="N")
    sample.add_argument("--seed", type=int, default=7, metavar="S")

    batches = sub.add_parser("batches", help="list the loaded batches with their counts")
    batches.add_argument("--db", help=db_help)

    rejects = sub.add_parser("rejects", help="show rejected rows (all, or one batch's)")
    rejects.add_argument("batch", nargs="?", type=int, metavar="BATCH")
    rejects.add_argument(
        "--csv", action="store_true", help="CSV on stdout, to fix the rows in a spreadsheet"
    )
    rejects.add_argument("--db", help=db_help)
    return parser


def _fewer_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas (one per thread by default, up to 8 per core).

    The reader and column-typing threads each fill an arena of their own, and memory freed
    in one is not reused by another; two keep the load's peak lower at the same speed
    (docs/benchmarks.md). Elsewhere (another C library) this does nothing.
    """
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_ARENA_MAX, arenas)
    except (OSError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    # Arrow's default allocator (mimalloc) keeps freed memory for reuse, so a load's
    # resident memory only grows from file to file; the C library's allocator hands large
    # blocks back (docs/benchmarks.md has the measurement). Set here, for this process
    # only, not in the library: the dashboard's loads are small.
    pa.set_memory_pool(pa.system_memory_pool())
    _fewer_malloc_arenas()
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "init": _init,
        "load": _load,
        "sample": _sample,
        "batches": _batches,
        "rejects": _rejects,
    }
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        print("interrupted: nothing of the running batch was written", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("ESLABON_DEBUG"):
            raise
        print(f"error: {one_line_message(exc, getattr(args, 'db', None))}", file=sys.stderr)
        return EXIT_ERROR


def one_line_message(exc: BaseException, db: str | None) -> str:
    """What went wrong, in one line a person can act on."""
    if isinstance(exc, EtlError | DatabaseError):
        return _first_line(str(exc))
    if isinstance(exc, sa.exc.DBAPIError | sa.exc.OperationalError):
        original = getattr(exc, "orig", None) or exc
        where = _db_label(db)
        return f"database {where}: {_first_line(str(original))}"
    if isinstance(exc, sa.exc.ArgumentError | sa.exc.NoSuchModuleError):
        return f"database URL {db!r} is not valid: {_first_line(str(exc))}"
    if isinstance(exc, OSError):
        return _first_line(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    return f"unexpected {type(exc).__name__}: {_first_line(str(exc))}"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "(no message)"


def _db_label(db: str | None) -> str:
    try:
        return describe_url(create_db_engine(db))
    except Exception:
        return repr(db)


def _engine(args: argparse.Namespace) -> sa.Engine:
    return create_db_engine(getattr(args, "db", None))


def _reading_engine(args: argparse.Namespace) -> sa.Engine:
    """An engine to read the log through: read-only on an existing DuckDB file, so it
    never takes (or waits for) the writer lock a running load holds; otherwise the
    schema is created first, through `publishing`."""
    db = getattr(args, "db", None)
    path = duckdb_path(db or load_settings().db_url)
    engine = create_db_engine(db, read_only=path is not None)
    if path is not None and path.exists() and _has_log_tables(engine):
        return engine
    with publishing(db) as writer:
        create_schema(writer)
    return engine


def _has_log_tables(engine: sa.Engine) -> bool:
    """The load log's tables exist (else the schema is created before reading it)."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        return all(inspector.has_table(name) for name in ("load_batches", "rejected_rows"))


def _init(args: argparse.Namespace) -> int:
    with publishing(args.db) as engine:
        create_schema(engine)
        # a database from before stored pauses gains them (until then metrics rebuild them)
        with engine.begin() as conn:
            stored = store_missing_pauses(conn)
    if stored:
        print(f"service-standard pauses stored for {stored:,} commitments")
    print(f"database ready: {describe_url(_engine(args))}")
    return EXIT_OK


def _mapping_path(name: str | None) -> str | None:
    """A mapping path as given, or the shipped mapping of that name (`receipt_coselog`)."""
    if name is None or Path(name).exists():
        return name
    shipped = shipped_mappings()
    stem = Path(name).stem
    if stem in shipped and Path(name).name in (stem, f"{stem}.toml"):
        return str(shipped[stem])
    raise MappingError(f"mapping {name}: file not found (shipped mappings: {', '.join(shipped)})")


def _load(args: argparse.Namespace) -> int:
    mapping = _mapping_path(args.mapping)
    # The batch reaches a dashboard reading the DuckDB file as a whole: through a private
    # copy swapped in at the end, or in place behind the gate (etl.publish).
    with _progress_bar() as progress:
        report = load_published(
            args.db,
            args.paths,
            wait=args.wait,
            announce=True,
            mapping=mapping,
            progress=progress,
            strict=args.strict,
        )
    where = describe_url(_engine(args))
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        _print_report(report, where)
    if not report.committed:
        if not args.json:
            print(
                f"refused (--strict): {report.rows_rejected} row(s) rejected; nothing was written",
                file=sys.stderr,
            )
        return EXIT_REJECTED
    if report.failed_files:
        # A file none of whose rows loaded is a failed load, --strict or not: a script
        # must not carry on as if the data were there.
        for f in report.failed_files:
            print(
                f"failed: every row of {f.path} ({f.kind}) was rejected ({f.read} read, 0 loaded)",
                file=sys.stderr,
            )
        return EXIT_NOTHING_LOADED
    return EXIT_OK


class _progress_bar:
    """A tqdm bar on stderr when it is a terminal; otherwise no progress output at all."""

    def __init__(self) -> None:
        self._bar: typing.Any = None

    def __enter__(self) -> Callable[[str, int, int], None] | None:
        if not sys.stderr.isatty():
            return None
        from tqdm import tqdm

        def update(what: str, done: int, total: int) -> None:
            if self._bar is None:
                self._bar = tqdm(
                    total=total, unit="B", unit_scale=True, file=sys.stderr, leave=False
                )
            self._bar.total = max(total, 1)
            self._bar.set_description(what[:60])
            self._bar.update(done - self._bar.n)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


def _print_report(report: BatchReport, where: str) -> None:
    """The per-file table and how to see the rejects."""
    if report.committed:
        print(f"batch {report.batch_id} loaded into {where}")
    else:
        print(f"batch refused; nothing was written to {where}")
    table = pd.DataFrame(
        [
            {
                "file": f.path,
                "kind": f.kind,
                "read": f.read,
                "new": f.new,
                "changed": f.changed,
                "unchanged": f.unchanged,
                "rejected": f.rejected,
            }
            for f in report.files
        ]
    )
    if not table.empty:
        print(table.to_string(index=False, na_rep="-"))
    for f in report.files:
        if f.refused:
            print(f"refused file: {f.refused}")
    for warning in report.warnings:
        print(f"warning: {warning.text}")
    if report.rejects:
        print(f"\n{report.rows_rejected} row(s) rejected, for example:")
        for item in report.rejects[:_SHOWN_REJECTS]:
            r = item.reject
            where_row = f"row {r.row_number}" if r.row_number is not None else "file"
            print(f"  {Path(item.path).name} ({item.kind}) {where_row}: {r.reason}")
        if len(report.rejects) > _SHOWN_REJECTS:
            print(f"  ... and {len(report.rejects) - _SHOWN_REJECTS} more")
        if report.committed:
            print(
                f"see them all: python -m etl rejects {report.batch_id}   "
                f"(as CSV: python -m etl rejects {report.batch_id} --csv > rejects.csv)"
            )
    if report.dataset:
        print("dataset: " + ", ".join(f"{k}={v}" for k, v in report.dataset.items()))


def _sample(args: argparse.Namespace) -> int:
    from etl.sample import generate_sample  # lazy: only this command needs it

    summary = generate_sample(args.out_dir, commitments=args.commitments, seed=args.seed)
    counts = summary.get("counts", {}) if isinstance(summary, dict) else {}
    print(f"sample written to {args.out_dir}")
    for kind, rows in counts.items():
        print(f"  {kind}: {rows} rows")
    if isinstance(summary, dict) and "as_of" in summary:
        print(f"  as_of: {summary['as_of']}")
    return EXIT_OK


def _batches(args: argparse.Namespace) -> int:
    engine = _reading_engine(args)
    with engine.connect() as conn:
        table = batch_summaries(conn)
    if table.empty:
        print("no batches loaded yet")
    else:
        print(table.to_string(index=False))
    return EXIT_OK


def _rejects(args: argparse.Namespace) -> int:
    engine = _reading_engine(args)
    with engine.connect() as conn:
        table = rejected_rows_frame(conn, args.batch)
    if args.csv:
        write_rejects_csv(table, sys.stdout)
        return EXIT_OK
    if table.empty:
        print("no rejected rows" + (f" in batch {args.batch}" if args.batch is not None else ""))
        return EXIT_OK
    row: typing.Any  # a frame's row: the stubs cannot know its columns' types
    for row in table.itertuples(index=False):
        line = f"batch {row.batch_id} {Path(row.path).name} ({row.kind})"
        line += f" row {row.row_number}" if not pd.isna(row.row_number) else ""
        print(f"{line}: {row.reason}")
    return EXIT_OK


def write_rejects_csv(table: pd.DataFrame, out: typing.TextIO, lang: str = "en") -> None:
    """Rejects as a spreadsheet can fix them: the reason, then the row's own columns.

    Each raw row (JSON) is spread into columns (the union over the rows, first-seen
    order), so the corrected rows can be saved and loaded again. Every cell is neutralised
    against formula injection. `lang` words the fixed headers and the reasons (the CLI
    writes English; the dashboard, the reader's language).
    """
    fixed = list(CSV_HEADERS["en" if lang == "en" else "es"])
    codes = table["reason_code"] if "reason_code" in table else [None] * len(table)
    raws = [json.loads(r) if isinstance(r, str) and r else {} for r in table["raw"]]
    extra: list[str] = []
    for raw in raws:
        extra.extend(k for k in raw if k not in extra)
    header = fixed + [f"raw:{k}" if k in fixed else k for k in extra]
    writer = csv_writer(out)
    writer.writerow(header)
    row: typing.Any  # a frame's row: the stubs cannot know its columns' types
    for row, raw, code in zip(table.itertuples(index=False), raws, codes, strict=True):
        values: list[object] = [
            row.batch_id,
            row.path,
            row.kind,
            None if pd.isna(row.row_number) else int(row.row_number),
            row.column_name,
            render_stored(row.reason, None if pd.isna(code) else code, lang),
            *(raw.get(k) for k in extra),
        ]
        writer.writerow(["" if v is None else spreadsheet_safe(v) for v in values])


# The dashboard's preview imported the writer under its first, private name; the
# neutraliser moved to etl.exports and is still importable from here.
_write_rejects_csv = write_rejects_csv
__all__ = ["FORMULA_STARTS", "main", "spreadsheet_safe", "write_rejects_csv"]
