"""Satisfacción on the sample data: CSAT%, NPS, the cost of a breach in points and the
complaints equal the metric functions'; the target hours and the comment search change
what is shown and live in the URL; comments are plain text; the language switch changes
labels and number formats.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.metrics.complaints import complaints_summary
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import default_as_of
from dashboard.metrics.satisfaction import breach_cost, satisfaction_summary, survey_comments
from dashboard.ui.i18n import fmt_num, fmt_pct
from dashboard.ui.state import ViewState
from dashboard.ui.texts import tr
from dashboard.views.satisfaccion import K_HOURS, K_SEARCH, hours_from_url, search_from_url
from etl.db import create_db_engine
from etl.schema import create_schema
from tests.dashboard.conftest import make_app, metric_cards


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _open(monkeypatch: pytest.MonkeyPatch, url: str, **query: str) -> AppTest:
    return _run(make_app(monkeypatch, url, page="satisfaccion", **query))


def _filter(engine: sa.Engine, lang: str = "es") -> MetricFilter:
    with engine.connect() as conn:
        return ViewState(lang=lang).to_filter(default_as_of(conn))


def _table_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_cards_equal_the_metric_functions(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine, lang: str
) -> None:
    at = _open(monkeypatch, sample_db_url, lang=lang)
    f = _filter(sample_engine, lang)
    with sample_engine.connect() as conn:
        overall = satisfaction_summary(conn, f.with_(group_by="none")).iloc[0]
        cost = breach_cost(conn, f)
        complaints = complaints_summary(conn, f.with_(group_by="none")).iloc[0]
    assert cost["cost_points"] is not None  # the sample has breaches with answers
    cards = metric_cards(at)
    assert cards[tr("kpi_csat_pct", lang)][0] == fmt_pct(overall["csat_pct"], lang)
    assert cards[tr("kpi_nps", lang)][0] == fmt_num(overall["nps"], lang, 1)
    assert cards[tr("breach_cost_metric", lang)][0] == tr(
        "points_suffix", lang, value=fmt_num(cost["cost_points"], lang, 1)
    )
    assert cards[tr("csat_on_time", lang)][0] == fmt_pct(cost["csat_pct_on_time"], lang)
    assert cards[tr("csat_breach", lang)][0] == fmt_pct(cost["csat_pct_breach"], lang)
    assert cards[tr("kpi_complaints_per_100", lang)][0] == fmt_num(
        complaints["complaints_per_100"], lang, 1
    )
    # the split on time / root / propagated, row by row
    split = _table_with(at, tr("col_status", lang))
    assert list(split[tr("kpi_csat_pct", lang)]) == [
        fmt_pct(v, lang) for v in cost["by_status"]["csat_pct"]
    ]
    assert list(split[tr("col_status", lang)]) == [
        tr(f"status_{s}", lang) for s in ("on_time", "root_breach", "propagated_breach")
    ]
    if lang == "es":  # number formats differ by language: `80,3\u00a0%` vs `80.3%`
        assert "\u00a0%" in cards[tr("kpi_csat_pct", lang)][0]
    else:
        assert (
            cards[tr("kpi_csat_pct", lang)][0].endswith("%")
            and "," not in cards[tr("kpi_csat_pct", lang)][0]
        )


def test_target_hours_change_the_share_within_target_and_the_url(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _open(monkeypatch, sample_db_url)
    f = _filter(sample_engine).with_(group_by="process")
    column = tr("within_target", "es")
    with sample_engine.connect() as conn:
        default = complaints_summary(conn, f, target_hours=72)
        tight = complaints_summary(conn, f, target_hours=24)
    default = default[default["group_key"].notna()]
    tight = tight[tight["group_key"].notna()]
    shown = _table_with(at, column)
    assert sorted(shown[column]) == sorted(
        fmt_pct(v, "es") for v in default["resolved_within_target_share"]
    )
    at.number_input(key=K_HOURS).set_value(24.0)
    at = _run(at)
    shown = _table_with(at, column)
    assert sorted(shown[column]) == sorted(
        fmt_pct(v, "es") for v in tight["resolved_within_target_share"]
    )
    assert "24" in str(at.query_params["hours"])
    # a copied link keeps the target
    again = _open(monkeypatch, sample_db_url, hours="24")
    assert again.number_input(key=K_HOURS).value == 24.0


def test_comment_search_is_a_bound_substring_shown_as_plain_text(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _open(monkeypatch, sample_db_url)
    f = _filter(sample_engine)
    with sample_engine.connect() as conn:
        everything = survey_comments(conn, f)
        word = "tiempo"
        matching = survey_comments(conn, f, search=word)
        hostile = survey_comments(conn, f, search="%' OR 1=1 --")
    assert 0 < len(matching) < len(everything)
    assert hostile.empty
    column = tr("col_comment", "es")
    assert len(_table_with(at, column)) == min(len(everything), 500)
    at.text_input(key=K_SEARCH).set_value(word.upper())
    at = _run(at)
    comments = _table_with(at, column)
    assert list(comments[column]) == list(matching["comment"])[:500]
    assert all(word in c.lower() for c in comments[column])
    assert str(at.query_params["q"]) in (word.upper(), f"['{word.upper()}']")
    # SQL-looking text finds nothing instead of everything; no comment reaches Markdown
    at.text_input(key=K_SEARCH).set_value("%' OR 1=1 --")
    at = _run(at)
    assert tr("no_comments", "es") in [i.value for i in at.info]
    markdown = "\n".join(m.value for m in at.markdown)
    assert not any(str(c) in markdown for c in everything["comment"].head(50))


def test_url_values_are_parsed_defensively() -> None:
    assert hours_from_url("48") == 48.0
    assert hours_from_url("nan") == 72.0
    assert hours_from_url("1e9") == 24.0 * 365
    assert hours_from_url("-5") == 1.0
    assert hours_from_url("x'; DROP TABLE complaints; --") == 72.0
    assert search_from_url("  tarde\x00\n ") == "tarde"
    assert len(search_from_url("a" * 10_000)) == 200


def test_language_switch_changes_labels(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    at = _open(monkeypatch, sample_db_url)
    assert tr("breach_cost_title", "es") in [s.value for s in at.subheader]
    at.segmented_control(key="w_lang").set_value("en")
    at = _run(at)
    assert tr("satisfaccion_title", "en") in [t.value for t in at.title]
    assert tr("breach_cost_title", "en") in [s.value for s in at.subheader]
    assert tr("breach_cost_metric", "en") in metric_cards(at)


def test_empty_database_shows_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    engine = create_db_engine(url)
    create_schema(engine)
    engine.dispose()
    at = _open(monkeypatch, url)
    assert tr("empty_title", "es") in [s.value for s in at.subheader]


def test_weekly_and_stage_charts_plot_the_metric_values(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _open(monkeypatch, sample_db_url)
    f = _filter(sample_engine)
    with sample_engine.connect() as conn:
        weekly = satisfaction_summary(conn, f.with_(group_by="week"))
        staged = satisfaction_summary(conn, f.with_(group_by="process"))
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    week_chart = next(s for s in specs if s["data"][0].get("mode") == "lines+markers+text")
    csat, nps = week_chart["data"][:2]
    assert csat["y"] == pytest.approx([float(v) for v in weekly["csat_pct"]])
    assert nps["y"] == pytest.approx([float(v) for v in weekly["nps"]])
    stage_chart = next(
        s for s in specs if s["data"][0].get("type") == "bar" and "Ventas" in s["data"][0]["x"]
    )
    by_stage = dict(zip(staged["group_key"], staged["csat_pct"], strict=True))
    shown = stage_chart["data"][0]
    assert shown["x"][0] == "Ventas"  # chain order, not alphabetical
    assert shown["y"] == pytest.approx([float(by_stage[k]) for k in shown["x"]])
