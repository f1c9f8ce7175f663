"""dashboard/serve.py keeps the default view computed for the minute a visitor opens it in.

Live data is judged at the current minute (cache.as_of), so each minute turns every cache
key. These tests pin the clock (kpis.now_wall_clock) on a copy of the sample database
without its fixed `as_of`, and count the metrics the page computes (counting_metric).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st

from bench.sessions import live_copy
from dashboard import serve
from dashboard.metrics import kpis
from dashboard.views import cache, database
from etl.db import create_db_engine, duckdb_path
from etl.settings import keep_warm_minutes
from tests.dashboard.conftest import counting_metric, make_app, metric_cards

# a wall-clock instant inside the sample's data (its own as_of is 2026-11-20 17:00)
NOON = datetime(2026, 11, 20, 12, 0)


@pytest.fixture(scope="module")
def live_db_url(sample_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample database without its fixed as_of: its pages judge "now"."""
    source = duckdb_path(sample_db_url)
    assert source is not None
    copy = live_copy(Path(source), tmp_path_factory.mktemp("live") / "live.duckdb")
    return f"duckdb:///{copy}"


def _clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    monkeypatch.setattr(kpis, "now_wall_clock", lambda timezone=None: at)


@pytest.mark.parametrize(
    ("now", "idle", "expected"),
    [
        (NOON.replace(second=10), 5.0, (NOON,)),
        # 25 s before the minute turns, and after: the next minute too
        (NOON.replace(second=35), 5.0, (NOON, NOON + timedelta(minutes=1))),
        (NOON.replace(second=59, microsecond=500), 0.0, (NOON, NOON + timedelta(minutes=1))),
        (NOON.replace(second=34, microsecond=999_999), 5.0, (NOON,)),
        # nobody looked for longer than keep_for: nothing
        (NOON.replace(second=50), 601.0, ()),
        (NOON.replace(second=50), 600.0, (NOON, NOON + timedelta(minutes=1))),
    ],
)
def test_minutes_to_warm(now: datetime, idle: float, expected: tuple[datetime, ...]) -> None:
    assert serve.minutes_to_warm(now, idle, keep_for=600.0) == expected


def test_minutes_to_warm_switched_off() -> None:
    assert serve.minutes_to_warm(NOON.replace(second=50), 0.0, keep_for=0.0) == ()


@pytest.mark.parametrize(
    ("raw", "minutes"),
    [(None, 30.0), ("", 30.0), ("45", 45.0), ("2.5", 2.5), ("0", 0.0), ("off", 0.0),
     ("None", 0.0), ("-3", 30.0), ("soon", 30.0), ("inf", 30.0)],
)  # fmt: skip
def test_keep_warm_setting(raw: str | None, minutes: float) -> None:
    env = {} if raw is None else {"ESLABON_KEEP_WARM": raw}
    assert keep_warm_minutes(env) == minutes


def test_live_data_is_judged_at_the_start_of_the_minute(
    monkeypatch: pytest.MonkeyPatch, live_db_url: str
) -> None:
    monkeypatch.setenv("ESLABON_DB_URL", live_db_url)
    _clock(monkeypatch, NOON.replace(second=42))
    assert cache.as_of() == NOON
    assert cache.as_of(NOON + timedelta(minutes=1)) == NOON + timedelta(minutes=1)


def test_a_minute_warmed_ahead_is_drawn_without_computing(
    monkeypatch: pytest.MonkeyPatch, live_db_url: str
) -> None:
    """Warmed at 12:00:40 for 12:01, a visit at 12:01:05 computes nothing; a visit at
    12:02:05, a minute nobody warmed, computes the page again (the control)."""
    monkeypatch.setenv("ESLABON_DB_URL", live_db_url)
    st.cache_data.clear()
    _clock(monkeypatch, NOON.replace(second=40))
    serve.warm_caches(NOON + timedelta(minutes=1))
    asked: list[str] = []
    computed: list[str] = []
    counting_metric(monkeypatch, asked, computed)
    _clock(monkeypatch, NOON + timedelta(minutes=1, seconds=5))
    at = make_app(monkeypatch, live_db_url).run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(metric_cards(at)) == 8
    assert "dashboard.metrics.kpis.headline_kpis" in asked
    assert computed == []
    _clock(monkeypatch, NOON + timedelta(minutes=2, seconds=5))
    make_app(monkeypatch, live_db_url).run()
    assert "dashboard.metrics.kpis.headline_kpis" in computed


