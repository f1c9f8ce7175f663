"""Cumplimiento on the sample data: stage bars, the drill-down to a performer's
commitments through the selectboxes (AppTest cannot click Plotly), the breadcrumb, the
link that reopens a level, and every number against the metric functions.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import default_as_of
from dashboard.metrics.ontime import (
    commitment_list,
    on_time_summary,
    renegotiation_summary,
)
from dashboard.metrics.process_map import process_chain
from dashboard.ui.i18n import fmt_date, fmt_int, fmt_num, fmt_pct, t
from dashboard.ui.state import ViewState
from dashboard.ui.texts import md_escape
from dashboard.views import url_state
from etl.db import create_db_engine
from etl.schema import create_schema, dataset_meta
from tests.dashboard.conftest import make_app, metric_cards
from tests.factories import commitment, insert_rows

HOSTILE = "x'; DROP TABLE commitments; --"


def _open(monkeypatch: pytest.MonkeyPatch, url: str, **query: str) -> AppTest:
    at = make_app(monkeypatch, url, page="cumplimiento", **query)
    return _run(at)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _filter(engine: sa.Engine, view: ViewState, *, drill: bool = False) -> MetricFilter:
    with engine.connect() as conn:
        return view.to_filter(default_as_of(conn), drill=drill)


def _first_chart(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def _stage_and_performer(engine: sa.Engine) -> tuple[str, str]:
    """A stage with breaches in the default view, and its first performer."""
    f = _filter(engine, ViewState())
    with engine.connect() as conn:
        by_stage = on_time_summary(conn, f.with_(group_by="process"))
        stage = str(by_stage.sort_values("breaches").iloc[-1]["group_key"])
        perf = on_time_summary(conn, f.with_(processes=(stage,), group_by="performer"))
    return stage, sorted(str(p) for p in perf["group_key"].dropna())[0]


def test_stage_bars_are_the_on_time_rates_in_chain_order(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _open(monkeypatch, sample_db_url)
    f = _filter(sample_engine, ViewState())
    with sample_engine.connect() as conn:
        chain = [str(p) for p in process_chain(conn, f)["process"]]
        summary = on_time_summary(conn, f.with_(group_by="process")).set_index("group_key")
    bar = _first_chart(at)["data"][0]
    stages = [s for s in chain if s in summary.index]
    assert bar["x"] == stages
    assert bar["y"] == pytest.approx([float(summary["on_time_rate"][s]) for s in stages])
    assert bar["text"] == [fmt_pct(summary["on_time_rate"][s], "es") for s in stages]
    assert at.title[0].value == t("cumplimiento_title", "es")
    assert at.query_params.get("page") is None  # the deep link was followed, then dropped


def test_drill_down_reaches_the_commitment_list(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    stage, performer = _stage_and_performer(sample_engine)
    at = _open(monkeypatch, sample_db_url)
    at.selectbox(key=url_state.K_DRILL_STAGE).set_value(stage)
    _run(at)
    assert at.query_params.get("stage") == stage
    assert t("by_performer_title", "es", stage=stage) in [s.value for s in at.subheader]
    f_stage = _filter(sample_engine, ViewState(drill_stage=stage), drill=True)
    with sample_engine.connect() as conn:
        perf = on_time_summary(conn, f_stage.with_(group_by="performer"))
    assert sorted(_first_chart(at)["data"][0]["y"]) == sorted(str(p) for p in perf["group_key"])

    at.selectbox(key=url_state.K_DRILL_PERFORMER).set_value(performer)
    _run(at)
    assert at.query_params.get("performer") == performer
    view = ViewState(drill_stage=stage, drill_performer=performer)
    f = _filter(sample_engine, view, drill=True)
    with sample_engine.connect() as conn:
        rows = commitment_list(conn, f)
    table = at.dataframe[0].value
    assert list(table[t("col_commitment", "es")]) == list(rows["commitment_id"])
    assert list(table[t("col_due", "es")]) == [fmt_date(v, "es") for v in rows["due_at"]]
    shown_status = [s.split(" ", 1)[1] for s in table[t("col_status", "es")]]
    assert shown_status == [t(f"st_{s}", "es") for s in rows["status"]]
    delays = [fmt_num(v, "es", 1) if pd.notna(v) else "" for v in rows["delay_days"]]
    assert list(table[t("col_delay", "es")]) == delays
    assert list(table[t("col_upstreams", "es")]) == list(rows["upstreams"].fillna(""))
    assert t("col_standard", "es") not in table.columns  # the sample has no standards
    assert list(table[t("col_tracking", "es")]) == [
        f"?page=seguimiento&commitment={c}" for c in rows["commitment_id"]
    ]

    # the breadcrumb goes back up, one level at a time
    at.button(key="crumb_stage").click()
    _run(at)
    assert at.query_params.get("stage") == stage and "performer" not in at.query_params
    at.button(key="crumb_all").click()
    _run(at)
    assert "stage" not in at.query_params
    assert t("by_stage_title", "es") in [s.value for s in at.subheader]


def test_a_copied_link_reopens_the_commitment_level(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    stage, performer = _stage_and_performer(sample_engine)
    at = _open(monkeypatch, sample_db_url, stage=stage, performer=performer, lang="en")
    assert t("commitments_title", "en", stage=stage, performer=performer) in [
        s.value for s in at.subheader
    ]
    assert at.selectbox(key=url_state.K_DRILL_STAGE).value == stage
    f = _filter(sample_engine, ViewState(drill_stage=stage, drill_performer=performer), drill=True)
    with sample_engine.connect() as conn:
        overall = on_time_summary(conn, f).iloc[0]
    cards = metric_cards(at)
    assert cards[t("kpi_due", "en")][0] == fmt_int(overall["due"], "en")
    assert cards[t("kpi_breaches", "en")][0] == fmt_int(overall["breaches"], "en")
    median = fmt_num(overall["median_delay_days"], "en", 1)
    assert cards[t("median_delay", "en")][0] == t("days_suffix", "en", value=median)


def test_renegotiated_view_equals_the_metric(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _open(monkeypatch, sample_db_url, lang="en")
    f = _filter(sample_engine, ViewState())
    with sample_engine.connect() as conn:
        reneg = renegotiation_summary(conn, f.with_(group_by="process")).set_index("group_key")
        chain = [str(p) for p in process_chain(conn, f)["process"]]
    reneg = reneg.loc[[s for s in chain if s in reneg.index]]  # shown in chain order
    if reneg["renegotiated"].sum() == 0:
        pytest.skip("the sample has no renegotiated commitments")
    table = at.dataframe[-1].value
    assert list(table[t("drill_stage", "en")]) == list(reneg.index)
    assert list(table[t("vs_due", "en")]) == [
        fmt_pct(v, "en") for v in reneg["on_time_rate_vs_due"]
    ]
    assert list(table[t("vs_original", "en")]) == [
        fmt_pct(v, "en") for v in reneg["on_time_rate_vs_original"]
    ]


@pytest.mark.parametrize(
    "query",
    [
        {"stage": HOSTILE},
        {"stage": "Compras", "performer": HOSTILE},
        {"stages": HOSTILE, "period": HOSTILE, "ctype": HOSTILE, "dir": HOSTILE},
    ],
)
def test_hostile_url_values_are_ignored(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine, query: dict
) -> None:
    at = _open(monkeypatch, sample_db_url, **query)
    assert HOSTILE not in json.dumps(dict(at.query_params))
    with sample_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM commitments")).scalar_one() > 0


@pytest.mark.parametrize("page", ["resumen", "cumplimiento"])
@pytest.mark.parametrize(
    "query",
    [
        {"dir": "from_customer"},
        {"ctype": "internal", "period": "4w"},
        {"ctype": "external", "period": "26w", "lang": "en"},
        {"period": "custom", "from": "2031-01-01", "to": "2031-02-01"},  # no data at all
    ],
)
def test_every_filter_combination_renders(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, page: str, query: dict
) -> None:
    at = _run(make_app(monkeypatch, sample_db_url, page=page, **query))
    assert at.title and not at.exception and not at.error


def test_the_tracking_link_of_a_row_opens_the_tracking_page(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    stage, performer = _stage_and_performer(sample_engine)
    at = _open(monkeypatch, sample_db_url, stage=stage, performer=performer)
    link = at.dataframe[0].value[t("col_tracking", "es")].iloc[0]
    query = dict(part.split("=", 1) for part in link.lstrip("?").split("&"))
    tracking = _run(make_app(monkeypatch, sample_db_url, **query))
    assert tracking.query_params.get("commitment") == query["commitment"]
    assert "page" not in tracking.query_params
    assert tracking.title[0].value != t("cumplimiento_title", "es")


def test_names_are_shown_as_typed_never_as_markdown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A stage or performer name with Markdown in it (a link, emphasis, HTML) is shown
    literally in titles, captions and the breadcrumb.
    """
    stage, performer = "Ventas [x](http://evil.example)", "**Ana** <b>hi</b> $x$"
    url = f"duckdb:///{tmp_path / 'names.duckdb'}"
    engine = create_db_engine(url)
    create_schema(engine)
    insert_rows(
        engine,
        "commitments",
        [commitment("N1", datetime(2026, 11, 10, 12), None, process=stage, performer=performer)],
    )
    with engine.begin() as conn:
        conn.execute(dataset_meta.insert(), [{"key": "as_of", "value": "2026-11-20T12:00:00"}])
    engine.dispose()
    at = _open(monkeypatch, url, stage=stage, performer=performer, lang="en")
    assert at.selectbox(key=url_state.K_DRILL_PERFORMER).value == performer
    shown = [s.value for s in at.subheader] + [c.value for c in at.caption]
    shown += [b.label for b in at.button]
    joined = "\n".join(shown)
    assert "](http" not in joined and "**Ana**" not in joined and "<b>" not in joined
    assert md_escape(performer) in joined and md_escape(stage) in joined
    assert at.dataframe[0].value[t("col_commitment", "en")].tolist() == ["N1"]


