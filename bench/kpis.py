"""Headline KPIs of the whole export: Eslabón vs an expert SQL script vs pandas.

- eslabon: `dashboard.metrics.kpis.headline_kpis(conn, MetricFilter(as_of))`, the function
  the pages and the export call (six metric queries, merged);
- floor: the same 18 KPIs as ONE hand-written DuckDB query below (each commitment's status
  computed once, every count a FILTER aggregate), run on the same connection;
- pandas: the same KPIs computed with pandas on DataFrames read from the database (the
  read is included, through DuckDB's fastest path, `.df()`).

All three must give the same numbers (asserted, to 1e-9 relative). Memory: Python heap
peak (tracemalloc) of one untimed call each; DuckDB's native memory is not in it.
Run: `.venv/bin/python -m bench.kpis --size 100k`.

`--standards` adds a second table: the same export on a copy of the sample whose
commitments carry no `due_at`, every due date derived from the standards shipped in
`bench/standards/` (office calendar 08–14 and 15–18 with Madrid's public holidays and three
company days off, one policy per process, clock paused in Revisión|Renegociación), loaded by
`python -m etl load` into `bench/data/standards-<size>.duckdb` (cached like the sample's
database). Timed alternately with the export on explicit due dates (goal: ≤ 2×), plus the
load's standards step (`etl.standards.standards_frame`) on its own.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import sqlalchemy as sa

from bench.common import (
    BENCH_DIR,
    DATA_DIR,
    PROJECT_ROOT,
    alternate_calls,
    print_table,
    raw_connection,
    sample_connection,
    sample_dir,
    size_arg,
)
from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import headline_kpis
from dashboard.metrics.standards import pauses_stored
from etl.db import create_db_engine
from etl.standards import standards_frame

STANDARDS_FILES = BENCH_DIR / "standards"
# The KPIs that need service standards; the floor and pandas compute the others (they
# are None on a database without policies, asserted).
STANDARD_KPIS = ("within_standard_rate", "median_business_delay_hours", "p90_business_delay_hours")
CLASSIC_KPIS = tuple(k for k in HEADLINE_KPIS if k not in STANDARD_KPIS)

EXPERT_SQL = """
WITH st AS (
    SELECT commitment_id, direction,
        CASE WHEN delivered_at <= $as_of AND delivered_at <= due_at THEN 1
             WHEN delivered_at <= $as_of OR due_at < $as_of THEN 2
             ELSE 0 END AS st,
        CASE WHEN delivered_at <= $as_of AND delivered_at > due_at
                 THEN epoch(delivered_at - due_at) / 86400.0
             WHEN (delivered_at IS NULL OR delivered_at > $as_of) AND due_at < $as_of
                 THEN epoch($as_of - due_at) / 86400.0 END AS delay
    FROM commitments
    WHERE NOT cancelled
),
bu AS (
    SELECT DISTINCT d.commitment_id
    FROM dependencies d JOIN st u ON u.commitment_id = d.depends_on
    WHERE u.st = 2
),
pn AS (
    SELECT DISTINCT n.commitment_id
    FROM notices n JOIN commitments c ON c.commitment_id = n.commitment_id
    WHERE n.sent_at <= $as_of AND n.sent_at < c.due_at
),
t AS (
    SELECT st.st, st.delay, bu.commitment_id IS NOT NULL AS exposed,
        pn.commitment_id IS NOT NULL AS noticed
    FROM st
    LEFT JOIN bu ON bu.commitment_id = st.commitment_id
    LEFT JOIN pn ON pn.commitment_id = st.commitment_id
    WHERE st.direction = 'to_customer'
),
ids AS (SELECT commitment_id FROM st WHERE direction = 'to_customer'),
k AS (
    SELECT
        count(*) FILTER (WHERE st > 0) AS due,
        count(*) FILTER (WHERE st = 1) AS on_time,
        count(*) FILTER (WHERE st = 2) AS breaches,
        count(*) FILTER (WHERE st = 0) AS pending,
        quantile_cont(delay, 0.5) AS median_delay_days,
        quantile_cont(delay, 0.9) AS p90_delay_days,
        count(*) FILTER (WHERE st = 2 AND NOT exposed) AS root_breaches,
        count(*) FILTER (WHERE st = 2 AND exposed) AS propagated_breaches,
        count(*) FILTER (WHERE st = 1 AND exposed) AS absorbed,
        count(*) FILTER (WHERE st > 0 AND exposed) AS exposed,
        count(*) FILTER (WHERE st = 0 AND exposed) AS at_risk,
        count(*) FILTER (WHERE st = 2 AND noticed) AS proactive
    FROM t
),
sat AS (
    SELECT count(csat) AS n_csat, count(*) FILTER (WHERE csat >= 4) AS csat4,
        sum(csat) AS csat_sum, count(nps) AS n_nps,
        count(*) FILTER (WHERE nps >= 9) AS promoters,
        count(*) FILTER (WHERE nps <= 6) AS detractors
    FROM satisfaction
    WHERE answered_at <= $as_of
      AND (commitment_id IS NULL OR commitment_id IN (SELECT commitment_id FROM ids))
),
cmp AS (
    SELECT count(*) AS n
    FROM complaints
    WHERE opened_at <= $as_of
      AND (commitment_id IS NULL OR commitment_id IN (SELECT commitment_id FROM ids))
),
fc AS (
    SELECT count(*) FILTER (WHERE st > 0) AS due, count(*) FILTER (WHERE st = 1) AS kept
    FROM st WHERE direction = 'from_customer'
)
SELECT
    k.due, k.on_time, k.breaches, k.pending,
    k.on_time / nullif(k.due, 0)::DOUBLE AS on_time_rate,
    round(k.median_delay_days, 6) AS median_delay_days,
    round(k.p90_delay_days, 6) AS p90_delay_days,
    k.root_breaches, k.propagated_breaches, k.absorbed,
    k.propagated_breaches / nullif(k.exposed, 0)::DOUBLE AS propagation_rate,
    k.at_risk,
    sat.csat4 / nullif(sat.n_csat, 0)::DOUBLE AS csat_pct,
    sat.csat_sum / nullif(sat.n_csat, 0)::DOUBLE AS csat_mean,
    100 * (sat.promoters - sat.detractors) / nullif(sat.n_nps, 0)::DOUBLE AS nps,
    100 * cmp.n / nullif(k.due, 0)::DOUBLE AS complaints_per_100,
    k.proactive / nullif(k.breaches, 0)::DOUBLE AS proactive_notice_rate,
    fc.kept / nullif(fc.due, 0)::DOUBLE AS customer_commitments_kept
