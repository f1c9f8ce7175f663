"""Metric-test fixtures: the shipped sample on DuckDB and PostgreSQL, loaded once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.db import create_db_engine
from etl.schema import targets
from tests.conftest import postgres_schema_url

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = ROOT / "data" / "sample"


def _load_sample(url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "etl", "load", str(SAMPLE), "--db", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="session")
def sample_engines(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """(DuckDB, PostgreSQL) engines on the sample, loaded by the real loader, plus two
    targets (whole organisation and Compras) for the target-status comparisons.

    Loaded once per session: the backend-agreement tests of several modules share it and
    only read it.
    """
    duck_url = f"duckdb:///{tmp_path_factory.mktemp('agree') / 'sample.duckdb'}"
    with postgres_schema_url() as pg_url:
        _load_sample(duck_url)
        _load_sample(pg_url)
        engines = (create_db_engine(duck_url), create_db_engine(pg_url))
        for eng in engines:
            with eng.begin() as conn:
                conn.execute(
                    targets.insert(),
                    [
                        {"target_id": 1, "kpi": "on_time_rate", "process": None,
                         "target_value": 0.9, "direction": "higher", "amber_tolerance": 0.05,
                         "valid_from": datetime(2026, 1, 1), "set_at": datetime(2026, 1, 1)},
                        {"target_id": 2, "kpi": "on_time_rate", "process": "Compras",
                         "target_value": 0.8, "direction": "higher", "amber_tolerance": 0.05,
                         "valid_from": datetime(2026, 6, 1), "set_at": datetime(2026, 6, 1)},
                    ],
                )  # fmt: skip
        yield engines
        for eng in engines:
            eng.dispose()
