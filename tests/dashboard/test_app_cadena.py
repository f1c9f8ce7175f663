"""Cadena on the sample data: the numbers shown equal the metric functions', the impact
tree follows the chosen root (kept in the URL), the language switch changes labels and
number formats, hostile `root` values are ignored, empty and broken databases show their
states.

Expected values come from calling dashboard.metrics directly with the filter the page
builds (the default view: last 13 weeks at the data's as_of), formatted with i18n.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.metrics.kpis import default_as_of
from dashboard.metrics.process_map import directly_follows
from dashboard.metrics.propagation import at_risk_commitments, impact_tree, root_impact
from dashboard.ui.i18n import fmt_int, fmt_num
from dashboard.ui.state import ViewState
from dashboard.ui.texts import kpi_label, tr
from dashboard.views.cadena import K_ROOT, K_TOP_PAIRS, ROOT_PARAM
from etl.db import create_db_engine
from etl.schema import create_schema
from tests.dashboard.conftest import make_app, metric_cards


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _open(monkeypatch: pytest.MonkeyPatch, url: str, **query: str) -> AppTest:
    return _run(make_app(monkeypatch, url, page="cadena", **query))


def _expected(engine: sa.Engine, lang: str = "es") -> dict:
    with engine.connect() as conn:
        f = ViewState(lang=lang).to_filter(default_as_of(conn))
        roots = root_impact(conn, f)
        at_risk = at_risk_commitments(conn, f.with_(date_from=None, date_to=None))
        top = str(roots["root_id"].iloc[0])
        tree = impact_tree(conn, f, top)
    return {"f": f, "roots": roots, "at_risk": at_risk, "top": top, "tree": tree}


def _frames(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_headline_numbers_equal_the_metric_functions(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine, lang: str
) -> None:
    at = _open(monkeypatch, sample_db_url, lang=lang)
    want = _expected(sample_engine, lang)
    roots = want["roots"]
    assert int(roots["impact"].iloc[0]) > 0  # the sample has propagation to show
    cards = metric_cards(at)
    assert cards[tr("top_root_impact", lang)][0] == fmt_int(int(roots["impact"].iloc[0]), lang)
    assert cards[kpi_label("root_breaches", lang)][0] == fmt_int(len(roots), lang)
    with_impact = roots[roots["impact"] > 0]
    assert cards[tr("roots_with_impact", lang)][0] == fmt_int(len(with_impact), lang)
    assert cards[tr("total_impact", lang)][0] == fmt_int(int(with_impact["impact"].sum()), lang)
    assert want["f"].describe(lang) in [c.value for c in at.caption]
    subheaders = [s.value for s in at.subheader]
    for key in ("chain_map_title", "sankey_title", "pareto_title", "tree_title", "at_risk_title"):
        assert tr(key, lang) in subheaders


def test_the_impact_tree_is_the_top_roots_and_follows_the_choice(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _open(monkeypatch, sample_db_url)
    want = _expected(sample_engine)
    box = at.selectbox(key=K_ROOT)
    assert box.value == want["top"]
    assert ROOT_PARAM not in at.query_params  # the default root keeps the link short
    tree_table = next(d for d in _frames(at) if tr("col_depends_on", "es") in d.columns)
    tree = want["tree"]
    assert list(tree_table[tr("col_depends_on", "es")]) == list(tree["depends_on"])
    assert [c.split("› ")[1] for c in tree_table[tr("col_commitment", "es")]] == list(
        tree["commitment_id"]
    )
    assert list(tree_table[tr("col_tracking", "es")]) == [
        f"?page=seguimiento&commitment={quote(c)}" for c in tree["commitment_id"]
    ]
    # choose another root: the tree and the URL follow it
    second = str(want["roots"]["root_id"].iloc[1])
    box.set_value(second)
    at = _run(at)
    with sample_engine.connect() as conn:
        other = impact_tree(conn, want["f"], second)
    tree_table = next(d for d in _frames(at) if tr("col_depends_on", "es") in d.columns)
    assert list(tree_table[tr("col_depends_on", "es")]) == list(other["depends_on"])
    assert second in str(at.query_params[ROOT_PARAM])


def test_a_copied_root_link_reopens_that_tree(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    want = _expected(sample_engine)
    chosen = str(want["roots"][want["roots"]["impact"] > 0]["root_id"].iloc[3])
    at = _open(monkeypatch, sample_db_url, root=chosen)
    assert at.selectbox(key=K_ROOT).value == chosen


@pytest.mark.parametrize("hostile", ["x'; DROP TABLE commitments; --", "<script>1</script>", ""])
def test_a_hostile_root_is_ignored(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine, hostile: str
) -> None:
    at = _open(monkeypatch, sample_db_url, root=hostile)
    assert at.selectbox(key=K_ROOT).value == _expected(sample_engine)["top"]
    with sample_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar_one() > 0


def test_at_risk_table_equals_the_metric_and_links_to_tracking(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _open(monkeypatch, sample_db_url)
    at_risk = _expected(sample_engine)["at_risk"]
    assert len(at_risk) > 1  # the sample has several; the period does not hide them
    table = next(d for d in _frames(at) if tr("col_breached_upstreams", "es") in d.columns)
    assert list(table[tr("col_commitment", "es")]) == list(at_risk["commitment_id"])
    assert list(table[tr("col_max_upstream_delay", "es")]) == [
        fmt_num(v, "es", 1) for v in at_risk["max_upstream_delay_days"]
    ]
    assert all(
        link.startswith("?page=seguimiento&commitment=") for link in table[tr("col_tracking", "es")]
    )


def test_language_switch_changes_labels_and_number_format(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str
) -> None:
    at = _open(monkeypatch, sample_db_url)
    assert tr("cadena_title", "es") in [t.value for t in at.title]
    at.segmented_control(key="w_lang").set_value("en")
    at = _run(at)
    assert tr("cadena_title", "en") in [t.value for t in at.title]
    assert tr("tree_title", "en") in [s.value for s in at.subheader]
    assert tr("top_root_impact", "en") in metric_cards(at)


def test_empty_database_shows_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    engine = create_db_engine(url)
    create_schema(engine)
    engine.dispose()
    at = _open(monkeypatch, url)
    assert tr("empty_title", "es") in [s.value for s in at.subheader]


def test_unreachable_database_shows_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    at = make_app(monkeypatch, url, page="cadena")
    at.run()
    assert not at.exception
    assert any(tr("db_error_title", "es") in e.value for e in at.error)


def _figure(at: AppTest, title_fragment: str) -> dict:
    """The Plotly spec of the chart whose first trace's labels contain a fragment."""
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        data = spec.get("data") or []
        if data and any(title_fragment in str(y) for y in (data[0].get("y") or [])):
            return spec
    raise AssertionError(f"no chart with {title_fragment!r}")


def test_directly_follows_chart_shows_the_top_pairs_of_the_metric(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, sample_engine: sa.Engine
) -> None:
    at = _open(monkeypatch, sample_db_url)
    with sample_engine.connect() as conn:
        pairs = directly_follows(conn, _expected(sample_engine)["f"])
    first = f"{pairs['source'].iloc[0]} → {pairs['target'].iloc[0]}"
    bars = _figure(at, first)["data"][0]
    assert len(bars["y"]) == min(15, len(pairs))
    assert bars["x"][0] == int(pairs["count"].iloc[0])
    at.slider(key=K_TOP_PAIRS).set_value(5)
    at = _run(at)
    assert len(_figure(at, first)["data"][0]["y"]) == 5
