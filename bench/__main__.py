"""`python -m bench [--size 100k|1m] [--reps N]`: every benchmark in turn, their tables.

At 1m the pandas ETL peer takes about ten minutes a run: it runs once there (`--reps`
still sets the other contenders' repetitions).
"""

from __future__ import annotations

import argparse

from bench import backends, etl_load, kpis, nightly, pages, process_map, propagation, sessions
from bench.common import size_arg


def main() -> None:
    """Run the eight benchmarks at one size (`--skip backends` without PostgreSQL)."""
    parser = argparse.ArgumentParser(description="Eslabón benchmarks")
    size_arg(parser)
    parser.add_argument("--skip", nargs="*", default=[], help="benchmarks to skip by name")
    args = parser.parse_args()
    common = ["--size", args.size] + (["--reps", str(args.reps)] if args.reps else [])
    if "etl" not in args.skip:
        etl_load.main(common)
    if "nightly" not in args.skip:
        nightly.main(common)
    if "kpis" not in args.skip:
        kpis.main(common)
    if "propagation" not in args.skip:
        propagation.main(common)
    if "process_map" not in args.skip:
        process_map.main(common)
    if "pages" not in args.skip:
        pages.main(common)
    if "sessions" not in args.skip:
        sessions.main(["--size", args.size])
    if "backends" not in args.skip:
        backends.main(common)


if __name__ == "__main__":
    main()