FROM k, sat, cmp, fc
"""


def eslabon_kpis(conn: sa.Connection, f: MetricFilter) -> dict[str, Any]:
    """The product's numbers: the one-row headline table as a dict."""
    return {str(k): v for k, v in headline_kpis(conn, f).iloc[0][list(HEADLINE_KPIS)].items()}


def expert_kpis(conn: sa.Connection, f: MetricFilter) -> dict[str, Any]:
    """The floor: the hand-written query on the same DuckDB connection."""
    raw = raw_connection(conn)
    cursor = raw.execute(EXPERT_SQL, {"as_of": f.as_of})
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchall()[0], strict=True))


def _frame(conn: sa.Connection, sql: str) -> pd.DataFrame:
    frame: pd.DataFrame = raw_connection(conn).execute(sql).df()
    return frame


def pandas_kpis(conn: sa.Connection, f: MetricFilter) -> dict[str, Any]:
    """The peer: the same definitions written in pandas on the tables read into memory."""
    as_of = pd.Timestamp(f.as_of)
    c = _frame(
        conn, "SELECT commitment_id, direction, due_at, delivered_at, cancelled FROM commitments"
    )
    deps = _frame(conn, "SELECT commitment_id, depends_on FROM dependencies")
    notices = _frame(conn, "SELECT commitment_id, sent_at FROM notices")
    sat = _frame(conn, "SELECT commitment_id, answered_at, csat, nps FROM satisfaction")
    comp = _frame(conn, "SELECT commitment_id, opened_at FROM complaints")

    c = c[~c["cancelled"]]
    known = c["delivered_at"] <= as_of
    on_time = known & (c["delivered_at"] <= c["due_at"])
    breach = ~on_time & (known | (c["due_at"] < as_of))
    status = np.select([on_time, breach], [1, 2], 0)
    delay = pd.Series(np.nan, index=c.index)
    late = known & (c["delivered_at"] > c["due_at"])
    delay[late] = (c["delivered_at"] - c["due_at"])[late].dt.total_seconds() / 86400.0
    open_late = ~known & (c["due_at"] < as_of)
    delay[open_late] = (as_of - c["due_at"])[open_late].dt.total_seconds() / 86400.0
    c = c.assign(st=status, delay=delay)

    breached = set(c.loc[c["st"] == 2, "commitment_id"])
    exposed_ids = set(deps.loc[deps["depends_on"].isin(breached), "commitment_id"])
    due_at = c.set_index("commitment_id")["due_at"]
    n = notices[notices["sent_at"] <= as_of]
    n = n[n["sent_at"] < n["commitment_id"].map(due_at)]
    noticed_ids = set(n["commitment_id"])

    t = c[c["direction"] == "to_customer"]
    exposed = t["commitment_id"].isin(exposed_ids)
    noticed = t["commitment_id"].isin(noticed_ids)
    st = t["st"]
    due = int((st > 0).sum())
    breaches = int((st == 2).sum())
    exposed_due = int(((st > 0) & exposed).sum())
    delays = t.loc[st == 2, "delay"]
    ids = set(t["commitment_id"])
    sat = sat[(sat["answered_at"] <= as_of)]
    sat = sat[sat["commitment_id"].isna() | sat["commitment_id"].isin(ids)]
    csat, nps = sat["csat"].dropna(), sat["nps"].dropna()
    comp = comp[comp["opened_at"] <= as_of]
    comp = comp[comp["commitment_id"].isna() | comp["commitment_id"].isin(ids)]
    fc = c.loc[c["direction"] == "from_customer", "st"]

    def rate(a: float, b: float) -> float | None:
        return a / b if b else None

    return {
        "due": due,
        "on_time": int((st == 1).sum()),
        "breaches": breaches,
        "pending": int((st == 0).sum()),
        "on_time_rate": rate(int((st == 1).sum()), due),
        "median_delay_days": round(float(delays.quantile(0.5)), 6),
        "p90_delay_days": round(float(delays.quantile(0.9)), 6),
        "root_breaches": int(((st == 2) & ~exposed).sum()),
        "propagated_breaches": int(((st == 2) & exposed).sum()),
        "absorbed": int(((st == 1) & exposed).sum()),
        "propagation_rate": rate(int(((st == 2) & exposed).sum()), exposed_due),
        "at_risk": int(((st == 0) & exposed).sum()),
        "csat_pct": rate(int((csat >= 4).sum()), len(csat)),
        "csat_mean": rate(float(csat.sum()), len(csat)),
        "nps": rate(100.0 * (int((nps >= 9).sum()) - int((nps <= 6).sum())), len(nps)),
        "complaints_per_100": rate(100.0 * len(comp), due),
        "proactive_notice_rate": rate(int(((st == 2) & noticed).sum()), breaches),
        "customer_commitments_kept": rate(int((fc == 1).sum()), int((fc > 0).sum())),
    }


