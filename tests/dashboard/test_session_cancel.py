"""A session that closes while its query runs: the query is cancelled, end to end.

A real `streamlit run dashboard/serve.py` on a free port and a real PostgreSQL schema.
The test holds a lock on `commitments`, so a page's query waits in the database (an
"active" backend, as a long query would be); a protocol-level client opens a session
that asks for a view not cached yet, and closes its websocket while that query waits.
Before the fix the backend stayed busy until the lock went away (in production: minutes);
now the server cancels it and pg_stat_activity shows no busy backend of the app (polled
with a bounded wait).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg

from bench.session_client import run_session
from etl.db import create_db_engine
from etl.schema import create_schema, dataset_meta
from etl.settings import PROJECT_ROOT
from tests.conftest import PG_URL
from tests.dashboard.world import load_chain_world
from tests.waiting import wait_for

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(pg_schema_url: str, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(base URL, application_name of its database connections, its schema)."""
    engine = create_db_engine(pg_schema_url)
    create_schema(engine)
    load_chain_world(engine)
    with engine.begin() as conn:
        conn.execute(dataset_meta.insert(), [{"key": "as_of", "value": "2026-11-20T12:00:00"}])
    engine.dispose()
    app_name = f"eslabon-e2e-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    env = {
        **os.environ,
        "ESLABON_DB_URL": f"{pg_schema_url}&application_name={app_name}",
        "ESLABON_STATEMENT_TIMEOUT": "600",  # only the session's end may stop the query
    }
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/serve.py",
             "--server.headless", "true", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                return httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_for(healthy, timeout=90)
        schema = str(sa.make_url(pg_schema_url).query["options"]).split("=")[-1]
        yield base, app_name, schema
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _busy_backends(admin: sa.Engine, app_name: str, *, waiting: bool = False) -> int:
    sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
        "AND state = 'active'" + (" AND wait_event_type = 'Lock'" if waiting else "")
    )
    with admin.connect() as conn:
        return int(conn.execute(sa.text(sql), {"name": app_name}).scalar() or 0)


async def _session_until(base: str, query: str, leave: threading.Event) -> None:
    """Open a session, ask for a run of the default page with `query`, read what comes
    until `leave` is set, then close the websocket (the user closes the tab)."""
    host = base.removeprefix("http://")
    back = BackMsg()
    back.rerun_script.query_string = query
    back.rerun_script.page_name = ""
    back.rerun_script.context_info.timezone = "Europe/Madrid"
    back.rerun_script.context_info.url = f"{base}/?{query}"
    async with websockets.connect(
        f"ws://{host}/_stcore/stream",
        subprotocols=[websockets.Subprotocol("streamlit")],
        max_size=None,
        origin=websockets.Origin(base),
    ) as ws:
        await ws.send(back.SerializeToString())
        while not leave.is_set():
            try:
                await asyncio.wait_for(ws.recv(), timeout=0.2)
            except TimeoutError:
                continue


def test_closing_the_session_cancels_its_waiting_query(server: tuple[str, str, str]) -> None:
    base, app_name, schema = server
    admin = sa.create_engine(PG_URL)
    leave = threading.Event()
    client: threading.Thread | None = None
    try:
        first = asyncio.run(run_session(base, timeout=120))  # imports done, caches warm
        assert first.finished, first.exception
        assert wait_for(lambda: _busy_backends(admin, app_name) == 0, timeout=90)
        with admin.connect() as locker:
            transaction = locker.begin()
            locker.execute(sa.text(f'LOCK TABLE "{schema}".commitments IN ACCESS EXCLUSIVE MODE'))
            # a view not cached yet: its queries go to the database and wait on the lock
            client = threading.Thread(
                target=lambda: asyncio.run(_session_until(base, "period=26w&lang=en", leave))
            )
            client.start()
            assert wait_for(lambda: _busy_backends(admin, app_name, waiting=True) >= 1, timeout=90)
            leave.set()  # the user leaves while the query waits
            client.join(timeout=30)
            assert wait_for(lambda: _busy_backends(admin, app_name) == 0, timeout=30)
            transaction.rollback()
    finally:
        leave.set()
        if client is not None:
            client.join(timeout=30)
        admin.dispose()
