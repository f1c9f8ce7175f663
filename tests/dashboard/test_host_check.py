"""DNS rebinding: the server answers only to allowed Host names (dashboard/access/hosts.py).

A real `streamlit run dashboard/serve.py` on a free port, with ESLABON_ALLOWED_HOSTS
naming one public name: a foreign Host gets 403 for a page, a static file, the health
check and the websocket upgrade (even with a matching Origin, which is what a rebinding
page sends); loopback names and the configured name are served.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from bench.servers import free_port, wait_healthy
from dashboard.access.hosts import allowed_hosts, host_name, is_allowed_host
from etl.settings import PROJECT_ROOT
from tests.dashboard.apptest_support import world_db

PUBLIC = "eslabon.example.com"
FOREIGN = "rebind.attacker.example"


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:8501", "localhost"),
        ("LOCALHOST", "localhost"),
        ("localhost.:80", "localhost"),
        ("127.0.0.1:1", "127.0.0.1"),
        ("[::1]:8501", "[::1]"),
        ("[::1]", "[::1]"),
        ("", None),
        (None, None),
        ("[::1", None),
        ("::1", None),
        ("localhost:abc", None),
        ("localhost:80/x", None),
        ("user@localhost", None),
        ("local host", None),
    ],
)
def test_host_name(header: str | None, name: str | None) -> None:
    assert host_name(header) == name


def test_allowed_hosts_default_and_configured() -> None:
    assert allowed_hosts({}) == {"localhost", "127.0.0.1", "[::1]"}
    configured = allowed_hosts({"ESLABON_ALLOWED_HOSTS": f" {PUBLIC.upper()}:443 , ,bad host"})
    assert configured == {"localhost", "127.0.0.1", "[::1]", PUBLIC}
    assert is_allowed_host(f"{PUBLIC}:8443", configured)
    assert not is_allowed_host(FOREIGN, configured)
    assert not is_allowed_host(f"{PUBLIC}.{FOREIGN}", configured)
    assert not is_allowed_host(None, configured)
    assert is_allowed_host(FOREIGN, allowed_hosts({"ESLABON_ALLOWED_HOSTS": "*"}))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real server on a free loopback port; yields (base URL, port)."""
    folder = tmp_path_factory.mktemp("hosts")
    port = free_port()
    env = {**os.environ, "ESLABON_DB_URL": world_db(folder), "ESLABON_ALLOWED_HOSTS": PUBLIC}
    with (folder / "server.log").open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/serve.py",
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _get(base: str, path: str, host: str) -> httpx.Response:
    return httpx.get(f"{base}{path}", headers={"Host": host}, timeout=30)


def _static_path(base: str) -> str:
    """A static asset the index page references (Streamlit's own JavaScript bundle)."""
    html = _get(base, "/", "localhost").text
    found = re.search(r'src="\.?(/?static/[^"]+\.js)"', html)
    assert found, html[:500]
    path = found.group(1)
    return path if path.startswith("/") else f"/{path}"


def _upgrade_status(port: int, host: str) -> int:
    """The HTTP status a websocket upgrade of /_stcore/stream gets, Origin = Host."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /_stcore/stream HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Origin: http://{host}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request.encode())
        reply = b""
        while b"\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    status = reply.split(b"\r\n", 1)[0].split()
    assert len(status) >= 2, reply[:200]
    return int(status[1])


def test_foreign_host_refused(server: tuple[str, int]) -> None:
    base, port = server
    foreign = f"{FOREIGN}:{port}"
    static = _static_path(base)
    for path in ("/", static, "/_stcore/health", "/api/calendar.ics?token=x"):
        response = _get(base, path, foreign)
        assert response.status_code == 403, path
        assert b"ESLABON_ALLOWED_HOSTS" in response.content
    assert _upgrade_status(port, foreign) == 403


def test_allowed_hosts_served(server: tuple[str, int]) -> None:
    base, port = server
    static = _static_path(base)
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", PUBLIC):
        assert _get(base, "/", host).status_code == 200, host
        assert _get(base, static, host).status_code == 200, host
        assert _upgrade_status(port, host) == 101, host


@pytest.fixture(scope="module")
def plain_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """`streamlit run dashboard/app.py` (no middleware: the script checks the Host)."""
    folder = tmp_path_factory.mktemp("hosts-app")
    port = free_port()
    env = {**os.environ, "ESLABON_DB_URL": world_db(folder)}
    env.pop("ESLABON_ALLOWED_HOSTS", None)
    with (folder / "server.log").open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _page_texts(port: int, host: str) -> list[str]:
    """The texts one run of the default page draws for a websocket whose Host (and
    Origin) is `host`: the socket goes to 127.0.0.1, as after a DNS rebinding."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from bench.session_client import _texts_of

    back = BackMsg()
    back.rerun_script.query_string = "lang=en"
    back.rerun_script.context_info.url = f"http://{host}/?lang=en"
    sock = socket.create_connection(("127.0.0.1", port))
    texts: list[str] = []
    async with websockets.connect(
        f"ws://{host}/_stcore/stream",
        sock=sock,
        subprotocols=[websockets.Subprotocol("streamlit")],
        origin=websockets.Origin(f"http://{host}"),
        max_size=None,
    ) as ws:
        await ws.send(back.SerializeToString())
        async for raw in ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw if isinstance(raw, bytes) else raw.encode())
            texts.extend(_texts_of(msg))
            if msg.WhichOneof("type") == "script_finished":
                break
    return texts


def test_plain_app_refuses_a_foreign_host_in_the_script(plain_app: int) -> None:
    import asyncio

    from dashboard.ui.i18n import t

    refused = asyncio.run(_page_texts(plain_app, f"{FOREIGN}:{plain_app}"))
    assert any(t("host_refused", "en", host="")[:30] in text for text in refused), refused
    assert t("kpi_breaches", "en") not in refused
    served = asyncio.run(_page_texts(plain_app, f"localhost:{plain_app}"))
    assert t("kpi_breaches", "en") in served, served
    assert not any("ESLABON_ALLOWED_HOSTS" in text for text in served)
