"""The process map of a real log (Italian helpdesk, 4,580 cases) against an independent count.

The log goes into the database without the ETL (one commitment per case, the events as
they are), timestamps converted as the loader stores them: naive wall-clock time in
Europe/Madrid. The independent count is plain pandas: sort by case and time, shift by one.

Two facts of the raw file shape the comparison, and the test pins them:
- 127 rows repeat another row exactly (same case, activity, time and every other
  column): the same step recorded twice. Both are events; `seq` numbers the repeats
  1, 2, … in file order, as the loader does, and all 21,348 are stored;
- 3 cases have two different activities at the same second. Loaded by the ETL, the map
  keeps the file's order for them (`log_order`), as a process-mining tool does; the last
  test loads the file that way. The first tests insert the events without `log_order`
  (as stored before it existed), where the stage name breaks the tie; those cases go in
  a process of their own, so the rest of the log can be compared with file order too.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.process_map import directly_follows, stage_durations
from etl import schema
from etl.event_steps import store_all_event_steps

AS_OF = datetime(2014, 6, 1)
MAIN, TIES = "Helpdesk", "Helpdesk (empates)"


def read_log(folder: Path) -> pd.DataFrame:
    """The raw file as the loader would store it: case, stage, naive Madrid time, file row."""
    raw = pd.read_csv(folder / "helpdesk_events.csv", dtype=str)
    utc = pd.to_datetime(raw["time:timestamp"], utc=True)
    return pd.DataFrame(
        {
            "case": raw["case"],
            "stage": raw["concept:name"],
            "at": utc.dt.tz_convert("Europe/Madrid").dt.tz_localize(None).astype("datetime64[us]"),
            "utc": utc,
            "actor": raw["org:resource"],
            "row": range(len(raw)),
            "duplicate": raw.duplicated(),
        }
    ).assign(seq=lambda d: d.groupby(["case", "stage", "at"]).cumcount() + 1)


def cases_with_stage_ties(log: pd.DataFrame) -> set[str]:
    """Cases where two different stages share one instant."""
    distinct = log.drop_duplicates(["case", "stage", "at"])
    tied = distinct[distinct.duplicated(["case", "at"], keep=False)]
    return set(tied["case"])


def independent_dfg(log: pd.DataFrame, order: list[str], time: str) -> pd.DataFrame:
    """Directly-follows pairs with count and median hours, by sort and shift (no SQL)."""
    d = log.sort_values(order, kind="stable")
    nxt = d.groupby("case")["stage"].shift(-1)
    nxt_at = d.groupby("case")[time].shift(-1)
    has_next = nxt.notna()
    pairs = pd.DataFrame(
        {
            "source": d.loc[has_next, "stage"],
            "target": nxt[has_next],
            "secs": (nxt_at[has_next] - d.loc[has_next, time]).dt.total_seconds(),
        }
    )
    out = pairs.groupby(["source", "target"])["secs"].agg(["count", "median"]).reset_index()
    out["median_hours"] = out.pop("median") / 3600.0
    return out.sort_values(["source", "target"]).reset_index(drop=True)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def bulk_load(engine: sa.Engine, commitments: pd.DataFrame, events: pd.DataFrame) -> None:
    """Insert whole frames (DuckDB scans the DataFrame, PostgreSQL takes an executemany)
    and pair the events as a load does."""
    with engine.begin() as conn:
        if engine.dialect.name == "duckdb":
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.register("c_df", commitments)
            raw.register("e_df", events)
            raw.execute(
                f"INSERT INTO commitments ({', '.join(commitments.columns)}) SELECT * FROM c_df"
            )
            raw.execute(
                'INSERT INTO events (commitment_id, stage, "at", seq, actor) SELECT * FROM e_df'
            )
            raw.unregister("c_df")
            raw.unregister("e_df")
        else:
            conn.execute(schema.commitments.insert(), _records(commitments))
            conn.execute(schema.events.insert(), _records(events))
        store_all_event_steps(conn)  # what a load derives: each event's successor


def load_helpdesk(engine: sa.Engine, folder: Path) -> tuple[pd.DataFrame, set[str]]:
    """The log into the database, one commitment per case; returns the stored events and
    the cases with stage ties (in a process of their own)."""
    log = read_log(folder)
    # facts of the file
    assert log["case"].nunique() == 4580
    assert len(log) == 21348
    assert int(log["duplicate"].sum()) == 127
    ties = cases_with_stage_ties(log)
    assert len(ties) == 3

    events = log  # every row is an event, repeats included
    first = events.groupby("case")["at"].agg(["min", "max"])
    commitments = pd.DataFrame(
        {
            "commitment_id": first.index,
            "process": [TIES if c in ties else MAIN for c in first.index],
            "customer": "Helpdesk",
            "direction": "to_customer",
            "requested_at": first["min"].to_numpy(),
            "due_at": first["max"].to_numpy(),
            "cancelled": False,
        }
    )
    bulk_load(
        engine,
        commitments,
        events[["case", "stage", "at", "seq", "actor"]].rename(columns={"case": "commitment_id"}),
    )
    return events, ties


def test_helpdesk_directly_follows_equals_independent_count(
    engine: sa.Engine, real_data: Path
) -> None:
    events, ties = load_helpdesk(engine, real_data)
    f = MetricFilter(as_of=AS_OF)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
        ours = directly_follows(conn, f)
        ours_main = directly_follows(conn, f.with_(processes=(MAIN,)))
        stages = stage_durations(conn, f)
    assert stored == 21348

    # 1. every pair and median equal to the count by sort and shift, same tie rule
    expected = independent_dfg(events, ["case", "at", "stage", "seq"], "at")
    got = ours.sort_values(["source", "target"]).reset_index(drop=True)
    assert len(got) == len(expected) == 55
    pd.testing.assert_frame_equal(
        got[["source", "target", "count"]], expected[["source", "target", "count"]]
    )
    assert got["count"].sum() == len(events) - 4580
    pd.testing.assert_series_equal(got["median_hours"], expected["median_hours"], check_exact=True)

    # 2. away from the three tied cases the order is the file's own, as a process-mining
    # tool reads it (stable sort on the UTC time): the pair counts are identical
    file_order = independent_dfg(events[~events["case"].isin(ties)], ["case", "utc", "row"], "utc")
    got_main = ours_main.sort_values(["source", "target"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got_main[["source", "target", "count"]], file_order[["source", "target", "count"]]
    )

    # 3. stage durations: visits are events per stage, measured those with a next event
    visits = events.groupby("stage").size()
    assert dict(zip(stages["stage"], stages["visits"], strict=True)) == visits.to_dict()
    assert stages["measured"].sum() == len(events) - 4580


def test_helpdesk_directly_follows_equals_pm4py(duckdb_engine: sa.Engine, real_data: Path) -> None:
    """pm4py's own directly-follows graph (frequency and performance) on the events as the
    database holds them, sorted by case, time, stage and seq: the same pairs, counts and
    medians.

    pm4py is a peer in the benchmarks (bench requirements), not a dependency of Eslabón:
    the test runs where it is installed.
    """
    pm4py = pytest.importorskip("pm4py")
    load_helpdesk(duckdb_engine, real_data)
    f = MetricFilter(as_of=AS_OF)
    with duckdb_engine.connect() as conn:
        ours = directly_follows(conn, f)
        stored = pd.read_sql(
            sa.text(
                'SELECT commitment_id, stage, "at" FROM events'
                ' ORDER BY commitment_id, "at", stage, seq'
            ),
            conn,
        )
    log = pm4py.format_dataframe(
        stored, case_id="commitment_id", activity_key="stage", timestamp_key="at"
    )
    frequency, _, _ = pm4py.discover_dfg(log)
    performance, _, _ = pm4py.discover_performance_dfg(log)
    assert {(r.source, r.target): r.count for r in ours.itertuples()} == dict(frequency)
    assert {(r.source, r.target): r.median_hours for r in ours.itertuples()} == pytest.approx(
        {pair: stats["median"] / 3600.0 for pair, stats in performance.items()}, abs=1e-9
    )


def test_helpdesk_loaded_by_the_etl_keeps_the_files_order_in_ties(
    engine: sa.Engine, real_data: Path
) -> None:
    """Through the shipped mapping, every case (the three with two stages at one second
    included) is ordered as a process-mining tool orders the file: by time, then by row
    (issue 14, item 2). The old stage-name rule gave other pairs in those three cases."""
    from etl.load import load_files
    from etl.mapping import shipped_mappings

    report = load_files(
        engine,
        [real_data / "helpdesk_events.csv"],
        mapping=shipped_mappings()["helpdesk_events"],
    )
    assert [(f.kind, f.new, f.rejected) for f in report.files] == [
        ("commitments", 4580, 0),
        ("events", 21348, 0),
    ]
    events = read_log(real_data)
    f = MetricFilter(as_of=AS_OF)
    with engine.connect() as conn:
        ours = directly_follows(conn, f)
    got = ours.sort_values(["source", "target"]).reset_index(drop=True)
    # the file's order: a stable sort by time keeps the rows of one instant as written
    by_file = independent_dfg(events, ["case", "at", "row"], "at")
    pd.testing.assert_frame_equal(
        got[["source", "target", "count"]], by_file[["source", "target", "count"]]
    )
    pd.testing.assert_series_equal(got["median_hours"], by_file["median_hours"], check_exact=True)
    # and in UTC, as a process-mining tool reads the offsets: the same pairs and counts
    in_utc = independent_dfg(events, ["case", "utc", "row"], "utc")
    pd.testing.assert_frame_equal(
        got[["source", "target", "count"]], in_utc[["source", "target", "count"]]
    )
    # the stage-name rule differs on exactly the tied cases: this test can fail
    by_name = independent_dfg(events, ["case", "at", "stage", "seq"], "at")
    assert not by_name[["source", "target", "count"]].equals(by_file[["source", "target", "count"]])
