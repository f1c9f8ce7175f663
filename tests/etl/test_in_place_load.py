"""Loads applied in place behind the gate (etl.publish.load_published, etl.gate).

The in-place path must leave the database exactly as the copy-and-swap path does (same
rows, same per-file counts), choose itself only for small batches into existing files,
and never let a reader see an error or half a batch while it writes into the live file.
"""

from __future__ import annotations

import shutil
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.ontime import on_time_summary
from etl import gate
from etl.db import create_db_engine
from etl.load import load_files
from etl.publish import (
    IN_PLACE_SHARE,
    leftover_copies,
    load_published,
    loads_in_place,
    publishing,
    served_engine,
)
from etl.schema import schema_is_current
from etl.settings import SAMPLE_DIR, in_place_mode
from tests.etl.concurrency_support import database_dump, scalar, write_new_commitments

HEADER = "commitment_id,title,process,customer,requested_at,due_at,delivered_at\n"


def _seeded(tmp_path: Path, name: str = "live.duckdb") -> str:
    """A DuckDB file holding the shipped sample (5,000 commitments), one batch."""
    url = f"duckdb:///{tmp_path / name}"
    with publishing(url) as engine:
        assert load_files(engine, [SAMPLE_DIR]).committed
    return url


def _without_times(dump: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """A dump minus load_batches (its start and finish times differ between two loads)."""
    return {name: rows for name, rows in dump.items() if name != "load_batches"}


def _stored_rows(url: str, ids: list[str]) -> dict[str, tuple]:
    engine_url = url
    from etl.db import create_db_engine

    engine = create_db_engine(engine_url, read_only=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT commitment_id, title, process, customer, requested_at, due_at, "
                    "delivered_at FROM commitments WHERE commitment_id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": ids},
            ).fetchall()
    finally:
        engine.dispose()
    return {str(r[0]): tuple(r) for r in rows}


def _line(row: tuple) -> str:
    """A stored commitment (id, title, process, customer, requested, due, delivered) as CSV."""
    cells = ["" if v is None else (v.isoformat(sep=" ") if hasattr(v, "isoformat") else v)
             for v in row]  # fmt: skip
    return ",".join(str(c) for c in cells) + "\n"


def _mixed_batch(url: str, folder: Path) -> Path:
    """4 stored commitments as they are, 3 with a new title, 2 new ones, 1 bad date."""
    stored = _stored_rows(url, [f"CMP-{i:06d}" for i in range(1, 8)])
    assert len(stored) == 7, stored.keys()
    rows = [stored[k] for k in sorted(stored)]
    lines = [HEADER]
    lines += [_line(r) for r in rows[:4]]
    lines += [_line((r[0], f"{r[1]} (rev)", *r[2:])) for r in rows[4:7]]
    lines.append("NEW-1,Pedido nuevo,Ventas,Cliente 1,2026-09-01,2026-10-01,2026-09-30\n")
    lines.append("NEW-2,Pedido nuevo,Ventas,Cliente 2,2026-09-02,2026-10-02,\n")
    lines.append("NEW-3,Fecha mala,Ventas,Cliente 3,not-a-date,2026-10-03,\n")
    folder.mkdir(parents=True)
    (folder / "commitments.csv").write_text("".join(lines), encoding="utf-8")
    return folder


def test_in_place_leaves_what_the_copy_leaves_with_the_same_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _seeded(tmp_path)
    copy_url = f"duckdb:///{tmp_path / 'copy.duckdb'}"
    shutil.copyfile(tmp_path / "live.duckdb", tmp_path / "copy.duckdb")
    batch = _mixed_batch(url, tmp_path / "batch")

    monkeypatch.setenv("ESLABON_IN_PLACE", "always")
    in_place = load_published(url, [batch])
    monkeypatch.setenv("ESLABON_IN_PLACE", "never")
    copied = load_published(copy_url, [batch])

    counts = [(f.kind, f.read, f.new, f.changed, f.unchanged, f.rejected) for f in in_place.files]
    assert counts == [("commitments", 10, 2, 3, 4, 1)]
    assert counts == [
        (f.kind, f.read, f.new, f.changed, f.unchanged, f.rejected) for f in copied.files
    ]
    assert in_place.committed and in_place.batch_id == 2
    assert _without_times(database_dump(url)) == _without_times(database_dump(copy_url))
    # in place: no copy made, no WAL left (checkpointed before the gate reopened)
    assert leftover_copies(tmp_path / "live.duckdb") == []
    assert not (tmp_path / "live.duckdb.wal").exists()


