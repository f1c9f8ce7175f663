"""Untrusted work in a child process that is bounded, cannot starve the server, and stops.

Reading and validating an uploaded file is the one thing a user can make the dashboard
do with arbitrary bytes. In the server process a hostile workbook kept a core busy for
forty minutes and a zip bomb took 2.3 GB while everyone's pages waited. `run_bounded`
runs such work in a fresh (spawned) child process:

- **time**: the parent kills the child after `seconds` of wall-clock time, and the
  kernel after as many seconds of CPU time (RLIMIT_CPU), whichever comes first;
- **memory**: an address-space limit (RLIMIT_AS) of `memory_mb` beyond what the child
  holds once its code is loaded; past it an allocation fails (MemoryError);
- **priority**: the child runs `nice`d, and at most `slots` children run at once per
  server, so the pages' own work keeps the CPU it needs;
- **cancel**: `on_wait` is called while waiting; whatever it raises (Streamlit raises
  when the user clicks, leaves, or the session closes) kills the child at once;
- **parent death**: on Linux the child gets SIGKILL when its parent dies (SIGKILL
  included), so a killed server leaves no worker running.

The child's result (or its EtlError) comes back through a pipe; a child killed by a
limit becomes a WorkerLimitError that says which limit and how to raise it.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from etl.records import EtlError

T = TypeVar("T")

SECONDS_ENV = "ESLABON_UPLOAD_MAX_SECONDS"
MEMORY_ENV = "ESLABON_UPLOAD_MAX_MEMORY_MB"
DEFAULT_SECONDS = 300.0
DEFAULT_MEMORY_MB = 2048
NICENESS = 10
_POLL = 0.25
_PR_SET_PDEATHSIG = 1


class WorkerLimitError(EtlError):
    """The work passed its time or memory limit (or died) and was stopped."""


@dataclass(frozen=True)
class WorkerLimits:
    """What one bounded child may use."""

    seconds: float = DEFAULT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB


def worker_limits(env: Mapping[str, str] | None = None) -> WorkerLimits:
    """ESLABON_UPLOAD_MAX_SECONDS and ESLABON_UPLOAD_MAX_MEMORY_MB (positive numbers;
    anything else keeps the default: a typo never removes a bound)."""
    env = os.environ if env is None else env
    seconds = _positive(env.get(SECONDS_ENV), DEFAULT_SECONDS)
    memory = _positive(env.get(MEMORY_ENV), DEFAULT_MEMORY_MB)
    return WorkerLimits(seconds=seconds, memory_mb=int(memory))


def _positive(raw: str | None, default: float) -> float:
    try:
        value = float((raw or "").strip().replace("_", ""))
    except ValueError:
        return default
    return value if 0 < value < math.inf else default


_slots = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))


def run_bounded(
    func: Callable[..., T],
    args: tuple[Any, ...],
    *,
    limits: WorkerLimits,
    on_wait: Callable[[float], None] | None = None,
) -> T:
    """`func(*args)` computed in a bounded child process (see the module docstring).

    `func` and `args` must be picklable (a module-level function). Returns its result;
    re-raises an EtlError it raised; WorkerLimitError when a limit stopped it. While
    waiting (for a free slot, then for the child), `on_wait(elapsed seconds)` is called
    every quarter second; an exception from it kills the child and propagates.
    """
    started = time.monotonic()
    while not _slots.acquire(timeout=_POLL):
        if on_wait is not None:
            on_wait(time.monotonic() - started)
    try:
        return _run_child(func, args, limits, on_wait, started)
    finally:
        _slots.release()


def _run_child(
    func: Callable[..., T],
    args: tuple[Any, ...],
    limits: WorkerLimits,
    on_wait: Callable[[float], None] | None,
    started: float,
) -> T:
    context = multiprocessing.get_context("spawn")  # never fork a threaded server
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main,
        args=(sender, func, args, limits, os.getpid()),
        name="eslabon-bounded",
        daemon=True,
    )
    child.start()
    sender.close()
    outcome: tuple[str, Any] | None = None
    try:
        while outcome is None:
            if receiver.poll(_POLL):
                try:
                    outcome = receiver.recv()
                except EOFError:  # the child died without a word
                    break
                break
            if not child.is_alive():
                if receiver.poll(0):
                    continue  # it answered just before it ended
                break
            if time.monotonic() - started > limits.seconds:
                raise WorkerLimitError(_time_message(limits))
            if on_wait is not None:
                on_wait(time.monotonic() - started)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if outcome is None:
        raise WorkerLimitError(_death_message(child.exitcode, limits))
    status, payload = outcome
    if status == "ok":
        return payload
    raise payload


def _time_message(limits: WorkerLimits) -> str:
    return (
        f"stopped after {limits.seconds:g} s, the time an upload may take to check "
        f"({SECONDS_ENV}); split the file or load it with `python -m etl load`"
    )


def _memory_message(limits: WorkerLimits) -> str:
    return (
        f"stopped: it needed more than {limits.memory_mb:,} MB of memory, what an upload "
        f"may use ({MEMORY_ENV}); split the file or load it with `python -m etl load`"
    )


def _death_message(exitcode: int | None, limits: WorkerLimits) -> str:
    if exitcode == -signal.SIGXCPU:
        return _time_message(limits)
    if exitcode == -signal.SIGKILL:
        return (
            f"stopped by the system (more than {limits.seconds:g} s of CPU or out of "
            f"memory: {SECONDS_ENV}, {MEMORY_ENV}); nothing was written"
        )
    return f"the check stopped unexpectedly (exit code {exitcode}); nothing was written"


def _child_main(
    sender: Any, func: Callable[..., Any], args: tuple[Any, ...], limits: WorkerLimits, parent: int
) -> None:
    """The child: bound itself, run the work, send back ("ok", result) or ("error", exc)."""
    _die_with_parent(parent)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    cpu = math.ceil(limits.seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    memory = _address_space() + limits.memory_mb * (1 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        outcome: tuple[str, Any] = ("ok", func(*args))
    except MemoryError:
        outcome = ("error", WorkerLimitError(_memory_message(limits)))
    except EtlError as exc:
        outcome = ("error", exc)
    except Exception as exc:  # a database or library error: its words, not its traceback
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        outcome = ("error", EtlError(f"{type(exc).__name__}: {first}"))
    try:
        sender.send(outcome)
    except MemoryError:
        sender.send(("error", WorkerLimitError(_memory_message(limits))))
    finally:
        sender.close()


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; exit if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _address_space() -> int:
    """This process's current virtual size in bytes (its code, libraries and heap)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 1 << 30
