"""Pages that must not contradict themselves (issue 14, items 8-17), page by page in
AppTest; the browser-only faults (glyph boxes, contrast, mixed languages) are in
test_browser.py."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.ontime import on_time_summary
from dashboard.metrics.satisfaction import breach_cost
from dashboard.records.targets import import_targets_csv
from dashboard.ui.i18n import fmt_int, fmt_kpi, fmt_kpi_gap, t
from dashboard.ui.state import parse_view
from dashboard.ui.texts import kpi_label, tr
from etl.db import create_db_engine
from etl.settings import PROJECT_ROOT
from tests.dashboard.conftest import make_app

AS_OF = datetime(2026, 11, 20, 17, 0)  # the sample's own as_of


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_language_switch_sends_the_sidebar_choices_in_the_new_labels(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    """The browser keeps a selectbox choice as its label: unless the server re-sends the
    value on a switch, the old label matches no option and the period falls back to the
    first one (a second switch turned ?period=26w into four weeks)."""
    at = _run(make_app(monkeypatch, sample_db_url, period="26w", dir="from_customer"))
    for lang in ("en", "es", "en"):
        at.segmented_control(key="w_lang").set_value(lang)
        _run(at)
        period = at.selectbox(key="w_period")
        assert period.proto.set_value and period.proto.raw_value == t("period_26w", lang)
        direction = at.radio(key="w_dir")
        assert direction.proto.set_value
        assert direction.proto.raw_value == t("direction_from_customer", lang)
        assert at.query_params.get("period") == "26w"
    # a run without a switch sends nothing (the browser's own value stands)
    _run(at)
    assert not at.selectbox(key="w_period").proto.set_value


def _trend_points(at: AppTest) -> list[dict]:
    """The weekly points of Resumen's trend chart (its Vega-Lite data)."""
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    return spec["layer"][0]["data"]["values"]


def _card(at: AppTest, kpi: str, lang: str = "es") -> str:
    return next(m.value for m in at.metric if m.label == t(f"kpi_{kpi}", lang))


