"""A dashboard keeps answering while `python -m etl load` runs in another process.

Real processes: a reader loops the dashboard's engine code (etl.publish.served_engine,
which is what dashboard.views.database.engine_for returns) and a metric function, while
the loader adds a batch of new commitments. The reader must never see an error, and
every read must see the whole old state or the whole new one (commitments, batches and
the on-time metric agree with one of the two), never part of the batch. Then the app's
own small writes: they wait for a running load and are not lost by its swap.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import etl.db
import etl.publish
from etl.db import is_lock_conflict
from etl.load import load_files
from etl.publish import (
    LoadInProgress,
    ServedEngine,
    leftover_copies,
    publishing,
    scratch_copy,
    served_engine,
    write_lock,
)
from etl.schema import targets
from etl.settings import SAMPLE_DIR
from tests.etl.concurrency_support import (
    ROOT,
    child_env,
    scalar,
    write_new_commitments,
)

NEW = 3000  # commitments the second batch adds

READER = r"""
import json, sys, time
from datetime import datetime
import sqlalchemy as sa
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.ontime import on_time_summary
from etl.publish import served_engine

url, target, out, progress = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
engine = served_engine(url)
f = MetricFilter(as_of=datetime(2027, 1, 1))
reads, errors, after = [], [], 0
deadline = time.monotonic() + 90
while time.monotonic() < deadline and after < 5:
    try:
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar()
            b = conn.execute(sa.text("SELECT count(*) FROM load_batches")).scalar()
            s = on_time_summary(conn, f)
            due = int(s["due"].sum() + s["pending"].sum())
        reads.append([time.time(), int(n), int(b), due])
        with open(progress, "a") as fh:  # one byte per read, for the loader to wait on
            fh.write(".")
        if len(reads) == 1:
            print("ready", flush=True)
        if n == target:
            after += 1
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
        if len(errors) > 20:
            break
with open(out, "w") as fh:
    json.dump({"reads": reads, "errors": errors}, fh)
"""


# The loader: `python -m etl load` itself, its validation held until the reader has read
# three more times: reads that all happen while the load runs, so a loader that held the
# live file would make them fail (or never happen, and the loader gives up waiting).
LOADER = r"""
import os, sys
import etl.load
from tests.waiting import wait_for

_validate = etl.load.validate_frame
progress = os.environ["READER_PROGRESS"]

def reads():
    return os.path.getsize(progress) if os.path.exists(progress) else 0

def slow_validate(*args, **kwargs):
    start = reads()
    wait_for(lambda: reads() >= start + 3, timeout=60)
    return _validate(*args, **kwargs)

etl.load.validate_frame = slow_validate
from etl.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _seed(url: str) -> None:
    """The old state: the shipped sample, one batch."""
    with publishing(url) as engine:
        report = load_files(engine, [SAMPLE_DIR])
    assert report.committed


