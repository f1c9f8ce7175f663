"""etl.preview: the predicted counts equal what the load then reports, nothing is written
before it, the row limit refuses big files, rejects CSV cells are neutralised."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.load import batch_summaries, load_files, rejected_rows_frame
from etl.preview import (
    DEFAULT_UPLOAD_MAX_ROWS,
    RowLimitError,
    batch_files,
    preview_files,
    rejects_csv,
    rejects_frame,
    upload_row_limit,
)

HEADER = "commitment_id,title,process,customer,requested_at,due_at,delivered_at\n"
FIRST = (
    HEADER
    + "A1,uno,Ventas,Cli,2026-01-01,2026-01-10,2026-01-09\n"
    + "A2,dos,Ventas,Cli,2026-01-01,2026-01-10,\n"
)
# A1 unchanged, A2 changed (delivered now), A3 new, A4 rejected (bad date, formula title)
SECOND = (
    HEADER
    + "A1,uno,Ventas,Cli,2026-01-01,2026-01-10,2026-01-09\n"
    + "A2,dos,Ventas,Cli,2026-01-01,2026-01-10,2026-01-12\n"
    + "A3,tres,Compras,Cli,2026-01-02,2026-01-11,\n"
    + "A4,=cmd|' /C calc'!A0,Compras,Cli,2026-01-02,mañana,\n"
)
DEPS = "commitment_id,depends_on\nA3,A2\nA3,NOPE\n"


def _upload(name: str, text: str) -> tuple[str, io.BytesIO]:
    return name, io.BytesIO(text.encode("utf-8"))


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def test_preview_predicts_the_load_and_writes_nothing(engine: sa.Engine) -> None:
    load_files(engine, [_upload("commitments.csv", FIRST)])
    before = (_count(engine, "commitments"), _count(engine, "load_batches"))
    files = [_upload("commitments.csv", SECOND), _upload("dependencies.csv", DEPS)]
    preview = preview_files(engine, files)
    # worked by hand: A3 new, A2 changed, A1 unchanged, A4 rejected; deps: 1 new, 1 unknown ref
    got = [(f.kind, f.read, f.new, f.changed, f.unchanged, f.rejected) for f in preview.files]
    assert got == [("commitments", 4, 1, 1, 1, 1), ("dependencies", 2, 1, 0, 0, 1)]
    assert not preview.committed and preview.batch_id is None
    assert (_count(engine, "commitments"), _count(engine, "load_batches")) == before
    assert _count(engine, "dependencies") == 0
    with engine.connect() as conn:
        delivered = conn.execute(
            sa.text("SELECT delivered_at FROM commitments WHERE commitment_id = 'A2'")
        ).scalar()
    assert delivered is None  # the merged change was rolled back

    files = [_upload("commitments.csv", SECOND), _upload("dependencies.csv", DEPS)]
    loaded = load_files(engine, files)
    done = [(f.kind, f.read, f.new, f.changed, f.unchanged, f.rejected) for f in loaded.files]
    assert done == got


def test_preview_on_a_database_without_tables(tmp_path: Path) -> None:
    from etl.db import create_db_engine

    engine = create_db_engine(f"duckdb:///{tmp_path / 'blank.duckdb'}")
    report = preview_files(engine, [_upload("commitments.csv", FIRST)])
    assert [(f.new, f.rejected) for f in report.files] == [(2, 0)]
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("commitments")  # schema creation rolled back
    engine.dispose()


def test_row_limit_refuses_before_the_database(duckdb_engine: sa.Engine) -> None:
    with pytest.raises(RowLimitError, match=r"commitments\.csv: 2 commitments rows, more than"):
        preview_files(duckdb_engine, [_upload("commitments.csv", FIRST)], max_rows=1)
    assert upload_row_limit({}) == DEFAULT_UPLOAD_MAX_ROWS
    assert upload_row_limit({"ESLABON_UPLOAD_MAX_ROWS": "5_000"}) == 5000
    assert upload_row_limit({"ESLABON_UPLOAD_MAX_ROWS": "-3"}) == DEFAULT_UPLOAD_MAX_ROWS
    assert upload_row_limit({"ESLABON_UPLOAD_MAX_ROWS": "lots"}) == DEFAULT_UPLOAD_MAX_ROWS


def test_rejects_csv_neutralises_formulas_and_matches_the_stored_rejects(
    duckdb_engine: sa.Engine,
) -> None:
    preview = preview_files(duckdb_engine, [_upload("commitments.csv", SECOND)])
    table = rejects_frame(preview)
    assert list(table["row_number"]) == [5]
    rows = list(csv.DictReader(io.StringIO(rejects_csv(table))))
    assert rows[0]["title"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["row_number"] == "5" and "due_at" in rows[0]["problem_column"]

    report = load_files(duckdb_engine, [_upload("commitments.csv", SECOND)])
    with duckdb_engine.connect() as conn:
        stored = rejected_rows_frame(conn, report.batch_id)
        history = batch_summaries(conn)
        per_file = batch_files(conn, report.batch_id)
    assert (
        stored[["path", "kind", "row_number", "column_name", "reason"]]
        .astype(str)
        .equals(table[["path", "kind", "row_number", "column_name", "reason"]].astype(str))
    )
    assert list(history["batch_id"]) == [report.batch_id]
    assert per_file[["path", "kind", "rows_read", "rows_new", "rows_rejected"]].values.tolist() == [
        ["commitments.csv", "commitments", 4, 3, 1]
    ]


def test_unknown_processes_are_a_warning_of_the_preview_and_the_dry_run(
    engine: sa.Engine,
) -> None:
    """Issue 14, item 5: the Datos preview says which rows name a process outside the list
    (here 'Compras' is not in it), before anything is loaded; the rows still load."""
    from etl.load import validate_files

    load_files(engine, [_upload("processes.csv", "process,stage_order\nVentas,1\nPlan,2\n")])
    for check in (preview_files, validate_files):
        report = check(engine, [_upload("commitments.csv", SECOND)])
        assert [(w.code, w.kind, dict(w.params)) for w in report.warnings] == [
            ("unknown_process", "commitments", {"processes": "'Compras'", "rows": 1})
        ]  # A3 names Compras; A4 does too but is rejected for its date
    # a processes file in the same batch counts as the list
    both = preview_files(
        engine,
        [
            _upload("processes.csv", "process\nCompras\n"),
            _upload("commitments.csv", SECOND),
        ],
    )
    assert both.warnings == []
    # every row rejected: a warning too (and `python -m etl load` exits 3)
    bad = preview_files(engine, [_upload("commitments.csv", HEADER + "Z1,z,Ventas,C,x,y,\n")])
    assert [(w.code, dict(w.params)) for w in bad.warnings] == [("all_rejected", {"rows": 1})]
    assert [f.all_rejected for f in bad.files] == [True]


def test_no_processes_list_means_no_unknown_process_warning(engine: sa.Engine) -> None:
    report = preview_files(engine, [_upload("commitments.csv", SECOND)])
    assert report.warnings == []
