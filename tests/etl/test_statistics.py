"""A load leaves PostgreSQL's planner with row counts for every table it wrote.

Without them (COPY does not update statistics; autovacuum comes later) the metric
queries were planned as nested loops over "empty" tables: 21 s instead of 0.2 s for the
headline KPIs at 50k commitments (docs/benchmarks.md, "The team server").
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from etl.db import create_db_engine
from etl.load import load_files
from etl.schema import create_schema
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
    engine.dispose()
