"""Faults a load meets: a full disk, a read-only folder, an unreachable database.

Each gives one clear line (CLI exit 2), writes nothing and leaves no copy behind; the
dashboard shows its error state instead of a traceback, and keeps reading while a load
holds the writer lock. A real tiny tmpfs is used for the disk cases when this machine
allows mounting one (root); the in-process ENOSPC / EROFS cases run everywhere.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl import cli
from etl.load import load_files
from etl.publish import leftover_copies, publishing, served_engine, write_lock
from tests.etl.concurrency_support import database_dump, run_etl, write_new_commitments


def _seeded(folder: Path, commitments: int = 40) -> tuple[Path, str]:
    """A DuckDB file in `folder` holding one small batch."""
    db = folder / "live.duckdb"
    url = f"duckdb:///{db}"
    with publishing(url) as engine:
        load_files(engine, [write_new_commitments(folder / "seed", commitments, "OLD")])
    return db, url


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_disk_full_while_copying_is_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db, url = _seeded(tmp_path)
    before = database_dump(url)

    def full(source: Path, target: Path) -> None:
        target.write_bytes(source.read_bytes()[:1024])  # a partial copy, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr("etl.publish.copy_file", full)
    monkeypatch.setenv("ESLABON_IN_PLACE", "never")  # a batch this small would go in place
    batch = write_new_commitments(tmp_path / "new", 10, "NEW")
    assert cli.main(["load", str(batch), "--db", url]) == cli.EXIT_ERROR
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("error: ")
    assert "disk is full" in line and "nothing was written" in line
    assert database_dump(url) == before
    assert leftover_copies(db) == []


def test_read_only_folder_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock file cannot be created: EROFS (root ignores chmod, so it is simulated)."""
    _db, url = _seeded(tmp_path)
    before = database_dump(url)
    real_open = os.open

    def refuse_lock(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        if str(path).endswith(".lock"):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr("etl.publish.os.open", refuse_lock)
    batch = write_new_commitments(tmp_path / "new", 10, "NEW")
    assert cli.main(["load", str(batch), "--db", url]) == cli.EXIT_ERROR
    line = _one_line(capsys.readouterr().err)
    assert "live.duckdb.lock: the file system is read-only; nothing was written" in line
    monkeypatch.undo()
    assert database_dump(url) == before


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://nobody@127.0.0.1:1/nothing", "postgresql://nobody@256.0.0.1/x"],
)
def test_unreachable_database_is_one_line_exit_2(url: str, tmp_path: Path) -> None:
    batch = write_new_commitments(tmp_path / "new", 3, "NEW")
    done = run_etl("load", str(batch), "--db", url, timeout=60)
    assert done.returncode == 2
    line = _one_line(done.stderr)
    assert line.startswith("error: database ")
    assert "nobody@" in line and "password" not in line.lower()


def test_a_database_path_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    batch = write_new_commitments(tmp_path / "new", 3, "NEW")
    done = run_etl("load", str(batch), "--db", str(tmp_path / "afile" / "db.duckdb"))
    assert done.returncode == 2
    assert _one_line(done.stderr).startswith("error: ")


# --- a real tiny file system ------------------------------------------------------------


@contextlib.contextmanager
def _tmpfs(where: Path, size_kb: int) -> Iterator[Path]:
    """A fresh tmpfs of `size_kb` at `where`, or a skip when mounting is not allowed."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): in-process cases cover it")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def test_real_full_disk_and_read_only_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a tmpfs that holds the database but not a second copy of it: the load fails
    with one line and the live file is intact; remounted read-only: one line too, and
    the data can still be read. (The copy path: a batch this small would go in place.)"""
    monkeypatch.setenv("ESLABON_IN_PLACE", "never")
    seed_db, seed_url = _seeded(tmp_path, commitments=3000)
    size = seed_db.stat().st_size
    with _tmpfs(tmp_path / "small", size_kb=(size * 3 // 2) // 1024) as disk:
        db = disk / "live.duckdb"
        db.write_bytes(seed_db.read_bytes())
        url = f"duckdb:///{db}"
        before = database_dump(url)
        batch = write_new_commitments(tmp_path / "new", 10, "NEW")
        done = run_etl("load", str(batch), "--db", url)
        assert done.returncode == 2
        line = _one_line(done.stderr)
        assert "no space left on device" in line.lower() or "disk is full" in line
        assert database_dump(url) == before
        assert leftover_copies(db) == []
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        done = run_etl("load", str(batch), "--db", url)
        assert done.returncode == 2
        assert "read-only" in _one_line(done.stderr)
        assert database_dump(url) == before
        listed = run_etl("batches", "--db", url)
        assert listed.returncode == 0, listed.stderr
    assert seed_url  # the seed itself was never touched


# --- the dashboard ------------------------------------------------------------------------


def test_pages_keep_answering_while_a_load_holds_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load holds the writer lock for the whole page run: the page still renders."""
    from tests.dashboard.conftest import make_app

    db, url = _seeded(tmp_path)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with write_lock(db):
            holding.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    try:
        at = make_app(monkeypatch, url)
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        assert not at.error, [e.value for e in at.error]
    finally:
        release.set()
        holder.join()


def test_missing_database_in_a_read_only_folder_is_the_error_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The served engine must create the file first; when it cannot, a message."""
    from tests.dashboard.conftest import make_app

    real_open = os.open

    def refuse_lock(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        if str(path).endswith(".lock"):
            raise OSError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    url = f"duckdb:///{tmp_path / 'nothing.duckdb'}"
    with pytest.raises(Exception, match="no permission to write there"):
        monkeypatch.setattr("etl.publish.os.open", refuse_lock)
        served_engine(url)
    at = make_app(monkeypatch, url)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.error  # the error state, not a traceback
