"""The sample data set for an empty database, loaded by the ETL's own CLI."""

from __future__ import annotations

import os
import subprocess
import sys

from etl.settings import PROJECT_ROOT, SAMPLE_DIR


def sample_available() -> bool:
    """True when the sample files ship with this copy of Eslabón."""
    return SAMPLE_DIR.is_dir() and any(SAMPLE_DIR.iterdir())


def load_sample(url: str) -> tuple[bool, str]:
    """Create the schema and load data/sample into `url` with the ETL's own CLI.

    A subprocess keeps the load (and its write lock) out of the server process and
    uses exactly the path `make db` uses.
    """
    env = {**os.environ, "ESLABON_DB_URL": url}
    steps = (
        [sys.executable, "-m", "etl", "init", "--db", url],
        [sys.executable, "-m", "etl", "load", str(SAMPLE_DIR), "--db", url],
    )
    for cmd in steps:
        done = subprocess.run(  # fixed argv, no shell
            cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()
            return False, tail[-1] if tail else f"exit {done.returncode}"
    return True, ""
