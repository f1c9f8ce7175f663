"""The database as the pages see it: the URL in use, one served engine per URL, the probe
(reachable? holds commitments? which load is the latest) and forgetting cached results
after a load. The probe's version token keys every cached metric result (cache.py), so no
result outlives the data it was computed from."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import make_url
from streamlit.runtime.scriptrunner import get_script_run_ctx

from etl import querywatch
from etl.db import normalise_url
from etl.publish import served_engine
from etl.schema import commitments, load_batches
from etl.settings import load_settings

log = logging.getLogger(__name__)


def db_url() -> str:
    """The database URL in use (ESLABON_DB_URL or the default DuckDB file), normalised.

    A URL that cannot even be parsed is returned as given: opening it fails in _probe,
    which turns the failure into the error state.
    """
    raw = load_settings().db_url
    try:
        return normalise_url(raw)
    except Exception:
        return raw


def url_for_people(url: str) -> str:
    """The URL without its password, for messages (or a placeholder if unparseable)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(URL no válida / invalid URL)"


def engine_for(url: str) -> sa.Engine:
    """One engine per URL (and statement timeout) for the whole server; DuckDB engines
    use NullPool, so every `with engine.connect()` opens and closes the file and locks
    stay brief.

    On a DuckDB file it is etl.publish's served engine: `connect()` reads read-only (so
    `python -m etl load` in another process never locks a page out) and `begin()` writes
    through the writer lock and a swapped copy (readers see old or new, never half).
    Every statement stops after ESLABON_STATEMENT_TIMEOUT seconds (etl.querywatch).
    """
    return _served(url, load_settings().statement_timeout)


@st.cache_resource(show_spinner=False)
def _served(url: str, statement_timeout: float | None) -> sa.Engine:
    return served_engine(url, statement_timeout=statement_timeout)


def _session_gone(session_id: str) -> bool:
    """Whether a Streamlit session has closed or lost its browser (its runs are over)."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and not Runtime.instance().is_active_session(session_id)


def watch_session_queries() -> None:
    """Record this run's statements under its session, and make sure a session that
    closes gets its statements cancelled (etl.querywatch): a user who leaves must not
    keep database backends busy."""
    ctx = get_script_run_ctx()
    querywatch.set_owner(ctx.session_id if ctx is not None else None)
    querywatch.start_reaper(_session_gone)


@dataclass(frozen=True)
class DbStatus:
    """What a page needs to know before it asks for numbers."""

    ok: bool
    commitments: int = 0
    version: str = ""
    error: str = ""
    timed_out: bool = False  # the probe's query ran past ESLABON_STATEMENT_TIMEOUT


@st.cache_data(ttl=5, show_spinner=False)
def _probe(url: str) -> DbStatus:
    """Is the database reachable, does it hold commitments, and which load is the latest.

    Cached for a few seconds only, so a load from the command line shows up promptly;
    the version token keys every metric cache entry.
    """
    try:
        engine = engine_for(url)
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table("commitments"):
                return DbStatus(ok=True, commitments=0, version="no-schema")
            count = conn.execute(sa.select(sa.func.count()).select_from(commitments)).scalar()
            version = "none"
            if inspector.has_table("load_batches"):
                row = conn.execute(
                    sa.select(
                        sa.func.max(load_batches.c.batch_id),
                        sa.func.count(),
                        sa.func.max(load_batches.c.finished_at),
                    )
                ).one()
                version = f"{row[0]}:{row[1]}:{row[2]}"
            return DbStatus(ok=True, commitments=int(count or 0), version=f"{version}:{count}")
    except Exception as exc:  # any driver error becomes a message, never a traceback
        timed_out = querywatch.is_statement_timeout(exc)
        return DbStatus(ok=False, error=short_reason(exc), timed_out=timed_out)


def short_reason(exc: BaseException) -> str:
    """The first line of an error, without SQLAlchemy's background links."""
    tr = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (tr[0] if tr else type(exc).__name__)[:300]


def db_status() -> DbStatus:
    """The database status (probed at most every few seconds, see _probe)."""
    return _probe(db_url())


def invalidate_data() -> None:
    """Forget every cached metric result and the database probe (after a load)."""
    st.cache_data.clear()