def test_a_later_file_of_a_kind_is_merged_against_the_earlier_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first file renames CMP-000001, the second puts its title back: found unchanged
    against the stored row before the apply, it must still be written (and counted
    changed), since the first file changes it first."""
    url = _seeded(tmp_path)
    original = _stored_rows(url, ["CMP-000001"])["CMP-000001"]
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, title in ((first, "Otro título"), (second, original[1])):
        folder.mkdir()
        row = (original[0], title, *original[2:])
        (folder / "commitments.csv").write_text(HEADER + _line(row), encoding="utf-8")
    monkeypatch.setenv("ESLABON_IN_PLACE", "always")
    report = load_published(url, [first, second])
    assert [(f.changed, f.unchanged) for f in report.files] == [(1, 0), (1, 0)]
    assert _stored_rows(url, ["CMP-000001"])["CMP-000001"] == original


def test_strict_in_place_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _seeded(tmp_path)
    before = database_dump(url)
    monkeypatch.setenv("ESLABON_IN_PLACE", "always")
    report = load_published(url, [_mixed_batch(url, tmp_path / "batch")], strict=True)
    assert not report.committed and report.batch_id is None
    assert database_dump(url) == before


def test_a_failed_apply_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _seeded(tmp_path)
    before = database_dump(url)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr("etl.load._finish_batch", broken)
    monkeypatch.setenv("ESLABON_IN_PLACE", "always")
    with pytest.raises(RuntimeError, match="disk gone"):
        load_published(url, [write_new_commitments(tmp_path / "b", 50, "NEW")])
    assert database_dump(url) == before
    # and the gate is open again: a reader gets in at once
    with gate.reading(tmp_path / "live.duckdb", wait=0):
        pass


def test_which_loads_go_in_place(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    small = write_new_commitments(tmp_path / "small", 10, "S")
    assert not loads_in_place(db, [small], "always")  # no file yet: the copy creates it
    url = _seeded(tmp_path)
    size = db.stat().st_size
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * int(size * IN_PLACE_SHARE + 1))
    assert loads_in_place(db, [small], "auto")
    assert not loads_in_place(db, [small, big], "auto")
    assert loads_in_place(db, [big], "always")
    assert not loads_in_place(db, [small], "never")
    assert url
    assert in_place_mode({"ESLABON_IN_PLACE": "Never"}) == "never"
    assert in_place_mode({"ESLABON_IN_PLACE": "sometimes"}) == "auto"
    assert in_place_mode({}) == "auto"


def test_readers_in_a_loop_see_old_or_new_totals_never_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader thread reads counts and an on-time KPI through the dashboard's engine in a
    loop while two batches go in place; each apply is held open for a while inside the
    gate, so readers arrive while it is closed and must wait, not fail."""
    url = _seeded(tmp_path)
    db = tmp_path / "live.duckdb"
    size = 400
    batches = [write_new_commitments(tmp_path / f"b{i}", size, f"N{i}") for i in range(2)]
    monkeypatch.setenv("ESLABON_IN_PLACE", "always")

    import etl.load

    finish = etl.load._finish_batch

    def slow_finish(*args: object, **kwargs: object) -> None:
        finish(*args, **kwargs)  # type: ignore[arg-type]
        time.sleep(1.0)  # the batch written, not committed: the gate is closed

    monkeypatch.setattr("etl.load._finish_batch", slow_finish)
    closed: list[tuple[float, float]] = []
    exclusive = gate.exclusive

    def watched(path: Path, *, wait: float):
        manager = exclusive(path, wait=wait)

        class Watched:
            def __enter__(self) -> None:
                manager.__enter__()
                self.at = time.monotonic()

            def __exit__(self, *exc: Any) -> None:
                closed.append((self.at, time.monotonic()))
                manager.__exit__(*exc)

        return Watched()

    monkeypatch.setattr("etl.publish.gate.exclusive", watched)

    engine = served_engine(url)
    f = MetricFilter(as_of=datetime(2027, 1, 1))
    reads: list[tuple[float, int, int, int]] = []
    spans: list[tuple[float, float]] = []  # each read's start and end
    errors: list[str] = []
    stop = threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                with engine.connect() as conn:
                    n = conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar()
                    b = conn.execute(sa.text("SELECT count(*) FROM load_batches")).scalar()
                    s = on_time_summary(conn, f)
                    due = int(s["due"].sum() + s["pending"].sum())
                reads.append((started, int(n or 0), int(b or 0), due))
                spans.append((started, time.monotonic()))
            except Exception as exc:  # the point of the test: there must be none
                errors.append(f"{type(exc).__name__}: {exc}")

    readers = [threading.Thread(target=read_loop) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        while not reads:
            time.sleep(0.01)
        for batch in batches:
            assert load_published(url, [batch]).committed
        stop.set()
    finally:
        stop.set()
        for thread in readers:
            thread.join(60)
        engine.dispose()

    assert errors == []
    assert len(closed) == 2
    states = {(n, b) for _, n, b, _ in reads}
    expected = {(5000 + k * size, 1 + k) for k in range(3)}
    assert states <= expected, states
    assert (5000, 1) in states
    assert scalar(url, "SELECT count(*) FROM commitments") == 5000 + 2 * size
    # one KPI value per state, and it grows by exactly the batch (all due before as_of)
    kpi: dict[int, set[int]] = {}
    for _, n, _b, due in reads:
        kpi.setdefault(n, set()).add(due)
    assert all(len(v) == 1 for v in kpi.values()), kpi
    base = kpi[5000].pop()
    assert all(v.pop() - base == n - 5000 for n, v in kpi.items() if n != 5000)
    # a reader waited at the closed gate: a read in flight through the last half second
    # of a window (the gate stays closed a second; unhindered, a read takes milliseconds)
    # that ended only once the gate had reopened, and no error above. Not "a read started
    # inside the window": both readers may queue behind the writer's turn before it
    # closes the gate, and then none starts inside it.
    assert any(
        began < end - 0.5 and ended >= end for began, ended in spans for _start, end in closed
    ), (spans, closed)
    assert leftover_copies(db) == []


SEED = """commitment_id,title,process,performer,customer,requested_at,due_at,delivered_at
C1,Uno,Ventas,Ana,Cliente A,2026-09-01,2026-10-01,2026-09-30 10:00
C2,Dos,Ventas,Ana,Cliente A,2026-09-02,2026-10-02,
C3,Tres,Ventas,Luis,Cliente B,2026-09-03,2026-10-03,2026-10-05 09:15
"""
# C1 as stored, C2 delivered now, C3 renamed, C4 new; no `performer` column: kept as is
BATCH = """commitment_id,title,process,customer,requested_at,due_at,delivered_at
C1,Uno,Ventas,Cliente A,2026-09-01,2026-10-01,2026-09-30 10:00
C2,Dos,Ventas,Cliente A,2026-09-02,2026-10-02,2026-10-01 11:30
C3,Tres bis,Ventas,Cliente B,2026-09-03,2026-10-03,2026-10-05 09:15
C4,Cuatro,Ventas,Cliente C,2026-09-04,2026-10-04,
"""


def test_check_then_apply_writes_the_delta_by_hand(engine: sa.Engine, tmp_path: Path) -> None:
    """The two phases on their own, on both backends (DuckDB appends rows built during the
    check, PostgreSQL updates): counts, values and batch ids worked out by hand."""
    from etl.load import apply_checked, check_batch

    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "commitments.csv").write_text(SEED, encoding="utf-8")
    (tmp_path / "batch").mkdir()
    (tmp_path / "batch" / "commitments.csv").write_text(BATCH, encoding="utf-8")
    assert load_files(engine, [tmp_path / "seed"]).batch_id == 1
    checked = check_batch(engine, [tmp_path / "batch"])
    assert checked.rows_to_merge == 3  # C2, C3, C4; C1 left out before the apply
    report = apply_checked(engine, checked)
    f = report.files[0]
    assert (report.batch_id, f.read, f.new, f.changed, f.unchanged) == (2, 4, 1, 2, 1)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT commitment_id, title, performer, delivered_at, batch_id "
                "FROM commitments ORDER BY commitment_id"
            )
        ).fetchall()
    assert [tuple(r) for r in rows] == [
        ("C1", "Uno", "Ana", datetime(2026, 9, 30, 10, 0), 1),
        ("C2", "Dos", "Ana", datetime(2026, 10, 1, 11, 30), 2),
        ("C3", "Tres bis", "Luis", datetime(2026, 10, 5, 9, 15), 2),
        ("C4", "Cuatro", None, None, 2),
    ]


