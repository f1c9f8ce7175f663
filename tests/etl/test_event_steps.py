"""Each event stored with its case's next event (`event_steps`), kept by every load.

The stored pairs are checked against pairs made independently (pandas: the events read
back, sorted by the process map's order, shifted within each case) after first loads,
nightly batches that add to a case (at its end, or between two stored events), and
random pairs of batches; on both backends and through both ways a DuckDB file is
published.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.process_map import directly_follows
from etl.db import create_db_engine
from etl.event_steps import refresh_event_steps
from etl.load import load_files
from etl.publish import load_published
from etl.schema import create_schema, event_steps, events

COMMITMENTS = """commitment_id,title,process,customer,requested_at,due_at,delivered_at
A,Pedido,Ventas,Acme,2026-01-05,2026-01-20,
B,Pedido,Ventas,Acme,2026-01-05,2026-01-20,
"""


def _batch(folder: Path, events: str, commitments: str = COMMITMENTS) -> Path:
    folder.mkdir(parents=True)
    (folder / "commitments.csv").write_text(commitments, encoding="utf-8")
    (folder / "events.csv").write_text("commitment_id,stage,at\n" + events, encoding="utf-8")
    return folder


def stored_pairs(engine: sa.Engine) -> list[tuple[str, str, str | None]]:
    """(case, stage, next stage) of every stored pair, sorted."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT commitment_id, stage, next_stage FROM event_steps")
        ).fetchall()
    return sorted(((r[0], r[1], r[2]) for r in rows), key=repr)


def independent_pairs(conn: sa.Connection) -> pd.DataFrame:
    """Every event with the next one of its case, made in pandas from the events table."""
    ev = pd.DataFrame(
        conn.execute(
            sa.text('SELECT commitment_id, stage, "at", seq, log_order FROM events')
        ).fetchall(),
        columns=["commitment_id", "stage", "at", "seq", "log_order"],
    )
    ev = ev.sort_values(
        ["commitment_id", "at", "log_order", "stage", "seq"], na_position="last", kind="stable"
    )
    by_case = ev.groupby("commitment_id", sort=False)
    ev["next_stage"] = by_case["stage"].shift(-1)
    ev["next_at"] = by_case["at"].shift(-1)
    return _canonical(ev[["commitment_id", "stage", "at", "next_stage", "next_at"]])


def stored_frame(conn: sa.Connection) -> pd.DataFrame:
    rows = conn.execute(
        sa.text('SELECT commitment_id, stage, "at", next_stage, next_at FROM event_steps')
    ).fetchall()
    return _canonical(
        pd.DataFrame(rows, columns=["commitment_id", "stage", "at", "next_stage", "next_at"])
    )


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order, NULLs as None and times as Timestamps, to compare two sources."""
    out = frame.astype(object).where(frame.notna(), None)
    for col in ("at", "next_at"):
        out[col] = [None if v is None else pd.Timestamp(v) for v in out[col]]
    return out.sort_values(
        ["commitment_id", "at", "stage", "next_stage"], key=lambda s: s.astype(str)
    ).reset_index(drop=True)


def test_a_nightly_batch_gives_the_last_event_of_a_case_its_successor(
    db_url: str, tmp_path: Path
) -> None:
    """Worked by hand. Night 1: A is a@9 then b@10, B is a@9. Night 2 brings only A's new
    event c@11: b, A's last event until then, now has a successor; B is untouched."""
    engine = create_db_engine(db_url)
    try:
        first = "A,a,2026-01-06 09:00\nA,b,2026-01-06 10:00\nB,a,2026-01-06 09:00\n"
        load_files(engine, [_batch(tmp_path / "1", first)])
        assert stored_pairs(engine) == [("A", "a", "b"), ("A", "b", None), ("B", "a", None)]
        load_files(engine, [_batch(tmp_path / "2", "A,c,2026-01-06 11:00\n")])
        assert stored_pairs(engine) == [
            ("A", "a", "b"), ("A", "b", "c"), ("A", "c", None), ("B", "a", None),
        ]  # fmt: skip
        with engine.connect() as conn:
            pd.testing.assert_frame_equal(stored_frame(conn), independent_pairs(conn))
        # and what the map shows of it, before and after c happened
        with engine.connect() as conn:
            before = directly_follows(conn, MetricFilter(as_of=pd.Timestamp("2026-01-06 10:30")))
            after = directly_follows(conn, MetricFilter(as_of=pd.Timestamp("2026-01-07")))
        assert list(zip(before["source"], before["target"], before["count"], strict=True)) == [
            ("a", "b", 1)
        ]
        assert list(zip(after["source"], after["target"], after["count"], strict=True)) == [
            ("a", "b", 1),
            ("b", "c", 1),
        ]
    finally:
        engine.dispose()


