"""Seguimiento page (AppTest) on the hand-worked chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.access.secret_keys import new_secret
from tests.dashboard.apptest_support import all_text, page_app, world_db


def _script() -> None:
    from dashboard.views import seguimiento

    seguimiento.page()


def test_deep_link_opens_the_commitment_timeline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = page_app(monkeypatch, world_db(tmp_path), _script, commitment="D1").run()
    assert not at.exception
    text = all_text(at)
    assert "Producción" in text and "Calidad" in text
    assert "Embalaje" not in text  # recorded after as_of
    assert "27/11/2026" in text  # predicted delivery (due 25/11 18:00 + 2 days)
    upstream = at.dataframe[1].value
    assert list(upstream.iloc[:, 0]) == ["U1"]
    assert upstream.iloc[0]["Estado"] == "Quiebre"
    statuses = {m.label: m.value for m in at.metric}
    assert statuses["Estado"] == "Pendiente"
    # The day on the card, its time beneath (a whole "25/11/2026 18:00" was cut off).
    assert statuses["Vence"] == "25/11/2026"
    assert {m.label: m.delta for m in at.metric}["Vence"] == "18:00"
    assert statuses["Entregado"] == "—"  # pending
    assert [getattr(b, "label", None) for b in at.get("download_button")]  # calendar files offered


def test_search_by_customer_and_link_needs_a_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ESLABON_SECRET", new_secret())
    at = page_app(monkeypatch, world_db(tmp_path), _script).run()
    at.text_input(key="w_track_search").set_value("globex").run()
    assert set(at.selectbox(key="w_track_pick").options) >= {"G1 · Globex · Globex secret project"}
    at.button(key="w_track_make").click().run()
    assert not at.exception
    links = [c.value for c in at.code]
    assert len(links) == 1 and links[0].startswith("http://localhost:8501/?token=")
