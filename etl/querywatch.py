"""Queries that must not outlive their purpose: statement timeouts and cancel by owner.

A dashboard page whose user left kept PostgreSQL backends busy for minutes: nothing
bounded a statement and nothing stopped one nobody waited for. Two defences, installed
on an engine by `etl.db.create_db_engine`:

- **statement timeout.** PostgreSQL enforces its own (`statement_timeout`, set as a
  connect option by etl.db). DuckDB has none, so `watch_engine` starts a timer per
  statement that calls the connection's `interrupt()` when the limit passes.
- **cancel by owner.** While a statement runs, its DBAPI connection is recorded under
  the current *owner* (a Streamlit session id, set with `set_owner` by the page frame).
  `cancel_owner(owner)` cancels every statement that owner has in flight: PostgreSQL's
  cancel request (the backend stops working at once) or DuckDB's `interrupt()`.
  A `Reaper` thread does so for owners that are gone (`start_reaper`: the dashboard's).

The registry is process-wide on purpose: the one who notices that a session closed (the
reaper thread) is not the thread running its query.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# PostgreSQL's SQLSTATE for "canceling statement due to ..." (timeout or cancel request).
PG_QUERY_CANCELED = "57014"
_OWNER: contextvars.ContextVar[str | None] = contextvars.ContextVar("eslabon_owner", default=None)
_REAPER_INTERVAL = 0.5


@dataclass
class _Running:
    """One statement in flight: its DBAPI connection, owner and (DuckDB) timer."""

    dbapi: Any
    owner: str | None
    timer: threading.Timer | None = None
    done: bool = False
    timed_out: bool = False
    cancelled: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


_lock = threading.Lock()
_by_owner: dict[str, set[int]] = {}
_running: dict[int, _Running] = {}
_wake = threading.Condition(_lock)


def set_owner(owner: str | None) -> None:
    """Make statements run from this thread (and its context) belong to `owner`."""
    _OWNER.set(owner)


def running_owners() -> list[str]:
    """Owners with at least one statement in flight now."""
    with _lock:
        return [owner for owner, ids in _by_owner.items() if ids]


def cancel_owner(owner: str) -> int:
    """Cancel every statement `owner` has in flight; how many were asked to stop.

    The statement fails in its own thread (PostgreSQL: QueryCanceled; DuckDB: an
    interrupt), which is how a page's run ends anyway once its session is gone.
    """
    with _lock:
        items = [_running[i] for i in _by_owner.get(owner, ()) if i in _running]
    count = 0
    for item in items:
        with item.lock:
            if item.done:
                continue
            item.cancelled = True
            _interrupt(item.dbapi)
            count += 1
    if count:
        log.info("cancelled %d statement(s) of a closed session", count)
    return count


class Reaper:
    """A daemon thread that cancels the statements of owners for which `is_gone(owner)`
    is true, checking every `interval` seconds while any owner has one in flight (and
    sleeping while none has)."""

    def __init__(self, is_gone: Callable[[str], bool], interval: float = _REAPER_INTERVAL):
        self.is_gone = is_gone
        self.interval = interval
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="eslabon-query-reaper", daemon=True)

    def start(self) -> Reaper:
        self._thread.start()
        return self

    def stop(self) -> None:
        with _wake:
            self._stop = True
            _wake.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with _wake:
                while not self._stop and not any(_by_owner.values()):
                    _wake.wait()
                if self._stop:
                    return
            for owner in running_owners():
                try:
                    if self.is_gone(owner):
                        cancel_owner(owner)
                except Exception:  # never let the reaper die: nobody else cancels
                    log.exception("the query reaper failed for one owner")
            with _wake:
                if not self._stop:
                    _wake.wait(self.interval)


_reaper: Reaper | None = None


def start_reaper(is_gone: Callable[[str], bool]) -> None:
    """Start the process's one Reaper (the dashboard's), unless it runs already."""
    global _reaper
    with _lock:
        if _reaper is not None:
            return
        _reaper = Reaper(is_gone)
    _reaper.start()


def is_statement_timeout(exc: BaseException) -> bool:
    """True when `exc` (or the driver error it wraps) is a statement stopped by its
    time limit: PostgreSQL's statement_timeout, or the DuckDB timer of `watch_engine`."""
    if getattr(exc, "eslabon_statement_timeout", False):
        return True
    orig = getattr(exc, "orig", None) or exc
    state = getattr(getattr(orig, "diag", None), "sqlstate", None) or getattr(
        orig, "sqlstate", None
    )
    return state == PG_QUERY_CANCELED and "statement timeout" in str(orig)


def watch_engine(engine: Engine, *, timeout: float | None, interrupt_on_timeout: bool) -> None:
    """Record each statement of `engine` under the current owner while it runs and, when
    `interrupt_on_timeout` (DuckDB), interrupt one that runs longer than `timeout` s."""

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before(
        conn: sa.Connection,
        _cursor: object,
        _statement: str,
        _params: object,
        context: Any,
        _many: bool,
    ) -> None:
        if context is None:
            return
        item = _Running(conn.connection.dbapi_connection, _OWNER.get())
        if interrupt_on_timeout and timeout:
            item.timer = threading.Timer(timeout, _on_timeout, args=(item,))
            item.timer.daemon = True
        key = id(item)
        context._eslabon_running = key
        with _lock:
            _running[key] = item
            if item.owner is not None:
                _by_owner.setdefault(item.owner, set()).add(key)
                _wake.notify_all()
        if item.timer is not None:
            item.timer.start()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _after(
        _conn: sa.Connection,
        _cursor: object,
        _statement: str,
        _params: object,
        context: Any,
        _many: bool,
    ) -> None:
        _finish(context)

    @sa.event.listens_for(engine, "handle_error")
    def _error(ctx: sa.engine.ExceptionContext) -> None:
        item = _finish(ctx.execution_context)
        if item is not None and item.timed_out and ctx.sqlalchemy_exception is not None:
            # a mark on the exception, read back by is_statement_timeout (getattr)
            ctx.sqlalchemy_exception.eslabon_statement_timeout = True  # type: ignore[attr-defined]


def _on_timeout(item: _Running) -> None:
    with item.lock:
        if item.done:
            return
        item.timed_out = True
        _interrupt(item.dbapi)


def _finish(context: Any) -> _Running | None:
    """Forget a statement that ended (or failed): stop its timer, drop it from the registry."""
    key = getattr(context, "_eslabon_running", None)
    if key is None:
        return None
    context._eslabon_running = None
    with _lock:
        item = _running.pop(key, None)
        if item is not None and item.owner is not None:
            ids = _by_owner.get(item.owner)
            if ids is not None:
                ids.discard(key)
                if not ids:
                    del _by_owner[item.owner]
    if item is None:
        return None
    with item.lock:
        item.done = True
    if item.timer is not None:
        item.timer.cancel()
    return item


def _interrupt(dbapi: Any) -> None:
    """Ask a running statement to stop, from another thread: DuckDB's interrupt(),
    psycopg's cancel request (cancel_safe where it exists)."""
    try:
        if hasattr(dbapi, "interrupt"):
            dbapi.interrupt()
        elif hasattr(dbapi, "cancel_safe"):
            dbapi.cancel_safe(timeout=5.0)
        elif hasattr(dbapi, "cancel"):
            dbapi.cancel()
    except Exception as exc:  # the statement may have ended meanwhile
        log.info("cancelling a statement failed: %s", type(exc).__name__)