def _reader_and_loader(url: str, batch: Path, tmp_path: Path) -> tuple[dict, float, float]:
    """Start the reader, wait for its first read, run the loader; the reader's log and
    the loader's start and end (wall clock)."""
    old = scalar(url, "SELECT count(*) FROM commitments")
    script = tmp_path / "reader.py"
    script.write_text(READER, encoding="utf-8")
    out, progress = tmp_path / "reads.json", tmp_path / "reads.progress"
    reader = subprocess.Popen(
        [sys.executable, str(script), url, str(old + NEW), str(out), str(progress)],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stderr is not None
        assert reader.stdout.readline().strip() == "ready", reader.stderr.read()
        loader = tmp_path / "loader.py"
        loader.write_text(LOADER, encoding="utf-8")
        started = time.time()
        loaded = subprocess.run(
            [sys.executable, str(loader), "load", str(batch), "--db", url, "--json"],
            cwd=ROOT,
            env={**child_env(), "READER_PROGRESS": str(progress)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        ended = time.time()
        assert loaded.returncode == 0, loaded.stderr
        reader.wait(timeout=120)
    finally:
        if reader.poll() is None:
            reader.kill()
    return json.loads(out.read_text()), started, ended


def _check(log: dict, url: str, old: tuple[int, int], started: float, ended: float) -> None:
    """No errors; every read is the whole old state or the whole new one; both seen."""
    assert log["errors"] == []
    reads = log["reads"]
    new = (old[0] + NEW, old[1] + 1)
    assert scalar(url, "SELECT count(*) FROM commitments") == new[0]
    states = {(n, b) for _, n, b, _ in reads}
    assert states <= {old, new}, states
    assert old in states and new in states
    # the metric agrees with the counts it was read with: one value per state
    metric: dict[tuple[int, int], set[Any]] = {(n, b): set() for n, b in states}
    for _, n, b, due in reads:
        metric[(n, b)].add(due)
    assert all(len(values) == 1 for values in metric.values()), metric
    # the new commitments are all due by 2026-10-28, before as_of: the metric grows by NEW
    assert metric[new].pop() - metric[old].pop() == NEW
    # the reader was really reading while the loader process ran (the loader waits for
    # three reads in the middle of its load)
    assert sum(started <= at <= ended for at, *_ in reads) >= 3


@pytest.mark.parametrize("in_place", ["always", "never"])
def test_duckdb_reader_never_fails_and_sees_old_or_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_place: str
) -> None:
    """Both ways a batch reaches the file: in place behind the gate, or a swapped copy."""
    monkeypatch.setenv("ESLABON_IN_PLACE", in_place)  # the loader process inherits it
    url = f"duckdb:///{tmp_path / 'live.duckdb'}"
    _seed(url)
    batch = write_new_commitments(tmp_path / "batch", NEW, "NEW")
    log, started, ended = _reader_and_loader(url, batch, tmp_path)
    _check(log, url, (5000, 1), started, ended)
    assert leftover_copies(tmp_path / "live.duckdb") == []


@pytest.mark.postgres
def test_postgres_reader_sees_old_or_new(pg_schema_url: str, tmp_path: Path) -> None:
    """MVCC: readers see the last committed state while the batch's transaction runs."""
    _seed(pg_schema_url)
    batch = write_new_commitments(tmp_path / "batch", NEW, "NEW")
    log, started, ended = _reader_and_loader(pg_schema_url, batch, tmp_path)
    _check(log, pg_schema_url, (5000, 1), started, ended)


# --- the app's own writes -------------------------------------------------------------


class _FlockSpy:
    """etl.publish's `fcntl`, telling when a writer finds the lock taken."""

    LOCK_EX, LOCK_NB, LOCK_UN = fcntl.LOCK_EX, fcntl.LOCK_NB, fcntl.LOCK_UN

    def __init__(self, refused: threading.Event) -> None:
        self.refused = refused

    def flock(self, fd: int, operation: int) -> None:
        try:
            fcntl.flock(fd, operation)
        except BlockingIOError:
            self.refused.set()
            raise


def _target_row(target_id: int) -> dict[str, object]:
    from datetime import datetime

    return {
        "target_id": target_id,
        "kpi": "on_time_rate",
        "process": None,
        "target_value": 0.9,
        "direction": "higher",
        "amber_tolerance": 0.05,
        "valid_from": datetime(2026, 1, 1),
        "set_by": "test",
        "set_at": datetime(2026, 1, 1),
    }


def test_app_write_waits_for_a_load_and_is_not_lost_by_its_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target saved while a load runs lands after the load, on the new file: both kept."""
    url = f"duckdb:///{tmp_path / 'live.duckdb'}"
    _seed(url)
    engine = served_engine(url)
    assert isinstance(engine, ServedEngine)
    batch = write_new_commitments(tmp_path / "batch", 50, "LATE")
    loading, refused, saved = threading.Event(), threading.Event(), []
    monkeypatch.setattr(etl.publish, "fcntl", _FlockSpy(refused))

    def load() -> None:
        with publishing(url) as writer:
            load_files(writer, [batch])
            loading.set()
            refused.wait(30)  # the load ends only once the app's write has found it running

    loader = threading.Thread(target=load)
    loader.start()
    assert loading.wait(30)
    with engine.begin() as conn:  # waits for the loader's lock, then writes the new file
        conn.execute(targets.insert().values(**_target_row(1)))
        saved.append(conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar())
    loader.join()
    assert refused.is_set()  # the write did wait for the load
    assert saved == [5050]
    assert scalar(url, "SELECT count(*) FROM commitments") == 5050
    assert scalar(url, "SELECT count(*) FROM targets") == 1


def test_app_write_gives_up_with_a_clear_message_when_a_load_holds_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"duckdb:///{tmp_path / 'live.duckdb'}"
    _seed(url)
    engine = served_engine(url)
    monkeypatch.setattr("etl.publish.APP_WRITE_WAIT", 0.2)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with write_lock(tmp_path / "live.duckdb"):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    try:
        with (
            pytest.raises(LoadInProgress, match="a data load is running, try again"),
            engine.begin() as conn,
        ):
            conn.execute(targets.insert().values(**_target_row(2)))
        # reads go on meanwhile
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar() == 5000
    finally:
        release.set()
        holder.join()
    assert scalar(url, "SELECT count(*) FROM targets") == 0


def test_reader_connect_retries_a_brief_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A direct read-write open by another process (not through publishing) only delays
    a reader: the open is retried while the other process holds the file briefly (here:
    until the reader's first open has failed on it)."""
    url = f"duckdb:///{tmp_path / 'live.duckdb'}"
    _seed(url)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " sys.stdin.readline(); c.close(); print('released', flush=True)",
            str(tmp_path / "live.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    stdin, stdout = holder.stdin, holder.stdout
    assert stdout.readline().strip() == "held"
    conflicts: list[BaseException] = []

    def conflict_releases_the_holder(exc: BaseException) -> bool:
        found = is_lock_conflict(exc)
        if found and not conflicts:  # the first failed open: the holder lets go
            conflicts.append(exc)
            stdin.write("release\n")
            stdin.flush()
            assert stdout.readline().strip() == "released"
        return found

    monkeypatch.setattr(etl.db, "is_lock_conflict", conflict_releases_the_holder)
    engine = served_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar() == 5000
    assert len(conflicts) == 1  # the first open met the holder; a retry got through
    holder.wait(10)


def test_a_preview_runs_on_a_scratch_copy_while_a_load_holds_the_lock(tmp_path: Path) -> None:
    """The Datos dry run merges and rolls back, which a read-only connection cannot do:
    on a scratch copy it works during a load, and the live file never changes."""
    from etl.preview import preview_files

    db = tmp_path / "live.duckdb"
    url = f"duckdb:///{db}"
    _seed(url)
    before = db.stat().st_mtime_ns, scalar(url, "SELECT count(*) FROM commitments")
    batch = write_new_commitments(tmp_path / "batch", 7, "PRE")
    with write_lock(db), scratch_copy(url) as scratch:
        report = preview_files(scratch, [batch / "commitments.csv"])
    assert [(f.read, f.new, f.rejected) for f in report.files] == [(7, 7, 0)]
    assert (db.stat().st_mtime_ns, scalar(url, "SELECT count(*) FROM commitments")) == before
