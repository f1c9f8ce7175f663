"""PostgreSQL session settings (etl.settings.pg_work_mem, etl.db.with_pg_session_settings).

The dashboard's sessions get a `work_mem` large enough for the million-row medians and
JIT off; both are per session, read back from the server with SHOW.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from etl.db import create_db_engine, with_pg_session_settings
from etl.settings import DEFAULT_PG_WORK_MEM, load_settings, pg_work_mem


def test_work_mem_setting() -> None:
    assert DEFAULT_PG_WORK_MEM == "64MB"
    assert pg_work_mem({}) == "64MB"
    assert pg_work_mem({"ESLABON_PG_WORK_MEM": "256MB"}) == "256MB"
    assert pg_work_mem({"ESLABON_PG_WORK_MEM": " 512 kb "}) == "512kB"
    assert pg_work_mem({"ESLABON_PG_WORK_MEM": "1gb"}) == "1GB"
    assert pg_work_mem({"ESLABON_PG_WORK_MEM": "default"}) is None
    # Anything else would reach a libpq option: it keeps the default instead.
    for junk in ("64", "-1MB", "0MB", "64MB -c jit=on", "lots", "64 TB"):
        assert pg_work_mem({"ESLABON_PG_WORK_MEM": junk}) == "64MB", junk
    assert load_settings({"ESLABON_PG_WORK_MEM": "8MB"}).pg_work_mem == "8MB"


def test_session_settings_keep_the_url_options() -> None:
    url = sa.make_url("postgresql+psycopg://u@h/db?options=-csearch_path%3Ds1")
    assert with_pg_session_settings(url, "64MB").query["options"] == (
        "-csearch_path=s1 -c jit=off -c work_mem=64MB"
    )
    assert with_pg_session_settings(sa.make_url("postgresql://u@h/db"), None).query["options"] == (
        "-c jit=off"
    )


@pytest.mark.postgres
def test_postgres_sessions_start_with_the_settings(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESLABON_PG_WORK_MEM", "48MB")
    engine = create_db_engine(pg_schema_url, statement_timeout=5)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW work_mem")).scalar() == "48MB"
            assert conn.execute(sa.text("SHOW jit")).scalar() == "off"
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "5s"
            schema = str(sa.make_url(pg_schema_url).query["options"]).split("=")[-1]
            assert conn.execute(sa.text("SHOW search_path")).scalar() == schema
    finally:
        engine.dispose()
    plain = sa.create_engine(pg_schema_url)  # no Eslabón settings: the server's value
    with plain.connect() as conn:
        own = conn.execute(sa.text("SHOW work_mem")).scalar()
    plain.dispose()
    assert own != "48MB"
    monkeypatch.setenv("ESLABON_PG_WORK_MEM", "default")
    server = create_db_engine(pg_schema_url)
    try:
        with server.connect() as conn:
            assert conn.execute(sa.text("SHOW work_mem")).scalar() == own
            assert conn.execute(sa.text("SHOW jit")).scalar() == "off"
    finally:
        server.dispose()
