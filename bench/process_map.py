"""Process map (directly-follows counts and median durations): Eslabón vs pm4py.

- eslabon: `dashboard.metrics.process_map.directly_follows(conn, MetricFilter(as_of))`
  (one SQL query with LEAD over each case);
- pm4py: `discover_dfg` (frequency) and `discover_performance_dfg` (durations) on the
  same event log — events up to as_of of non-cancelled `to_customer` commitments — as a
  DataFrame already in memory and sorted like the metric orders ties (case, at, stage,
  seq). Reading the log is not timed (generous to the peer).

Counts must be identical and medians equal to the second (asserted). Memory: Python
heap peak (tracemalloc) of one untimed call each. Run:
`.venv/bin/python -m bench.process_map --size 100k`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math

import pandas as pd
import sqlalchemy as sa

from bench.common import alternate_calls, print_table, raw_connection, sample_connection, size_arg
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.process_map import directly_follows

LOG_SQL = """
SELECT e.commitment_id AS "case:concept:name", e.stage AS "concept:name",
    e."at" AS "time:timestamp"
FROM events e JOIN commitments c ON c.commitment_id = e.commitment_id
WHERE NOT c.cancelled AND c.direction = 'to_customer' AND e."at" <= $as_of
ORDER BY e.commitment_id, e."at", e.stage, e.seq
"""


def event_log(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """The log pm4py gets, read once before timing."""
    log: pd.DataFrame = raw_connection(conn).execute(LOG_SQL, {"as_of": f.as_of}).df()
    return log


def eslabon_map(conn: sa.Connection, f: MetricFilter) -> dict[tuple[str, str], tuple[int, float]]:
    """(source, target) → (count, median hours) from the metric function."""
    df = directly_follows(conn, f)
    return {
        (s, t): (int(n), float(h))
        for s, t, n, h in zip(
            df["source"], df["target"], df["count"], df["median_hours"], strict=True
        )
    }


def pm4py_map(log: pd.DataFrame) -> dict[tuple[str, str], tuple[int, float]]:
    """(source, target) → (count, median hours) from pm4py's DFG discoveries."""
    import pm4py

    frequency, _, _ = pm4py.discover_dfg(log)
    performance, _, _ = pm4py.discover_performance_dfg(log)
    return {
        pair: (int(n), float(performance[pair]["median"]) / 3600.0) for pair, n in frequency.items()
    }


def main(argv: list[str] | None = None) -> None:
    """Check both agree, then time them alternately and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size_arg(parser)
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):
        import pm4py  # noqa: F401  (its import prints a banner)
    with sample_connection(args.size) as (conn, f):
        log = event_log(conn, f)
        mine, peer = eslabon_map(conn, f), pm4py_map(log)
        assert {k: v[0] for k, v in mine.items()} == {k: v[0] for k, v in peer.items()}, (
            "directly-follows counts differ from pm4py"
        )
        for pair, (_, hours) in mine.items():
            assert math.isclose(hours, peer[pair][1], abs_tol=1 / 3600), (pair, hours, peer[pair])
        print(
            f"process map ({args.size}): {len(mine)} pairs, {sum(v[0] for v in mine.values()):,} "
            f"transitions from {len(log):,} events; counts identical to pm4py, medians equal",
            flush=True,
        )
        results = alternate_calls(
            {"eslabon": lambda: eslabon_map(conn, f), "pm4py": lambda: pm4py_map(log)},
            args.reps or 5,
        )
    print_table(f"Process map ({args.size})", results, versus=["pm4py"])


if __name__ == "__main__":
    main()
