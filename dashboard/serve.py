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
the Resumen numbers. While people visit, a second thread computes each coming minute's
default view before the minute starts (`keep_warm`): on live data "now" moves every
minute, and without it the first visitor of every minute would wait for the whole page.
`streamlit run dashboard/app.py` has no such hook (Streamlit runs no app code before
the first session), so only this entry warms.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboard.access import auth
from dashboard.access.browser_access import PrivateRoutes
from dashboard.access.hosts import HostCheckMiddleware
from dashboard.metrics import kpis
from dashboard.services.calendar_feed import subscription_feed
from dashboard.services.tokens import configured_secret, secret_refusal
from etl.db import create_db_engine
from etl.publish import remove_stale_scratch
from etl.settings import keep_warm_minutes, load_settings

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
                    kpis.default_as_of(conn),
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


def warm_caches(minute: datetime | None = None) -> None:
    """Do the first visit's slow part before anyone visits: import the app's modules
    (pandas, SQLAlchemy, DuckDB, Plotly: about a second) and compute the default view's
    sidebar options and Resumen numbers into Streamlit's shared caches, for the current
    minute or for `minute` (see `keep_warm`).

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
        at = cache.as_of(minute)
        cache.stage_options(at)
        resumen.warm(at)
    except Exception as exc:  # the page shows the database error state itself
        log.warning("warming the caches failed: %s", type(exc).__name__)
        return
    log.log(
        logging.INFO if minute is None else logging.DEBUG,
        "caches warmed for the default view%s in %.1f s",
        f" at {minute:%H:%M}" if minute else "",
        time.perf_counter() - start,
    )


# Seconds between the keep-warm thread's looks at the clock, the visits and the data
# version; and how long before a minute starts its default view is computed.
KEEP_WARM_POLL = 5.0
KEEP_WARM_LEAD = 25.0


def minutes_to_warm(now: datetime, idle: float, keep_for: float) -> tuple[datetime, ...]:
    """The minutes whose default view should be in the cache at wall-clock `now`, when the
    last visit was `idle` seconds ago: none once nobody has looked for `keep_for`
    seconds; else the current minute, and the next one too once it is less than
    KEEP_WARM_LEAD seconds away."""
    if keep_for <= 0 or idle > keep_for:
        return ()
    current = kpis.start_of_minute(now)
    following = current + timedelta(minutes=1)
    if (following - now).total_seconds() <= KEEP_WARM_LEAD:
        return (current, following)
    return (current,)


def keep_warm(stop: threading.Event, keep_for: float) -> None:
    """Keep the default view computed for the minute a visitor will open it in.

    Live data is judged at the current minute (cache.as_of), so every minute turns the
    cache's keys and the first visitor of each minute would wait for the whole page.
    While someone has visited within `keep_for` seconds, this computes the next
    minute's view before it starts, and the current minute's again as soon as a load
    changes the data version (the old results are keyed to the old version: a load
    invalidates them, this refills them). A metric's result depends only on the data
    and `as_of`, so computing it early gives the numbers a visitor would get.
    On a database with a fixed `as_of` (the sample) every warm finds the results cached.
    """
    from dashboard.views import cache, database

    warmed: set[tuple[str, datetime]] = set()
    while not stop.wait(KEEP_WARM_POLL):
        idle = time.monotonic() - cache.visits().last
        wanted = minutes_to_warm(kpis.now_wall_clock(), idle, keep_for)
        if not wanted:
            continue
        status = database.db_status()
        if not status.ok:
            continue
        for minute in wanted:
            if (status.version, minute) not in warmed:
                warm_caches(minute)
                warmed.add((status.version, minute))
        warmed = {key for key in warmed if key[1] in wanted}


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
    killed server (or upload worker) left behind, start warm_caches once and keep_warm
    (ESLABON_KEEP_WARM minutes after the last visit; 0: off) until the server stops."""
    log_unsafe_configuration()
    try:
        remove_stale_scratch()
    except Exception as exc:  # an unusable scratch folder: previews will say so
        log.warning("cleaning the scratch folder failed: %s", exc)
    threading.Thread(target=warm_caches, name="eslabon-warm", daemon=True).start()
    stop = threading.Event()
    keep_for = keep_warm_minutes() * 60
    if keep_for > 0:
        threading.Thread(
            target=keep_warm, args=(stop, keep_for), name="eslabon-keep-warm", daemon=True
        ).start()
    try:
        yield
    finally:
        stop.set()


app = st.App(
    str(APP_SCRIPT),
    lifespan=warm_at_start,
    routes=[Route(CALENDAR_PATH, calendar_endpoint, methods=["GET"])],
    # Before every route, Streamlit's own included: first the Host check (DNS rebinding:
    # pages, static files, the websocket), then /media (downloads) only for signed-in
    # browsers and /_stcore/metrics for nobody.
    middleware=[Middleware(HostCheckMiddleware), Middleware(PrivateRoutes)],
)