class Clock:
    """A wall clock standing at `at`, counting its reads (keep_warm reads it once a poll)."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.reads = 0

    def __call__(self, timezone: str | None = None) -> datetime:
        self.reads += 1
        return self.at


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Poll `condition()` until true, failing after `seconds` (no fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "keep_warm did not get there in time"
        time.sleep(0.005)


def test_keep_warm_follows_visits_minutes_and_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread warms nothing before a visit; after one, the current minute and, 25 s
    before it starts, the next; each (version, minute) once; both again when a load
    changes the version; nothing once the last visit is older than keep_for."""
    warmed: list[tuple[str, datetime | None]] = []
    version = ["v1"]
    monkeypatch.setattr(serve, "KEEP_WARM_POLL", 0.001)
    monkeypatch.setattr(
        serve, "warm_caches", lambda minute=None: warmed.append((version[0], minute))
    )
    monkeypatch.setattr(
        database, "db_status", lambda: database.DbStatus(ok=True, commitments=1, version=version[0])
    )
    visits = cache.Visits()
    monkeypatch.setattr(cache, "visits", lambda: visits)
    clock = Clock(NOON.replace(second=10))
    monkeypatch.setattr(kpis, "now_wall_clock", clock)

    def polls(n: int) -> None:
        target = clock.reads + n
        _wait_for(lambda: clock.reads >= target)

    stop = threading.Event()
    thread = threading.Thread(target=serve.keep_warm, args=(stop, 600.0), daemon=True)
    thread.start()
    try:
        polls(20)  # nobody has visited
        assert warmed == []
        visits.last = time.monotonic()
        _wait_for(lambda: warmed == [("v1", NOON)])
        polls(20)
        assert warmed == [("v1", NOON)]  # once per (version, minute)
        clock.at = NOON.replace(second=40)
        _wait_for(lambda: len(warmed) == 2)
        assert warmed[1] == ("v1", NOON + timedelta(minutes=1))
        version[0] = "v2"  # a load landed
        _wait_for(lambda: len(warmed) == 4)
        assert warmed[2:] == [("v2", NOON), ("v2", NOON + timedelta(minutes=1))]
        visits.last = time.monotonic() - 601.0
        clock.at = NOON + timedelta(minutes=1, seconds=40)
        polls(20)
        assert len(warmed) == 4
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_visitor_is_noted_not_the_warming(
    monkeypatch: pytest.MonkeyPatch, live_db_url: str
) -> None:
    """A page run notes the visit (what keeps the thread going); the server's own warming,
    outside any session, does not (else the server would keep itself warm for ever)."""
    monkeypatch.setenv("ESLABON_DB_URL", live_db_url)
    _clock(monkeypatch, NOON)
    cache.visits().last = float("-inf")
    serve.warm_caches()
    serve.warm_caches(NOON + timedelta(minutes=1))
    assert cache.visits().last == float("-inf")
    before = time.monotonic()
    at = make_app(monkeypatch, live_db_url).run()
    assert not at.exception
    assert cache.visits().last >= before


def test_switched_off_by_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """ESLABON_KEEP_WARM=0: the server starts no keep-warm thread."""
    monkeypatch.setenv("ESLABON_KEEP_WARM", "0")
    started: list[str] = []
    real = threading.Thread

    class Recording(real):  # type: ignore[misc, valid-type]
        def start(self) -> None:
            started.append(self.name)

    monkeypatch.setattr(serve.threading, "Thread", Recording)
    monkeypatch.setattr(serve, "log_unsafe_configuration", lambda: None)

    async def lifespan() -> None:
        async with serve.warm_at_start(None):  # type: ignore[arg-type]
            pass

    asyncio.run(lifespan())
    assert started == ["eslabon-warm"]
    monkeypatch.setenv("ESLABON_KEEP_WARM", "5")
    started.clear()
    asyncio.run(lifespan())
    assert started == ["eslabon-warm", "eslabon-keep-warm"]


def test_the_live_copy_has_no_fixed_as_of(live_db_url: str) -> None:
    """The copy really has no as_of (else every test above would pass on a fixed one)."""
    path = duckdb_path(live_db_url)
    assert path is not None and Path(path).exists()
    engine = create_db_engine(live_db_url)
    with engine.connect() as conn:
        assert kpis.dataset_as_of(conn) is None
    engine.dispose()


def test_warming_leaves_no_warning_in_the_server_log(
    monkeypatch: pytest.MonkeyPatch, live_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The server's own warming asks whether it runs for a visitor; the answer "no" is
    expected, not a warning (keep-warm would otherwise log a dozen lines every minute)."""
    monkeypatch.setenv("ESLABON_DB_URL", live_db_url)
    st.cache_data.clear()
    _clock(monkeypatch, NOON)
    with caplog.at_level(logging.WARNING):
        serve.warm_caches()
        serve.warm_caches(NOON + timedelta(minutes=1))
    assert cache.as_of(NOON + timedelta(minutes=1)) == NOON + timedelta(minutes=1)
    # (outside a server Streamlit also says "No runtime found": not what is tested here)
    missing = [r.getMessage() for r in caplog.records if "ScriptRunContext" in r.getMessage()]
    assert missing == []
