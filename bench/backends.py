"""PostgreSQL beside DuckDB: the same load and every metric call a page makes, side by side.

`python -m bench.backends --size 100k|1m [--reps N] [--pg-url URL] [--view-weeks W]
[--reuse]`

The team server is PostgreSQL; the goal is every call within 5× of the embedded DuckDB
on the same data. Both databases are loaded with `python -m etl load` (PostgreSQL in a
schema of its own, `bench_<size>`, created fresh), each load timed as a child process.
Before timing, each call's result is checked equal on both (row counts, and every value
of the headline KPIs). Calls then run alternately, DuckDB then PostgreSQL, `reps` times.

`--view-weeks W` looks at the last W weeks instead of the pages' default 13. The sample's
due dates span 26 weeks, so 13 weeks are half of it; in a database that holds three
years, 13 weeks are 8 % of the rows, as 2 weeks are here (`--view-weeks 2`). `--reuse`
times the databases a previous run loaded (its load times are then not measured).

Two floor rows come first: the plainest reads of the same view's commitments that any
status count needs (a count; a count of on-time deliveries per stage). PostgreSQL answers
no call that reads those rows faster than its floor, so such a call can be within 5×
only where DuckDB's own time is at least a fifth of PostgreSQL's floor
(docs/benchmarks.md, "The team server").
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pandas as pd
import sqlalchemy as sa

from bench.common import DATA_DIR, PROJECT_ROOT, alternate_calls, run_child, sample_dir, size_arg

PG_URL = os.environ.get("ESLABON_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
GOAL = 5.0


def _schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def fresh_pg_schema(base: str, schema: str) -> str:
    """Drop and recreate `schema`; the URL whose search_path points at it."""
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return _schema_url(base, schema)


def calls(at: Any, weeks: int = 13) -> dict[str, Callable[[sa.Connection], Any]]:
    """Every metric call the pages make on their default view (13 weeks to as_of)."""
    from dashboard.metrics import (
        complaints,
        kpis,
        ontime,
        process_map,
        propagation,
        satisfaction,
        trends,
    )

    f = view(at, weeks)
    return {
        "headline_kpis": lambda c: kpis.headline_kpis(c, f.with_(group_by="none")),
        "weekly_kpis (13 weeks)": lambda c: trends.weekly_kpis(c, f, 13),
        "on_time_summary by stage": lambda c: ontime.on_time_summary(
            c, f.with_(group_by="process")
        ),
        "delay_distribution": lambda c: ontime.delay_distribution(c, f),
        "commitment_list": lambda c: ontime.commitment_list(c, f),
        "propagation_summary": lambda c: propagation.propagation_summary(c, f),
        "root_impact": lambda c: propagation.root_impact(c, f),
        "contagion_lift": lambda c: propagation.contagion_lift(c, f),
        "breach_flows": lambda c: propagation.breach_flows(c, f),
        "at_risk_commitments": lambda c: propagation.at_risk_commitments(c, f),
        "directly_follows": lambda c: process_map.directly_follows(c, f),
        "stage_durations": lambda c: process_map.stage_durations(c, f),
        "process_dependency_flows": lambda c: process_map.process_dependency_flows(c, f),
        "satisfaction_summary by week": lambda c: satisfaction.satisfaction_summary(
            c, f.with_(group_by="week")
        ),
        "breach_cost": lambda c: satisfaction.breach_cost(c, f),
        "complaints_summary by stage": lambda c: complaints.complaints_summary(
            c, f.with_(group_by="process")
        ),
    }


# The least any status count reads: the filter's rows, and the three columns of a status.
_FLOOR_COUNT = "SELECT count(*) FROM commitments c WHERE NOT c.cancelled AND {where}"
_FLOOR_GROUPED = """
SELECT c.process, count(CASE WHEN c.delivered_at <= c.due_at THEN 1 END) AS on_time
FROM commitments c
WHERE NOT c.cancelled AND {where}
GROUP BY c.process
"""


def view(at: Any, weeks: int = 13) -> Any:
    """The filter of a page's default view: due in the `weeks` weeks up to `at`."""
    from dashboard.metrics.filters import MetricFilter

    return MetricFilter(as_of=at, date_from=(at - timedelta(weeks=weeks)).date(), date_to=at.date())


