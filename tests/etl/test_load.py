"""Batches are all-or-nothing, upsert by key, and account for every row read.

Runs on DuckDB and PostgreSQL through the `engine` fixture. Files are written by the
tests themselves, so every expected count is known by construction.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

import etl.load
from etl.load import (
    batch_summaries,
    load_files,
    rejected_rows_frame,
    validate_files,
)
from etl.schema import metadata
from etl.validate import ValidationResult

COMMITMENTS = """commitment_id,title,process,customer,customer_type,requested_at,due_at,delivered_at
C1,Oferta,Ventas,Acme,external,2026-01-05,2026-01-10,2026-01-09 12:00
C2,Plan,Planificación,Ventas,internal,2026-01-05,2026-01-12,
C3,Compra,Compras,Planificación,internal,2026-01-06,2026-01-15,2026-01-16 08:00
"""
DEPENDENCIES = """commitment_id,depends_on
C2,C1
C3,C2
"""
EVENTS = """commitment_id,stage,at,actor
C1,need,2026-01-05T09:00:00+01:00,ana
C1,delivery,13/01/2026 12:00,ana
C2,need,2026-01-05 10:00,luis
"""


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def canonical_folder(folder: Path) -> Path:
    write(folder, "commitments.csv", COMMITMENTS)
    write(folder, "dependencies.csv", DEPENDENCIES)
    write(folder, "events.csv", EVENTS)
    return folder


def counts(report: etl.load.BatchReport) -> dict[str, tuple]:
    return {f.kind: (f.read, f.new, f.changed, f.unchanged, f.rejected) for f in report.files}


def snapshot(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, to compare a database before and after."""
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for name, table in metadata.tables.items():
            rows = conn.execute(sa.select(table)).fetchall()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def test_first_load_inserts_and_logs_the_batch(engine: sa.Engine, tmp_path: Path) -> None:
    report = load_files(engine, [canonical_folder(tmp_path / "in")], loaded_by="tester")
    assert report.committed and report.batch_id == 1
    assert counts(report) == {
        "commitments": (3, 3, 0, 0, 0),
        "dependencies": (2, 2, 0, 0, 0),
        "events": (3, 3, 0, 0, 0),
    }
    with engine.connect() as conn:
        got = conn.execute(
            sa.text(
                "SELECT commitment_id, requested_at, delivered_at, direction, cancelled, batch_id "
                "FROM commitments ORDER BY commitment_id"
            )
        ).fetchall()
        events = conn.execute(
            sa.text('SELECT commitment_id, stage, "at" FROM events ORDER BY commitment_id, "at"')
        ).fetchall()
        files = conn.execute(
            sa.text(
                "SELECT path, kind, sha256, rows_read, rows_new FROM load_batch_files "
                "WHERE batch_id = 1 ORDER BY kind"
            )
        ).fetchall()
        batch = conn.execute(sa.text("SELECT status, loaded_by FROM load_batches")).fetchall()
    assert got == [
        ("C1", datetime(2026, 1, 5, 23, 59, 59), datetime(2026, 1, 9, 12), "to_customer", False, 1),
        ("C2", datetime(2026, 1, 5, 23, 59, 59), None, "to_customer", False, 1),
        ("C3", datetime(2026, 1, 6, 23, 59, 59), datetime(2026, 1, 16, 8), "to_customer", False, 1),
    ]
    assert events == [
        ("C1", "need", datetime(2026, 1, 5, 9)),
        ("C1", "delivery", datetime(2026, 1, 13, 12)),
        ("C2", "need", datetime(2026, 1, 5, 10)),
    ]
    import hashlib

    sha = hashlib.sha256(COMMITMENTS.encode()).hexdigest()
    assert files[0][1:] == ("commitments", sha, 3, 3)
    assert batch == [("committed", "tester")]


