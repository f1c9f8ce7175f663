"""A page whose query runs past ESLABON_STATEMENT_TIMEOUT shows the error state, in
words, on real PostgreSQL and on DuckDB (the real app through AppTest; the slow query
stands in for a metric that became too expensive)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboard.metrics import kpis
from dashboard.ui.i18n import t
from dashboard.ui.texts import md_escape
from etl.db import create_db_engine
from etl.schema import create_schema, dataset_meta
from tests.dashboard.conftest import make_app
from tests.dashboard.world import load_chain_world

SLOW = {
    "postgresql": "SELECT pg_sleep(120)",
    "duckdb": "SELECT sum(a.range * b.range) FROM range(200000) a, range(100000) b",
}


def test_a_query_past_the_timeout_shows_the_error_state(
    monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    engine = create_db_engine(db_url)
    create_schema(engine)
    load_chain_world(engine)
    with engine.begin() as conn:
        conn.execute(dataset_meta.insert(), [{"key": "as_of", "value": "2026-11-20T12:00:00"}])
    slow_sql = SLOW[engine.dialect.name]
    engine.dispose()

    def slow_as_of(conn: sa.Connection, now: object = None) -> object:
        return conn.execute(sa.text(slow_sql)).fetchall()

    monkeypatch.setattr(kpis, "default_as_of", slow_as_of)
    monkeypatch.setenv("ESLABON_STATEMENT_TIMEOUT", "0.4")
    at = make_app(monkeypatch, db_url, lang="en")
    at.run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.error) == 1, [e.value for e in at.error]
    message = at.error[0].value
    assert t("db_error_title", "en") in message
    assert md_escape(t("query_timeout", "en", seconds="0.4")) in message
    assert not at.metric


@pytest.mark.postgres
def test_a_probe_past_the_timeout_says_so(
    monkeypatch: pytest.MonkeyPatch, pg_schema_url: str
) -> None:
    """The page's first query (the database probe) waits on a lock held here, past the
    limit: the error state names the timeout, not a driver message."""
    engine = create_db_engine(pg_schema_url)
    create_schema(engine)
    load_chain_world(engine)
    schema = str(sa.make_url(pg_schema_url).query["options"]).split("=")[-1]
    monkeypatch.setenv("ESLABON_STATEMENT_TIMEOUT", "0.4")
    try:
        with engine.connect() as locker:
            transaction = locker.begin()
            locker.execute(sa.text(f'LOCK TABLE "{schema}".commitments IN ACCESS EXCLUSIVE MODE'))
            at = make_app(monkeypatch, pg_schema_url, lang="en")
            at.run(timeout=120)
            transaction.rollback()
    finally:
        engine.dispose()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.error) == 1, [e.value for e in at.error]
    assert md_escape(t("query_timeout", "en", seconds="0.4")) in at.error[0].value
