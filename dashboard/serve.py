"""Eslabón served as an ASGI app: the Streamlit dashboard plus a calendar subscription URL.

    streamlit run dashboard/serve.py [--server.port 8501 ...]

`GET /api/calendar.ics?token=<customer token>[&lang=en]` returns the customer's
due-date calendar (RFC 5545) for calendar apps to subscribe to; the token is the one of
the customer's tracking link, so the same link signs both. A bad or expired token gets
a plain 404 (nothing about why). The dashboard itself is unchanged: dashboard/app.py.

Every HTTP request and websocket upgrade must name an allowed host (loopback names, plus
ESLABON_ALLOWED_HOSTS): anything else gets 403, the defence against DNS rebinding
(dashboard/access/hosts.py).

When the server starts, a background thread warms the caches for the default view
(`warm_caches`): a fresh server's first visitor then waits for neither the imports nor
the Resumen numbers. `streamlit run dashboard/app.py` has no such hook (Streamlit runs
no app code before the first session), so only this entry warms.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboard.access import auth
from dashboard.access.browser_access import PrivateRoutes
from dashboard.access.hosts import HostCheckMiddleware
from dashboard.metrics.kpis import default_as_of
from dashboard.services.calendar_feed import subscription_feed
from dashboard.services.tokens import configured_secret, secret_refusal
from etl.db import create_db_engine
from etl.publish import remove_stale_scratch
from etl.settings import load_settings

CALENDAR_PATH = "/api/calendar.ics"
APP_SCRIPT = Path(__file__).resolve().parent / "app.py"
log = logging.getLogger(__name__)


def calendar_endpoint(request: Request) -> Response:
    """The subscription feed (sync: Starlette runs it in a worker thread)."""
    lang = "en" if request.query_params.get("lang") == "en" else "es"
    try:
        settings = load_settings()
        engine = create_db_engine(read_only=True, statement_timeout=settings.statement_timeout)
        try:
            with engine.connect() as conn:
                data = subscription_feed(
                    conn,
                    request.query_params.get("token"),
                    configured_secret(),
                    default_as_of(conn),
                    lang,
                )
        finally:
            engine.dispose()
    except Exception as exc:  # database trouble: a plain 503, details only in the log
        log.warning("calendar feed failed: %s", type(exc).__name__)
        return Response("Service unavailable\n", status_code=503, media_type="text/plain")
    if data is None:
        return Response("Not found\n", status_code=404, media_type="text/plain")
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def warm_caches() -> None:
    """Do the first visit's slow part before anyone visits: import the app's modules
    (pandas, SQLAlchemy, DuckDB, Plotly: about a second) and compute the default view's
    sidebar options and Resumen numbers into Streamlit's shared caches.

    Runs in a background thread, so the server answers at once; a visitor who comes
    before it is done waits only for the part still running (Streamlit's cache computes
    each key once, whoever asks). Read-only, short-lived connections, like any page:
    a load (etl.publish) is never blocked. Any failure is left to the page to report.
    """
    start = time.perf_counter()
    try:
        import dashboard.views.frame  # noqa: F401 - the frame's imports, as the first run does them
        from dashboard.views import cache, database, resumen

        status = database.db_status()
        if not status.ok or status.commitments == 0:
            return
        at = cache.as_of()
        cache.stage_options(at)
        resumen.warm(at)
    except Exception as exc:  # the page shows the database error state itself
        log.warning("warming the caches failed: %s", type(exc).__name__)
        return
    log.info("caches warmed for the default view in %.1f s", time.perf_counter() - start)


def log_unsafe_configuration() -> None:
    """Say in the server log, at start, why nobody will be able to sign in (an invalid auth
    file, a published or weak cookie key) or why customer links are off (a published or
    weak secret): the pages say it too, but an operator reads the log first."""
    try:
        auth.load_auth_config(auth.auth_config_path())
    except auth.AuthConfigError as exc:
        log.error("auth configuration: %s; nobody can sign in until it is fixed", exc)
    refusal = secret_refusal()
    if refusal:
        log.error("%s", refusal)


@contextlib.asynccontextmanager
async def warm_at_start(_app: st.App) -> AsyncIterator[None]:
    """The ASGI lifespan, when the server starts: check the keys, remove scratch copies a
    killed server (or upload worker) left behind, and start warm_caches once."""
    log_unsafe_configuration()
    try:
        remove_stale_scratch()
    except Exception as exc:  # an unusable scratch folder: previews will say so
        log.warning("cleaning the scratch folder failed: %s", exc)
    threading.Thread(target=warm_caches, name="eslabon-warm", daemon=True).start()
    yield


app = st.App(
    str(APP_SCRIPT),
    lifespan=warm_at_start,
    routes=[Route(CALENDAR_PATH, calendar_endpoint, methods=["GET"])],
    # Before every route, Streamlit's own included: first the Host check (DNS rebinding:
    # pages, static files, the websocket), then /media (downloads) only for signed-in
    # browsers and /_stcore/metrics for nobody.
    middleware=[Middleware(HostCheckMiddleware), Middleware(PrivateRoutes)],
)