def assert_same(name: str, got: dict[str, Any], want: dict[str, Any]) -> None:
    """Every KPI equal (floats to 1e-9 relative): the contenders compute the same thing."""
    for kpi in CLASSIC_KPIS:
        a, b = got[kpi], want[kpi]
        if a is None or b is None:
            assert a is None and b is None, (name, kpi, a, b)
            continue
        assert math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9), (name, kpi, a, b)


def standards_sample_dir(size: str) -> Path:
    """The sample of that size with every `due_at` (and `original_due_at`) blanked and the
    shipped standards beside it: every due date must come from a policy. Made when missing;
    the files other than commitments are links to the sample's."""
    out = DATA_DIR / f"standards-{size}"
    if (out / "commitments.csv").exists():
        return out
    source = sample_dir(size)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for path in source.iterdir():
        if path.name != "commitments.csv":
            (tmp / path.name).symlink_to(path.resolve())
    for path in STANDARDS_FILES.glob("*.csv"):
        shutil.copy(path, tmp / path.name)
    duckdb.execute(
        "COPY (SELECT * REPLACE (NULL AS due_at, NULL AS original_due_at)"
        " FROM read_csv(?, all_varchar = true)) TO ? (HEADER, DELIMITER ',')",
        [str(source / "commitments.csv"), str(tmp / "commitments.csv")],
    )
    tmp.rename(out)
    return out


