"""Eslabón served as an ASGI app: the Streamlit dashboard plus a calendar subscription URL.

    streamlit run dashboard/serve.py [--server.port 8501 ...]    # or: python -m dashboard.serve

`GET /api/calendar.ics?token=<customer token>[&lang=en]` returns the customer's
due-date calendar (RFC 5545) for calendar apps to subscribe to; the token is the one of
the customer's tracking link, so the same link signs both. A bad or expired token gets
a plain 404 (nothing about why). The dashboard itself is unchanged: dashboard/app.py.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# `streamlit run dashboard/serve.py` puts dashboard/ on sys.path, not the project root.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from dashboard.calendar_feed import subscription_feed  # noqa: E402
from dashboard.metrics.kpis import default_as_of  # noqa: E402
from dashboard.tokens import configured_secret  # noqa: E402
from etl.db import create_db_engine  # noqa: E402

CALENDAR_PATH = "/api/calendar.ics"
APP_SCRIPT = Path(__file__).resolve().parent / "app.py"
log = logging.getLogger(__name__)


def calendar_endpoint(request: Request) -> Response:
    """The subscription feed (sync: Starlette runs it in a worker thread)."""
    lang = "en" if request.query_params.get("lang") == "en" else "es"
    try:
        engine = create_db_engine(read_only=True)
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


app = st.App(str(APP_SCRIPT), routes=[Route(CALENDAR_PATH, calendar_endpoint, methods=["GET"])])

if __name__ == "__main__":
    app.run()
