"""Untrusted work in a child process that is bounded, cannot starve the server, and stops.

Reading and validating an uploaded file is the one thing a user can make the dashboard
do with arbitrary bytes. In the server process a hostile workbook can keep a core busy
and a zip bomb exhaust memory while everyone's pages wait. `run_bounded`
runs such work in a fresh child process (`python -c` calling `child_main`, the work pickled
through its stdin and stdout; the parent's memory, threads and __main__ are never copied):

- **time**: the parent kills the child after `seconds` of wall-clock time, and the
  kernel after as many seconds of CPU time (RLIMIT_CPU), whichever comes first;
- **memory**: an address-space limit (RLIMIT_AS) of `memory_mb` beyond what the child
  holds once its code is loaded; past it an allocation fails (MemoryError);
- **priority**: the child runs `nice`d, and at most one child per two cores runs at once
  per server (the others wait their turn), so the pages' own work keeps its CPU;
- **cancel**: `on_wait` is called while waiting; whatever it raises (Streamlit raises
  when the user clicks, leaves, or the session closes) kills the child at once;
- **parent death**: on Linux the child gets SIGKILL when its parent dies (SIGKILL
  included), so a killed server leaves no worker running. (Linux sends it when the
  *thread* that started the child ends; `run_bounded` never returns before its child
  has ended, so that thread always outlives it.)

The child's result (or its EtlError) comes back pickled; a child killed by a limit
becomes a WorkerLimitError that says which limit and how to raise it. The pickles only
ever travel between this process and the child it started.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import pickle
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

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
    # A fresh interpreter, not multiprocessing: a spawned child re-runs the parent's
    # __main__, which inside Streamlit is the page script. It imports this module by its
    # name, so the exceptions it sends back are etl.worker's own classes (pickled by
    # reference). The work goes in on stdin and the outcome comes back on stdout, both
    # pickled.
    payload = pickle.dumps((func, args, limits, os.getpid()), protocol=pickle.HIGHEST_PROTOCOL)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen(
        [sys.executable, "-c", "from etl.worker import child_main; child_main()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        close_fds=True,
    )
    child_started = time.monotonic()  # its time limit starts now, not in the queue
    received: list[bytes] = []
    feeder = threading.Thread(target=_feed, args=(child, payload), daemon=True)
    reader = threading.Thread(target=_drain, args=(child, received), daemon=True)
    feeder.start()
    reader.start()
    try:
        while reader.is_alive():
            reader.join(_POLL)
            if not reader.is_alive():
                break
            if time.monotonic() - child_started > limits.seconds:
                raise WorkerLimitError(_time_message(limits))
            if on_wait is not None:
                on_wait(time.monotonic() - started)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        reader.join()
        feeder.join()
    try:
        status, result = pickle.loads(b"".join(received))
    except Exception:  # nothing (or half) came back: the child was stopped
        raise WorkerLimitError(_death_message(child.returncode, limits)) from None
    if status == "ok":
        return cast(T, result)  # unpickled: what `fn` returned in the child
    raise result


def _feed(child: subprocess.Popen[bytes], payload: bytes) -> None:
    """Write the work to the child's stdin (in a thread: the pipe holds 64 KB at a time)."""
    assert child.stdin is not None
    try:
        child.stdin.write(payload)
        child.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the child died early: its exit code says why


def _drain(child: subprocess.Popen[bytes], into: list[bytes]) -> None:
    """Read the child's stdout to its end (the pickled outcome)."""
    assert child.stdout is not None
    while chunk := child.stdout.read(1 << 16):
        into.append(chunk)
    child.stdout.close()


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


def child_main() -> None:
    """The child process (see _run_child): read the work, bound itself, run it, write back
    ("ok", result) or ("error", exception). Stray prints go to stderr, never into the
    answer."""
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    func, args, limits, parent = pickle.loads(sys.stdin.buffer.read())
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
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        data = pickle.dumps(("error", WorkerLimitError(_memory_message(limits))))
    answer.write(data)
    answer.close()


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
