"""A whole meeting at once: server CPU per cached session, and N sessions opened together.

`python -m bench.sessions [--size sample|100k|1m] [--sessions 30] [--sequential 10]`

Starts what `make run` starts (`streamlit run dashboard/serve.py`) on a loaded database,
and beside it, as the baseline of the same run, a one-line Streamlit app (the protocol's
floor: what any Streamlit page costs). The clients are protocol-level
(`bench.session_client`), not browsers, so they leave the server the CPU. It prints:

- server CPU seconds per cached Resumen session (sequential sessions after a warm-up),
  against the floor app's;
- `--sessions` Resumen sessions opened at the same moment, with a stream of customer
  tracking-link sessions beside them: p50 / p95 / max seconds to the end of each run,
  and errors;
- the server's resident memory after each wave, to show whether it grows without bound.

`--live` evaluates the data at "now", as a dashboard on live data does, instead of at the
sample's own fixed `as_of`: the database is copied without it, and each wave opens just
after a minute turns, when the instant the pages are judged at has moved.

Every request goes to 127.0.0.1; counts and time are bounded (`--sessions`, `--waves`,
a timeout per session).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import PROJECT_ROOT, sample_db
from bench.servers import free_port, streamlit_argv, wait_healthy
from bench.session_client import SessionRun, run_session, run_sessions
from dashboard.ui.i18n import t

FLOOR_APP = 'import streamlit as st\nst.write("Eslabón")\n'
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    """Resident memory of a process now, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def served(script: Path, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """A Streamlit server for `script` on a free loopback port: (base URL, pid)."""
    port = free_port()
    proc = subprocess.Popen(
        streamlit_argv(script, port),
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def checked(run: SessionRun, expected: str) -> SessionRun:
    """`run`, after checking it finished and drew `expected` (not an error page)."""
    if not run.finished:
        raise RuntimeError(f"session failed: {run.exception}")
    drawn = "\n".join(run.texts)
    if expected not in drawn or "EXCEPTION" in drawn:
        raise RuntimeError(f"session drew no {expected!r}: {drawn[:500]}")
    return run


def per_session_cpu(base: str, pid: int, count: int, expected: str) -> float:
    """Server CPU seconds per session over `count` sequential sessions (after one warm)."""
    checked(asyncio.run(run_session(base)), expected)
    before = cpu_seconds(pid)
    for _ in range(count):
        checked(asyncio.run(run_session(base)), expected)
    return (cpu_seconds(pid) - before) / count


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _wave(base: str, sessions: int, tracking_query: str, tracking: int) -> list[SessionRun]:
    """`sessions` Resumen sessions at once, with `tracking` customer-link sessions beside."""
    jobs = [run_sessions(base, sessions)]
    if tracking_query and tracking:
        jobs.append(run_sessions(base, tracking, page="", query=tracking_query))
    results = await asyncio.gather(*jobs)
    return [run for group in results for run in group]


def live_copy(db: Path, copy: Path) -> Path:
    """Copy the loaded file `db` to `copy` without the sample's own `as_of`: its pages
    judge "now" (also the tests' live database, tests/dashboard/test_keep_warm.py)."""
    import sqlalchemy as sa

    from etl.db import create_db_engine
    from etl.schema import dataset_meta

    shutil.copyfile(db, copy)
    engine = create_db_engine(f"duckdb:///{copy}")
    with engine.begin() as conn:
        conn.execute(sa.delete(dataset_meta).where(dataset_meta.c.key == "as_of"))
    engine.dispose()
    return copy


def after_the_minute_turns(margin: float = 1.0) -> None:
    """Wait until `margin` seconds after the next minute starts (live: a new instant)."""
    time.sleep(60 - time.time() % 60 + margin)


def tracking_query(db_url: str) -> str:
    """A signed customer tracking link's query for the first external customer."""
    import sqlalchemy as sa

    from dashboard.services.tokens import make_token
    from etl.db import create_db_engine
    from etl.schema import commitments

    engine = create_db_engine(db_url)
    with engine.connect() as conn:
        customer = conn.execute(
            sa.select(commitments.c.customer)
            .where(commitments.c.customer_type == "external")
            .order_by(commitments.c.customer)
            .limit(1)
        ).scalar_one()
    engine.dispose()
    token = make_token(customer, os.environ["ESLABON_SECRET"], days=30)
    return f"token={token}"


def main(argv: list[str] | None = None) -> None:
    """Measure the floor app and Eslabón in the same run; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["sample", "100k", "1m"], default="sample")
    parser.add_argument("--sessions", type=int, default=30, help="sessions opened at once")
    parser.add_argument("--tracking", type=int, default=5, help="customer links beside them")
    parser.add_argument("--sequential", type=int, default=10, help="sessions for the CPU figure")
    parser.add_argument("--waves", type=int, default=3, help="concurrent waves (memory)")
    parser.add_argument(
        "--live", action="store_true", help='judge "now", each wave as a minute turns'
    )
    args = parser.parse_args(argv)

    if args.size == "sample":
        db = Path(tempfile.mkdtemp()) / "sample.duckdb"
        for cmd in (
            ["etl", "load", "data/sample"],
            [
                "dashboard.records",
                "import-targets",
                "data/sample-targets.csv",
                "--set-by",
                "sample",
            ],
        ):
            subprocess.run(
                [sys.executable, "-m", *cmd, "--db", f"duckdb:///{db}"],
                cwd=PROJECT_ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
    else:
        db = sample_db(args.size)
    if args.live:
        db = live_copy(db, Path(tempfile.mkdtemp()) / "live.duckdb")
    db_url = f"duckdb:///{db}"
    secret = "bench-" + os.urandom(24).hex()
    env = {
        "ESLABON_DB_URL": db_url,
        "ESLABON_SECRET": secret,
        "ESLABON_AUTH_FILE": str(Path(tempfile.mkdtemp()) / "no-auth.yaml"),
    }
    os.environ["ESLABON_SECRET"] = secret
    floor_script = Path(tempfile.mkdtemp()) / "floor.py"
    floor_script.write_text(FLOOR_APP, encoding="utf-8")

    with served(floor_script, env) as (base, pid):
        floor_cpu = per_session_cpu(base, pid, args.sequential, "Eslabón")
    with served(PROJECT_ROOT / "dashboard" / "serve.py", env) as (base, pid):
        # the first card's label: the page drew its numbers, not an empty or error state
        resumen_cpu = per_session_cpu(base, pid, args.sequential, t("kpi_on_time_rate", "es"))
        link = tracking_query(db_url)
        waves = []
        for wave in range(args.waves):
            if args.live:
                after_the_minute_turns()
            start = time.perf_counter()
            runs = asyncio.run(_wave(base, args.sessions, link, args.tracking))
            elapsed = time.perf_counter() - start
            good = [r for r in runs if r.finished and not any("EXCEPTION" in x for x in r.texts)]
            times = [r.seconds for r in good]
            errors = [r.exception or "an exception drawn" for r in runs if r not in good]
            waves.append((wave + 1, len(runs), times, errors, elapsed, rss_mib(pid)))
            print(f"  wave {wave + 1}: {len(times)}/{len(runs)} finished", flush=True)
        payload = asyncio.run(run_session(base)).received_bytes

    label = f"{args.size}, live" if args.live else args.size
    print(f"\n### Server CPU per cached Resumen session ({label})\n")
    print("| server | CPU s / session | ÷ floor |")
    print("|---|---:|---:|")
    print(f"| one-line Streamlit app (floor) | {floor_cpu:.3f} | 1.00 |")
    print(f"| Eslabón Resumen | {resumen_cpu:.3f} | {resumen_cpu / floor_cpu:.1f} |")
    print(f"\nResumen payload: {payload / 1024:,.0f} KiB per session")
    print(
        f"\n### {args.sessions} Resumen + {args.tracking} tracking-link sessions at once "
        f"({label})\n"
    )
    print("| wave | sessions | p50 s | p95 s | max s | errors | wall s | server RSS MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for wave, n, times, errors, elapsed, rss in waves:
        p50 = statistics.median(times) if times else float("nan")
        p95 = _quantile(times, 0.95) if times else float("nan")
        top = max(times) if times else float("nan")
        print(
            f"| {wave} | {n} | {p50:.2f} | {p95:.2f} | {top:.2f} | {len(errors)} | "
            f"{elapsed:.2f} | {rss:,.0f} |"
        )
        for error in errors[:3]:
            print(f"  error: {error}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
