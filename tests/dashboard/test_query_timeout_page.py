"""A page whose query runs past ESLABON_STATEMENT_TIMEOUT shows the error state, in
words, on real PostgreSQL and on DuckDB (the real app through AppTest; the slow query
stands in for a metric that became too expensive)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboard.i18n import t
from dashboard.metrics import kpis
from dashboard.texts import md_escape
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

    def slow_as_of(conn: sa.Connection) -> object:
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
