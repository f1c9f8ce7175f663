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
from contextlib import contextmanager
from dataclasses import dataclass, field
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

from dashboard.access import auth, browser_access
from dashboard.access.browser_access import (
    XSRF_COOKIE,
    PrivateRoutes,
    SignedInBrowsers,
    browser_token,
)
from etl.settings import PROJECT_ROOT
from tests.dashboard.apptest_support import world_db
from tests.dashboard.conftest import make_app
from tests.dashboard.test_secret_keys import send_cookies
from tests.dashboard.test_signin import PASSWORDS, _config, _run, _submit
from tests.waiting import wait_for

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
    streamlits_own = decode_xsrf_token_string(first)[0]
    assert streamlits_own is not None and browser_token(first) == streamlits_own.hex()
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
        # the page's own fonts and icons: every browser needs them before it signs in
        ("/static/media/SourceSansVF-Upright.ttf.BsWL4Kly.woff2", False, 200),
        ("/base/static/media/MaterialSymbols-Rounded.woff2", False, 200),
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
    from dashboard.views import access_gate

    logout = auth.auth_text("logout", "es")
    next(b for b in at.sidebar.button if b.label == logout).click()
    at = _run(at)
    assert not browsers.admitted(TOKEN.hex())

    at = _submit(at, "vera", PASSWORDS["vera"])  # again, then removed from the file
    assert browsers.admitted(TOKEN.hex())
    data, _ = auth.without_user(auth.read_raw_config(path), "vera")
    auth.write_raw_config(path, data)
    at = _run(at)
    assert not browsers.admitted(TOKEN.hex()) and access_gate.IDENTITY_KEY not in at.session_state


# --- a real server -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def started_server(tmp_path: Path, auth_file: Path) -> Iterator[str]:
    """`streamlit run dashboard/serve.py` on a free loopback port, until the block ends."""
    port = _free_port()
    folder = tmp_path / f"server-{auth_file.stem}"  # one database and log per server
    folder.mkdir()
    env = {**os.environ, "ESLABON_DB_URL": world_db(folder), "ESLABON_AUTH_FILE": str(auth_file)}
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/serve.py",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            assert process.poll() is None, (folder / "server.log").read_text()
            try:
                return httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        assert wait_for(healthy, timeout=90), "the server did not start"
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@dataclass
class Seen:
    """What one session run showed: titles and the download buttons' /media URLs."""

    titles: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)


async def _session(base: str, cookies: dict[str, str], page: str) -> Seen:
    """Open a session over the server's websocket as a browser does (its cookies in the
    handshake, the XSRF token as subprotocol), ask for `page` and read until the script
    finishes without a rerun pending."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg as Msg
    from websockets.typing import Subprotocol

    done = Msg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
    uri = base.replace("http://", "ws://") + "/_stcore/stream"
    seen = Seen()
    async with websockets.connect(
        uri,
        subprotocols=[Subprotocol("streamlit"), Subprotocol(cookies[XSRF_COOKIE])],
        additional_headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "Origin": base,
        },
        max_size=None,
    ) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = f"page={page}"
        await ws.send(msg.SerializeToString())
        async with asyncio.timeout(120):
            while True:
                forward = ForwardMsg()
                forward.ParseFromString(await ws.recv())
                kind = forward.WhichOneof("type")
                if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                    element = forward.delta.new_element
                    if element.WhichOneof("type") == "download_button":
                        seen.downloads.append(element.download_button.url)
                    elif element.WhichOneof("type") == "heading":
                        seen.titles.append(element.heading.body)
                elif kind == "script_finished" and forward.script_finished == done:
                    return seen


def _xsrf(browser: httpx.Client) -> str:
    browser.get("/_stcore/health")  # what the page calls first: it sets the XSRF cookie
    return str(browser.cookies[XSRF_COOKIE])


@pytest.mark.slow
def test_a_real_server_closes_metrics_and_serves_downloads_to_signed_in_browsers(
    tmp_path: Path,
) -> None:
    with started_server(tmp_path, tmp_path / "none.yaml") as server:  # single-user: admin
        assert httpx.get(f"{server}/_stcore/metrics").status_code == 404
        assert httpx.get(f"{server}/_stcore/health").status_code == 200  # still answers
        assert httpx.get(f"{server}/media/0123abcd.csv").status_code == 403
        with httpx.Client(base_url=server) as browser:
            seen = asyncio.run(_session(server, {XSRF_COOKIE: _xsrf(browser)}, "metas"))
            assert seen.downloads and all("/media/" in u for u in seen.downloads)
            url = seen.downloads[0]
            mine = browser.get(url)  # the signed-in browser: the export
            assert mine.status_code == 200
            assert mine.text.lstrip("\ufeff").startswith("kpi,process,")  # the targets CSV
        stranger = httpx.get(f"{server}{url}")
        assert stranger.status_code == 403 and mine.content not in stranger.content


@pytest.mark.slow
def test_a_real_server_signs_in_its_own_cookie_and_never_the_examples(tmp_path: Path) -> None:
    """Item 1 end to end: a login cookie signed with the example file's key, sent by a
    browser to a real server, opens nothing; the same cookie signed with the server's
    key opens the admin's pages and downloads."""
    import jwt
    import yaml

    path = tmp_path / "auth.yaml"
    auth.write_raw_config(path, auth.with_user({}, "ada", "admin", auth.hash_password("x" * 12)))
    key = auth.load_auth_config(path).cookie_key
    example = yaml.safe_load((PROJECT_ROOT / ".streamlit" / "auth.example.yaml").read_text())
    claims = {"username": "ada", "exp_date": time.time() + 3600}
    forged = jwt.encode(claims, example["cookie"]["key"], algorithm="HS256")
    genuine = jwt.encode(claims, key, algorithm="HS256")
    login_title = auth.auth_text("login_title", "es")
    with started_server(tmp_path, path) as server, httpx.Client(base_url=server) as browser:
        xsrf = _xsrf(browser)
        seen = asyncio.run(_session(server, {XSRF_COOKIE: xsrf, "eslabon_auth": forged}, "metas"))
        assert seen.titles == [login_title, auth.auth_text("login_form", "es")]  # the form
        assert not seen.downloads
        seen = asyncio.run(_session(server, {XSRF_COOKIE: xsrf, "eslabon_auth": genuine}, "metas"))
        assert login_title not in seen.titles and seen.downloads
        assert browser.get(seen.downloads[0]).status_code == 200

    # the attack of the issue: the example copied, a user added by hand, its key kept
    example["credentials"]["usernames"]["marta"]["password"] = auth.hash_password("x" * 12)
    example["credentials"]["usernames"]["marta"]["roles"] = ["admin"]
    copied = tmp_path / "copied.yaml"
    copied.write_text(yaml.safe_dump(example), encoding="utf-8")
    as_marta = jwt.encode({**claims, "username": "marta"}, example["cookie"]["key"], "HS256")
    with started_server(tmp_path, copied) as server, httpx.Client(base_url=server) as browser:
        cookies = {XSRF_COOKIE: _xsrf(browser), "eslabon_auth": as_marta}
        seen = asyncio.run(_session(server, cookies, "metas"))
        assert seen.titles == [] and not seen.downloads  # only the refusal (an st.error)
        assert "cookie.key" in (tmp_path / "server-copied" / "server.log").read_text()
