"""The KPI registry: one declaration per KPI, and every layer reads the same one."""

from __future__ import annotations

from datetime import datetime

import pytest

from dashboard.metrics.definitions import (
    COUNT_KPIS,
    HEADLINE_KPIS,
    KPI_BETTER,
    KPIS,
    RATE_KPIS,
    kpi,
)
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import headline_kpis
from dashboard.report.weekly import format_kpi, format_kpi_delta
from dashboard.ui.i18n import fmt_kpi, fmt_kpi_delta, kpi_lower_is_better, t
from dashboard.ui.texts import kpi_label


def test_the_headline_export_has_exactly_the_declared_kpis(duckdb_engine) -> None:
    f = MetricFilter(as_of=datetime(2026, 11, 20), group_by="none")
    with duckdb_engine.connect() as conn:
        frame = headline_kpis(conn, f)
    assert [c for c in frame.columns if c != "group_key"] == list(HEADLINE_KPIS)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_cards_pack_and_labels_agree_for_every_kpi(lang: str) -> None:
    for key, declared in KPIS.items():
        # the card label (i18n), the pack/table label (texts) and the registry are one
        assert t(f"kpi_{key}", lang) == kpi_label(key, lang) == declared.label_in(lang)
        # the weekly pack formats exactly as the cards do
        assert format_kpi(key, 0.25, lang) == fmt_kpi(key, 0.25, lang)
        assert format_kpi_delta(key, 0.05, lang) == fmt_kpi_delta(key, 0.05, lang)
        assert kpi_lower_is_better(key) == (KPI_BETTER[key] == "lower")


def test_kinds_by_hand() -> None:
    assert {
        "on_time_rate",
        "propagation_rate",
        "csat_pct",
        "proactive_notice_rate",
        "customer_commitments_kept",
        "within_standard_rate",
    } == RATE_KPIS
    assert {
        "due",
        "on_time",
        "breaches",
        "pending",
        "root_breaches",
        "propagated_breaches",
        "absorbed",
        "at_risk",
    } == COUNT_KPIS
    assert fmt_kpi("on_time_rate", 0.5, "es") == "50,0\u00a0%"
    assert fmt_kpi_delta("on_time_rate", 0.05, "en") == "+5.0 pp"
    assert fmt_kpi("nps", 12.34, "en") == "12.3"


def test_an_unknown_kpi_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="nope"):
        kpi("nope")


def test_change_tone_follows_the_better_direction() -> None:
    """A rise is good news for the on-time rate, bad news for breaches; a KPI with no
    better direction (due) is never coloured; no change is no news."""
    assert kpi("on_time_rate").change_tone(0.05) == "better"
    assert kpi("on_time_rate").change_tone(-0.05) == "worse"
    assert kpi("breaches").change_tone(3) == "worse"
    assert kpi("breaches").change_tone(-3) == "better"
    assert kpi("due").change_tone(10) == "neutral"
    assert kpi("breaches").change_tone(0) == "same"
    assert kpi("nps").change_tone(None) == "neutral"
    assert kpi("nps").change_tone(float("nan")) == "neutral"
