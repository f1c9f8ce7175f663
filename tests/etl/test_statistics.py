"""A load leaves PostgreSQL's planner with row counts for every table it wrote, and
its due-date index summarized.

Without them (COPY does not update statistics; autovacuum comes later) the metric
queries were planned as nested loops over "empty" tables: 21 s instead of 0.2 s for the
headline KPIs at 50k commitments (docs/benchmarks.md, "The team server").
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from etl.db import create_db_engine
from etl.load import load_files, refresh_statistics
from etl.schema import DUE_DATE_RANGES, create_schema, schema_is_current
from tests.etl.test_load import canonical_folder


def _estimated_rows(conn: sa.Connection, table: str) -> float:
    return float(
        conn.execute(
            sa.text(
                "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relname = :t AND n.nspname = current_schema()"
            ),
            {"t": table},
        ).scalar_one()
    )


def test_a_load_analyzes_the_tables_it_wrote(pg_schema_url: str, tmp_path: Path) -> None:
    engine = create_db_engine(pg_schema_url)
    create_schema(engine)
    with engine.connect() as conn:
        # a table never analyzed has no estimate (-1 since PostgreSQL 14)
        assert _estimated_rows(conn, "commitments") == -1
    load_files(engine, [canonical_folder(tmp_path / "in")])
    with engine.connect() as conn:
        # the file has 3 commitments, 2 dependencies, 3 events (tests/etl/test_load.py)
        assert _estimated_rows(conn, "commitments") == 3
        assert _estimated_rows(conn, "dependencies") == 2
        assert _estimated_rows(conn, "events") == 3
        assert _estimated_rows(conn, "event_steps") == 3  # derived by the load, analyzed too
    engine.dispose()


def _unsummarized_ranges(conn: sa.Connection) -> int:
    """Summarizes what is left and says how many page ranges that was."""
    return int(
        conn.execute(
            sa.text("SELECT brin_summarize_new_values(CAST(:i AS regclass))"),
            {"i": DUE_DATE_RANGES.name},
        ).scalar_one()
    )


def test_refreshing_statistics_summarizes_the_due_date_ranges(pg_schema_url: str) -> None:
    """The index is built on the empty table, which summarizes only its first range of
    128 pages; every later page a load writes stays unsummarized (read by every scan)
    until something summarizes it. `refresh_statistics`, which every load ends with (the
    test above), does."""
    engine = create_db_engine(pg_schema_url)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO commitments (commitment_id, process, customer, direction,"
                " requested_at, due_at, cancelled)"
                " SELECT 'C' || i, 'p', 'c', 'to_customer', TIMESTAMP '2026-01-01',"
                " TIMESTAMP '2026-01-01' + i * INTERVAL '1 minute', FALSE"
                " FROM generate_series(1, 40000) AS i"
            )
        )
        pages = conn.execute(
            sa.text("SELECT pg_relation_size('commitments') / current_setting('block_size')::int")
        ).scalar_one()
    assert pages > 2 * 128  # ranges past the first one
    with engine.connect() as conn:
        refresh_statistics(conn)
    with engine.begin() as conn:
        assert _unsummarized_ranges(conn) == 0
    engine.dispose()


def test_an_older_database_gets_the_due_date_index(pg_schema_url: str) -> None:
    """A PostgreSQL database made before the index: not current, and `create_schema`
    (`python -m etl init`, or the next load) adds it."""
    engine = create_db_engine(pg_schema_url)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP INDEX {DUE_DATE_RANGES.name}"))
    with engine.connect() as conn:
        assert not schema_is_current(conn)
    create_schema(engine)
    with engine.connect() as conn:
        assert schema_is_current(conn)
        names = {i["name"] for i in sa.inspect(conn).get_indexes("commitments")}
    assert DUE_DATE_RANGES.name in names
    engine.dispose()


def test_duckdb_has_no_due_date_index(tmp_path: Path) -> None:
    """DuckDB skips row groups by their min/max without being asked; the index's DDL is
    PostgreSQL's only, and its absence never makes a DuckDB schema out of date."""
    engine = create_db_engine(f"duckdb:///{tmp_path / 'x.duckdb'}")
    create_schema(engine)
    with engine.connect() as conn:
        assert schema_is_current(conn)
        rows = conn.execute(
            sa.text("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'commitments'")
        ).fetchall()
    assert rows == []
    engine.dispose()