def test_changed_rows_whose_rowids_moved_stop_the_load(tmp_path: Path) -> None:
    """DuckDB deletes the changed rows by the rowids the check read; should those point at
    other rows by the time of the write (a writer that ignored the lock), the keys stored
    at those rowids differ from the merged rows' and the batch rolls back whole."""
    import pyarrow as pa

    from etl.load import _ROWID, apply_checked, check_batch
    from etl.records import EtlError

    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "commitments.csv").write_text(SEED, encoding="utf-8")
    (tmp_path / "batch").mkdir()
    (tmp_path / "batch" / "commitments.csv").write_text(BATCH, encoding="utf-8")
    url = f"duckdb:///{tmp_path / 'rowids.duckdb'}"
    engine = create_db_engine(url)
    try:
        assert load_files(engine, [tmp_path / "seed"]).batch_id == 1
        before = database_dump(url)
        checked = check_batch(engine, [tmp_path / "batch"])
        merged = checked.files[0].merged
        assert merged is not None and merged.column("commitment_id").to_pylist() == ["C2", "C3"]
        # C2 and C3 are the seed's 2nd and 3rd rows; point at the 1st and 2nd instead
        rowids = merged.column(_ROWID).to_pylist()
        shifted = pa.array([r - 1 for r in rowids], type=merged.schema.field(_ROWID).type)
        checked.files[0].merged = merged.set_column(
            merged.schema.get_field_index(_ROWID), _ROWID, shifted
        )
        with pytest.raises(EtlError, match="changed between the check and the write"):
            apply_checked(engine, checked)
    finally:
        engine.dispose()
    assert database_dump(url) == before


def test_an_older_file_is_upgraded_through_the_copy_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file made before a column of this release (here commitments.pause_count, and the
    commitment_pauses table) loads: the in-place check sees the old schema and leaves the
    batch to the copy, which adds what is missing. It failed with a binder error before."""
    url = _seeded(tmp_path)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE commitment_pauses")
        conn.exec_driver_sql("ALTER TABLE commitments DROP COLUMN pause_count")
    engine.dispose()
    monkeypatch.setenv("ESLABON_IN_PLACE", "always")
    report = load_published(url, [_mixed_batch(url, tmp_path / "batch")])
    assert report.committed
    # the next small batch finds the schema current and goes in place
    engine = create_db_engine(url, read_only=True)
    with engine.connect() as conn:
        assert schema_is_current(conn)
    engine.dispose()
