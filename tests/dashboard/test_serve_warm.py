"""dashboard/serve.py warms the caches at server start with exactly the page's calls.

If resumen.warm and render ever ask for different things, the first visitor of a fresh
server would silently compute everything again: this test opens the app after warming
and counts the metric functions that still run (none may).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import pytest
import streamlit as st

from dashboard import serve
from dashboard.metrics import kpis, process_map, propagation, targets, trends
from tests.dashboard.conftest import make_app, metric_cards


def _counting(calls: list[str], name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    # wraps: the cache keys a call on the function's module and name, as the page's are
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return func(*args, **kwargs)

    return wrapper


def test_first_visit_after_warming_computes_nothing(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    monkeypatch.setenv("ESLABON_DB_URL", sample_db_url)
    st.cache_data.clear()
    serve.warm_caches()
    calls: list[str] = []
    for module, names in (
        (kpis, ["headline_kpis"]),
        (trends, ["weekly_kpis", "week_over_week"]),
        (propagation, ["root_impact"]),
        (targets, ["kpi_target_status", "targets_in_force"]),
        (process_map, ["process_chain"]),
    ):
        for name in names:
            monkeypatch.setattr(module, name, _counting(calls, name, getattr(module, name)))
    at = make_app(monkeypatch, sample_db_url)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(metric_cards(at)) == 8
    assert calls == []
    # and the counting itself works: a cleared cache makes the page compute again
    st.cache_data.clear()
    make_app(monkeypatch, sample_db_url).run()
    assert "headline_kpis" in calls


def test_warming_an_unreachable_database_is_quiet(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken URL: nothing raised in the background thread, no numbers cached, and
    the server log says the warming did not happen (the page reports the error itself)."""
    monkeypatch.setenv("ESLABON_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    st.cache_data.clear()
    calls: list[str] = []
    monkeypatch.setattr(
        kpis, "headline_kpis", _counting(calls, "headline_kpis", kpis.headline_kpis)
    )
    with caplog.at_level(logging.INFO, logger=serve.__name__):
        serve.warm_caches()
    assert calls == []
    assert not any("caches warmed" in r.getMessage() for r in caplog.records)
