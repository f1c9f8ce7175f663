"""Revisión page (AppTest): the hand-worked week, action items carried, downloads offered."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.records.actions import create_action
from etl.db import create_db_engine
from tests.dashboard.apptest_support import all_text, page_app, world_db


def _script() -> None:
    from dashboard.views import revision

    revision.page()


def test_week_from_the_url_numbers_and_actions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = world_db(tmp_path)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        create_action(conn, "2026-W46", "Revisar plan", "Ana", created_at=datetime(2026, 11, 10))
    engine.dispose()
    at = page_app(monkeypatch, url, _script, week="2026-W47", lang="en").run()
    assert not at.exception
    text = all_text(at)
    assert "Weekly review 2026-W47" in text
    kpis = at.table[0].value
    on_time = kpis[kpis["KPI"] == "On-time rate"].iloc[0]
    assert on_time["This week"] == "25.0%" and on_time["Change"] == "-75.0 pp"
    tables = [f.value for f in at.dataframe]
    roots = next(t for t in tables if "Root breach" in t.columns)
    assert sorted(roots["Root breach"]) == ["U1", "U2"]
    breached = next(t for t in tables if "Upstreams" in t.columns)
    assert list(breached["Commitment"]) == ["U1", "U2", "D2"]
    at_risk = next(t for t in tables if "Predicted delivery" in t.columns)
    assert list(at_risk["Commitment"]) == ["G1", "D1"]
    labels = [getattr(b, "label", None) for b in at.get("download_button")]
    assert labels == ["Download report (HTML)", "Download workbook (Excel)"]

    at.text_input(key="w_records_who").set_value("Marta")
    at.text_input(key="w_rev_what").set_value("<b>Llamar</b> a Compras")
    at.text_input(key="w_rev_owner").set_value("Ruth")
    at.button[0].click().run()  # the add-action form
    assert not at.exception
    actions = next(f.value for f in at.dataframe if "What" in f.value.columns)
    # the open item of W46 is carried; the new one is a cell of text, not markup
    assert list(actions["What"]) == ["Revisar plan", "<b>Llamar</b> a Compras"]
    assert list(actions["Carried"]) == [True, False]
    assert "Action added." in all_text(at)
    engine = create_db_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT week, owner, created_by FROM action_items ORDER BY action_id")
        ).fetchall()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("2026-W46", "Ana", None), ("2026-W47", "Ruth", "Marta")]

    # closing the carried item: it stays in this week's review (closed since last meeting)
    at.selectbox(key="w_rev_action").set_value(1).run()
    at.button(key="w_rev_update").click().run()
    actions = next(f.value for f in at.dataframe if "What" in f.value.columns)
    assert list(actions["Status"]) == ["Done", "Open"]


def test_unknown_week_in_url_falls_back_to_last_full_week(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = page_app(monkeypatch, world_db(tmp_path), _script, week="x'; DROP TABLE t; --").run()
    assert not at.exception
    assert "Revisión semanal 2026-W46" in all_text(at)
