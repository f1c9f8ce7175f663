"""Page render: Resumen and Cadena in headless Chromium, first (cold) and cached render.

For each repetition a fresh `streamlit run dashboard/app.py` serves the loaded sample
database (so no cache survives between repetitions); Playwright drives Debian's
/usr/bin/chromium (never a downloaded browser), like tests/dashboard/test_browser.py:

1. Resumen, first render: from `goto` to the page fully drawn (8 KPI cards, their 8
   sparklines and the trend chart drawn, Streamlit no longer running the script);
2. Resumen, cached: the same page loaded again (Streamlit's data cache is warm);
3. Cadena, first render (the server is warm, its metric calls are not cached yet):
   until its six charts are drawn; 4. Cadena, cached.

The time includes the browser's own work (websocket, React, Plotly), which is what a
user waits for. Goals: Resumen < 3 s cold, < 1 s cached.

`--entry serve` runs `streamlit run dashboard/serve.py` instead (the ASGI entry, which
warms the default view's caches in the background when the server starts); the
browser still navigates as soon as the server answers its health check, so a first
render that finds the warming unfinished waits for it. "Resumen, first render since
server start" adds the server's start-up (process start to health check) to it.
`--settle SECONDS` waits that long after the health check before the first visit (a
server started a while before anyone opens it; the row since server start counts it).
`--db-url URL` serves another database instead of the sample DuckDB file of `--size`
(the PostgreSQL schema `bench.backends` loaded, say): what a team on the server waits for.
Run: `.venv/bin/python -m bench.pages --size 100k --reps 3 [--entry serve] [--settle 10]
[--db-url URL]`.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

from bench.common import PROJECT_ROOT, sample_db, size_arg

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip
# A page is drawn when its marker holds, no script run is going on, and this stays so.
_IDLE = (
    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText"
    ".match(/Running|Ejecutando/)"
)
PAGES = {
    "Resumen": ("/", "document.querySelectorAll('[data-testid=\"stMetric\"]').length >= 8"
                " && document.querySelectorAll('.vega-embed svg, .vega-embed canvas').length"
                " >= 9"),
    "Cadena": ("/cadena", "document.querySelectorAll('.js-plotly-plot').length >= 6"),
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


ENTRIES = {"app": "dashboard/app.py", "serve": "dashboard/serve.py"}


def start_server(db_url: str, entry: str = "app") -> tuple[subprocess.Popen[bytes], str]:
    """A Streamlit server on the database; returns the process and its base URL."""
    port = _free_port()
    env = {**os.environ, "ESLABON_DB_URL": db_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", ENTRIES[entry],
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit did not become healthy in time")


def drawn_seconds(tab: Page, url: str, marker: str) -> float:
    """Seconds from navigation until the page is fully drawn and idle."""
    start = time.perf_counter()
    tab.goto(url)
    tab.wait_for_function(f"() => ({marker}) && ({_IDLE})()", polling=50)
    end = time.perf_counter()
    tab.wait_for_timeout(400)  # a rerun that starts right after is part of the render
    if not tab.evaluate(f"() => ({marker}) && ({_IDLE})()"):
        tab.wait_for_function(f"() => ({marker}) && ({_IDLE})()", polling=50)
        end = time.perf_counter()
    if tab.locator("[data-testid='stException']").count():
        raise RuntimeError(f"{url}: the page shows an exception")
    return end - start


def main(argv: list[str] | None = None) -> None:
    """Time each page cold and cached over fresh servers and print the table."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size_arg(parser)
    parser.add_argument("--entry", choices=sorted(ENTRIES), default="app",
                        help="the script streamlit runs (default: app)")  # fmt: skip
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds between the health check and the first visit")  # fmt: skip
    parser.add_argument("--db-url", help="serve this database instead of the sample file")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"page render skipped: {CHROMIUM} missing (tools/ensure_browser.sh)")
        return
    db_url = args.db_url or f"duckdb:///{sample_db(args.size)}"
    backend = db_url.split(":", 1)[0].split("+", 1)[0]
    times: dict[str, list[float]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)  # fmt: skip
        for rep in range(args.reps or 3):
            started = time.perf_counter()
            proc, base = start_server(db_url, args.entry)
            time.sleep(args.settle)
            healthy = time.perf_counter() - started
            try:
                context = browser.new_context(viewport={"width": 1600, "height": 1000})
                tab = context.new_page()
                tab.set_default_timeout(180_000)
                for page, (path, marker) in PAGES.items():
                    for label in ("first", "cached"):
                        seconds = drawn_seconds(tab, base + path, marker)
                        times.setdefault(f"{page}, {label} render", []).append(seconds)
                        print(f"  rep {rep + 1} {page} {label}: {seconds:.2f} s", flush=True)
                        if page == "Resumen" and label == "first":
                            name = "Resumen, first render since server start"
                            times.setdefault(name, []).append(healthy + seconds)
                context.close()
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        browser.close()
    settle = f", first visit {args.settle:g} s after health" if args.settle else ""
    where = f"{args.size}, {backend}, {ENTRIES[args.entry]}{settle}"
    print(f"\n### Page render in headless Chromium ({where})\n")
    print("| page | median s | min s | runs |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {len(values)} |")


if __name__ == "__main__":
    main()
