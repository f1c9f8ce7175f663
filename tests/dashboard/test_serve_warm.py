"""dashboard/serve.py warms the caches at server start with exactly the page's calls.

If resumen.warm and render ever ask for different things, the first visitor of a fresh
server would silently compute everything again. This test counts every metric the page
computes (any function passed to cache.metric whose result is not cached yet, whatever
its name): none after warming, and all of them again once the cache is cleared.
"""

from __future__ import annotations

import logging

import pytest
import streamlit as st

from dashboard import serve
from tests.dashboard.conftest import counting_metric, make_app, metric_cards


def test_first_visit_after_warming_computes_nothing(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    monkeypatch.setenv("ESLABON_DB_URL", sample_db_url)
    st.cache_data.clear()
    serve.warm_caches()
    asked: list[str] = []
    computed: list[str] = []
    counting_metric(monkeypatch, asked, computed)
    at = make_app(monkeypatch, sample_db_url)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(metric_cards(at)) == 8
    # the page's numbers: the cards, their targets and reasons, the weeks, the roots
    for name in ("kpis.headline_kpis", "kpis.kpi_reasons", "targets.kpi_target_status",
                 "targets.kpi_target_value", "trends.period_weekly_kpis",
                 "propagation.root_impact"):  # fmt: skip
        assert f"dashboard.metrics.{name}" in asked
    assert computed == []
    # and the counting itself works: a cleared cache makes the page compute all of it again
    st.cache_data.clear()
    asked.clear()
    make_app(monkeypatch, sample_db_url).run()
    assert computed and sorted(set(computed)) == sorted(set(asked))


def test_warming_an_unreachable_database_is_quiet(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken URL: nothing raised in the background thread, no numbers cached, and
    the server log says the warming did not happen (the page reports the error itself)."""
    monkeypatch.setenv("ESLABON_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    st.cache_data.clear()
    asked: list[str] = []
    computed: list[str] = []
    counting_metric(monkeypatch, asked, computed)
    with caplog.at_level(logging.INFO, logger=serve.__name__):
        serve.warm_caches()
    assert asked == [] and computed == []  # it stopped at the database probe
    assert not any("caches warmed" in r.getMessage() for r in caplog.records)
