"""Resumen on the sample data: every number on the page equals the metric functions'.

Expected values are computed here by calling dashboard.metrics directly with the same
filter the page builds (the default view: last 13 weeks at the data's as_of), then
formatted with dashboard.ui.i18n, and looked for in the rendered cards and table.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.metrics.kpis import default_as_of, headline_kpis
from dashboard.metrics.propagation import root_impact
from dashboard.metrics.targets import kpi_target_status
from dashboard.metrics.trends import week_over_week
from dashboard.ui.i18n import fmt_kpi, fmt_kpi_delta, kpi_lower_is_better, t
from dashboard.ui.state import ViewState, parse_view
from dashboard.views.resumen import CARD_KPIS, STATUS_BADGE
from etl.db import create_db_engine
from etl.schema import targets
from tests.dashboard.conftest import make_app, metric_cards


def _expected(engine: sa.Engine, view: ViewState) -> dict:
    with engine.connect() as conn:
        at = default_as_of(conn)
        f = view.to_filter(at)
        head = headline_kpis(conn, f).iloc[0].to_dict()
        values = {k: (None if pd.isna(head[k]) else float(head[k])) for k in CARD_KPIS}
        wow = week_over_week(conn, f)
        statuses = kpi_target_status(conn, f, values)
        roots = root_impact(conn, f, limit=5)
    deltas = {r["kpi"]: r["delta"] for _, r in wow.iterrows()}
    current = {r["kpi"]: r["current"] for _, r in wow.iterrows()}
    return {
        "values": values,
        "deltas": deltas,
        "current": current,
        "statuses": statuses,
        "roots": roots,
        "f": f,
    }


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _week_lines(at: AppTest) -> list[str]:
    """The line under each card (last full week and its change), in card order."""
    return [m.value for m in at.markdown if m.value.startswith(("Semana del", "Week of"))]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_cards_show_the_metric_values_deltas_and_lights(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine, lang: str
) -> None:
    """Each card says one thing big (the period's value, judged by its target badge);
    the weekly change is a separate line that names the week it is about."""
    at = _run(make_app(monkeypatch, sample_db_url, lang=lang))
    want = _expected(sample_engine, ViewState(lang=lang))
    cards = metric_cards(at)
    assert len([k for k in CARD_KPIS if t(f"kpi_{k}", lang) in cards]) == len(CARD_KPIS)
    lines = _week_lines(at)
    assert len(lines) == len(CARD_KPIS)
    for kpi, line in zip(CARD_KPIS, lines, strict=True):
        value, delta = cards[t(f"kpi_{kpi}", lang)]
        assert value == fmt_kpi(kpi, want["values"][kpi], lang), kpi
        assert not delta  # no arrow beside the period's value
        delta_value = want["deltas"].get(kpi)
        delta_text = fmt_kpi_delta(kpi, None if pd.isna(delta_value) else delta_value, lang)
        assert delta_text is not None and delta_text in line
        assert fmt_kpi(kpi, want["current"][kpi], lang) in line
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    expected_badges = [t(STATUS_BADGE[want["statuses"].get(kpi)][0], lang) for kpi in CARD_KPIS]
    assert [b.split("[", 1)[1].rstrip("]") for b in badges] == expected_badges
    # the caption is the filter in words, as_of included
    assert want["f"].describe(lang) in [c.value for c in at.caption]


def test_a_weekly_change_is_coloured_by_what_it_means_for_its_kpi(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    """A rise is green for the on-time rate but red for breaches (and vice versa)."""
    at = _run(make_app(monkeypatch, sample_db_url))
    checked = 0
    for kpi, line in zip(CARD_KPIS, _week_lines(at), strict=True):
        change = line.split("\n", 1)[-1]
        if "▲" not in change and "▼" not in change:
            continue
        good_news = ("▼" in change) == kpi_lower_is_better(kpi)
        assert change.startswith(":green[" if good_news else ":red["), (kpi, change)
        checked += 1
    assert checked >= 4  # the sample moves most KPIs week to week


def test_top_roots_table_equals_root_impact(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _run(make_app(monkeypatch, sample_db_url, lang="en"))
    want = _expected(sample_engine, ViewState(lang="en"))["roots"]
    table = at.dataframe[0].value
    assert list(table[t("col_root", "en")]) == [str(r) for r in want["root_id"]]
    assert list(table[t("col_impact", "en")]) == [f"{int(v):,}" for v in want["impact"]]
    assert all(
        link == f"?page=seguimiento&commitment={rid}"
        for link, rid in zip(table[t("col_tracking", "en")], want["root_id"], strict=True)
    )


def test_language_switch_changes_labels_and_formats(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _run(make_app(monkeypatch, sample_db_url))
    want = _expected(sample_engine, ViewState())["values"]["on_time_rate"]
    assert metric_cards(at)[t("kpi_on_time_rate", "es")][0] == fmt_kpi("on_time_rate", want, "es")
    assert "," in fmt_kpi("on_time_rate", want, "es") and "\u00a0%" in fmt_kpi(
        "on_time_rate", want, "es"
    )
    at.segmented_control(key="w_lang").set_value("en")
    _run(at)
    cards = metric_cards(at)
    assert t("kpi_on_time_rate", "es") not in cards
    assert cards["On-time rate"][0] == fmt_kpi("on_time_rate", want, "en")
    assert at.title[0].value == "Overview"
    assert at.query_params.get("lang") == "en"
    # clicking the active language off keeps it (a segmented control can be emptied)
    at.segmented_control(key="w_lang").set_value(None)
    _run(at)
    assert at.title[0].value == "Overview" and at.query_params.get("lang") == "en"
    _run(at)
    assert at.segmented_control(key="w_lang").value == "en"


def test_a_copied_link_reopens_the_same_view(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _run(make_app(monkeypatch, sample_db_url))
    at.selectbox(key="w_period").set_value("4w")
    at.selectbox(key="w_ctype").set_value("external")
    _run(at)
    link = dict(at.query_params)
    assert link == {"period": "4w", "ctype": "external"}
    again = _run(make_app(monkeypatch, sample_db_url, **link))
    view = parse_view(link)
    want = _expected(sample_engine, view)["values"]
    assert metric_cards(again)[t("kpi_breaches", "es")][0] == fmt_kpi(
        "breaches", want["breaches"], "es"
    )
    assert again.selectbox(key="w_period").value == "4w"


def test_custom_period_goes_into_the_link_and_the_numbers(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    query = {"period": "custom", "from": "2026-10-01", "to": "2026-10-31", "lang": "en"}
    at = _run(make_app(monkeypatch, sample_db_url, **query))
    assert at.selectbox(key="w_period").value == "custom"
    assert [str(d.value) for d in at.date_input] == ["2026-10-01", "2026-10-31"]
    assert dict(at.query_params) == query
    want = _expected(sample_engine, parse_view(query))
    assert (want["f"].date_from.isoformat(), want["f"].date_to.isoformat()) == (
        "2026-10-01",
        "2026-10-31",
    )
    cards = metric_cards(at)
    for kpi in ("on_time_rate", "breaches", "csat_pct"):
        assert cards[t(f"kpi_{kpi}", "en")][0] == fmt_kpi(kpi, want["values"][kpi], "en")


def test_traffic_lights_and_target_line_follow_the_targets_table(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, tmp_path: Path
) -> None:
    """Targets chosen around the sample's own values so each light is known in advance:
    on-time target far above the value (red), breaches target far above (lower is
    better: green), CSAT target just above within tolerance (amber).
    """
    source = Path(sample_db_url.removeprefix("duckdb:///"))
    copy = tmp_path / "targets.duckdb"
    copy.write_bytes(source.read_bytes())
    url = f"duckdb:///{copy}"
    engine = create_db_engine(url)
    values = _expected(engine, ViewState())["values"]
    rows = [
        ("on_time_rate", min(values["on_time_rate"] + 0.2, 1.0), "higher", 0.01),
        ("breaches", values["breaches"] + 100, "lower", 0),
        ("csat_pct", values["csat_pct"] + 0.01, "higher", 0.05),
    ]
    with engine.begin() as conn:
        conn.execute(
            targets.insert(),
            [
                {
                    "target_id": 900 + i,
                    "kpi": kpi,
                    "process": None,
                    "target_value": value,
                    "direction": direction,
                    "amber_tolerance": tolerance,
                    "valid_from": datetime(2020, 1, 1),
                    "set_by": "test",
                    "set_at": datetime(2020, 1, 1),
                }
                for i, (kpi, value, direction, tolerance) in enumerate(rows)
            ],
        )
    engine.dispose()
    at = _run(make_app(monkeypatch, url, lang="en"))
    badges = dict(
        zip(
            CARD_KPIS,
            [m.value for m in at.markdown if "-badge[" in m.value],
            strict=True,
        )
    )
    assert badges["on_time_rate"] == f":red-badge[{t('status_red', 'en')}]"
    assert badges["breaches"] == f":green-badge[{t('status_green', 'en')}]"
    assert badges["csat_pct"] == f":orange-badge[{t('status_amber', 'en')}]"
    assert badges["nps"] == f":gray-badge[{t('status_none', 'en')}]"
    trend = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    rules = [layer for layer in trend["layer"] if layer.get("mark", {}).get("type") == "rule"]
    assert [r["data"]["values"][0]["target"] for r in rules] == [pytest.approx(rows[0][1])]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_kpi_whose_input_was_never_loaded_is_empty_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, tmp_path: Path, lang: str
) -> None:
    """Issue 14, item 6: without complaints and notices the cards say "no data" and why,
    never 0,0 — on the sample, whose other cards keep their numbers."""
    import shutil

    from dashboard.ui.texts import tr

    copy = tmp_path / "sin_quejas.duckdb"
    shutil.copy(Path(sample_db_url.removeprefix("duckdb:///")), copy)
    url = f"duckdb:///{copy}"
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM complaints"))
        conn.execute(sa.text("DELETE FROM notices"))
    engine.dispose()
    at = _run(make_app(monkeypatch, url, lang=lang))
    cards = metric_cards(at)
    for kpi, reason in (
        ("complaints_per_100", "no_complaints_loaded"),
        ("proactive_notice_rate", "no_notices_loaded"),
    ):
        assert cards[t(f"kpi_{kpi}", lang)][0] == fmt_kpi(kpi, None, lang)  # "—", not 0,0
        assert tr(f"reason_{reason}", lang) in [m.value for m in at.markdown]
    assert cards[t("kpi_on_time_rate", lang)][0] != fmt_kpi("on_time_rate", None, lang)
    assert not any(
        tr(f"reason_{r}", lang) in [m.value for m in at.markdown]
        for r in ("no_surveys_loaded", "no_customer_commitments_loaded")
    )
