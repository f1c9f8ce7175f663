"""What every benchmark shares: the data sets, the timing loop, peak memory, the table.

Contenders run in the same process run, alternating (A B C A B C ...), several times, so a
noisy neighbour on this shared machine slows them all alike; the table prints the median
and the ratio against a reference contender rather than absolute claims.

Peak memory is measured two ways, and every table says which:

- `rss`: the resident-set high-water mark of a child process, from `os.wait4` (the kernel's
  `ru_maxrss` of that one child), for contenders run as subprocesses (the ETL);
- `py-heap`: the Python heap peak from `tracemalloc` during one extra, untimed call of an
  in-process contender (tracemalloc slows the call down, so it never runs while timing).
  Memory DuckDB allocates natively is not in it.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

    from dashboard.metrics.filters import MetricFilter

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
# ESLABON_BENCH_DATA lets several checkouts share one set of generated data (10M is large).
DATA_DIR = Path(os.environ.get("ESLABON_BENCH_DATA") or BENCH_DIR / "data")
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}


def size_arg(parser: argparse.ArgumentParser) -> None:
    """The `--size` and `--reps` options every benchmark script takes."""
    parser.add_argument("--size", choices=sorted(SIZES), default="100k", help="data set size")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per contender")


def sample_dir(size: str) -> Path:
    """The CSV set of that size, generated with `python -m etl sample` when missing."""
    out = DATA_DIR / f"sample-{size}"
    if not (out / "events.csv").exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        print(f"generating {out} ({SIZES[size]:,} commitments) ...", flush=True)
        # Into a private folder first, renamed when complete: a run killed half-way, or
        # another checkout generating the same set, never leaves a half-written set behind.
        partial = DATA_DIR / f".sample-{size}.{os.getpid()}.partial"
        subprocess.run(
            [
                *(sys.executable, "-m", "etl", "sample", str(partial)),
                *("--commitments", str(SIZES[size])),
            ],
            cwd=PROJECT_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        if (out / "events.csv").exists():  # another run finished first: keep its set
            shutil.rmtree(partial)
        else:
            if out.exists():
                shutil.rmtree(out)
            partial.rename(out)
    return out


def sample_db(size: str) -> Path:
    """The DuckDB file of the CSV set loaded by `python -m etl load` (made when missing)."""
    db = DATA_DIR / f"sample-{size}.duckdb"
    if not db.exists():
        source = sample_dir(size)
        print(f"loading {source} into {db} ...", flush=True)
        partial = DATA_DIR / f".sample-{size}.{os.getpid()}.partial.duckdb"
        subprocess.run(
            [sys.executable, "-m", "etl", "load", str(source), "--db", f"duckdb:///{partial}"],
            cwd=PROJECT_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        os.replace(partial, db)
    return db


@contextlib.contextmanager
def sample_connection(size: str) -> Iterator[tuple[sa.Connection, MetricFilter]]:
    """A connection to the loaded sample of that size, and the filter at its own as_of.

    What the in-process benchmarks (KPIs, propagation, process map) all evaluate. The
    imports are here: the ETL floor's child process imports this module and must not pay
    for pandas, SQLAlchemy and the metrics.
    """
    from dashboard.metrics.filters import MetricFilter
    from dashboard.metrics.kpis import dataset_as_of
    from etl.db import create_db_engine

    engine = create_db_engine(f"duckdb:///{sample_db(size)}")
    try:
        with engine.connect() as conn:
            as_of = dataset_as_of(conn)
            assert as_of is not None, "the sample's dataset.toml sets as_of"
            yield conn, MetricFilter(as_of=as_of)
    finally:
        engine.dispose()


def csv_bytes(folder: Path) -> int:
    """Total size of the CSV files of a data set (the memory goal is relative to it)."""
    return sum(p.stat().st_size for p in folder.glob("*.csv"))


@dataclass
class Result:
    """Times (seconds) and peak memory (bytes) of one contender over the repetitions."""

    name: str
    times: list[float] = field(default_factory=list)
    peak: int | None = None
    peak_kind: str = ""

    @property
    def median(self) -> float:
        """The median time: robust to the odd run a neighbour slowed down."""
        return statistics.median(self.times)


def run_child(argv: Sequence[str], *, cwd: Path = PROJECT_ROOT) -> tuple[float, int]:
    """Run a subprocess to its end; returns (wall seconds, peak RSS bytes of that child).

    `os.wait4` gives the rusage of exactly this child (ru_maxrss in KiB on Linux), unlike
    RUSAGE_CHILDREN, which is the maximum over every child ever waited for.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024


def alternate_children(
    contenders: Mapping[str, Callable[[], Sequence[str]]],
    reps: int,
    max_reps: dict[str, int] | None = None,
) -> dict[str, Result]:
    """Each contender's command run `reps` times, alternating; times and peak RSS.

    The callable is called before each run (it may reset state, e.g. delete the target
    database file) and returns the command line. `max_reps` caps a slow contender (it
    takes part in the first rounds only).
    """
    results = {name: Result(name, peak_kind="rss") for name in contenders}
    for rep in range(reps):
        for name, make in contenders.items():
            if rep >= (max_reps or {}).get(name, reps):
                continue
            seconds, peak = run_child(make())
            res = results[name]
            res.times.append(seconds)
            res.peak = max(res.peak or 0, peak)
            print(
                f"  rep {rep + 1}/{reps} {name}: {seconds:.2f} s, {peak / 2**20:.0f} MiB",
                flush=True,
            )
    return results


def alternate_calls(contenders: dict[str, Callable[[], object]], reps: int) -> dict[str, Result]:
    """Each in-process contender called once untimed under tracemalloc, then `reps` timed
    calls, alternating. Returns times and the Python-heap peak."""
    results = {name: Result(name, peak_kind="py-heap") for name in contenders}
    for name, call in contenders.items():
        gc.collect()
        tracemalloc.start()
        call()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results[name].peak = peak
    for rep in range(reps):
        for name, call in contenders.items():
            gc.collect()
            start = time.perf_counter()
            call()
            seconds = time.perf_counter() - start
            results[name].times.append(seconds)
            print(f"  rep {rep + 1}/{reps} {name}: {seconds:.3f} s", flush=True)
    return results


def print_table(
    title: str,
    results: dict[str, Result],
    *,
    versus: Sequence[str] = (),
    subject: str = "eslabon",
) -> list[dict[str, object]]:
    """A Markdown table: median, min, peak memory, and `subject`'s time ratio to each of
    `versus` (>1 means the subject is slower), and each row's ratio to the subject."""
    ref = results[subject].median
    print(f"\n### {title}\n")
    print("| contender | median s | min s | runs | peak MiB (kind) | time ÷ eslabon |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = []
    for res in results.values():
        peak = f"{res.peak / 2**20:,.1f} ({res.peak_kind})" if res.peak is not None else "-"
        print(
            f"| {res.name} | {res.median:.3f} | {min(res.times):.3f} | {len(res.times)} | "
            f"{peak} | {res.median / ref:.2f} |"
        )
        rows.append({"name": res.name, "median": res.median, "peak": res.peak})
    for other in versus:
        ratio = ref / results[other].median
        print(f"\n{subject} ÷ {other} = {ratio:.2f}  ({other} ÷ {subject} = {1 / ratio:.2f})")
    sys.stdout.flush()
    return rows


def raw_connection(conn: sa.Connection) -> Any:
    """The driver's own connection (DuckDB's), which the peers query directly."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the connection is closed")
    return raw
