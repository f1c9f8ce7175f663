"""The calendar subscription URL of dashboard/serve.py, exercised in a child process (building
st.App pins process-wide Streamlit config, which must not leak into the AppTests here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from icalendar import Calendar

from dashboard.access.secret_keys import new_secret
from dashboard.services.tokens import make_token
from etl.settings import PROJECT_ROOT
from tests.dashboard.apptest_support import world_db

SECRET = new_secret()

_CHILD = """
import json, sys
from starlette.requests import Request
from dashboard.serve import CALENDAR_PATH, app, calendar_endpoint
out = []
for query in sys.argv[1:]:
    scope = {"type": "http", "method": "GET", "path": CALENDAR_PATH,
             "query_string": query.encode(), "headers": []}
    response = calendar_endpoint(Request(scope))
    out.append([response.status_code, response.media_type, response.body.decode()])
print(json.dumps(out))
"""


def test_subscription_feed_by_token(tmp_path: Path) -> None:
    url = world_db(tmp_path)
    good = make_token("Acme", SECRET)
    env = {**os.environ, "ESLABON_DB_URL": url, "ESLABON_SECRET": SECRET}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, f"token={good}", "token=forged.sig", ""],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    (ok_status, ok_type, body), (bad_status, _, bad_body), (none_status, _, _) = json.loads(
        done.stdout.strip().splitlines()[-1]
    )
    assert (ok_status, bad_status, none_status) == (200, 404, 404)
    assert ok_type.startswith("text/calendar")
    uids = {str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")}
    assert uids == {"D1@eslabon", "D2@eslabon", "F1@eslabon", "P1@eslabon"}
    assert "Ana" not in body and "Globex" not in body  # no internals, no other customer
    assert "Acme" not in bad_body
