"""The issue-5 pages on the session's sample database: each renders without an error, and
the numbers shown are the functions' numbers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import default_as_of
from dashboard.metrics.trends import last_full_week
from dashboard.records import iso_week_label
from dashboard.report.weekly import format_kpi
from dashboard.services.review import weekly_review
from tests.dashboard.apptest_support import all_text, page_app


def _metas() -> None:
    from dashboard.views import metas

    metas.page()


def _revision() -> None:
    from dashboard.views import revision

    revision.page()


def _seguimiento() -> None:
    from dashboard.views import seguimiento

    seguimiento.page()


def _avisos() -> None:
    from dashboard.views import avisos

    avisos.page()


@pytest.mark.parametrize("script", [_metas, _revision, _seguimiento, _avisos])
def test_page_renders_on_sample(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, script: Callable[[], None]
) -> None:
    at = page_app(monkeypatch, sample_db_url, script).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_review_numbers_equal_the_function(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    with sample_engine.connect() as conn:
        as_of = default_as_of(conn).replace(second=0, microsecond=0)
        f = MetricFilter(as_of=as_of)
        week = iso_week_label(last_full_week(f))
        review = weekly_review(conn, week, as_of, f)
    at = page_app(monkeypatch, sample_db_url, _revision, lang="en").run()
    assert not at.exception
    assert f"Weekly review {week}" in all_text(at)
    shown = at.table[0].value.set_index("KPI")
    for kpi, label in (("on_time_rate", "On-time rate"), ("breaches", "Breaches")):
        value = review.kpis.set_index("kpi").at[kpi, "current"]
        assert shown.at[label, "This week"] == format_kpi(kpi, value, "en")


@pytest.mark.parametrize("name", ["metas", "revision", "seguimiento", "avisos"])
def test_page_through_the_real_app(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, name: str
) -> None:
    """Registered in dashboard/app.py: reached by ?page=, drawn with the shared sidebar."""
    from streamlit.testing.v1 import AppTest

    from etl.settings import PROJECT_ROOT

    monkeypatch.setenv("ESLABON_DB_URL", sample_db_url)
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["page"] = name
    at.run()
    assert not at.exception, at.exception
    assert len(at.sidebar) > 0
    titles = {"metas": "Metas", "revision": "Revisión semanal", "seguimiento": "Seguimiento",
              "avisos": "Avisos"}  # fmt: skip
    assert any(titles[name] in str(t.value) for t in at.title)


def test_resumen_deep_link_opens_the_commitment(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    """?page=seguimiento&commitment=ID (the links of Resumen's root table) opens that one."""
    from streamlit.testing.v1 import AppTest

    from etl.settings import PROJECT_ROOT

    with sample_engine.connect() as conn:
        cid = conn.execute(
            sa.text("SELECT min(commitment_id) FROM commitments WHERE NOT cancelled")
        ).scalar()
    monkeypatch.setenv("ESLABON_DB_URL", sample_db_url)
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["page"] = "seguimiento"
    at.query_params["commitment"] = cid
    at.run()
    assert not at.exception
    assert at.text_input(key="w_track_search").value == cid
    assert str(at.selectbox(key="w_track_pick").value) == cid
