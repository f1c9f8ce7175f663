"""Engine creation for the embedded DuckDB file and for server databases (PostgreSQL first)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from etl import gate, querywatch
from etl.settings import load_settings


class DatabaseError(RuntimeError):
    """A database could not be opened or used; the message is meant for a person."""


# A DuckDB open that meets another process's write lock (or, in this process, a connection
# to the same file with another configuration) is retried this many times, waiting
# _RETRY_DELAY, then twice that, ...: long enough to ride out a brief write, short enough
# that a page never hangs. The texts are DuckDB's own messages for those two cases.
CONNECT_ATTEMPTS = 6
_RETRY_DELAY = 0.05
_LOCK_CONFLICT_TEXTS = ("could not set lock", "conflicting lock", "different configuration")


def normalise_url(url: str) -> str:
    """Accept the URLs people type: a bare .duckdb path, or postgresql:// without a driver."""
    if "://" not in url:
        return f"duckdb:///{Path(url).resolve()}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def create_db_engine(
    url: str | None = None, *, read_only: bool = False, statement_timeout: float | None = None
) -> Engine:
    """An engine for `url` (or ESLABON_DB_URL, or the default DuckDB file).

    DuckDB files get their folder created; `read_only` opens a DuckDB file without
    taking the writer lock, so a dashboard can read while another process loads.
    `statement_timeout` (seconds, None: no limit) stops any one statement that runs
    longer: PostgreSQL's own statement_timeout, set as a connect option; on DuckDB a
    timer that interrupts the connection (etl.querywatch). Every engine records its
    running statements by owner, so a closed session's work can be cancelled.
    PostgreSQL sessions also start with `work_mem` from ESLABON_PG_WORK_MEM and without
    JIT (see `with_pg_session_settings`).
    """
    url = normalise_url(url or load_settings().db_url)
    parsed = make_url(url)
    if parsed.drivername.startswith("duckdb"):
        database = parsed.database or ":memory:"
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"read_only": True} if read_only else {}
        engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
        if read_only and database != ":memory:":
            # A reader waits at the gate while a load applies a batch in place (etl.gate).
            sa.event.listen(engine, "do_connect", _gated_connect(Path(database).resolve()))
            sa.event.listen(engine.pool, "close", _leave_gate)
        else:
            sa.event.listen(engine, "do_connect", _connect_retrying_lock_conflicts)
        querywatch.watch_engine(engine, timeout=statement_timeout, interrupt_on_timeout=True)
        return engine
    if parsed.drivername.startswith("postgresql"):
        parsed = with_pg_session_settings(parsed, load_settings().pg_work_mem)
        if statement_timeout:
            parsed = with_pg_statement_timeout(parsed, statement_timeout)
    engine = sa.create_engine(parsed, pool_pre_ping=True)
    querywatch.watch_engine(engine, timeout=statement_timeout, interrupt_on_timeout=False)
    return engine


def with_pg_statement_timeout(url: sa.URL, seconds: float) -> sa.URL:
    """`url` whose connections start with `statement_timeout` set (libpq `options`),
    keeping any options the URL already has (e.g. a search_path)."""
    existing = url.query.get("options") or ""
    if not isinstance(existing, str):
        existing = " ".join(existing)
    millis = max(1, round(seconds * 1000))
    options = f"{existing} -c statement_timeout={millis}".strip()
    return url.update_query_dict({"options": options})


def with_pg_session_settings(url: sa.URL, work_mem: str | None) -> sa.URL:
    """`url` whose sessions start with `work_mem` (None: the server's) and JIT off.

    At a million commitments the default 4 MB `work_mem` sends the medians' sorts and the
    chain metrics' CTEs to disk, and JIT compilation (triggered by the planner's cost
    estimates, which a recursive walk inflates) took 5.4 s of root_impact's 10 s while the
    query itself needs well under a second. Both are per-session: the server is untouched.
    """
    existing = url.query.get("options") or ""
    if not isinstance(existing, str):
        existing = " ".join(existing)
    settings = ["-c jit=off"]
    if work_mem:
        settings.append(f"-c work_mem={work_mem}")
    return url.update_query_dict({"options": " ".join([existing, *settings]).strip()})


def duckdb_path(url: str) -> Path | None:
    """The file behind a DuckDB URL (or bare path); None for a server or in-memory database."""
    parsed = make_url(normalise_url(url))
    if not parsed.drivername.startswith("duckdb"):
        return None
    database = parsed.database or ":memory:"
    if database == ":memory:" or database.startswith(("md:", "motherduck:")):
        return None
    return Path(database).resolve()


def is_lock_conflict(exc: BaseException) -> bool:
    """True when DuckDB refused an open because another connection holds the file."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return any(marker in text for marker in _LOCK_CONFLICT_TEXTS)


def _connect_retrying_lock_conflicts(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Open a DuckDB connection, retrying briefly while another holder has the file.

    Only an open that conflicts with another holder is retried (a missing file or a
    corrupt one fails at once); after the last attempt the DuckDB error goes up unchanged.
    """
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            if attempt == CONNECT_ATTEMPTS - 1 or not is_lock_conflict(exc):
                raise
            time.sleep(_RETRY_DELAY * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


_GATE_KEY = "eslabon_gate"


def _gated_connect(db: Path) -> Any:
    """A do_connect listener for read-only DuckDB files: the reader's side of the gate
    is taken before the open and held (in the pool record) until the connection closes."""

    def connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            fd = gate.enter_reader(db)
        except gate.GateTimeout as exc:
            raise DatabaseError(str(exc)) from None
        try:
            connection = _connect_retrying_lock_conflicts(dialect, record, cargs, cparams)
        except BaseException:
            gate.leave(fd)
            raise
        record.info[_GATE_KEY] = fd
        return connection

    return connect


def _leave_gate(_dbapi_connection: Any, record: Any) -> None:
    """Pool `close` listener: the connection is gone, so is its hold on the gate."""
    gate.leave(record.info.pop(_GATE_KEY, None))


def is_duckdb(engine: Engine) -> bool:
    """True when the engine talks to DuckDB (some bulk paths differ)."""
    return engine.dialect.name == "duckdb"


def describe_url(engine: Engine) -> str:
    """The engine's URL without its password, for messages and logs."""
    return engine.url.render_as_string(hide_password=True)
