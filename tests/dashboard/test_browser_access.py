"""Plain-HTTP routes (issue 17, item 7d): /_stcore/metrics answers nobody, /media (every
download's file) only a browser whose session is signed in now. Unit tests of the
registry and the middleware, AppTest of admitting and revoking, and a real server
(`streamlit run dashboard/serve.py` on a free port) driven over its own websocket.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from streamlit.web.server.starlette.starlette_app_utils import (
    decode_xsrf_token_string,
    generate_xsrf_token_string,
)

from dashboard import auth, browser_access
from dashboard.browser_access import XSRF_COOKIE, PrivateRoutes, SignedInBrowsers, browser_token
from etl.settings import PROJECT_ROOT
from tests.dashboard.apptest_support import world_db
from tests.dashboard.conftest import make_app
from tests.dashboard.test_secret_keys import send_cookies
from tests.dashboard.test_signin import PASSWORDS, _config, _run, _submit

TOKEN = bytes(range(16))


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


# --- the browser token and the registry -------------------------------------------------------


def test_the_token_under_streamlits_mask_is_found() -> None:
    first, second = generate_xsrf_token_string(TOKEN, 1), generate_xsrf_token_string(TOKEN, 2)
    assert first != second  # a new mask each time Streamlit re-sets the cookie
    assert browser_token(first) == browser_token(second) == TOKEN.hex()
    assert browser_token(first) == decode_xsrf_token_string(first)[0].hex()  # Streamlit's own
    for bad in (None, "", "1|abc", "2|zz|zz|1", "2|00|0011|1", "2|00000000|00|1", "x" * 300):
        assert browser_token(bad) is None


def test_admitted_until_revoked_or_a_ttl_after_the_last_run() -> None:
    clock = Clock()
    browsers = SignedInBrowsers(clock, ttl=100)
    assert not browsers.admitted("aa") and not browsers.admitted(None)
    browsers.admit("aa")
    clock.now += 99
    assert browsers.admitted("aa")
    browsers.admit("aa")  # another run: another 100 s
    clock.now += 99
    assert browsers.admitted("aa")
    clock.now += 1
    assert not browsers.admitted("aa")
    browsers.admit("bb")
    browsers.revoke("bb")
    assert not browsers.admitted("bb")


# --- the middleware ----------------------------------------------------------------------------


class _Client:
    """GET through the middleware in front of a stand-in for Streamlit (ASGI, in process)."""

    def __init__(self, browsers: SignedInBrowsers) -> None:
        async def inner(request: object) -> PlainTextResponse:
            return PlainTextResponse("streamlit answered")

        self.app = Starlette(
            routes=[Route("/{path:path}", inner)],
            middleware=[Middleware(PrivateRoutes, browsers=browsers)],
        )

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get(path, headers=headers)
                await response.aread()
                return response

        return asyncio.run(fetch())


def _client(browsers: SignedInBrowsers) -> _Client:
    return _Client(browsers)


@pytest.mark.parametrize(
    ("path", "signed_in", "status"),
    [
        ("/_stcore/metrics", True, 404),  # nobody
        ("/_stcore/metrics/", False, 404),
        ("/base/_stcore/metrics", True, 404),  # under a server.baseUrlPath too
        ("/media/abc.csv", False, 403),
        ("/base/media/abc.csv", False, 403),
        ("/media/abc.csv", True, 200),
        ("/_stcore/health", False, 200),
        ("/api/calendar.ics", False, 200),
        ("/", False, 200),
    ],
)
def test_private_routes(path: str, signed_in: bool, status: int) -> None:
    browsers = SignedInBrowsers(Clock())
    cookie = generate_xsrf_token_string(TOKEN)
    if signed_in:
        browsers.admit(TOKEN.hex())
    response = _client(browsers).get(path, headers={"Cookie": f"{XSRF_COOKIE}={cookie}"})
    assert response.status_code == status
    if status == 200:
        assert response.text == "streamlit answered"
    else:
        assert "answered" not in response.text and response.headers["cache-control"] == "no-store"


def test_media_needs_the_browsers_own_cookie() -> None:
    browsers = SignedInBrowsers(Clock())
    browsers.admit(TOKEN.hex())
    client = _client(browsers)
    other = generate_xsrf_token_string(bytes(16))
    assert client.get("/media/a.csv").status_code == 403  # no cookie at all
    assert (
        client.get("/media/a.csv", headers={"Cookie": f"{XSRF_COOKIE}={other}"}).status_code == 403
    )
    assert client.get("/media/a.csv", headers={"Cookie": f"{XSRF_COOKIE}=junk"}).status_code == 403
    mine = generate_xsrf_token_string(TOKEN)
    assert (
        client.get("/media/a.csv", headers={"Cookie": f"{XSRF_COOKIE}={mine}"}).status_code == 200
    )


# --- the app admits and revokes (AppTest) ------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> str:
    return world_db(tmp_path)


def test_a_signed_in_session_admits_its_browser_and_sign_out_revokes_it(
    monkeypatch: pytest.MonkeyPatch, world: str, tmp_path: Path
) -> None:
    hashes = {user: auth.hash_password(pw) for user, pw in PASSWORDS.items()}
    path, _ = _config(tmp_path, hashes)
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(path))
    browsers = SignedInBrowsers(Clock())
    monkeypatch.setattr(browser_access, "SIGNED_IN_BROWSERS", browsers)
    send_cookies(monkeypatch, {XSRF_COOKIE: generate_xsrf_token_string(TOKEN)})
    at = _run(make_app(monkeypatch, world))
    assert not browsers.admitted(TOKEN.hex())  # the login form: nothing to download
    at = _submit(at, "vera", PASSWORDS["vera"])
    assert browsers.admitted(TOKEN.hex())
    from dashboard.pages import common

    logout = auth.auth_text("logout", "es")
    next(b for b in at.sidebar.button if b.label == logout).click()
    at = _run(at)
    assert not browsers.admitted(TOKEN.hex())

    at = _submit(at, "vera", PASSWORDS["vera"])  # again, then removed from the file
    assert browsers.admitted(TOKEN.hex())
    data, _ = auth.without_user(auth.read_raw_config(path), "vera")
    auth.write_raw_config(path, data)
    at = _run(at)
    assert not browsers.admitted(TOKEN.hex()) and common.IDENTITY_KEY not in at.session_state


# --- a real server -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`streamlit run dashboard/serve.py` on a free loopback port, single-user mode."""
    port = _free_port()
    env = {
        **os.environ,
        "ESLABON_DB_URL": world_db(tmp_path),
        "ESLABON_AUTH_FILE": str(tmp_path / "none.yaml"),
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/serve.py",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)  # polling a condition, not a timed assert
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def _download_urls(base: str, xsrf: str, page: str) -> list[str]:
    """Open a session over the server's websocket as the browser does, run `page`, and
    collect the download buttons' /media URLs."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    uri = base.replace("http://", "ws://") + "/_stcore/stream"
    urls: list[str] = []
    async with websockets.connect(
        uri,
        subprotocols=["streamlit", xsrf],  # type: ignore[list-item]
        additional_headers={"Cookie": f"{XSRF_COOKIE}={xsrf}", "Origin": base},
        max_size=None,
    ) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = f"page={page}"
        msg.rerun_script.page_name = ""
        await ws.send(msg.SerializeToString())
        finished = 0
        async with asyncio.timeout(120):
            while finished < 2:  # the frame's run, then the page it switched to
                forward = ForwardMsg()
                forward.ParseFromString(await ws.recv())
                kind = forward.WhichOneof("type")
                if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                    element = forward.delta.new_element
                    if element.WhichOneof("type") == "download_button":
                        urls.append(element.download_button.url)
                elif kind == "script_finished":
                    finished += 1
                    if urls:
                        break
    return urls


@pytest.mark.slow
def test_a_real_server_closes_metrics_and_serves_downloads_to_signed_in_browsers(
    server: str,
) -> None:
    assert httpx.get(f"{server}/_stcore/metrics").status_code == 404
    assert httpx.get(f"{server}/_stcore/health").status_code == 200  # still answers
    assert httpx.get(f"{server}/media/0123abcd.csv").status_code == 403

    with httpx.Client(base_url=server) as browser:
        browser.get("/_stcore/health")  # what the page calls first: it sets the XSRF cookie
        xsrf = browser.cookies[XSRF_COOKIE]
        urls = asyncio.run(_download_urls(server, xsrf, "metas"))
        assert urls and all("/media/" in u for u in urls)
        url = urls[0]
        mine = browser.get(url)  # the signed-in (single-user) browser: the export
        assert mine.status_code == 200
        assert mine.text.lstrip("\ufeff").startswith("kpi,process,")  # the targets CSV
    stranger = httpx.get(f"{server}{url}" if url.startswith("/") else url)
    assert stranger.status_code == 403 and mine.content not in stranger.content