def floor_calls(at: Any, weeks: int = 13) -> dict[str, Callable[[sa.Connection], Any]]:
    """The plainest reads of the view's commitments, for the floor rows."""
    f = view(at, weeks)
    where, params = f.sql_where("c")
    # Only filters.py's fixed conditions are spliced in; values are bound.
    count, grouped = _FLOOR_COUNT.format(where=where), _FLOOR_GROUPED.format(where=where)
    return {
        "floor: count the view": lambda c: c.execute(sa.text(count), params).fetchall(),
        "floor: on time per stage": lambda c: c.execute(sa.text(grouped), params).fetchall(),
    }


def _size_of(result: Any) -> int:
    return len(result) if isinstance(result, pd.DataFrame | dict | list) else 1


def assert_same(name: str, duck: Any, pg: Any) -> None:
    """Both backends computed the same thing: same row count; headline values equal."""
    assert _size_of(duck) == _size_of(pg), (name, _size_of(duck), _size_of(pg))
    if name == "headline_kpis":
        for column in duck.columns:
            a, b = duck[column].iloc[0], pg[column].iloc[0]
            if a is None or b is None or pd.isna(a) or pd.isna(b):
                assert (a is None or pd.isna(a)) and (b is None or pd.isna(b)), (column, a, b)
            elif isinstance(a, int | float):
                assert math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9), (column, a, b)


def main(argv: list[str] | None = None) -> None:
    """Load both, check they agree, time every call alternately, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size_arg(parser)
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server (a database)")
    parser.add_argument("--view-weeks", type=int, default=13, help="weeks of due dates viewed")
    parser.add_argument("--reuse", action="store_true", help="time the last run's databases")
    args = parser.parse_args(argv)
    from dashboard.metrics.kpis import dataset_as_of
    from etl.db import create_db_engine

    source = sample_dir(args.size)
    duck_file = DATA_DIR / f"backends-{args.size}.duckdb"
    duck_url = f"duckdb:///{duck_file}"
    schema = f"bench_{args.size}"
    load_seconds: dict[str, float] = {}
    if args.reuse:
        pg_url = _schema_url(args.pg_url, schema)
        loads: tuple[tuple[str, str], ...] = ()
    else:
        duck_file.unlink(missing_ok=True)
        pg_url = fresh_pg_schema(args.pg_url, schema)
        loads = (("duckdb", duck_url), ("postgresql", pg_url))
    for name, url in loads:
        seconds, peak = run_child(
            [sys.executable, "-m", "etl", "load", str(source), "--db", url], cwd=PROJECT_ROOT
        )
        load_seconds[name] = seconds
        print(f"load into {name}: {seconds:.1f} s, peak {peak / 2**20:,.0f} MiB", flush=True)

    duck_engine, pg_engine = create_db_engine(duck_url), create_db_engine(pg_url)
    rows = []
    with duck_engine.connect() as duck, pg_engine.connect() as pg:
        at = dataset_as_of(duck)
        weeks = args.view_weeks
        for name, call in {**floor_calls(at, weeks), **calls(at, weeks)}.items():
            assert_same(name, call(duck), call(pg))
            results = alternate_calls(
                {"duckdb": partial(call, duck), "postgresql": partial(call, pg)},
                args.reps or 3,
            )
            d, p = results["duckdb"].median, results["postgresql"].median
            rows.append((name, d, p))
    duck_engine.dispose()
    pg_engine.dispose()

    title = f"{args.size}, due in the last {args.view_weeks} weeks"
    print(f"\n### PostgreSQL beside DuckDB ({title}), every call checked equal first\n")
    print("| call | DuckDB median s | PostgreSQL median s | PG ÷ DuckDB | within 5× |")
    print("|---|---:|---:|---:|:---:|")
    if load_seconds:
        d, p = load_seconds["duckdb"], load_seconds["postgresql"]
        verdict = "yes" if p / d <= GOAL else "no"
        print(f"| `etl load` (COPY on PG) | {d:.2f} | {p:.2f} | {p / d:.2f} | {verdict} |")
    for name, d, p in rows:
        ratio = p / d if d > 0 else float("inf")
        print(f"| {name} | {d:.3f} | {p:.3f} | {ratio:.2f} | {'yes' if ratio <= GOAL else 'no'} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
