"""Writing to a DuckDB file while a dashboard keeps reading it: lock, copy, write, swap.

DuckDB lets one process at a time open a file read-write, and a read-only open fails
while that process holds it. A load that wrote into the live file would lock every
reader out for its whole length. So no writer ever opens the live file read-write:

1. the writer takes an exclusive advisory lock on `<db>.lock` (fcntl.flock), which
   serialises loads (`python -m etl load`, the Datos page) and the dashboard's own
   small writes (targets, notices, actions); a writer that cannot get it within its
   wait raises `LoadInProgress`, whose message says to try again in a moment;
2. under the lock it copies the file (no writer exists, the lock guarantees it, so the
   copy is consistent) to `<db>.publish-<random>.tmp` in the same folder;
3. the batch is written into the copy, checkpointed and closed;
4. `os.replace` swaps the copy over the live file, atomically.

Readers open short-lived read-only connections (`served_engine`, NullPool): one that
opened the old file finishes on it (the old inode lives until it closes), the next one
opens the new file. Every read sees the old data or the new, never half a batch.

A writer killed at any point leaves the live file untouched (the swap is the only
change to it) and a stray `.tmp` behind, which the next writer removes under the lock.
The cost is the copy: a few milliseconds for the 5,000-commitment sample, proportional
to the file's size (see docs/security.md).

Copying stops scaling once the file is big and the batch small: a nightly batch of 1%
of the rows into a 10M-commitment file would copy gigabytes to change megabytes. So a
load (`load_published`) may instead go in place, chosen by ESLABON_IN_PLACE
(`auto`, the default: in place when the batch's files are at most IN_PLACE_SHARE of the
database file; `always`; `never`):

1. under the same writer lock, a read-only connection (readers carry on) reads and
   validates the batch and finds which rows are new or changed (etl.load.check_batch);
2. the writer closes the gate (etl.gate: new readers wait, bounded; the open ones
   finish), opens the live file read-write, writes those rows in one transaction,
   commits, checkpoints (the file alone holds the batch, no WAL) and closes it;
3. the gate opens; the next reader sees the whole batch. A reader never has the file
   open while it changes, so it sees the old data or the new, never half a batch.

A writer killed in step 2 leaves an uncommitted transaction, which DuckDB discards when
the file is next opened; the live file holds the old data. Big batches still go through
the copy, so readers never wait for a long apply.

PostgreSQL needs none of this (MVCC gives readers the last committed state); for a
server URL `publishing` yields a plain engine and `served_engine` returns one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import typing
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from etl import gate, querywatch
from etl.db import DatabaseError, create_db_engine, duckdb_path, normalise_url
from etl.load import BatchReport, Source, apply_checked, check_batch, load_files
from etl.mapping import Mapping
from etl.read import ReadLimits
from etl.schema import create_schema, schema_is_current
from etl.settings import in_place_mode, load_settings

LOCK_SUFFIX = ".lock"
TEMP_MARK = ".publish-"
# How long a dashboard write waits for a running load before it gives up with a message.
APP_WRITE_WAIT = 5.0
# How long `python -m etl load` waits for another load before it gives up.
LOAD_WAIT = 600.0
_POLL = 0.05
# `auto` loads in place when the batch's files take at most this share of the database
# file: copying the file then costs more than the batch, and readers wait for a short
# apply only (a nightly 1% batch is ~2% of the file in CSV bytes).
IN_PLACE_SHARE = 0.10
# How long an in-place writer waits for open readers to close their connections.
GATE_WAIT = 120.0


class LoadInProgress(DatabaseError):
    """Another load (or write) holds the database; the message says to try again."""

    def __init__(self, path: Path) -> None:
        # No path in the text: the dashboard shows it to people who need not know it.
        super().__init__(
            "a data load is running, try again in a moment "
            "(se está cargando datos, inténtalo de nuevo en un momento)"
        )
        self.path = path


def lock_path(db: Path) -> Path:
    """The advisory lock file every writer of `db` takes: `<db>.lock`, next to it."""
    return db.with_name(db.name + LOCK_SUFFIX)


@contextlib.contextmanager
def write_lock(db: Path, *, wait: float | None = None, announce: bool = False) -> Iterator[None]:
    """Hold the exclusive writer lock of `db` for the block.

    Waits up to `wait` seconds (default APP_WRITE_WAIT) for another holder, then raises
    LoadInProgress. The
    kernel drops the lock when its holder exits, even by SIGKILL, so a killed load
    never blocks the next one. `announce` prints one line on stderr while waiting.
    """
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DatabaseError(_os_message(exc, lock_path(db))) from None
    try:
        deadline = time.monotonic() + (APP_WRITE_WAIT if wait is None else wait)
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LoadInProgress(db) from None
                if announce and not announced:
                    print(f"waiting for another load of {db} to finish...", file=sys.stderr)
                    announced = True
                time.sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def leftover_copies(db: Path) -> list[Path]:
    """Copies (and their WAL files) that a killed writer left next to `db`."""
    return sorted(db.parent.glob(db.name + TEMP_MARK + "*"))


def remove_leftovers(db: Path) -> list[Path]:
    """Delete what killed writers left behind; only safe while holding the writer lock."""
    removed = []
    for stray in leftover_copies(db):
        with contextlib.suppress(FileNotFoundError):
            stray.unlink()
            removed.append(stray)
    return removed


@contextlib.contextmanager
def publishing(
    url: str | None = None, *, wait: float | None = None, announce: bool = False
) -> Iterator[Engine]:
    """A read-write engine whose committed writes reach readers all at once, at the end.

    For a DuckDB file: the engine writes into a private copy, swapped over the live file
    when the block ends without an exception (an exception, or a killed process, leaves
    the live file as it was). For PostgreSQL: a plain engine (transactions suffice).

        with publishing(url, wait=LOAD_WAIT) as engine:
            load_files(engine, paths)
    """
    url = normalise_url(url or load_settings().db_url)
    db = duckdb_path(url)
    if db is None:
        engine = create_db_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    with write_lock(db, wait=wait, announce=announce):
        remove_leftovers(db)
        _settle_wal(db)
        copy = _private_copy(db)
        try:
            engine = create_db_engine(f"duckdb:///{copy}")
            try:
                yield engine
                with engine.connect() as conn:
                    conn.exec_driver_sql("CHECKPOINT")
            finally:
                engine.dispose()
            _swap(copy, db)
        except BaseException:
            for stray in (copy, _wal(copy)):
                with contextlib.suppress(FileNotFoundError):
                    stray.unlink()
            raise


@contextlib.contextmanager
def published_transaction(
    url: str | None = None, *, wait: float | None = None
) -> Iterator[sa.Connection]:
    """One transaction, published as a whole when the block ends (see `publishing`)."""
    with publishing(url, wait=wait) as engine, engine.begin() as conn:
        yield conn


def load_published(
    url: str | None,
    sources: typing.Sequence[Source],
    *,
    wait: float | None = None,
    announce: bool = False,
    mapping: Mapping | str | os.PathLike[str] | None = None,
    tz: str | None = None,
    progress: typing.Callable[[str, int, int], None] | None = None,
    strict: bool = False,
    loaded_by: str | None = None,
    note: str | None = None,
    read_limits: ReadLimits | None = None,
) -> BatchReport:
    """`load_files` published to readers as a whole: through a private copy and a swap,
    or in place behind the gate (see the module's text and ESLABON_IN_PLACE)."""
    url = normalise_url(url or load_settings().db_url)
    db = duckdb_path(url)
    if db is not None and loads_in_place(db, sources):
        with write_lock(db, wait=wait, announce=announce):
            report = _load_in_place(
                url,
                db,
                sources,
                mapping=mapping,
                tz=tz,
                progress=progress,
                strict=strict,
                loaded_by=loaded_by,
                note=note,
                read_limits=read_limits,
            )
        if report is not None:
            return report
    with publishing(url, wait=wait, announce=announce) as engine:
        return load_files(
            engine,
            sources,
            mapping=mapping,
            tz=tz,
            progress=progress,
            strict=strict,
            loaded_by=loaded_by,
            note=note,
            read_limits=read_limits,
        )


def _load_in_place(
    url: str,
    db: Path,
    sources: typing.Sequence[Source],
    *,
    strict: bool,
    loaded_by: str | None,
    note: str | None,
    **options: typing.Any,
) -> BatchReport | None:
    """Check the batch while readers read, apply it behind the closed gate; None (nothing
    done) when the file's schema is missing or older than this release's (the check runs
    read-only and the gate is held only to write rows). The caller holds the writer lock."""
    remove_leftovers(db)
    _settle_wal(db)
    reader = create_db_engine(url, read_only=True)
    try:
        # One connection held open keeps DuckDB's instance (its catalog read once) for
        # the check's own connections.
        with reader.connect() as held:
            if not schema_is_current(held):
                return None  # a new or older file: the copy creates or upgrades its schema
            checked = check_batch(reader, sources, **options)
    finally:
        reader.dispose()
    if strict and checked.report.rows_rejected:
        return checked.report  # refused: nothing to write, no reason to stop readers
    with gate.exclusive(db, wait=GATE_WAIT):
        engine = create_db_engine(url)
        try:
            report = apply_checked(engine, checked, strict=strict, loaded_by=loaded_by, note=note)
            with engine.connect() as conn:
                conn.exec_driver_sql("CHECKPOINT")
        finally:
            engine.dispose()
    return report


def loads_in_place(db: Path, sources: typing.Sequence[Source], mode: str | None = None) -> bool:
    """Whether a batch of `sources` goes into `db` in place (else: copy and swap).

    Only into an existing file (one without the schema yet falls back to the copy);
    `auto` when the sources' bytes are at most IN_PLACE_SHARE of the file's.
    """
    mode = mode or in_place_mode()
    if mode == "never" or not db.exists():
        return False
    if mode == "always":
        return True
    return batch_bytes(sources) <= IN_PLACE_SHARE * db.stat().st_size


def batch_bytes(sources: typing.Sequence[Source]) -> int:
    """The size of a batch's files: paths (folders summed), uploads by their length."""
    total = 0
    for source in sources:
        if isinstance(source, tuple):
            handle = source[1]
            try:
                position = handle.tell()
                total += handle.seek(0, os.SEEK_END)
                handle.seek(position)
            except (OSError, AttributeError, ValueError):
                return sys.maxsize  # unknown size: the copy is the safe choice
            continue
        path = Path(source)
        if path.is_dir():
            total += sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        elif path.exists():
            total += path.stat().st_size
    return total


SCRATCH_ENV = "ESLABON_SCRATCH_DIR"
_SCRATCH_ENTRY = re.compile(r"^p(\d+)-")


def scratch_root(env: typing.Mapping[str, str] | None = None) -> Path:
    """The folder scratch copies live in: `eslabon-scratch-<uid>` in ESLABON_SCRATCH_DIR
    (default: the system temp folder), private to this user (mode 700, checked).

    One entry per process that made it (`p<pid>-…`), so a dead process's leftovers are
    recognised and removed (`remove_stale_scratch`), and nobody else can read a copy of
    the data or plant a file where a preview will open it.
    """
    env = os.environ if env is None else env
    root = Path(env.get(SCRATCH_ENV) or tempfile.gettempdir()) / f"eslabon-scratch-{os.getuid()}"
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = root.lstat()
    except OSError as exc:
        raise DatabaseError(_os_message(exc, root)) from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise DatabaseError(
            f"{root}: the scratch folder must be a directory only this user can open "
            f"(owner {os.getuid()}, mode 700); remove it or set {SCRATCH_ENV}"
        )
    return root


def remove_stale_scratch(root: Path | None = None) -> list[Path]:
    """Delete the scratch entries of processes that no longer run (a killed server, a
    killed upload worker); called when the server starts and around every preview."""
    root = scratch_root() if root is None else root
    removed = []
    for entry in sorted(root.iterdir()):
        found = _SCRATCH_ENTRY.match(entry.name)
        if found is None or _process_alive(int(found.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _process_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not: killed, waiting only to be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


@contextlib.contextmanager
def scratch_copy(url: str | None = None) -> Iterator[Engine]:
    """A writable engine whose writes are thrown away: for dry runs that merge and roll back.

    A read-only DuckDB connection cannot even write inside a transaction it will roll
    back, so a preview of a load (etl.preview.preview_files) runs on a private copy of the
    file in this process's entry of `scratch_root()`, deleted afterwards (and, should the
    process be killed, by the next one: `remove_stale_scratch`). The copy is made holding
    the reader's side of the gate (etl.gate), so an in-place load is not half-way through
    it, and a swapped-in file is whole: the copy is one consistent state.
    PostgreSQL (or an in-memory database): a plain engine, the caller's rollback suffices.
    """
    url = normalise_url(url or load_settings().db_url)
    db = duckdb_path(url)
    if db is None or not db.exists():
        engine = create_db_engine(url if db is None else "duckdb:///:memory:")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    root = scratch_root()
    remove_stale_scratch(root)
    with tempfile.TemporaryDirectory(prefix=f"p{os.getpid()}-", dir=root) as folder:
        copy = Path(folder) / db.name
        try:
            # the reader's side of the gate: no in-place apply runs while the bytes move
            with gate.reading(db):
                copy_file(db, copy)
        except OSError as exc:
            raise DatabaseError(_os_message(exc, Path(folder))) from None
        engine = create_db_engine(f"duckdb:///{copy}")
        try:
            yield engine
        finally:
            engine.dispose()


def ensure_database(url: str | None = None, *, wait: float | None = None) -> None:
    """Create the DuckDB file with Eslabón's tables if it does not exist yet.

    A read-only open of a missing file fails, so a dashboard started before any load
    calls this first; it goes through `publishing` like any other write.
    """
    url = normalise_url(url or load_settings().db_url)
    db = duckdb_path(url)
    if db is None or db.exists():
        return
    with publishing(url, wait=wait) as engine:
        create_schema(engine)


class ServedEngine(Engine):
    """A DuckDB engine for a server process that reads while others load.

    `connect()` opens the live file read-only (retrying a brief lock conflict);
    `begin()` is a published transaction: it takes the writer lock (waiting up to
    APP_WRITE_WAIT, else LoadInProgress), writes into a copy and swaps it in on commit.
    So the dashboard's small writes (`with engine.begin() as conn: ...`) are serialised
    with loads and never lock a reader out. Writing through `connect()` fails: the file
    is read-only there.
    """

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A transaction that reaches readers as a whole when it commits."""
        url = self.url.render_as_string(hide_password=False)
        with published_transaction(url) as conn:
            yield conn


def served_engine(url: str | None = None, *, statement_timeout: float | None = None) -> Engine:
    """The engine a dashboard reads through: read-only DuckDB (see ServedEngine), or as is.

    Creates an empty database first when the DuckDB file does not exist yet. On
    PostgreSQL each connection reads one snapshot (REPEATABLE READ). Every statement
    stops after `statement_timeout` seconds (None: no limit; see etl.db).
    """
    url = normalise_url(url or load_settings().db_url)
    if duckdb_path(url) is None:
        # One snapshot per connection: under READ COMMITTED each statement sees the latest
        # commit, so a reader's second query could already see a batch its first did not.
        engine = create_db_engine(url, statement_timeout=statement_timeout)
        return engine.execution_options(isolation_level="REPEATABLE READ")
    ensure_database(url)
    base = create_db_engine(url, read_only=True)
    # Same pool and dialect (so the same lock-conflict retry, a dialect event); only
    # begin() differs. Statement events belong to an engine, so they are set on this one.
    served = ServedEngine(base.pool, base.dialect, base.url)
    querywatch.watch_engine(served, timeout=statement_timeout, interrupt_on_timeout=True)
    return served


# --- the steps ---------------------------------------------------------------------


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _settle_wal(db: Path) -> None:
    """Fold a WAL left by an earlier direct writer into the file before it is copied.

    Only happens after a write that bypassed `publishing` (or a crash of one); readers
    wait at the gate (etl.gate) for the moment it takes.
    """
    if db.exists() and _wal(db).exists():
        with gate.exclusive(db, wait=GATE_WAIT):
            engine = create_db_engine(f"duckdb:///{db}")
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("CHECKPOINT")
            finally:
                engine.dispose()


def _private_copy(db: Path) -> Path:
    """A consistent copy of `db` (or no file at all, for a new database) in its folder."""
    try:
        fd, name = tempfile.mkstemp(prefix=db.name + TEMP_MARK, suffix=".tmp", dir=db.parent)
        os.close(fd)
        copy = Path(name)
        if db.exists():
            copy_file(db, copy)
        else:
            copy.unlink()  # DuckDB creates a new database where no file is
    except OSError as exc:
        with contextlib.suppress(OSError, UnboundLocalError):
            copy.unlink()
        raise DatabaseError(_os_message(exc, db.parent)) from None
    return copy


def copy_file(source: Path, target: Path) -> None:
    """Copy bytes and permission bits (a seam the disk-full tests replace)."""
    shutil.copyfile(source, target)
    shutil.copymode(source, target)


def _swap(copy: Path, db: Path) -> None:
    """Make the finished copy the live file, durably and atomically."""
    if _wal(copy).exists():
        raise DatabaseError(f"{copy}: the copy still has a WAL after its checkpoint")
    try:
        with open(copy, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(copy, db)
        dir_fd = os.open(db.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise DatabaseError(_os_message(exc, db)) from None


def _os_message(exc: OSError, where: Path) -> str:
    """One line naming the place and what the system said, with the usual fix."""
    hint = {
        errno.ENOSPC: "the disk is full; free some space and load again",
        errno.EDQUOT: "the disk quota is exhausted; free some space and load again",
        errno.EACCES: "no permission to write there; check the folder's owner and mode",
        errno.EROFS: "the file system is read-only",
        errno.EPERM: "no permission to write there; check the folder's owner and mode",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return f"{exc.filename or where}: {hint}; nothing was written"
