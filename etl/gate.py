"""The gate between readers of a DuckDB file and a writer that changes it in place.

DuckDB lets one process open a file read-write and fails any read-only open meanwhile
(and a read-write open while readers hold it). A load that writes into the live file
(etl.publish, the in-place path) therefore needs readers out of the way for the moment
it applies its batch, and readers must wait for that moment instead of failing:

- `<db>.gate`: a reader holds it shared (flock LOCK_SH) from before it opens a
  connection until that connection closes; the in-place writer holds it exclusively
  only while it applies its batch, commits and checkpoints;
- `<db>.turn`: a turnstile against writer starvation. A reader passes it (shared, at
  once released) before taking the gate; a writer holds it exclusively from before it
  waits for the gate until it is done, so new readers queue behind the writer while
  the readers already in finish. Without it a steady stream of overlapping readers
  would keep the shared gate held forever.

flock locks belong to an open file description, so two connections of one process (a
dashboard's threads) are two readers, and the kernel drops a lock when its holder dies,
even by SIGKILL. Waits are bounded: a reader waits up to READ_WAIT seconds and then
fails with a message; a writer waits up to the `wait` it is given.

A file system where the lock files cannot be created (a read-only folder) has no
in-place writer either, so readers then go ahead without the gate.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

GATE_SUFFIX = ".gate"
TURN_SUFFIX = ".turn"
# How long a reader waits for an in-place apply (and the readers ahead of it) to finish.
READ_WAIT = 60.0
_POLL = 0.01
_NO_GATE = (errno.EACCES, errno.EROFS, errno.EPERM)


class GateTimeout(RuntimeError):
    """The gate stayed closed for longer than the wait; the message says to try again."""


def gate_path(db: Path) -> Path:
    """`<db>.gate`, next to the database file."""
    return db.with_name(db.name + GATE_SUFFIX)


def turn_path(db: Path) -> Path:
    """`<db>.turn`, next to the database file."""
    return db.with_name(db.name + TURN_SUFFIX)


def _open(path: Path) -> int | None:
    """A descriptor of the lock file (created), or None where it cannot be made."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if exc.errno in _NO_GATE:
            return None
        raise


def _flock(fd: int, mode: int, deadline: float, what: str) -> None:
    """flock `fd` in `mode`, polling until `deadline` (time.monotonic), then GateTimeout."""
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise GateTimeout(what) from None
            time.sleep(_POLL)


def enter_reader(db: Path, *, wait: float = READ_WAIT) -> int | None:
    """Take the reader's side of the gate; returns the descriptor to pass to `leave`.

    Waits (up to `wait` seconds) while a writer applies a batch in place. None when the
    folder cannot hold lock files (then there is no in-place writer to wait for).
    """
    deadline = time.monotonic() + wait
    message = (
        "a data load is taking longer than usual, try again in a moment "
        "(una carga de datos tarda más de lo habitual, inténtalo de nuevo en un momento)"
    )
    turn = _open(turn_path(db))
    if turn is None:
        return None
    try:
        _flock(turn, fcntl.LOCK_SH, deadline, message)
    finally:
        os.close(turn)  # passing the turnstile is enough: release it at once
    gate = _open(gate_path(db))
    if gate is None:
        return None
    try:
        _flock(gate, fcntl.LOCK_SH, deadline, message)
    except BaseException:
        os.close(gate)
        raise
    return gate


def leave(fd: int | None) -> None:
    """Give back what `enter_reader` took (closing the descriptor drops its lock)."""
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


@contextlib.contextmanager
def reading(db: Path, *, wait: float = READ_WAIT) -> Iterator[None]:
    """Hold the reader's side of the gate for the block (e.g. while copying the file)."""
    fd = enter_reader(db, wait=wait)
    try:
        yield
    finally:
        leave(fd)


@contextlib.contextmanager
def exclusive(db: Path, *, wait: float) -> Iterator[None]:
    """Hold the gate exclusively: no reader has the file open during the block.

    Takes the turnstile first (new readers queue behind it), then waits up to `wait`
    seconds for the readers already in to close their connections.
    """
    deadline = time.monotonic() + wait
    message = f"{db}: readers kept the database open for more than {wait:.0f} s"
    turn = os.open(turn_path(db), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _flock(turn, fcntl.LOCK_EX, deadline, message)
        gate = os.open(gate_path(db), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _flock(gate, fcntl.LOCK_EX, deadline, message)
            yield
        finally:
            os.close(gate)
    finally:
        os.close(turn)