def test_reload_counts_one_changed_row_and_the_rest_unchanged(
    engine: sa.Engine, tmp_path: Path
) -> None:
    folder = canonical_folder(tmp_path / "in")
    load_files(engine, [folder])
    write(folder, "commitments.csv", COMMITMENTS.replace("C2,Plan,", "C2,Plan B,"))
    write(folder, "events.csv", EVENTS + "C3,need,2026-01-06 11:00,eva\n")
    report = load_files(engine, [folder])
    assert report.batch_id == 2
    assert counts(report) == {
        "commitments": (3, 0, 1, 2, 0),
        "dependencies": (2, 0, 0, 2, 0),
        "events": (4, 1, 0, 3, 0),
    }
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT commitment_id, title, batch_id FROM commitments ORDER BY 1")
        ).fetchall()
    assert rows == [("C1", "Oferta", 1), ("C2", "Plan B", 2), ("C3", "Compra", 1)]


def test_loading_the_same_files_twice_changes_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    folder = canonical_folder(tmp_path / "in")
    load_files(engine, [folder])
    before = snapshot(engine)
    report = load_files(engine, [folder])
    assert all(f.new == f.changed == f.rejected == 0 for f in report.files)
    assert [f.unchanged for f in report.files] == [3, 2, 3]
    after = snapshot(engine)
    # only the log grew: a second batch row and its file rows
    for name in before:
        if name not in ("load_batches", "load_batch_files"):
            assert after[name] == before[name], name
    assert len(after["load_batches"]) == 2


def test_columns_absent_from_a_file_are_left_as_they_were(
    engine: sa.Engine, tmp_path: Path
) -> None:
    load_files(engine, [canonical_folder(tmp_path / "in")])
    no_title = "\n".join(
        ",".join(p for i, p in enumerate(line.split(",")) if i != 1)
        for line in COMMITMENTS.strip().splitlines()
    )
    report = load_files(engine, [write(tmp_path / "b", "commitments.csv", no_title + "\n")])
    assert counts(report)["commitments"] == (3, 0, 0, 3, 0)
    with engine.connect() as conn:
        titles = conn.execute(sa.text("SELECT title FROM commitments ORDER BY 1")).fetchall()
    assert titles == [("Compra",), ("Oferta",), ("Plan",)]


def test_read_equals_new_changed_unchanged_rejected_with_rejects_stored(
    engine: sa.Engine, tmp_path: Path
) -> None:
    folder = canonical_folder(tmp_path / "in")
    write(
        folder,
        "events.csv",
        EVENTS + "C9,need,2026-01-05,ana\nC1,need,not a date,ana\n=HYPERLINK(),need,2026-01-05,x\n",
    )
    report = load_files(engine, [folder])
    for f in report.files:
        assert f.new is not None and f.changed is not None and f.unchanged is not None
        assert f.read == f.new + f.changed + f.unchanged + f.rejected
    assert counts(report)["events"] == (6, 3, 0, 0, 3)
    with engine.connect() as conn:
        stored = rejected_rows_frame(conn, report.batch_id)
    assert stored["row_number"].tolist() == [5, 6, 7]
    assert stored["column_name"].tolist() == ["commitment_id", "at", "commitment_id"]
    assert stored["reason"].iloc[1] == (
        "at 'not a date' is not a date (use YYYY-MM-DD [HH:MM], dd/mm/yyyy [HH:MM] or "
        "mm/dd/yyyy [HH:MM] (12-hour times with AM/PM too), or set the column's format in a "
        'mapping: [events.date_formats] at = "%m/%d/%Y %H:%M", or date_format = "..." in '
        "[events] for every date column)"
    )
    assert json.loads(stored["raw"].iloc[0]) == {
        "commitment_id": "C9",
        "stage": "need",
        "at": "2026-01-05",
        "actor": "ana",
    }