def _standards_table_script() -> None:
    """Cumplimiento's commitments table on the Soporte commitments of the standards world."""
    import os
    from datetime import datetime

    import streamlit as st

    from dashboard.metrics.filters import MetricFilter
    from dashboard.metrics.ontime import commitment_list
    from dashboard.views import cumplimiento
    from etl.db import create_db_engine

    engine = create_db_engine(os.environ["ESLABON_DB_URL"])
    f = MetricFilter(as_of=datetime(2026, 1, 9, 12), processes=("Soporte",))
    with engine.connect() as conn:
        rows = commitment_list(conn, f)
    engine.dispose()
    cumplimiento.commitments_table(rows, st.query_params.get("lang", "es"))


@pytest.mark.parametrize(
    ("lang", "standard", "standard_due"), [("es", "Estándar", "Vence según estándar"),
                                           ("en", "Standard", "Standard due")]
)  # fmt: skip
def test_commitments_table_shows_the_standard_behind_each_date(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lang: str, standard: str, standard_due: str
) -> None:
    """Worked by hand (tests/metrics/test_standard_metrics.py's office calendar: Mon–Fri
    09–13 and 15–18, Tue 6 Jan a holiday): C5, high priority, asked Mon 5 Jan 12:00, falls
    under support-high v1 (8 h): 1 h + 3 h on Monday, 4 h on Wednesday → Wed 7 Jan 13:00,
    though its explicit due (Tue 6 Jan) is what it is judged on. C2, asked Wed 7 Jan, falls
    under v2 (4 h); C3, low priority, under support-any v1."""
    from tests.dashboard.apptest_support import page_app
    from tests.dashboard.test_app_estandares import standards_db

    at = page_app(monkeypatch, standards_db(tmp_path), _standards_table_script, lang=lang).run()
    assert not at.exception
    table = at.dataframe[0].value.set_index(t("col_commitment", lang))
    assert table.loc["C5", standard] == "support-high v1"
    assert table.loc["C5", standard_due] == fmt_date(pd.Timestamp("2026-01-07 13:00"), lang)
    assert table.loc["C5", t("col_due", lang)] == fmt_date(pd.Timestamp("2026-01-06"), lang)
    assert table.loc["C2", standard] == "support-high v2"
    assert table.loc["C3", standard] == "support-any v1"
    assert list(table.columns[4:6]) == [standard, standard_due]
