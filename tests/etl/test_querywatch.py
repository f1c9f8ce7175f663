"""Statement timeouts and cancelling a gone owner's statements (etl.querywatch, etl.db).

On real PostgreSQL and DuckDB: a statement longer than the limit fails with an error
`is_statement_timeout` recognises, a statement of a cancelled owner stops, and
pg_stat_activity shows no backend still running it (polled with a bounded wait).
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import querywatch
from etl.db import create_db_engine, with_pg_statement_timeout
from etl.settings import DEFAULT_STATEMENT_TIMEOUT, statement_timeout
from tests.conftest import PG_URL
from tests.waiting import wait_for

# Minutes of work for DuckDB (2·10^10 products): only an interrupt ends it in a test.
DUCK_SLOW = "SELECT sum(a.range * b.range) FROM range(200000) a, range(100000) b"
PG_SLOW = "SELECT pg_sleep(120)"


def test_statement_timeout_setting() -> None:
    assert statement_timeout({}) == DEFAULT_STATEMENT_TIMEOUT
    assert statement_timeout({"ESLABON_STATEMENT_TIMEOUT": "2.5"}) == 2.5
    for off in ("0", "off", "none", "OFF"):
        assert statement_timeout({"ESLABON_STATEMENT_TIMEOUT": off}) is None
    for junk in ("-3", "soon", "nan", "inf"):  # never silently unlimited
        assert statement_timeout({"ESLABON_STATEMENT_TIMEOUT": junk}) == DEFAULT_STATEMENT_TIMEOUT


def test_pg_url_keeps_its_options() -> None:
    url = sa.make_url("postgresql+psycopg://u@h/db?options=-csearch_path%3Ds1")
    assert with_pg_statement_timeout(url, 1.5).query["options"] == (
        "-csearch_path=s1 -c statement_timeout=1500"
    )


@pytest.mark.postgres
def test_postgres_statement_timeout(pg_schema_url: str) -> None:
    engine = create_db_engine(pg_schema_url, statement_timeout=0.3)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
            schema = conn.execute(sa.text("SHOW search_path")).scalar()
            assert schema == str(sa.make_url(pg_schema_url).query["options"]).split("=")[-1]
            with pytest.raises(sa.exc.OperationalError) as caught:
                conn.execute(sa.text(PG_SLOW)).fetchall()
        assert querywatch.is_statement_timeout(caught.value)
        with engine.connect() as conn:  # the pool's connection still works
            assert conn.execute(sa.text("SELECT 2")).scalar() == 2
    finally:
        engine.dispose()
    unlimited = create_db_engine(pg_schema_url)  # the CLI's: no limit
    try:
        with unlimited.connect() as conn:
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "0"
    finally:
        unlimited.dispose()


def test_duckdb_statement_timeout(tmp_path: Path) -> None:
    engine = create_db_engine(f"duckdb:///{tmp_path / 'x.duckdb'}", statement_timeout=0.3)
    try:
        with engine.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError) as caught:
                conn.execute(sa.text(DUCK_SLOW)).fetchall()
            assert querywatch.is_statement_timeout(caught.value)
            conn.rollback()  # the next statement on the same connection runs normally
            assert conn.execute(sa.text("SELECT 41 + 1")).scalar() == 42
    finally:
        engine.dispose()


def _run_owned(engine: sa.Engine, owner: str, sql: str, errors: list[BaseException]) -> None:
    querywatch.set_owner(owner)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(sql)).fetchall()
    except Exception as exc:
        errors.append(exc)


def _active_backends(admin: sa.Engine, app_name: str) -> int:
    with admin.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                "AND state = 'active' AND query LIKE '%pg_sleep%'"
            ),
            {"name": app_name},
        ).scalar_one()


@pytest.mark.postgres
def test_postgres_gone_owner_is_cancelled_and_leaves_no_backend(pg_schema_url: str) -> None:
    app_name = f"eslabon-test-{uuid.uuid4().hex[:8]}"
    url = f"{pg_schema_url}&application_name={app_name}"
    engine = create_db_engine(url, statement_timeout=300)
    admin = sa.create_engine(PG_URL)
    owner = f"session-{app_name}"
    gone: set[str] = set()
    reaper = querywatch.Reaper(lambda o: o in gone, interval=0.05).start()
    errors: list[BaseException] = []
    worker = threading.Thread(target=_run_owned, args=(engine, owner, PG_SLOW, errors))
    try:
        worker.start()
        assert wait_for(lambda: _active_backends(admin, app_name) == 1)
        assert owner in querywatch.running_owners()
        gone.add(owner)  # the session closes: the reaper cancels its statement
        worker.join(timeout=60)
        assert not worker.is_alive()
        assert len(errors) == 1 and not querywatch.is_statement_timeout(errors[0])
        assert "cancel" in str(errors[0]).lower()
        assert wait_for(lambda: _active_backends(admin, app_name) == 0)
        assert owner not in querywatch.running_owners()
    finally:
        reaper.stop()
        engine.dispose()
        admin.dispose()


def test_duckdb_cancel_owner(tmp_path: Path) -> None:
    engine = create_db_engine(f"duckdb:///{tmp_path / 'x.duckdb'}")
    owner = f"session-{uuid.uuid4().hex[:8]}"
    errors: list[BaseException] = []
    worker = threading.Thread(target=_run_owned, args=(engine, owner, DUCK_SLOW, errors))
    try:
        worker.start()
        assert wait_for(lambda: owner in querywatch.running_owners())
        assert querywatch.cancel_owner(owner) == 1
        worker.join(timeout=60)
        assert not worker.is_alive()
        assert len(errors) == 1 and "interrupt" in str(errors[0]).lower()
        assert querywatch.cancel_owner(owner) == 0  # nothing left in flight
    finally:
        engine.dispose()