def test_refused_file_rejects_every_row_and_loses_nothing(
    engine: sa.Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, "events.csv", "commitment_id,when\nC1,2026-01-01\nC2,2026-01-02\n")
    report = load_files(engine, [path])
    assert report.committed
    (f,) = report.files
    assert (f.read, f.rejected, f.new) == (2, 2, 0)
    assert f.refused is not None and "missing required column(s) stage, at" in f.refused
    assert "its columns are: commitment_id, when" in f.refused
    with engine.connect() as conn:
        stored = rejected_rows_frame(conn)
    assert stored["row_number"].tolist() == [2, 3]


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_an_error_in_the_middle_leaves_every_table_as_before(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    load_files(engine, [canonical_folder(tmp_path / "first")])
    before = snapshot(engine)
    folder = tmp_path / "second"
    write(
        folder,
        "commitments.csv",
        COMMITMENTS.replace("Oferta", "Cambio") + "C4,x,P,A,,2026-01-01,2026-01-02,\n",
    )
    write(folder, "dependencies.csv", DEPENDENCIES + "C4,C3\n")
    write(folder, "events.csv", EVENTS + "C4,need,2026-01-01,eva\n")
    real = etl.load.merged_counts
    calls = {"n": 0}

    def failing(
        conn: sa.Connection, result: ValidationResult, batch_id: int
    ) -> tuple[int, int, int]:
        out = real(conn, result, batch_id)
        calls["n"] += 1
        if calls["n"] == fail_at:  # rows of this kind are written, then it breaks
            raise RuntimeError("injected failure")
        return out

    monkeypatch.setattr(etl.load, "merged_counts", failing)
    with pytest.raises(RuntimeError, match="injected failure"):
        load_files(engine, [folder])
    assert snapshot(engine) == before
    monkeypatch.undo()
    report = load_files(engine, [folder])  # and the next load works
    assert report.batch_id == 2
    assert counts(report)["commitments"] == (4, 1, 1, 2, 0)


def test_cycle_across_the_batch_and_the_database(engine: sa.Engine, tmp_path: Path) -> None:
    load_files(engine, [canonical_folder(tmp_path / "in")])  # C2 → C1, C3 → C2
    path = write(tmp_path / "b", "dependencies.csv", "commitment_id,depends_on\nC1,C3\nC3,C1\n")
    report = load_files(engine, [path])
    assert counts(report)["dependencies"] == (2, 1, 0, 0, 1)
    assert [r.reject.reason for r in report.rejects] == [
        "dependency cycle: C1 → C3 → C2 → C1 (each commitment depends on the next)"
    ]
    with engine.connect() as conn:
        edges = conn.execute(
            sa.text("SELECT commitment_id, depends_on FROM dependencies ORDER BY 1, 2")
        ).fetchall()
    assert edges == [("C2", "C1"), ("C3", "C1"), ("C3", "C2")]


def test_references_to_commitments_of_an_earlier_batch_are_known(
    engine: sa.Engine, tmp_path: Path
) -> None:
    load_files(engine, [write(tmp_path / "a", "commitments.csv", COMMITMENTS)])
    report = load_files(
        engine, [write(tmp_path / "b", "events.csv", EVENTS + "C7,need,2026-01-01,x\n")]
    )
    assert counts(report)["events"] == (4, 3, 0, 0, 1)
    assert report.rejects[0].reject.column == "commitment_id"


def test_strict_refuses_the_batch_when_any_row_is_rejected(
    engine: sa.Engine, tmp_path: Path
) -> None:
    folder = canonical_folder(tmp_path / "in")
    write(folder, "events.csv", EVENTS + "C9,need,2026-01-05,ana\n")
    before = snapshot(engine)
    report = load_files(engine, [folder], strict=True)
    assert not report.committed and report.batch_id is None
    assert report.rows_rejected == 1
    assert snapshot(engine) == before


def test_dry_run_validates_without_writing(engine: sa.Engine, tmp_path: Path) -> None:
    folder = canonical_folder(tmp_path / "in")
    write(folder, "events.csv", EVENTS + "C9,need,2026-01-05,ana\n")
    before = snapshot(engine)
    report = validate_files(engine, [folder])
    assert report.batch_id is None and not report.committed
    assert [(f.kind, f.read, f.rejected, f.new) for f in report.files] == [
        ("commitments", 3, 0, None),
        ("dependencies", 2, 0, None),
        ("events", 4, 1, None),
    ]
    assert snapshot(engine) == before


def test_uploads_and_dataset_metadata(engine: sa.Engine, tmp_path: Path) -> None:
    folder = canonical_folder(tmp_path / "in")
    write(folder, "dataset.toml", 'name = "demo"\nas_of = "2026-01-20 17:00:00"\nseed = 7\n')
    write(folder, "notes.txt", "not a canonical file: ignored")
    report = load_files(engine, [folder])
    assert report.dataset == {"name": "demo", "as_of": "2026-01-20 17:00:00", "seed": "7"}
    upload = ("events.csv", io.BytesIO((EVENTS + "C3,need,2026-01-06,eva\n").encode()))
    report = load_files(engine, [upload])
    assert counts(report)["events"] == (4, 1, 0, 3, 0)
    with engine.connect() as conn:
        meta: dict[str, str] = dict(
            conn.execute(sa.text("SELECT key, value FROM dataset_meta")).fetchall()
        )
        summary = batch_summaries(conn)
    assert meta == {"name": "demo", "as_of": "2026-01-20 17:00:00", "seed": "7"}
    assert summary[
        ["batch_id", "files", "read", "new", "unchanged", "rejected"]
    ].values.tolist() == [
        [1, 3, 8, 8, 0, 0],
        [2, 1, 4, 1, 3, 0],
    ]


def test_a_commitment_in_two_files_of_one_batch_counts_once_new_then_changed(
    engine: sa.Engine, tmp_path: Path
) -> None:
    a = write(tmp_path / "a", "commitments.csv", COMMITMENTS)
    b = write(tmp_path / "b", "commitments.csv", COMMITMENTS.replace("Oferta", "Otra"))
    report = load_files(engine, [a, b])
    assert [(f.new, f.changed, f.unchanged) for f in report.files] == [(3, 0, 0), (0, 1, 2)]
    # The key stays unique with or without a primary-key index (none on DuckDB).
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT commitment_id, title FROM commitments ORDER BY commitment_id")
        ).fetchall()
    assert rows == [("C1", "Otra"), ("C2", "Plan"), ("C3", "Compra")]


