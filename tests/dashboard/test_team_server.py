"""The team server: two dashboard processes behind nginx on one PostgreSQL.

Starts two `streamlit run dashboard/serve.py` processes on the same PostgreSQL schema,
and Debian's nginx (tools/ensure_nginx.sh) with the shipped `deploy/nginx-eslabon.conf`
(ports swapped for free ones) in front of them. Sessions are opened with the
protocol-level client of the benchmarks (websockets through the proxy, as a browser
opens them). A batch loaded while both run is seen through the proxy and by the other
process directly: nothing about the data lives in one process.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import pytest

from bench.servers import free_port, streamlit_argv, wait_healthy
from bench.session_client import SessionRun, run_session
from dashboard.ui.i18n import t
from etl.settings import PROJECT_ROOT, SAMPLE_DIR
from tests.waiting import wait_for

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROXY_CONF = PROJECT_ROOT / "deploy" / "nginx-eslabon.conf"
IN_CI = os.environ.get("CI") == "true"

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# Ten undelivered commitments due before the sample's as_of (2026-11-20 17:00): ten new
# breaches in the default view, whatever else the sample holds.
NEW_BATCH = "commitment_id,title,process,customer,customer_type,requested_at,due_at\n" + "".join(
    f"TEAM-{i:02d},Pedido urgente,Ventas,Cliente Equipo,external,2026-11-02,2026-11-16\n"
    for i in range(10)
)


@contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def proxy_config(folder: Path, listen: int, upstreams: tuple[int, int]) -> Path:
    """A whole nginx.conf around the shipped server block, ports and paths made local."""
    block = PROXY_CONF.read_text(encoding="utf-8")
    block = block.replace("server 127.0.0.1:8501;", f"server 127.0.0.1:{upstreams[0]};")
    block = block.replace("server 127.0.0.1:8502;", f"server 127.0.0.1:{upstreams[1]};")
    block = re.sub(r"listen \d+;", f"listen 127.0.0.1:{listen};", block)
    (folder / "eslabon.conf").write_text(block, encoding="utf-8")
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'};\nevents {{ worker_connections 256; }}\n"
        "http {\n    log_format upstream '$request $status $upstream_addr';\n"
        f"    access_log {folder / 'access.log'} upstream;\n{temp}\n"
        f"    include {folder / 'eslabon.conf'};\n}}\n",
        encoding="utf-8",
    )
    return conf


def breaches_shown(run: SessionRun) -> int:
    """The Breaches card's value in a Resumen run (Spanish: `1.234`)."""
    assert run.finished, run.exception
    label = t("kpi_breaches", "es")
    assert label in run.texts, run.texts[:40]
    value = run.texts[run.texts.index(label) + 1]
    return int(re.sub(r"[^\d]", "", value))


def stream_upstreams(access_log: Path) -> list[int]:
    """The dashboard ports nginx proxied each websocket to (101: the upgrade went through)."""
    found = []
    for line in access_log.read_text(encoding="utf-8").splitlines():
        match = re.match(r"GET /_stcore/stream HTTP/1\.1 101 127\.0\.0\.1:(\d+)$", line)
        if match:
            found.append(int(match.group(1)))
    assert found, f"no upgraded websocket in the proxy's log: {access_log.read_text()}"
    return found


def _resumen(base: str) -> SessionRun:
    return asyncio.run(run_session(base, timeout=90))


def test_a_batch_loaded_while_two_processes_serve_is_seen_by_both(
    pg_schema_url: str, tmp_path: Path
) -> None:
    if not Path(NGINX).exists():
        message = "nginx missing (run tools/ensure_nginx.sh as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    etl = [sys.executable, "-m", "etl"]
    env = {
        **os.environ,
        "ESLABON_DB_URL": pg_schema_url,
        "ESLABON_AUTH_FILE": str(tmp_path / "no-auth.yaml"),
    }
    subprocess.run(
        [*etl, "load", str(SAMPLE_DIR), "--db", pg_schema_url],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    ports = (free_port(), free_port())
    listen = free_port()
    conf_dir = tmp_path / "nginx"
    conf_dir.mkdir()
    conf = proxy_config(conf_dir, listen, ports)
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                _process(streamlit_argv("dashboard/serve.py", port), env, tmp_path / f"d{port}.log")
            )
            for port in ports
        ]
        nginx = stack.enter_context(
            _process(
                [NGINX, "-p", str(conf_dir), "-c", str(conf), "-g", "daemon off;"],
                env,
                tmp_path / "nginx.log",
            )
        )
        for port, proc in zip(ports, servers, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}", proc)
        proxy = f"http://127.0.0.1:{listen}"
        wait_healthy(proxy, nginx)

        # the sticky proxy sends this client to one process; the other is asked directly
        before_proxy = breaches_shown(_resumen(proxy))
        served_by = stream_upstreams(conf_dir / "access.log")[0]
        assert served_by in ports
        other = next(p for p in ports if p != served_by)
        before_other = breaches_shown(_resumen(f"http://127.0.0.1:{other}"))
        assert before_proxy == before_other

        batch = tmp_path / "batch" / "commitments.csv"
        batch.parent.mkdir()
        batch.write_text(NEW_BATCH, encoding="utf-8")
        subprocess.run(
            [*etl, "load", str(batch.parent), "--db", pg_schema_url],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        # each process notices the new batch at its next database probe (a few seconds)
        grown = before_proxy + 10

        def shows_grown(base: str) -> bool:
            return breaches_shown(_resumen(base)) == grown

        for base in (proxy, f"http://127.0.0.1:{other}"):
            assert wait_for(partial(shows_grown, base), timeout=60), base
        # sticky: every session of this client went through the proxy to the same process
        assert set(stream_upstreams(conf_dir / "access.log")) == {served_by}
