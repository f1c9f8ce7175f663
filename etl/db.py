"""Engine creation for the embedded DuckDB file and for server databases (PostgreSQL first)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from etl.settings import load_settings


class DatabaseError(RuntimeError):
    """A database could not be opened or used; the message is meant for a person."""


def normalise_url(url: str) -> str:
    """Accept the URLs people type: a bare .duckdb path, or postgresql:// without a driver."""
    if "://" not in url:
        return f"duckdb:///{Path(url).resolve()}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def create_db_engine(url: str | None = None, *, read_only: bool = False) -> Engine:
    """An engine for `url` (or ESLABON_DB_URL, or the default DuckDB file).

    DuckDB files get their folder created; `read_only` opens a DuckDB file without
    taking the writer lock, so a dashboard can read while another process loads.
    """
    url = normalise_url(url or load_settings().db_url)
    parsed = make_url(url)
    if parsed.drivername.startswith("duckdb"):
        database = parsed.database or ":memory:"
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"read_only": True} if read_only else {}
        return sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
    return sa.create_engine(url, pool_pre_ping=True)


def is_duckdb(engine: Engine) -> bool:
    """True when the engine talks to DuckDB (some bulk paths differ)."""
    return engine.dialect.name == "duckdb"


def describe_url(engine: Engine) -> str:
    """The engine's URL without its password, for messages and logs."""
    return engine.url.render_as_string(hide_password=True)
