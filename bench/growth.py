"""Growth from one size to the next: ETL, headline KPIs, propagation, process map, Resumen.

`python -m bench.growth [--small 1m] [--large 10m] [--reps N] [--max-rss-gib 12]`

Each step runs at both sizes in a child process of its own, so its peak memory is that
child's resident-set high-water mark (`os.wait4`), set against the machine's RAM:

- `etl load`: the CSV set into a fresh DuckDB file (`growth-<size>.duckdb` in the data
  folder, kept for the steps below);
- headline KPIs (`headline_kpis`, group_by none), propagation (summary, roots of each
  breach, root impact: `bench.propagation`'s contender) and the process map
  (`directly_follows`), each on the default filter at the data set's as_of, in a fresh
  process: one cold call (`--reps 1`, the default), or the median of `reps` calls after
  an untimed warm-up;
- Resumen: a fresh `streamlit run dashboard/app.py` on that file, first and cached render
  in headless Chromium (`bench.pages`), the server's peak RSS.

The growth factor is large ÷ small time; linear growth is the ceiling (the size ratio,
10 from 1m to 10m), and a step above it is a finding to fix. A child whose RSS passes
`--max-rss-gib` is stopped (the machine is shared) and reported as such, not as a time.
Each size's figures are saved to `growth-<size>.json` in the data folder; `--skip small`
(or `large`) prints the table from the saved figures of that size instead of measuring.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import DATA_DIR, PROJECT_ROOT, SIZES, sample_dir

STEPS = (
    "etl load",
    "headline KPIs",
    "propagation",
    "process map",
    "Resumen first",
    "Resumen cached",
)


def machine_ram() -> int:
    """Total RAM in bytes (the memory column is relative to it)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _rss(pid: int) -> int:
    """Current resident set of `pid` in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class MemoryCapExceeded(RuntimeError):
    """A child passed the memory cap and was stopped."""


def _guard(pid: int, cap: int, tripped: threading.Event, done: threading.Event) -> None:
    """Kill `pid` when its RSS passes `cap` bytes: the machine is shared. Never reaps the
    child (the caller's `os.wait4` must get its rusage); stops when `done` is set."""
    while not done.is_set():
        if _rss(pid) > cap:
            tripped.set()
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            return
        done.wait(0.2)


def run_capped(argv: list[str], cap: int, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run `argv` to its end under the memory cap; (wall seconds, peak RSS bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    tripped, done = threading.Event(), threading.Event()
    watcher = threading.Thread(target=_guard, args=(proc.pid, cap, tripped, done), daemon=True)
    watcher.start()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    watcher.join()
    if tripped.is_set():
        raise MemoryCapExceeded(f"stopped at {cap / 2**30:.0f} GiB after {elapsed:.0f} s")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024


def growth_db(size: str) -> Path:
    """This benchmark's own DuckDB file of that size (others may hold the shared one)."""
    return DATA_DIR / f"growth-{size}.duckdb"


def measure_call(step: str, db: Path, reps: int, out: Path) -> None:
    """Child side: one warm-up call, then the median of `reps` timed calls, into `out`."""
    import statistics

    from bench.process_map import eslabon_map
    from bench.propagation import eslabon_propagation
    from dashboard.metrics.filters import MetricFilter
    from dashboard.metrics.kpis import dataset_as_of, headline_kpis
    from etl.db import create_db_engine

    engine = create_db_engine(f"duckdb:///{db}", read_only=True)
    with engine.connect() as conn:
        as_of = dataset_as_of(conn)
        if as_of is None:
            raise SystemExit(f"{db}: the data set records no as_of")
        f = MetricFilter(as_of=as_of)
        call: Callable[[], object] = {
            "headline KPIs": lambda: headline_kpis(conn, f.with_(group_by="none")),
            "propagation": lambda: eslabon_propagation(conn, f),
            "process map": lambda: eslabon_map(conn, f),
        }[step]
        if reps > 1:  # a single call is timed cold, as a page's first visit after a load
            call()
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
    engine.dispose()
    out.write_text(json.dumps({"seconds": statistics.median(times)}))


def measure_resumen(db: Path, cap: int) -> dict[str, tuple[float, int]]:
    """First and cached Resumen render on a fresh server; the server's peak RSS."""
    from playwright.sync_api import sync_playwright

    from bench.pages import CHROMIUM, CHROMIUM_ARGS, PAGES, drawn_seconds, start_server

    path, marker = PAGES["Resumen"]
    proc, base = start_server(f"duckdb:///{db}", "app")
    tripped, done = threading.Event(), threading.Event()
    watcher = threading.Thread(target=_guard, args=(proc.pid, cap, tripped, done), daemon=True)
    watcher.start()
    seconds: dict[str, float] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            tab = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
            tab.set_default_timeout(900_000)
            for label in ("first", "cached"):
                seconds[label] = drawn_seconds(tab, base + path, marker)
            browser.close()
    finally:
        proc.terminate()
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0  # reaped here; Popen must not wait for it again
        done.set()
        watcher.join()
    if tripped.is_set():
        raise MemoryCapExceeded(f"server stopped at {cap / 2**30:.0f} GiB")
    peak = usage.ru_maxrss * 1024
    return {f"Resumen {label}": (s, peak) for label, s in seconds.items()}


def load_per_file(source: Path, db: Path, cap: int, start: str | None) -> tuple[float, int]:
    """`etl load` one canonical file at a time (one batch each, in load order): total
    seconds and the largest peak. A batch holds about two consecutive files at once; at
    10M commitments and events that is near the cap, each file alone is well within it."""
    from etl.load import DATASET_FILE
    from etl.schema import LOAD_ORDER

    total, peak = 0.0, 0
    kinds = LOAD_ORDER[LOAD_ORDER.index(start) :] if start else LOAD_ORDER
    for kind in kinds:
        path = source / f"{kind}.csv"
        if not path.exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / path.name).symlink_to(path)
            if not total and not start:  # the first batch records the data set's as_of
                (Path(tmp) / DATASET_FILE).symlink_to(source / DATASET_FILE)
            argv = [sys.executable, "-m", "etl", "load", tmp, "--db", f"duckdb:///{db}"]
            seconds, rss = run_capped(argv, cap)
        print(f"    {kind}: {seconds:.1f} s, {rss / 2**30:.2f} GiB", flush=True)
        total, peak = total + seconds, max(peak, rss)
    return total, peak


def measure_size(
    size: str,
    reps: int,
    cap: int,
    skip: set[str],
    *,
    per_file: bool = False,
    etl_from: str | None = None,
) -> dict[str, object]:
    """Every step at one size: {step: (seconds, peak bytes)} or {step: 'why not'}."""
    print(f"{size} ({SIZES[size]:,} commitments) ...", flush=True)
    results: dict[str, object] = {}
    source = sample_dir(size)
    db = growth_db(size)
    if "etl" not in skip or not db.exists():
        if not etl_from:
            db.unlink(missing_ok=True)
            Path(f"{db}.wal").unlink(missing_ok=True)
        try:
            if per_file:
                results["etl load"] = load_per_file(source, db, cap, etl_from)
            else:
                results["etl load"] = run_capped(
                    [sys.executable, "-m", "etl", "load", str(source), "--db", f"duckdb:///{db}"],
                    cap,
                )
        except MemoryCapExceeded as exc:
            results["etl load"] = str(exc)
            return results
        print(f"  {size} etl load: {results['etl load']}", flush=True)
    for step in ("headline KPIs", "propagation", "process map"):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            argv = [sys.executable, "-m", "bench.growth", "--child", step, "--db", str(db)]
            try:
                _, peak = run_capped([*argv, "--reps", str(reps), "--out", str(out)], cap)
            except MemoryCapExceeded as exc:
                results[step] = str(exc)
                continue
            results[step] = (json.loads(out.read_text())["seconds"], peak)
        print(f"  {size} {step}: {results[step]}", flush=True)
    if "render" not in skip:
        try:
            results.update(measure_resumen(db, cap))
        except MemoryCapExceeded as exc:
            results["Resumen first"] = results["Resumen cached"] = str(exc)
        print(f"  {size} Resumen: {results.get('Resumen first')}", flush=True)
    return results


def _cell(value: object) -> tuple[str, str]:
    if isinstance(value, tuple):
        seconds, peak = value
        return f"{seconds:.2f}", f"{peak / 2**30:.2f}"
    return str(value or "-"), "-"


def print_growth(small: str, large: str, a: dict[str, Any], b: dict[str, Any]) -> None:
    """The table: each step's time and peak at both sizes, growth against linear."""
    ratio = SIZES[large] / SIZES[small]
    ram = machine_ram()
    print(f"\n### Growth {small} → {large} (linear = {ratio:g}×; RAM {ram / 2**30:.1f} GiB)\n")
    print(
        f"| step | {small} s | {large} s | growth | within linear | "
        f"{small} peak GiB | {large} peak GiB | {large} peak ÷ RAM |"
    )
    print("|---|---:|---:|---:|:---:|---:|---:|---:|")
    for step in STEPS:
        if step not in a and step not in b:
            continue
        (ta, pa), (tb, pb) = _cell(a.get(step)), _cell(b.get(step))
        growth, verdict, share = "-", "-", "-"
        if isinstance(a.get(step), tuple) and isinstance(b.get(step), tuple):
            g = b[step][0] / a[step][0]
            growth, verdict = f"{g:.1f}×", "yes" if g <= ratio else "**no**"
            share = f"{b[step][1] / ram:.0%}"
        label = step
        per_file = [size for size, r in ((small, a), (large, b)) if r.get("etl per file")]
        if step == "etl load" and per_file:
            label = f"etl load ({', '.join(per_file)}: one batch per file)"
        print(f"| {label} | {ta} | {tb} | {growth} | {verdict} | {pa} | {pb} | {share} |")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    """Measure both sizes (the small one first) and print the growth table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", choices=sorted(SIZES), default="1m")
    parser.add_argument("--large", choices=sorted(SIZES), default="10m")
    parser.add_argument("--reps", type=int, default=1, help="timed calls per step and size")
    parser.add_argument("--max-rss-gib", type=float, default=12.0, help="stop a child above")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="'render'; 'etl' reuses a loaded growth file; 'small'/'large' reuse saved figures",
    )
    parser.add_argument(
        "--etl-per-file",
        nargs="*",
        default=[],
        choices=("small", "large"),
        help="load that size one file per batch (a whole-set batch would pass the cap)",
    )
    parser.add_argument(
        "--etl-from", help="resume a per-file load at this kind (its time covers the rest)"
    )
    parser.add_argument("--child", choices=STEPS[1:4], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        measure_call(args.child, args.db, args.reps, args.out)
        return
    cap = int(args.max_rss_gib * 2**30)
    measured = []
    for which, size in (("small", args.small), ("large", args.large)):
        saved = DATA_DIR / f"growth-{size}.json"
        if which in args.skip and saved.exists():  # measured by an earlier run
            print(f"{size}: the figures of {saved}", flush=True)
            measured.append(_load(saved))
            continue
        per_file = which in args.etl_per_file
        results = measure_size(
            size, args.reps, cap, set(args.skip), per_file=per_file, etl_from=args.etl_from
        )
        results["etl per file"] = per_file
        if saved.exists():  # steps skipped this time keep their earlier figures
            results = {**_load(saved), **results}
        saved.write_text(json.dumps(results))
        measured.append(results)
    print_growth(args.small, args.large, measured[0], measured[1])


def _load(path: Path) -> dict[str, object]:
    """Saved figures: [seconds, peak] lists back to tuples."""
    return {
        k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(path.read_text()).items()
    }


if __name__ == "__main__":
    main()