def standards_db(size: str) -> Path:
    """The DuckDB file of the standards copy loaded by `python -m etl load` (made when
    missing; the load's wall time is printed then)."""
    db = DATA_DIR / f"standards-{size}.duckdb"
    if not db.exists():
        source = standards_sample_dir(size)
        print(f"loading {source} into {db} ...", flush=True)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "etl", "load", str(source), "--db", f"duckdb:///{db}"],
            cwd=PROJECT_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"  python -m etl load (with standards): {time.perf_counter() - start:.1f} s")
    engine = create_db_engine(f"duckdb:///{db}", read_only=True)
    try:
        with engine.connect() as conn:
            stored = pauses_stored(conn)
    finally:
        engine.dispose()
    if not stored:  # loaded by a release before stored pauses: upgrade it as a user would
        print(f"storing the pauses of {db} (python -m etl init) ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "etl", "init", "--db", f"duckdb:///{db}"],
            cwd=PROJECT_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return db


def check_derived(conn: sa.Connection, sconn: sa.Connection, f: MetricFilter) -> None:
    """Before timing: every commitment of the copy took its due date from a policy, and
    the export on it counts a population of the same order as on explicit due dates."""
    n, covered = sconn.execute(
        sa.text(
            "SELECT count(*), count(*) FILTER (WHERE policy_id IS NOT NULL"
            " AND policy_version IS NOT NULL AND standard_due_at IS NOT NULL"
            " AND due_from_standard AND due_at = standard_due_at) FROM commitments"
        )
    ).one()
    explicit = conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar_one()
    assert n == explicit == covered, (n, explicit, covered)
    # The existing KPIs stay those of the hand-written floor on derived dates (at_risk
    # differs by design: it adds the elapsed-share reason).
    got, want = eslabon_kpis(sconn, f), expert_kpis(sconn, f)
    assert_same("floor on standards", {**got, "at_risk": 0}, {**want, "at_risk": 0})
    ref = eslabon_kpis(conn, f)
    for kpi in ("due", "breaches", "pending"):
        assert 0.5 <= got[kpi] / ref[kpi] <= 2, (kpi, got[kpi], ref[kpi])
    assert 0.2 <= got["on_time_rate"] <= 0.95, got["on_time_rate"]
    print(f"standards copy: {n:,} commitments, every due date from a policy", flush=True)
    for kpi in ("due", "on_time", "breaches", "pending", "on_time_rate", "at_risk"):
        print(f"  {kpi}: explicit {ref[kpi]} · derived {got[kpi]}", flush=True)


def standards_tables(conn: sa.Connection, f: MetricFilter, size: str, reps: int) -> None:
    """The export on derived due dates beside the same export on explicit ones, and the
    load's standards step on its own."""
    engine = create_db_engine(f"duckdb:///{standards_db(size)}")
    try:
        with engine.connect() as sconn:
            check_derived(conn, sconn, f)
            results = alternate_calls(
                {
                    "eslabon": lambda: headline_kpis(conn, f),
                    "standards": lambda: headline_kpis(sconn, f),
                },
                reps,
            )
            print_table(
                f"Headline KPIs, whole export: explicit due dates vs derived from standards "
                f"({size}); goal standards ÷ eslabon ≤ 2",
                results,
            )
            frame = standards_frame(sconn, f.as_of)
            assert frame["new_policy_id"].notna().all(), "every commitment has a policy"
            step = alternate_calls(
                {"standards_frame": lambda: standards_frame(sconn, f.as_of)}, reps
            )
    finally:
        engine.dispose()
    res = step["standards_frame"]
    print(
        f"\nLoad's standards step, `etl.standards.standards_frame` in process ({size}, "
        f"{len(frame):,} commitments): median {res.median:.3f} s, min {min(res.times):.3f} s, "
        f"py-heap peak {(res.peak or 0) / 2**20:,.1f} MiB",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    """Check the three agree, then time them alternately and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size_arg(parser)
    parser.add_argument(
        "--standards",
        action="store_true",
        help="also time the export on due dates derived from bench/standards/",
    )
    args = parser.parse_args(argv)
    with sample_connection(args.size) as (conn, f):
        reference = eslabon_kpis(conn, f)
        assert all(reference[k] is None for k in STANDARD_KPIS), reference
        assert_same("floor", expert_kpis(conn, f), reference)
        assert_same("pandas", pandas_kpis(conn, f), reference)
        print(f"headline KPIs ({args.size}), all three agree: {reference}", flush=True)
        results = alternate_calls(
            {
                "eslabon": lambda: eslabon_kpis(conn, f),
                "floor": lambda: expert_kpis(conn, f),
                "pandas": lambda: pandas_kpis(conn, f),
            },
            args.reps or 5,
        )
        print_table(
            f"Headline KPIs, whole export ({args.size})", results, versus=["floor", "pandas"]
        )
        if args.standards:
            standards_tables(conn, f, args.size, args.reps or 5)


if __name__ == "__main__":
    main()
