"""Every metric of this layer gives the same answer on DuckDB and PostgreSQL.

The shipped sample (data/sample, 5,000 commitments) is loaded into both with the real
loader (`python -m etl load`), once per module, and each metric function is run on both
with several filters and groupings; results must be equal value for value (floats
exactly: the SQL divides integers once in double precision and durations are rounded).
"""

from __future__ import annotations

import math
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.metrics.complaints import complaints_summary
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import default_as_of, headline_kpis
from dashboard.metrics.notices import proactive_notice_summary
from dashboard.metrics.ontime import (
    commitment_list,
    customer_commitments_kept,
    delay_distribution,
    on_time_summary,
    renegotiation_summary,
)
from dashboard.metrics.satisfaction import breach_cost, satisfaction_summary, survey_comments
from dashboard.metrics.targets import kpi_target_status, targets_in_force
from dashboard.metrics.trends import week_over_week, weekly_kpis
from etl.db import create_db_engine
from etl.schema import targets
from tests.conftest import PG_URL, require_postgres

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = ROOT / "data" / "sample"

pytestmark = pytest.mark.postgres


def _load(url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "etl", "load", str(SAMPLE), "--db", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """The sample in a DuckDB file and in a fresh PostgreSQL schema, plus two targets."""
    require_postgres()
    if not (SAMPLE / "commitments.csv").is_file():
        pytest.skip(f"no sample data in {SAMPLE}")
    duck_url = f"duckdb:///{tmp_path_factory.mktemp('agree') / 'sample.duckdb'}"
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    pg_url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        _load(duck_url)
        _load(pg_url)
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
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _plain(value: object) -> object:
    """A comparable Python value: frames as records, NaN/NA as None, times as ISO text."""
    if isinstance(value, pd.DataFrame):
        return [_plain(r) for r in value.to_dict("records")]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _both(both: tuple[sa.Engine, sa.Engine], fn: Callable[[sa.Connection], object]) -> tuple:
    duck, pg = both
    with duck.connect() as conn:
        left = _plain(fn(conn))
    with pg.connect() as conn:
        right = _plain(fn(conn))
    return left, right


def _filters(as_of: datetime) -> list[MetricFilter]:
    base = MetricFilter(as_of=as_of)
    period = base.with_(
        date_from=date(2026, 10, 1), date_to=date(2026, 11, 15), processes=("Compras", "Entrega")
    )
    return [
        *(base.with_(group_by=g) for g in ("none", "week", "process", "performer")),
        *(base.with_(group_by=g) for g in ("customer", "customer_type")),
        period,
        period.with_(group_by="week"),
        base.with_(customer_types=("external",), group_by="process"),
    ]


GROUPED: dict[str, Callable[[sa.Connection, MetricFilter], object]] = {
    "on_time_summary": on_time_summary,
    "renegotiation_summary": renegotiation_summary,
    "customer_commitments_kept": customer_commitments_kept,
    "satisfaction_summary": satisfaction_summary,
    "complaints_summary": complaints_summary,
    "complaints_summary_24h": lambda c, f: complaints_summary(c, f, target_hours=24),
    "proactive_notice_summary": proactive_notice_summary,
    "headline_kpis": headline_kpis,
}


@pytest.mark.parametrize("name", list(GROUPED))
def test_grouped_metrics_agree(both: tuple[sa.Engine, sa.Engine], name: str) -> None:
    with both[0].connect() as conn:
        as_of = default_as_of(conn)
    # the sample's own as_of, as the loader stored it from dataset.toml
    shipped = tomllib.loads((SAMPLE / "dataset.toml").read_text(encoding="utf-8"))["as_of"]
    assert as_of == datetime.fromisoformat(str(shipped))
    for f in _filters(as_of):
        left, right = _both(both, lambda conn, f=f: GROUPED[name](conn, f))
        assert left, (name, f)
        assert left == right, (name, f)


def test_lists_trends_and_targets_agree(both: tuple[sa.Engine, sa.Engine]) -> None:
    with both[0].connect() as conn:
        as_of = default_as_of(conn)
    f = MetricFilter(as_of=as_of)
    period = f.with_(date_from=date(2026, 11, 1), date_to=date(2026, 11, 15))
    checks: dict[str, Callable[[sa.Connection], object]] = {
        "commitment_list": lambda c: commitment_list(c, f),
        "delay_distribution": lambda c: delay_distribution(c, f),
        "breach_cost": lambda c: breach_cost(c, f),
        "breach_cost_period": lambda c: breach_cost(c, period),
        "survey_comments": lambda c: survey_comments(c, f),
        "survey_comments_search": lambda c: survey_comments(c, f, "a"),
        "weekly_kpis": lambda c: weekly_kpis(c, f, 8),
        "weekly_kpis_compras": lambda c: weekly_kpis(c, f.with_(processes=("Compras",)), 4),
        "week_over_week": lambda c: week_over_week(c, f),
        "targets_in_force": lambda c: targets_in_force(c, as_of),
        "kpi_target_status": lambda c: kpi_target_status(
            c, f, {"on_time_rate": 0.86}, process="Compras"
        ),
    }
    for name, fn in checks.items():
        left, right = _both(both, fn)
        assert left == right, name
    # the sample is rich enough for these comparisons to mean something
    with both[0].connect() as conn:
        assert len(commitment_list(conn, f)) > 4000
        assert breach_cost(conn, f)["cost_points"] is not None
        assert len(survey_comments(conn, f)) > 0
