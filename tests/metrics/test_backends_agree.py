"""Every metric of this layer gives the same answer on DuckDB and PostgreSQL.

The shipped sample (data/sample, 5,000 commitments) is loaded into both with the real
loader (`python -m etl load`), once per session (tests/metrics/conftest.py), and each
metric function is run on both with several filters and groupings; results must be
equal value for value (floats exactly: the SQL divides integers once in double precision
and durations are rounded).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
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

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = ROOT / "data" / "sample"

pytestmark = pytest.mark.postgres


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


def _both(
    sample_engines: tuple[sa.Engine, sa.Engine], fn: Callable[[sa.Connection], object]
) -> tuple:
    duck, pg = sample_engines
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


def _grouped(name: str, f: MetricFilter) -> Callable[[sa.Connection], object]:
    """One grouped metric on a fixed filter, as `_both` calls it."""
    return lambda conn: GROUPED[name](conn, f)


@pytest.mark.parametrize("name", list(GROUPED))
def test_grouped_metrics_agree(sample_engines: tuple[sa.Engine, sa.Engine], name: str) -> None:
    with sample_engines[0].connect() as conn:
        as_of = default_as_of(conn)
    # the sample's own as_of, as the loader stored it from dataset.toml
    shipped = tomllib.loads((SAMPLE / "dataset.toml").read_text(encoding="utf-8"))["as_of"]
    assert as_of == datetime.fromisoformat(str(shipped))
    for f in _filters(as_of):
        left, right = _both(sample_engines, _grouped(name, f))
        assert left, (name, f)
        assert left == right, (name, f)


def test_lists_trends_and_targets_agree(sample_engines: tuple[sa.Engine, sa.Engine]) -> None:
    with sample_engines[0].connect() as conn:
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
        left, right = _both(sample_engines, fn)
        assert left == right, name
    # the sample is rich enough for these comparisons to mean something
    with sample_engines[0].connect() as conn:
        assert len(commitment_list(conn, f)) > 4000
        assert breach_cost(conn, f)["cost_points"] is not None
        assert len(survey_comments(conn, f)) > 0
