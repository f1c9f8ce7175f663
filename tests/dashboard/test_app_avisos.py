"""Avisos page (AppTest): candidates, drafts, mark as notified changes the list."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.db import create_db_engine
from tests.dashboard.apptest_support import all_text, page_app, world_db


def _script() -> None:
    from dashboard.views import avisos

    avisos.page()


def test_candidates_draft_and_mark_as_notified(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = world_db(tmp_path)
    at = page_app(monkeypatch, url, _script, lang="en").run()
    assert not at.exception
    table = at.dataframe[0].value
    # at-risk D1, G1 and overdue U2, D2, by due date
    assert list(table.iloc[:, 0]) == ["U2", "D2", "G1", "D1"]
    at.selectbox(key="w_av_pick").set_value("D1").run()
    draft = at.code[0].value
    assert "Notice about your commitment D1: Armario A-12" in draft  # the page's language
    assert "27 November 2026" in draft and "(Compras)" in draft
    at.text_input(key="w_records_who").set_value("quality@acme").run()
    at.selectbox(key="w_av_channel").set_value("phone").run()
    at.button(key="w_av_mark").click().run()
    assert not at.exception
    engine = create_db_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT commitment_id, kind, channel, recorded_by, sent_at FROM notices")
        ).fetchall()
    engine.dispose()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("D1", "at_risk", "phone", "quality@acme")]
    assert str(rows[0][4]) == "2026-11-20 12:00:00"  # the data's present
    # only not-yet-notified ones are listed by default: D1 is gone
    assert "D1" not in list(at.dataframe[0].value.iloc[:, 0])
    assert "Armario A-12" not in all_text(at)