def test_bulk_path_round_trips_many_rows(engine: sa.Engine, tmp_path: Path) -> None:
    n = 30_000
    frame = pd.DataFrame(
        {
            "commitment_id": [f"K{i:06d}" for i in range(n)],
            "process": "Ventas",
            "customer": ['Cliente, "citado"' if i % 7 == 0 else "\\." for i in range(n)],
            "requested_at": "2026-01-01 08:00",
            "due_at": "2026-02-01",
        }
    )
    path = tmp_path / "commitments.csv"
    frame.to_csv(path, index=False)
    report = load_files(engine, [path])
    assert counts(report)["commitments"] == (n, n, 0, 0, 0)
    with engine.connect() as conn:
        got = conn.execute(
            sa.text("SELECT count(*), count(DISTINCT customer), min(due_at) FROM commitments")
        ).fetchall()
        quoted = conn.execute(
            sa.text("SELECT customer FROM commitments WHERE commitment_id = 'K000000'")
        ).scalar()
    assert got == [(n, 2, datetime(2026, 2, 1, 23, 59, 59))]
    assert quoted == 'Cliente, "citado"'
    report = load_files(engine, [path])
    assert counts(report)["commitments"] == (n, 0, 0, n, 0)


@pytest.mark.postgres
def test_concurrent_loads_on_postgres_take_distinct_batch_ids(
    pg_schema_url: str, tmp_path: Path
) -> None:
    """The EXCLUSIVE lock on load_batches makes two loads queue, not share an id."""
    from concurrent.futures import ThreadPoolExecutor

    from etl.db import create_db_engine
    from etl.schema import create_schema

    engine = create_db_engine(pg_schema_url)
    create_schema(engine)
    folders = [canonical_folder(tmp_path / f"in{i}") for i in range(4)]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            reports = list(pool.map(lambda f: load_files(engine, [f]), folders))
        assert sorted(r.batch_id or 0 for r in reports) == [1, 2, 3, 4]
        assert sum(counts(r)["commitments"][1] for r in reports) == 3  # inserted once
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM load_batches")).scalar() == 4
    finally:
        engine.dispose()


def test_an_error_during_a_first_load_leaves_the_database_empty(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(engine)
    real = etl.load._store_rejects

    def failing(conn: sa.Connection, result: ValidationResult, batch_id: int) -> None:
        real(conn, result, batch_id)
        if getattr(result, "kind", None) == "events":  # commitments and edges are in
            raise RuntimeError("injected failure")

    monkeypatch.setattr(etl.load, "_store_rejects", failing)
    with pytest.raises(RuntimeError, match="injected failure"):
        load_files(engine, [canonical_folder(tmp_path / "in")])
    assert snapshot(engine) == before
    assert all(not rows for name, rows in before.items() if name != "schema_version")