def test_resumen_cards_and_trend_follow_the_direction_filter(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    """ "Compromisos del cliente con nosotros" changes the subtitle and the table, and
    the cards and the trend with them: the on-time card is then the on-time rate of
    customer commitments, and each trend point that of its week."""
    at = _run(make_app(monkeypatch, sample_db_url, dir="from_customer"))
    f = parse_view({"dir": "from_customer"}).to_filter(AS_OF)
    with sample_engine.connect() as conn:
        whole = on_time_summary(conn, f).iloc[0]
        ours = on_time_summary(conn, f.with_(direction="to_customer")).iloc[0]
        by_week = on_time_summary(conn, f.with_(group_by="week"))
    assert whole["on_time_rate"] != ours["on_time_rate"]
    assert _card(at, "on_time_rate") == fmt_kpi("on_time_rate", whole["on_time_rate"], "es")
    assert _card(at, "breaches") == fmt_kpi("breaches", whole["breaches"], "es")
    rates = {str(r["group_key"]): r["on_time_rate"] for _, r in by_week.iterrows()}
    points = [p for p in _trend_points(at) if p["rate"] is not None]
    assert points and all(p["rate"] == pytest.approx(rates[p["week"]]) for p in points)


def test_resumen_cards_and_trend_speak_of_the_same_commitments(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    """A period of only the running week (as_of is Friday 20/11): the cards count its
    due commitments, and the trend shows that same week, marked partial, with the
    card's rate (it used to show only full weeks: "no commitments" beside "1 breach")."""
    query = {"period": "custom", "from": "2026-11-16", "to": "2026-11-20"}
    at = _run(make_app(monkeypatch, sample_db_url, **query))
    f = parse_view(query).to_filter(AS_OF)
    with sample_engine.connect() as conn:
        whole = on_time_summary(conn, f).iloc[0]
    assert whole["due"] > 0
    assert _card(at, "breaches") == fmt_kpi("breaches", whole["breaches"], "es")
    (point,) = _trend_points(at)
    assert (point["week"], point["partial"]) == ("2026-11-16", True)
    assert point["rate_label"] == _card(at, "on_time_rate")


def _figures(at: AppTest) -> list[dict]:
    """Every Plotly figure of the page, as the JSON the browser gets."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_satisfaccion_breach_cost_chart_and_table_count_the_same_answers(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    """The chart's n (answers with a CSAT) is a column of the table under the same name,
    beside all responses, so 448 next to 465 is explained on the page itself."""
    at = _run(make_app(monkeypatch, sample_db_url, page="satisfaccion"))
    with sample_engine.connect() as conn:
        by_status = breach_cost(conn, parse_view({}).to_filter(AS_OF))["by_status"]
    cost = next(
        fig
        for fig in _figures(at)
        if any("(n = " in str(x) for x in fig["data"][0].get("text", []))
    )
    chart_n = [str(x).split("(n = ")[1].rstrip(")") for x in cost["data"][0]["text"]]
    assert chart_n == [fmt_int(v, "es") for v in by_status["csat_responses"]]
    table = next(d.value for d in at.dataframe if tr("csat_answers", "es") in d.value.columns)
    assert list(table[tr("csat_answers", "es")]) == chart_n
    assert list(table[tr("responses", "es")]) == [fmt_int(v, "es") for v in by_status["responses"]]
    assert tr("breach_cost_n", "es") in json.dumps(cost["layout"], ensure_ascii=False)


def test_satisfaccion_draws_the_running_week_as_partial(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    """as_of is Friday 20/11: the week of 16/11 is not over, and its CSAT is drawn hollow
    and labelled partial; full weeks are not."""
    at = _run(make_app(monkeypatch, sample_db_url, page="satisfaccion"))
    weekly = next(fig for fig in _figures(at) if "16/11/2026 (parcial)" in json.dumps(
        fig["data"][0].get("x", []), ensure_ascii=False))  # fmt: skip
    x = weekly["data"][0]["x"]
    symbols = weekly["data"][0]["marker"]["symbol"]
    assert x[-1] == "16/11/2026 (parcial)" and symbols[-1] == "circle-open"
    assert all(s == "circle" for s in symbols[:-1])
    assert not any("parcial" in str(v) for v in x[:-1])


@pytest.fixture(scope="module")
def targets_db_url(sample_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample with its targets (what `make run` serves), on a copy of the session's
    database (other tests expect it without targets)."""
    path = tmp_path_factory.mktemp("trust") / "targets.duckdb"
    shutil.copyfile(str(make_url(sample_db_url).database), path)
    url = f"duckdb:///{path}"
    engine = create_db_engine(url)
    with engine.begin() as conn:
        import_targets_csv(conn, (PROJECT_ROOT / "data/sample-targets.csv").read_bytes(), "test")
    engine.dispose()
    return url


@pytest.mark.parametrize("page", ["revision", "metas"])
def test_the_kpi_table_shows_every_row_red_ones_included(
    monkeypatch: pytest.MonkeyPatch, targets_db_url: str, page: str
) -> None:
    """A scrolling box of ten rows hid the KPIs below its fold, the red ones among them:
    the table is static, every KPI on the page."""
    at = _run(make_app(monkeypatch, targets_db_url, page=page))
    (table,) = at.table
    shown = table.value
    assert list(shown[tr("col_kpi", "es")]) == [kpi_label(k, "es") for k in HEADLINE_KPIS]
    lights = list(shown[tr("review_status", "es")])
    assert t("status_red", "es") in lights


def test_fmt_kpi_gap_speaks_the_kpis_scale() -> None:
    assert fmt_kpi_gap("on_time_rate", 0.05, "es") == "5,0 pp"
    assert fmt_kpi_gap("on_time_rate", 0.05, "en") == "5.0 pp"
    assert fmt_kpi_gap("breaches", 3.0, "es") == "3"
    assert fmt_kpi_gap("complaints_per_100", 0.5, "es") == "0,5"
    assert fmt_kpi_gap("nps", None, "es") == "—"


def test_seguimiento_says_what_to_type_and_lists_each_moment_once(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    """Opened without a commitment, the page says what to search for; opened on one,
    its delivery phase and its 'Entrega' event (the same instant) make one row."""
    empty = _run(make_app(monkeypatch, sample_db_url, page="seguimiento"))
    assert [i.value for i in empty.info] == [tr("track_hint", "es")]
    assert empty.text_input(key="w_track_search").proto.placeholder
    at = _run(make_app(monkeypatch, sample_db_url, page="seguimiento", commitment="CMP-000001"))
    table = next(d.value for d in at.dataframe if tr("col_phase", "es") in d.value.columns)
    moments = list(table[tr("col_at", "es")])
    assert len(moments) == len(set(moments))  # 28/05 11:33 was listed twice
    entrega = table[table[tr("col_stage", "es")] == "Entrega"].iloc[0]
    assert entrega[tr("col_phase", "es")] == tr("phase_delivery", "es")


def _sidebar_keys(at: AppTest) -> set[str]:
    return {
        key
        for kind in ("selectbox", "radio", "multiselect", "segmented_control")
        for e in at.sidebar.get(kind)
        if (key := getattr(e, "key", None)) is not None
    }


def test_sidebar_shows_only_the_filters_a_page_follows(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    """Seguimiento (one commitment) and Datos follow no filter: only the language switch;
    Revisión and Metas judge one week: no period; Avisos: no period, no direction. A
    filter left out is kept: back on Resumen the view is the one the user left."""
    at = _run(make_app(monkeypatch, sample_db_url, period="26w", ctype="external"))
    assert _sidebar_keys(at) == {"w_lang", "w_period", "w_stages", "w_ctype", "w_dir"}
    expected = {
        "seguimiento": {"w_lang"},
        "datos": {"w_lang"},
        "revision": {"w_lang", "w_stages", "w_ctype", "w_dir"},
        "metas": {"w_lang", "w_stages", "w_ctype", "w_dir"},
        "avisos": {"w_lang", "w_stages", "w_ctype"},
    }
    for page, keys in expected.items():
        at.query_params["page"] = page
        _run(at)
        assert _sidebar_keys(at) == keys, page
        assert at.query_params.get("period") == "26w", page
    at.query_params["page"] = "resumen"
    _run(at)
    assert at.selectbox(key="w_period").value == "26w"
    assert at.selectbox(key="w_ctype").value == "external"
