"""A load killed with SIGKILL at a random moment leaves the database exactly as it was.

Real processes: `python -m etl load` is started and killed after a random delay that
spans its phases (interpreter start, lock, copy, read, validate, merge, checkpoint,
swap). After every kill a full dump of every table equals the dump from before; the
next load succeeds and, on DuckDB, clears the copy the killed load left behind.
On PostgreSQL the server rolls back the dead connection's transaction.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from etl.load import load_files
from etl.publish import leftover_copies, publishing
from etl.settings import SAMPLE_DIR
from tests.etl.concurrency_support import (
    ROOT,
    child_env,
    database_dump,
    etl_command,
    run_etl,
    scalar,
    write_new_commitments,
)

BATCH = 3000  # new commitments per batch


def _timed_load(url: str, batch: Path) -> float:
    """Load `batch` to the end with the CLI; how long the whole process took."""
    started = time.monotonic()
    done = run_etl("load", str(batch), "--db", url)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


def _kill_loads(url: str, folder: Path, iterations: int, seed: int) -> int:
    """Start loads of new batches and SIGKILL each after a random delay.

    Delays are drawn over the length of a complete load (measured first), so the kills
    land in every phase. After each kill the database is exactly as before, or — when
    the load finished, or was killed after its swap/commit while printing its report —
    holds that whole batch, never part of it. Returns how many kills left it as before.
    """
    rng = random.Random(seed)
    length = _timed_load(url, write_new_commitments(folder / "first", BATCH, "FIRST"))
    killed = 0
    for i in range(iterations):
        batch = write_new_commitments(folder / f"b{i}", BATCH, f"K{i}")
        before = database_dump(url)
        loader = subprocess.Popen(
            etl_command("load", str(batch), "--db", url),
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, length))
        if loader.poll() is None:
            loader.send_signal(signal.SIGKILL)
            loader.wait(30)
        after = database_dump(url)
        if after == before:
            assert loader.returncode == -signal.SIGKILL
            killed += 1
            continue
        assert len(after["load_batches"]) == len(before["load_batches"]) + 1
        assert all(row[2] is not None for row in after["load_batches"])  # finished_at
        new = [r for r in after["commitments"] if str(r[0]).startswith(f"K{i}-")]
        assert len(new) == BATCH
        assert len(after["commitments"]) == len(before["commitments"]) + BATCH
    return killed


@pytest.mark.parametrize("in_place", ["always", "never"])
def test_duckdb_killed_loads_change_nothing_and_the_next_load_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_place: str
) -> None:
    """Both ways a batch reaches the file: applied in place, or a copy swapped in."""
    monkeypatch.setenv("ESLABON_IN_PLACE", in_place)  # the loaders inherit it
    db = tmp_path / "live.duckdb"
    url = f"duckdb:///{db}"
    with publishing(url) as engine:
        load_files(engine, [SAMPLE_DIR])
    killed = _kill_loads(url, tmp_path, iterations=6, seed=20261125)
    assert killed >= 1
    before = scalar(url, "SELECT count(*) FROM commitments")
    batch = write_new_commitments(tmp_path / "last", BATCH, "LAST")
    done = run_etl("load", str(batch), "--db", url)
    assert done.returncode == 0, done.stderr
    assert scalar(url, "SELECT count(*) FROM commitments") == before + BATCH
    assert leftover_copies(db) == []  # what the killed loads left was cleared


def test_duckdb_copy_left_by_a_kill_is_removed_by_the_next_load(tmp_path: Path) -> None:
    """Deterministic version of the stray-copy case: a kill during the load phase."""
    db = tmp_path / "live.duckdb"
    url = f"duckdb:///{db}"
    with publishing(url) as engine:
        load_files(engine, [SAMPLE_DIR])
    before = database_dump(url)
    stray = db.with_name(db.name + ".publish-killed.tmp")
    stray.write_bytes(db.read_bytes()[:4096])  # a half-written copy
    db.with_name(stray.name + ".wal").write_bytes(b"\0" * 100)
    assert len(leftover_copies(db)) == 2
    assert database_dump(url) == before  # readers never look at copies
    done = run_etl("load", str(write_new_commitments(tmp_path / "b", 10, "NEXT")), "--db", url)
    assert done.returncode == 0, done.stderr
    assert leftover_copies(db) == []
    assert scalar(url, "SELECT count(*) FROM commitments") == 5010


@pytest.mark.postgres
def test_postgres_killed_loads_change_nothing_and_the_next_load_succeeds(
    pg_schema_url: str, tmp_path: Path
) -> None:
    with publishing(pg_schema_url) as engine:
        load_files(engine, [SAMPLE_DIR])
    killed = _kill_loads(pg_schema_url, tmp_path, iterations=4, seed=7)
    assert killed >= 1
    before = scalar(pg_schema_url, "SELECT count(*) FROM commitments")
    batch = write_new_commitments(tmp_path / "last", BATCH, "LAST")
    done = run_etl("load", str(batch), "--db", pg_schema_url)
    assert done.returncode == 0, done.stderr
    assert scalar(pg_schema_url, "SELECT count(*) FROM commitments") == before + BATCH
