"""ETL load of the sample CSV set: Eslabón vs the DuckDB floor vs pandas.

- eslabon: `python -m etl load <dir> --db duckdb:///<fresh file>` (read, validate every
  row, reject with reasons, upsert by key, load log);
- floor: DuckDB `CREATE TABLE <kind> AS SELECT * FROM read_csv('<kind>.csv')` for every
  file, into a fresh file: no validation, no keys, DuckDB's own sniffing and typing;
- pandas: `pd.read_csv(..., parse_dates=<the kind's date columns>)` and
  `DataFrame.to_sql(<kind>, <SQLAlchemy duckdb-engine>, index=False)` per file.

Each contender is its own subprocess (a fresh interpreter, like a user's command), so
its peak memory is the child's RSS high-water mark (os.wait4). Run from the project
root: `.venv/bin/python -m bench.etl_load --size 100k --reps 3`. `--against DIR` adds
`python -m etl load` from another checkout (e.g. a worktree of main), alternated with
the rest: a before/after measurement whose ratios to the floor of the same reps hold
even on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from bench.common import (
    alternate_children,
    csv_bytes,
    print_table,
    sample_dir,
    size_arg,
)

KINDS = ("processes", "commitments", "dependencies", "events", "satisfaction", "complaints",
         "notices")  # fmt: skip


def _fresh(db: Path) -> Path:
    """Delete a database file (its WAL and the loader's lock file too) so every run loads
    into an empty one."""
    for p in (db, db.with_name(db.name + ".wal"), db.with_name(db.name + ".lock")):
        p.unlink(missing_ok=True)
    return db


def floor_load(folder: Path, db: Path) -> None:
    """The physical limit here: DuckDB's own CSV reader straight into tables."""
    import duckdb

    con = duckdb.connect(str(db))
    for kind in KINDS:
        path = folder / f"{kind}.csv"
        # bench-only script; the path comes from our own data folder
        con.execute(f"CREATE TABLE {kind} AS SELECT * FROM read_csv(?)", [str(path)])  # noqa: S608
    con.close()


def pandas_load(folder: Path, db: Path) -> None:
    """What a pandas user writes: read_csv with the date columns, then to_sql."""
    import pandas as pd
    import sqlalchemy as sa

    from etl.schema import RECORD_KINDS

    engine = sa.create_engine(f"duckdb:///{db}")
    for kind in KINDS:
        dates = [f.name for f in RECORD_KINDS[kind].fields if f.type == "datetime"]
        frame = pd.read_csv(folder / f"{kind}.csv", parse_dates=dates)
        # duckdb-engine's dialect does not quote `at`, a reserved word in DuckDB
        frame = frame.rename(columns={"at": "at_"})
        frame.to_sql(kind, engine, index=False, if_exists="replace")
    engine.dispose()


def table_counts(db: Path) -> dict[str, int]:
    """Rows per loaded table, to check the three contenders loaded the same data."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {k: con.execute(f"SELECT count(*) FROM {k}").fetchall()[0][0] for k in KINDS}  # noqa: S608
    finally:
        con.close()


def main(argv: list[str] | None = None) -> None:
    """Run the three contenders alternately and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size_arg(parser)
    parser.add_argument("--child", choices=["floor", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-pandas", action="store_true", help="skip the (slow) pandas peer")
    parser.add_argument(
        "--pandas-reps", type=int, default=None, help="pandas runs (default: 1 at 1m, else all)"
    )
    parser.add_argument(
        "--against", type=Path, help="also load with this other checkout's etl (before/after)"
    )
    args = parser.parse_args(argv)
    if args.child == "floor":
        floor_load(args.folder, args.db)
        return
    if args.child == "pandas":
        pandas_load(args.folder, args.db)
        return

    folder = sample_dir(args.size)
    reps = args.reps or 3
    work = folder.parent / "etl-bench"
    work.mkdir(exist_ok=True)
    # One file per run of this script: checkouts sharing ESLABON_BENCH_DATA may run at once.
    names = ("eslabon", "floor", "pandas", "against")
    dbs = {name: work / f"{args.size}-{name}-{os.getpid()}.duckdb" for name in names}
    py = sys.executable
    contenders = {
        "eslabon": lambda: [py, "-m", "etl", "load", str(folder),
                            "--db", f"duckdb:///{_fresh(dbs['eslabon'])}"],
        "floor": lambda: [py, "-m", "bench.etl_load", "--child", "floor",
                          "--folder", str(folder), "--db", str(_fresh(dbs["floor"]))],
        "pandas": lambda: [py, "-m", "bench.etl_load", "--child", "pandas",
                           "--folder", str(folder), "--db", str(_fresh(dbs["pandas"]))],
    }  # fmt: skip
    if args.no_pandas:
        del contenders["pandas"]
    if args.against is not None:
        # The other checkout's packages first on sys.path, then `python -m etl` as usual.
        run_other = (
            "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
            "runpy.run_module('etl', run_name='__main__', alter_sys=True)"
        )
        other = str(args.against.resolve())
        contenders["against"] = lambda: [
            py, "-c", run_other, other, "load", str(folder),
            "--db", f"duckdb:///{_fresh(dbs['against'])}",
        ]  # fmt: skip
    size = csv_bytes(folder)
    print(f"ETL load, {args.size}: {size / 2**20:,.0f} MiB of CSV, {reps} reps", flush=True)
    pandas_reps = args.pandas_reps or (1 if args.size == "1m" else reps)
    try:
        results = alternate_children(contenders, reps, {"pandas": pandas_reps})
        counts = {name: table_counts(dbs[name]) for name in contenders}
    finally:
        for db in dbs.values():
            _fresh(db)
    assert all(c == counts["eslabon"] for c in counts.values()), counts
    print(f"rows loaded (all contenders agree): {counts['eslabon']}")
    print_table(
        f"ETL load ({args.size})", results, versus=[n for n in contenders if n != "eslabon"]
    )
    for name in ("eslabon", "against"):
        if name in results:
            per_rep = [
                t / f for t, f in zip(results[name].times, results["floor"].times, strict=True)
            ]
            print(
                f"\n{name} ÷ floor per rep: median {statistics.median(per_rep):.2f}, "
                f"{min(per_rep):.2f}–{max(per_rep):.2f}"
            )
    peak = results["eslabon"].peak or 0
    print(
        f"\neslabon peak RSS ÷ CSV size = {peak / size:.2f} "
        f"(goal < 3; {peak / 2**20:,.0f} MiB vs {size / 2**20:,.0f} MiB)"
    )


if __name__ == "__main__":
    main()