@pytest.mark.parametrize("publish", ["always", "never"])
def test_a_late_event_between_two_stored_ones_splits_their_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, publish: str
) -> None:
    """A's x@9 and y@9 tie (the file's order decides: x first), z follows at 10. A late
    export brings w@9:30: y's successor becomes w, w's is z; whether the batch is written
    in place or through a copy of the DuckDB file."""
    url = f"duckdb:///{tmp_path / 'live.duckdb'}"
    monkeypatch.setenv("ESLABON_IN_PLACE", publish)
    tied = "A,x,2026-01-06 09:00\nA,y,2026-01-06 09:00\nA,z,2026-01-06 10:00\n"
    load_published(url, [_batch(tmp_path / "1", tied + "B,a,2026-01-06 09:00\n")])
    engine = create_db_engine(url, read_only=True)
    try:
        assert stored_pairs(engine) == [
            ("A", "x", "y"), ("A", "y", "z"), ("A", "z", None), ("B", "a", None),
        ]  # fmt: skip
    finally:
        engine.dispose()
    report = load_published(url, [_batch(tmp_path / "2", "A,w,2026-01-06 09:30\n")])
    assert [(f.kind, f.new) for f in report.files if f.kind == "events"] == [("events", 1)]
    engine = create_db_engine(url, read_only=True)
    try:
        assert stored_pairs(engine) == [
            ("A", "w", "z"), ("A", "x", "y"), ("A", "y", "w"), ("A", "z", None),
            ("B", "a", None),
        ]  # fmt: skip
        with engine.connect() as conn:
            pd.testing.assert_frame_equal(stored_frame(conn), independent_pairs(conn))
    finally:
        engine.dispose()


def test_a_database_made_before_the_pairs_gains_them(db_url: str, tmp_path: Path) -> None:
    """An older database (no event_steps table) is paired whole by `create_schema`, which
    `etl init` and every load run; until then the map pairs events as it reads, with the
    same result."""
    engine = create_db_engine(db_url)
    try:
        events = "A,a,2026-01-06 09:00\nA,b,2026-01-06 10:00\nB,a,2026-01-06 09:00\n"
        load_files(engine, [_batch(tmp_path / "1", events)])
        f = MetricFilter(as_of=pd.Timestamp("2026-01-07"))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE event_steps"))
        with engine.connect() as conn:
            unpaired = directly_follows(conn, f)
        create_schema(engine)
        assert stored_pairs(engine) == [("A", "a", "b"), ("A", "b", None), ("B", "a", None)]
        with engine.connect() as conn:
            pd.testing.assert_frame_equal(directly_follows(conn, f), unpaired)
        assert len(unpaired) == 1
    finally:
        engine.dispose()


# Random logs of three cases over a few instants (ties likely), written as two batches:
# the second may add events to a case or repeat some of the first batch's rows.
_EVENT = st.tuples(
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from(["a", "b", "c"]),
    st.integers(min_value=0, max_value=3),
)


def _write_batch(conn: sa.Connection, rows: list[tuple[str, str, int]], batch_id: int) -> None:
    """Store a batch's events as a load does: a row whose key is stored stays as it is
    (unchanged), a new one gets the batch id and its row number in the file as log_order."""
    stored = {
        (r[0], r[1], r[2])
        for r in conn.execute(sa.text('SELECT commitment_id, stage, "at" FROM events'))
    }
    new = [
        {"commitment_id": c, "stage": s, "at": datetime(2026, 1, 6, h), "seq": 1,
         "log_order": position, "batch_id": batch_id}
        for position, (c, s, h) in enumerate(rows, start=1)
        if (c, s, datetime(2026, 1, 6, h)) not in stored
    ]  # fmt: skip
    if new:
        conn.execute(events.insert(), new)


@settings(max_examples=60, deadline=None)
@given(
    first=st.lists(_EVENT, min_size=1, max_size=8, unique=True),
    second=st.lists(_EVENT, min_size=1, max_size=8, unique=True),
)
def test_stored_pairs_after_two_batches_equal_pairing_the_whole_log(
    module_duckdb_engine: sa.Engine,
    first: list[tuple[str, str, int]],
    second: list[tuple[str, str, int]],
) -> None:
    """Whatever two batches bring, the pairs the second batch's refresh leaves equal a
    pairing of every stored event from scratch (the cases it did not touch keep theirs).
    The loads themselves are exercised by the tests above."""
    with module_duckdb_engine.connect() as conn:  # one connection: opening one costs more
        with conn.begin():
            conn.execute(events.delete())
            conn.execute(event_steps.delete())
            _write_batch(conn, first, 1)
            refresh_event_steps(conn, 1)
        with conn.begin():
            _write_batch(conn, second, 2)
            refresh_event_steps(conn, 2)
        pd.testing.assert_frame_equal(stored_frame(conn), independent_pairs(conn))
