"""A nightly load: 1% of the commitments new or changed, into a database that holds the rest.

The batch (made once per size, next to the sample, from its own CSVs): every 200th
commitment changed (its title gains a suffix), every 200th other one copied under a new
id with its events (new), plus the unchanged processes list. Contenders, each a fresh
`python -m etl load <batch>` subprocess (peak RSS from os.wait4), alternating:

- empty: the batch into an empty database (the reference);
- in place: into a copy of the loaded sample, ESLABON_IN_PLACE=always (check with a
  read-only connection, apply behind the gate; etl.publish);
- copy: the same, ESLABON_IN_PLACE=never (private copy of the file, swap).

Each run reports wall time, CPU time (user + system of the child: steadier than the wall
time when other jobs share the cores) and peak RSS. The target file is reset (copied
from the loaded sample) before each run, outside the timing. Then, in process, once: how
long the gate stays closed for readers (the apply and its checkpoint) against the whole
in-place load.

Run from the project root:
`nice .venv/bin/python -m bench.nightly --size 1m`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.common import DATA_DIR, PROJECT_ROOT, sample_db, sample_dir, size_arg

EVERY = 200  # one commitment in EVERY changed, another one in EVERY new: 1% in all


def nightly_batch(size: str) -> Path:
    """The 1% batch of that size (written whole into a private folder, then renamed)."""
    out = DATA_DIR / f"nightly-{size}"
    if (out / "commitments.csv").exists():
        return out
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    source = sample_dir(size)
    partial = DATA_DIR / f".nightly-{size}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    # Streamed in blocks, so a 10M set (4.5 GB of CSV) never sits in memory whole.
    read = pacsv.ReadOptions(block_size=64 << 20)
    changed_parts, new_parts, offset = [], [], 0
    for block in pacsv.open_csv(source / "commitments.csv", read_options=read):
        part = pa.Table.from_batches([block])
        part = part.cast(pa.schema([(f.name, pa.string()) for f in part.schema]))
        # every EVERY-th row from 0 changes, every EVERY-th from EVERY // 2 is copied as new
        modulo = (np.arange(part.num_rows) + offset) % EVERY
        offset += part.num_rows
        changed_parts.append(part.filter(pa.array(modulo == 0)))
        new_parts.append(part.filter(pa.array(modulo == EVERY // 2)))
    changed_rows = pa.concat_tables(changed_parts)
    changed_rows = changed_rows.set_column(
        changed_rows.schema.get_field_index("title"),
        "title",
        pc.binary_join_element_wise(changed_rows["title"], " (rev)", ""),
    )
    originals = pa.concat_tables(new_parts)
    new_ids = pc.binary_join_element_wise("NEW-", originals["commitment_id"], "")
    new_rows = originals.set_column(0, "commitment_id", new_ids)
    pacsv.write_csv(pa.concat_tables([changed_rows, new_rows]), partial / "commitments.csv")
    copied_parts = []
    for block in pacsv.open_csv(source / "events.csv", read_options=read):
        part = pa.Table.from_batches([block])
        part = part.cast(pa.schema([(f.name, pa.string()) for f in part.schema]))
        copied_parts.append(
            part.filter(pc.is_in(part["commitment_id"], value_set=originals["commitment_id"]))
        )
    copied = pa.concat_tables(copied_parts)
    copied = copied.set_column(
        0, "commitment_id", pc.binary_join_element_wise("NEW-", copied["commitment_id"], "")
    )
    pacsv.write_csv(copied, partial / "events.csv")
    shutil.copyfile(source / "processes.csv", partial / "processes.csv")
    if (out / "commitments.csv").exists():  # another run finished first
        shutil.rmtree(partial)
    else:
        shutil.rmtree(out, ignore_errors=True)
        partial.rename(out)
    print(
        f"nightly batch {out}: {changed_rows.num_rows:,} changed and {new_rows.num_rows:,} new "
        f"commitments, {copied.num_rows:,} new events",
        flush=True,
    )
    return out


def _reset(base: Path, target: Path) -> Path:
    """`target` as a fresh copy of the loaded sample (no WAL, no lock files)."""
    for stray in (target, target.with_name(target.name + ".wal")):
        stray.unlink(missing_ok=True)
    shutil.copyfile(base, target)
    return target


def _upgrade(db: Path) -> None:
    """Bring a cached sample made by an earlier release up to this schema (`etl init`'s
    step): an older file would send every "in place" load through the copy instead."""
    from etl.db import create_db_engine
    from etl.schema import create_schema

    engine = create_db_engine(f"duckdb:///{db}")
    try:
        create_schema(engine)
    finally:
        engine.dispose()


def _fresh(db: Path) -> Path:
    for stray in (db, db.with_name(db.name + ".wal")):
        stray.unlink(missing_ok=True)
    return db


def gate_time(base: Path, batch: Path, work: Path) -> tuple[float, float]:
    """(seconds of the whole in-place load, seconds the gate was closed), in process."""
    from etl import gate
    from etl.db import create_db_engine
    from etl.load import apply_checked, check_batch

    _reset(base, work)
    url = f"duckdb:///{work}"
    start = time.perf_counter()
    reader = create_db_engine(url, read_only=True)
    checked = check_batch(reader, [batch])
    reader.dispose()
    closed = time.perf_counter()
    with gate.exclusive(work, wait=60):
        engine = create_db_engine(url)
        apply_checked(engine, checked)
        with engine.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")
        engine.dispose()
    end = time.perf_counter()
    return end - start, end - closed


def run_measured(argv: list[str]) -> tuple[float, float, int]:
    """Run a subprocess to its end: (wall seconds, CPU seconds, peak RSS bytes) of it.

    CPU time (user + system, from os.wait4) beside the wall time: on a machine shared
    with other jobs the wall time mostly measures the queue for the cores.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def main(argv: list[str] | None = None) -> None:
    """Time the three loads of the nightly batch and print their table and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size_arg(parser)
    parser.add_argument(
        "--base",
        type=Path,
        default=None,
        help="an existing DuckDB file of the sample to load into (default: bench's own)",
    )
    args = parser.parse_args(argv)
    reps = args.reps or 3
    base = args.base or sample_db(args.size)
    _upgrade(base)
    # Cut in a spawned child: a child forked from a parent that grew while cutting reports
    # the parent's size as its own peak RSS (ru_maxrss counts the forked image until exec).
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        batch = pool.submit(nightly_batch, args.size).result()
    work_dir = DATA_DIR / "nightly-work"
    work_dir.mkdir(parents=True, exist_ok=True)
    empty_db, live_db = work_dir / "empty.duckdb", work_dir / f"live-{args.size}.duckdb"
    load = [sys.executable, "-m", "etl", "load", str(batch), "--json"]

    def contender(mode: str) -> list[str]:
        _reset(base, live_db)
        return ["env", f"ESLABON_IN_PLACE={mode}", *load, "--db", f"duckdb:///{live_db}"]

    print(
        f"nightly batch {sum(p.stat().st_size for p in batch.iterdir()) / 2**20:.1f} MiB of CSV "
        f"into {base.stat().st_size / 2**20:.0f} MiB ({args.size}); {reps} reps",
        flush=True,
    )
    contenders: dict[str, Callable[[], list[str]]] = {
        "empty": lambda: [*load, "--db", f"duckdb:///{_fresh(empty_db)}"],
        "in place": lambda: contender("always"),
        "copy": lambda: contender("never"),
    }
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in contenders}
    for rep in range(reps):
        for name, make in contenders.items():
            wall, cpu, peak = run_measured(make())
            runs[name].append((wall, cpu, peak))
            print(
                f"  rep {rep + 1}/{reps} {name}: {wall:.2f} s wall, {cpu:.2f} s CPU, "
                f"{peak / 2**20:.0f} MiB",
                flush=True,
            )
    wall0 = statistics.median(r[0] for r in runs["empty"])
    cpu0 = statistics.median(r[1] for r in runs["empty"])
    print(f"\n### Nightly load at {args.size}\n")
    print("| load | median wall s | ÷ empty | median CPU s | ÷ empty | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, measured in runs.items():
        wall = statistics.median(r[0] for r in measured)
        cpu = statistics.median(r[1] for r in measured)
        peak = max(r[2] for r in measured)
        print(
            f"| {name} | {wall:.2f} | {wall / wall0:.2f} | {cpu:.2f} | {cpu / cpu0:.2f} | "
            f"{peak / 2**20:,.0f} |"
        )
    whole, closed = gate_time(base, batch, live_db)
    print(f"\nin place, in process: {whole:.2f} s in all, the gate closed for {closed:.2f} s")
    for db in (empty_db, live_db):
        _fresh(db)


if __name__ == "__main__":
    main()
